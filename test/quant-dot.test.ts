// Issue 11, the int8 products at the hardware's limit: activations quantized per row to 7-bit codes
// with a zero point (src/quant/scheme.ts quantizeActivationRow), so that the relaxed-SIMD kernel
// can multiply them by the int8 weights with the relaxed 8-bit dot product (kernels/quant.c).
// Checked here: the scheme's numbers; and each wasm build's kernel under each of V8's compilers
// (the baseline Liftoff alone, the optimizing TurboFan alone: Node 20's Liftoff computes the fused
// i32x4.relaxed_dot_i8x16_i7x16_add_s wrongly, so a kernel using it changed its results when the
// engine tiered it up), at 1 and 3 threads, against the TypeScript reference bit for bit.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { WasmBackend } from '../src/backend/wasm/index.js';
import { LSTM } from '../src/nn/lstm.js';
import { quantizeLayer } from '../src/quant/model.js';
import { quantizeActivationRow } from '../src/quant/scheme.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { reference } from './backends.js';
import { DOT_CASES, runDotCase } from './util/quantDotCases.js';
import { randArray, rng } from './util/random.js';

const child = join(dirname(fileURLToPath(import.meta.url)), 'util', 'quantDotChild.js');

describe('activation quantization: 7-bit codes with a zero point (scheme.ts)', () => {
  it('known rows: the codes, zero point and scale', () => {
    const u = new Int32Array(3), f = Math.fround;
    // [-2, 3]: 127/5 per unit, zero point nearest(2 * 25.4) = 51; 1 -> 25 + 51, -2 -> -51 + 51, 3 -> 76 + 51.
    assert.deepEqual(quantizeActivationRow([1, -2, 3], 0, 3, u, 0), { scale: f(f(5) / 127), zero: 51 });
    assert.deepEqual(Array.from(u), [76, 0, 127]);
    // All positive: the range is [0, max], zero point 0 (one-hot inputs are exact).
    assert.deepEqual(quantizeActivationRow([0, 1, 0.5], 0, 3, u, 0), { scale: f(1 / 127), zero: 0 });
    assert.deepEqual(Array.from(u), [0, 127, 64]);
    // All negative: zero point 127.
    assert.deepEqual(quantizeActivationRow([-4, -1, 0], 0, 3, u, 0).zero, 127);
    assert.deepEqual(Array.from(u), [0, 95, 127]);
    // All zero: codes and zero point 0 (the range floor keeps 127 / range finite).
    assert.equal(quantizeActivationRow([0, 0, 0], 0, 3, u, 0).zero, 0);
    assert.deepEqual(Array.from(u), [0, 0, 0]);
  });

  it('random rows (symmetric, skewed, one-signed): codes in [0, 127], (u - z) * scale within one step of x, half a step inside the range', () => {
    const r = rng(11), k = 97, u = new Int32Array(k);
    for (let row = 0; row < 60; row++) {
      const x = randArray(r, k, 0.1 + row);
      const shift = row % 3 === 0 ? 0 : row % 3 === 1 ? 0.7 * (0.1 + row) : -2 * (0.1 + row); // skewed, mostly one sign
      for (let i = 0; i < k; i++) x[i] = Math.fround(x[i] + shift);
      const { scale, zero } = quantizeActivationRow(x, 0, k, u, 0);
      assert.ok(zero >= 0 && zero <= 127 && Number.isInteger(zero), `row ${row}: zero point ${zero}`);
      let lo = 0, hi = 0;
      for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      assert.ok(Math.abs(scale - (hi - lo) / 127) <= 1e-6 * scale, `row ${row}: scale ${scale}, range [${lo}, ${hi}]`);
      for (let i = 0; i < k; i++) {
        assert.ok(u[i] >= 0 && u[i] <= 127 && Number.isInteger(u[i]), `row ${row} [${i}]: code ${u[i]}`);
        const e = Math.abs((u[i] - zero) * scale - x[i]);
        // The ends may lose up to a step to the zero point's rounding (the code clamps at 0 or 127).
        const edge = u[i] === 0 || u[i] === 127;
        assert.ok(e <= (edge ? 1 : 0.5) * scale * (1 + 1e-5), `row ${row} [${i}]: ${x[i]} -> ${(u[i] - zero) * scale}, error ${e}, step ${scale}`);
      }
    }
  });
});

interface Report { build: string; threads: Record<string, { dots: string[]; lstm: string[] }> }

async function runChild(build: string, flags: string[]): Promise<Report> {
  const { stdout } = await promisify(execFile)(process.execPath, [...flags, child], {
    env: { ...process.env, CAROUSEL_WASM_BUILD: build }, maxBuffer: 1 << 26,
  });
  return JSON.parse(stdout) as Report;
}

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

describe('the int8 kernels of both wasm builds, under each V8 compiler, at 1 and 3 threads: the reference bits', () => {
  const tiers: [string, string[]][] = [['Liftoff only', ['--liftoff', '--no-wasm-tier-up']], ['TurboFan only', ['--no-liftoff']]];
  const want = DOT_CASES.map((c, i) => b64(runDotCase(reference, c, i)));
  for (const build of ['relaxed', 'simd128']) {
    it(`${build}`, async () => {
      const reports = await Promise.all(tiers.map(([, flags]) => runChild(build, flags)));
      reports.forEach((rep, t) => {
        assert.equal(rep.build, build, `${tiers[t][0]}: the child ran the ${build} build`);
        for (const [threads, got] of Object.entries(rep.threads)) {
          got.dots.forEach((d, i) => {
            const c = DOT_CASES[i];
            assert.equal(d, want[i], `${tiers[t][0]}, ${threads} thread(s): product m ${c.m} n ${c.n} k ${c.k}${c.extreme ? ' (extreme values)' : ''} differs from the TypeScript reference`);
          });
          assert.deepEqual(got.lstm, reports[0].threads['1'].lstm, `${tiers[t][0]}, ${threads} thread(s): the quantized LSTM's bits differ from Liftoff at 1 thread`);
        }
      });
    });
  }
});

describe('the whole int8 recurrence in one call (qlstm_seq_i8)', () => {
  const made: WasmBackend[] = [];
  after(() => { for (const b of made) b.terminate(); });

  it('a stacked bidirectional LSTM (forward and reverse directions): the step-by-step bits, at 1 and 3 threads', async () => {
    const I = 12, H = 32, T = 6, B = 9, xs = randArray(rng(5), T * B * I), h0 = randArray(rng(6), 4 * B * H), c0 = randArray(rng(8), 4 * B * H);
    const run = (b: WasmBackend) => noGrad(() => {
      const q = quantizeLayer(new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true }, { backend: b, rng: new Rng(3) }), { weights: 'int8' });
      const r = q.forward(tensor(xs, [T, B, I], { backend: b }), { h0: tensor(h0, [4, B, H], { backend: b }), c0: tensor(c0, [4, B, H], { backend: b }) });
      return [r.y, r.hN, r.cN].map((t) => b64(Float32Array.from(t.dataSync())));
    });
    const seqs: number[] = [];
    const counted = (threads: number, plain: boolean) => {
      const b = new WasmBackend({ threads });
      made.push(b);
      b.quantParallelMinMacs = 0;
      if (plain) (b as { qlstmSeq?: unknown }).qlstmSeq = undefined; // src/quant/step.ts finds none: step by step
      else { const seq = b.qlstmSeq.bind(b); b.qlstmSeq = (...a) => { const done = seq(...a); if (done) seqs.push(threads); return done; }; }
      return b;
    };
    const want = run(counted(1, true));
    for (const threads of [1, 3]) {
      const b = counted(threads, false);
      await b.ready();
      assert.deepEqual(run(b), want, `${threads} thread(s): y, hN, cN differ from the step-by-step forward`);
    }
    // Two layers x two directions, each one call, at each thread count.
    assert.deepEqual(seqs, [1, 1, 1, 1, 3, 3, 3, 3]);
  });
});
