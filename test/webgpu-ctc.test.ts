import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Kernels } from '../src/backend/backend.js';
import { runConformance } from '../src/conformance/runner.js';
import { kernelListing, kernels } from '../src/ops/kernels.js';
import { reference, webgpuForSuite } from './backends.js';
import { rng } from './util/random.js';

/**
 * The webgpu backend's CTC kernel (WGSL, src/backend/webgpu/wgsl-ctc.ts) against the reference's
 * (the oracle, PyTorch's ctc_loss with reduction none): loss and gradient with mixed lengths,
 * repeated labels, another blank index, empty inputs and targets, impossible alignments (infinite
 * loss, NaN gradient as the reference gives), more states than a workgroup has threads, a long
 * input at tight tolerances (f32 accuracy over 1000 steps), and the
 * CTC fixtures (../shared/fixtures core, test/fixtures/ctc-empty) through the conformance runner.
 */
const gpu = webgpuForSuite();
const rand = rng(31);
const ref: Kernels = kernels(reference);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** [T, N, C] log-probabilities: a log-softmax over C of random logits. */
function logProbs(T: number, N: number, C: number, scale = 2): Float32Array {
  const out = new Float32Array(T * N * C);
  for (let r = 0; r < T * N; r++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) { out[r * C + c] = (rand() * 2 - 1) * scale; m = Math.max(m, out[r * C + c]); }
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(out[r * C + c] - m);
    const ls = m + Math.log(s);
    for (let c = 0; c < C; c++) out[r * C + c] -= ls;
  }
  return out;
}

interface Case { T: number; C: number; blank: number; inputLengths: number[]; targets: number[][] }

/** Run one case on both backends; compare loss and gradient (NaN and infinities exactly). */
async function check(k: Kernels, what: string, cs: Case, rtol = 2e-4, atol = 2e-5): Promise<{ loss: ArrayLike<number> }> {
  const N = cs.inputLengths.length, { T, C, blank } = cs;
  const lp = logProbs(T, N, C);
  const flat = cs.targets.flat(), lens = cs.targets.map((t) => t.length);
  const run = (b: Kernels) => {
    const loss = b.alloc('f32', N), grad = b.alloc('f32', T * N * C);
    b.ctc(b.upload('f32', lp), T, N, C, b.upload('i32', flat), b.upload('i32', cs.inputLengths), b.upload('i32', lens), blank, loss, grad);
    return [loss, grad];
  };
  const got = run(k), want = run(ref);
  const out: ArrayLike<number>[] = [];
  for (const [i, name] of ['loss', 'grad'].entries()) {
    const g = await k.read(got[i]), e = await ref.read(want[i]);
    assert.equal(g.length, e.length, `${what} ${name}: length`);
    for (let j = 0; j < e.length; j++) {
      if (Number.isNaN(e[j]) || !Number.isFinite(e[j])) { assert.ok(Object.is(g[j], e[j]), `${what} ${name}[${j}]: got ${g[j]}, want ${e[j]}`); continue; }
      assert.ok(Math.abs(g[j] - e[j]) <= atol + rtol * Math.abs(e[j]), `${what} ${name}[${j}]: got ${g[j]}, want ${e[j]} (diff ${Math.abs(g[j] - e[j])})`);
    }
    out.push(g);
  }
  return { loss: out[0] };
}

const labels = (n: number, C: number, blank: number) => Array.from({ length: n }, () => {
  let v = blank;
  while (v === blank) v = Math.floor(rand() * C);
  return v;
});

describe('webgpu ctc against the reference', { skip: gpu.skip }, () => {
  const g = gpu.backend!;
  const k = kernels(g);

  it('runs the ctc set natively', () => {
    const row = kernelListing(g).find((r) => r.kernel === 'ctc');
    assert.equal(row?.runs, 'native');
  });

  it('mixed input and target lengths, repeated labels, a grad row zero past each input length', async () => {
    const { loss } = await check(k, 'mixed', {
      T: 12, C: 5, blank: 0, inputLengths: [12, 9, 12, 5],
      targets: [[1, 2, 2, 3], [4, 4, 4], [1, 2, 3, 4, 1, 2], [3]],
    });
    assert.ok(Array.from(loss).every((v) => Number.isFinite(v) && v > 0), `finite positive losses: ${Array.from(loss)}`);
  });

  it('another blank index (the last class)', async () => {
    await check(k, 'blank 6', { T: 10, C: 7, blank: 6, inputLengths: [10, 7, 8], targets: [labels(4, 7, 6), labels(3, 7, 6), labels(1, 7, 6)] });
  });

  it('empty input and empty target: loss 0 for an empty target, +inf (NaN-free zero gradient rows past Tn) for a non-empty one', async () => {
    const { loss } = await check(k, 'empty', { T: 4, C: 4, blank: 0, inputLengths: [0, 0, 4, 3], targets: [[], [1, 2], [], [3]] });
    assert.equal(loss[0], 0); assert.equal(loss[1], Infinity); assert.ok(loss[2] > 0);
  });

  it('impossible alignments: a target longer than the input, repeats needing blanks: +inf loss and the reference gradient', async () => {
    const { loss } = await check(k, 'impossible', { T: 4, C: 4, blank: 0, inputLengths: [3, 4, 4], targets: [[1, 2, 3, 1], [2, 2, 2], [1, 1]] });
    assert.deepEqual([loss[0], loss[1]], [Infinity, Infinity]);
    assert.ok(Number.isFinite(loss[2]));
  });

  it('more states than a workgroup has threads (2S+1 = 201 over 64), long inputs', async () => {
    await check(k, 'long', { T: 260, C: 12, blank: 0, inputLengths: [260, 230], targets: [labels(100, 12, 0), labels(70, 12, 0)] }, 1e-3, 1e-4);
  });

  it('stays exact over a long input in f32 (each step shifted by its maximum): gradient within 2e-4 of the float64 reference (unshifted rows: about 1e-3 off)', async () => {
    await check(k, 'very long', { T: 1000, C: 6, blank: 0, inputLengths: [1000], targets: [labels(150, 6, 0)] }, 0, 2e-4);
  });

  it('T = 0 and N = 0 write what the reference writes (losses 0 / +inf; nothing for N = 0)', async () => {
    await check(k, 'T=0', { T: 0, C: 3, blank: 0, inputLengths: [0, 0], targets: [[], [2]] });
    await check(k, 'N=0', { T: 3, C: 3, blank: 0, inputLengths: [], targets: [] });
  });

  it('the CTC fixtures pass through the conformance runner (../shared/fixtures, test/fixtures/ctc-empty)', async () => {
    const core = join(root, '..', 'shared', 'fixtures', 'core');
    const files = [...readdirSync(core).filter((f) => /^ctc.*\.json$/.test(f)).map((f) => join(core, f)), join(root, 'test', 'fixtures', 'ctc-empty')];
    const s = await runConformance(files, g, 'f32');
    assert.ok(s.results.length >= 8, `CTC fixtures found: ${s.results.map((r) => r.name)}`);
    assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
  });
});
