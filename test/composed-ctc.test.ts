import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Backend, Kernels, Storage } from '../src/backend/backend.js';
import { ReferenceBackend, ReferenceCore } from '../src/backend/reference/index.js';
import { ctc as ctcDirect } from '../src/ops/composed/ctc.js';
import { col2im as col2imDirect, im2col as im2colDirect } from '../src/ops/composed/conv.js';
import type { DType } from '../src/backend/dtype.js';
import { Rng } from '../src/tensor/random.js';

/**
 * The composed CTC and im2col/col2im fallbacks (src/ops/composed/{ctc,conv}.ts) against the
 * reference kernels (the oracle), on storages holding the same values.
 *
 * Every case runs the fallback twice:
 * - on a strict core-only view of ReferenceCore: only the 14 core kernels exist, `read` and
 *   `readSync` throw (the fallback must never look at storage contents on the host, as on a GPU),
 *   and every storage the fallback allocates must be disposed before it returns;
 * - through the registry, `composed.<name>(kernels(core), ...)`, when src/ops/composed/index.ts and
 *   src/ops/kernels.ts import (they import fallbacks other people are still writing; until those
 *   land the registry run is skipped with a diagnostic).
 */

const CORE = ['alloc', 'upload', 'read', 'dispose', 'fill', 'copyStrided', 'unary', 'unaryBackward',
  'binary', 'affine', 'reduce', 'gemm', 'gatherRows', 'scatterAddRows'] as const;

const core = new ReferenceCore();
const ref = new ReferenceBackend();

interface Strict { k: Kernels; live: Set<Storage> }

/** Only the core kernels, no host reads, allocations tracked. */
function strictView(b: Backend, dtypes: readonly DType[] = b.dtypes): Strict {
  const live = new Set<Storage>();
  const w: Record<string, unknown> = { name: 'strict-core', dtypes };
  const src = b as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of CORE) w[m] = (...a: unknown[]) => src[m].apply(b, a);
  w.read = () => { throw new Error('composed fallback read a storage on the host (read)'); };
  w.alloc = (dtype: DType, n: number) => { const s = b.alloc(dtype, n); live.add(s); return s; };
  w.upload = (dtype: DType, d: ArrayLike<number>) => { const s = b.upload(dtype, d); live.add(s); return s; };
  w.dispose = (s: Storage) => {
    if (!live.delete(s)) throw new Error('disposed a storage the fallback did not allocate (or twice)');
    b.dispose(s);
  };
  // Anything else (readSync, optional kernels) is absent: reaching for it throws a TypeError.
  return { k: w as unknown as Kernels, live };
}

type CtcFn = (k: Kernels, logProbs: Storage, T: number, N: number, C: number, targets: Storage, inputLengths: Storage,
  targetLengths: Storage, blank: number, loss: Storage, grad: Storage) => void;
type Im2colFn = (k: Kernels, n: number, C: number, Hgt: number, Wid: number, kk: number, pad: number,
  x: Storage, xOff: number, cols: Storage, colOff: number) => void;
interface Fns { ctc: CtcFn; im2col: Im2colFn; col2im: Im2colFn }

let registry: { k: Kernels; fns: Fns } | null = null;
let registryError = '';

before(async () => {
  try {
    const { kernels } = await import('../src/ops/kernels.js');
    const { composed } = await import('../src/ops/composed/index.js');
    registry = { k: kernels(core), fns: composed as unknown as Fns };
  } catch (e) {
    registryError = (e as Error).message;
  }
});

/** Runs `f` on the strict view (checking nothing leaks) and through the registry when it imports. */
function runners(t: { diagnostic(m: string): void }, f32Only = false): { label: string; k: Kernels; fns: Fns; after(): void }[] {
  const direct = { ctc: ctcDirect, im2col: im2colDirect, col2im: col2imDirect } as Fns;
  const strict = (label: string, s: Strict) => ({
    label, k: s.k, fns: direct, after: () => assert.equal(s.live.size, 0, `${s.live.size} scratch storage(s) not freed`),
  });
  const out = [strict('strict core view', strictView(core))];
  // A device without f64 (a GPU): f32 CTC then runs in f32 throughout instead of f64 scratch.
  if (f32Only) out.push(strict('strict core view, f32 only', strictView(core, ['f32'])));
  if (registry) out.push({ label: 'composed registry', k: registry.k, fns: registry.fns, after: () => {} });
  else t.diagnostic(`registry run skipped: ${registryError}`);
  return out;
}

/** a and b agree: same NaN and infinite positions, else |a - b| <= tol * max(1, |b|). */
function assertClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, tol: number): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(y) || Number.isNaN(x)) {
      assert.ok(Number.isNaN(x) && Number.isNaN(y), `${what}[${i}]: ${x} vs reference ${y}`);
      continue;
    }
    if (!Number.isFinite(y) || !Number.isFinite(x)) { assert.equal(x, y, `${what}[${i}]`); continue; }
    assert.ok(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)), `${what}[${i}]: ${x} vs reference ${y}`);
  }
}

// ---------------------------------------------------------------- CTC

interface CtcCase {
  name: string; T: number; C: number; blank: number;
  targets: number[][]; inputLengths: number[];
}

function logSoftmaxValues(rng: Rng, T: number, N: number, C: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < T * N; r++) {
    const z = Array.from({ length: C }, () => rng.normal() * 2);
    const mx = Math.max(...z);
    const ls = Math.log(z.reduce((s, v) => s + Math.exp(v - mx), 0)) + mx;
    for (const v of z) out.push(v - ls);
  }
  return out;
}

function runCtc(c: CtcCase, dtype: 'f32' | 'f64', seed: number, t: { diagnostic(m: string): void }, f32Only = true): void {
  const rng = new Rng(seed);
  const N = c.targets.length, { T, C, blank } = c;
  const lp = logSoftmaxValues(rng, T, N, C);
  const flat = c.targets.flat(), tl = c.targets.map((x) => x.length);
  const make = (b: Backend) => ({
    lp: b.upload(dtype, lp), tg: b.upload('i32', flat), il: b.upload('i32', c.inputLengths), tl: b.upload('i32', tl),
    loss: b.upload(dtype, new Array(N).fill(12345)), grad: b.upload(dtype, new Array(T * N * C).fill(6789)),
  });
  const r = make(ref);
  ref.ctc(r.lp, T, N, C, r.tg, r.il, r.tl, blank, r.loss, r.grad);
  const wantLoss = ref.readSync(r.loss), wantGrad = ref.readSync(r.grad);
  const tol = dtype === 'f64' ? 1e-9 : 1e-4;
  for (const run of runners(t, dtype === 'f32' && f32Only)) {
    const s = make(core);
    run.fns.ctc(run.k, s.lp, T, N, C, s.tg, s.il, s.tl, blank, s.loss, s.grad);
    run.after();
    assertClose(`${c.name} ${dtype} ${run.label} loss`, core.readSync(s.loss), wantLoss, tol);
    assertClose(`${c.name} ${dtype} ${run.label} grad`, core.readSync(s.grad), wantGrad, tol);
  }
}

/** Random labels in [0, C) other than blank; `few` draws from just two labels (many repeats). */
function labels(rng: Rng, n: number, C: number, blank: number, few = false): number[] {
  const pool = Array.from({ length: C }, (_, i) => i).filter((i) => i !== blank);
  const use = few ? pool.slice(0, 2) : pool;
  return Array.from({ length: n }, () => use[rng.int(use.length)]);
}

describe('composed ctc vs the reference kernel', () => {
  const rng = new Rng(2024);
  const cases: CtcCase[] = [
    {
      name: 'mixed lengths', T: 50, C: 6, blank: 0,
      targets: [labels(rng, 10, 6, 0), [], labels(rng, 7, 6, 0), labels(rng, 15, 6, 0, true)],
      inputLengths: [50, 30, 12, 40],
    },
    {
      name: 'impossible alignments and empty inputs', T: 20, C: 6, blank: 0,
      targets: [[1, 2, 3, 4, 5, 1, 2, 3], [2, 2, 2], [3, 4], [], [1, 1], labels(rng, 6, 6, 0)],
      // 8 labels in 5 steps; 2,2,2 needs 5 steps, has 4; input length 0 (twice); 1,1 needs exactly 3 (has 3)
      inputLengths: [5, 4, 0, 0, 3, 20],
    },
    {
      name: 'repeated labels, blank last', T: 40, C: 6, blank: 5,
      targets: [labels(rng, 12, 6, 5, true), labels(rng, 5, 6, 5, true), [1, 1, 1, 1], labels(rng, 18, 6, 5)],
      inputLengths: [40, 17, 9, 33],
    },
    {
      name: 'target as long as the input (the 2T+1 position cap)', T: 4, C: 6, blank: 0,
      targets: [[1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 3], [3, 3, 3, 3]],
      inputLengths: [4, 4, 2, 4],
    },
    {
      name: 'one step', T: 1, C: 5, blank: 2,
      targets: [[], [1], [3, 4], [0]],
      inputLengths: [1, 1, 1, 0],
    },
    {
      // Invalid for PyTorch (a target equal to blank), but the reference is deterministic there:
      // its s-2 rules test l'_s != blank, which the composed version follows too.
      name: 'targets holding the blank label', T: 16, C: 5, blank: 0,
      targets: [[1, 0, 0, 2], [0, 3], [2, 0, 2, 0, 1]],
      inputLengths: [16, 9, 14],
    },
    {
      name: 'blank in the middle', T: 30, C: 7, blank: 3,
      targets: [labels(rng, 9, 7, 3), labels(rng, 1, 7, 3), labels(rng, 14, 7, 3, true)],
      inputLengths: [30, 2, 29],
    },
  ];
  // Random batches: random sizes, lengths (some too short to align) and labels.
  for (let i = 0; i < 6; i++) {
    const N = 3 + rng.int(4), T = 5 + rng.int(46), C = 3 + rng.int(6), blank = rng.int(C);
    const inputLengths = Array.from({ length: N }, () => rng.int(T + 1));
    inputLengths[rng.int(N)] = T;
    const targets = inputLengths.map(() => labels(rng, rng.int(Math.ceil(T / 2) + 3), C, blank, rng.next() < 0.3));
    cases.push({ name: `random batch ${i} (N=${N} T=${T} C=${C} blank=${blank})`, T, C, blank, targets, inputLengths });
  }
  for (const [j, c] of cases.entries()) {
    for (const dtype of ['f64', 'f32'] as const) {
      it(`${c.name}, ${dtype}`, (t) => runCtc(c, dtype, 100 + j, t));
    }
  }
  it('long inputs (T = 1000) in f32 through f64 scratch', (t) => {
    const r = new Rng(77);
    const c: CtcCase = {
      name: 'long', T: 1000, C: 6, blank: 0,
      targets: [labels(r, 150, 6, 0), labels(r, 40, 6, 0, true), labels(r, 300, 6, 0)],
      inputLengths: [1000, 700, 900],
    };
    runCtc(c, 'f32', 9, t, false); // in f32 throughout, log-space sums over 1000 steps drift past 1e-4
    runCtc(c, 'f64', 9, t);
  });
  it('the reference writes what the composed version reproduces for impossible samples (NaN grad, Infinity loss)', () => {
    // Documents the oracle's convention the test relies on.
    const lp = ref.upload('f64', logSoftmaxValues(new Rng(1), 2, 1, 4));
    const loss = ref.alloc('f64', 1), grad = ref.alloc('f64', 8);
    ref.ctc(lp, 2, 1, 4, ref.upload('i32', [1, 1]), ref.upload('i32', [2]), ref.upload('i32', [2]), 0, loss, grad);
    assert.equal(ref.readSync(loss)[0], Infinity);
    assert.ok([...ref.readSync(grad)].every(Number.isNaN));
  });
});

// ---------------------------------------------------------------- im2col / col2im

describe('composed im2col / col2im vs the reference kernels', () => {
  const shapes: [n: number, C: number, H: number, W: number, k: number, pad: number][] = [];
  for (const k of [1, 3, 5]) {
    for (const pad of new Set([0, k >> 1])) {
      shapes.push([2, 3, 6, 9, k, pad]);
      shapes.push([3, 2, 7, 5, k, pad]);
    }
  }
  shapes.push([1, 1, 4, 4, 3, 1], [2, 2, 3, 8, 5, 2], [2, 1, 5, 5, 5, 0], [1, 2, 2, 3, 3, 2]);
  for (const [si, [n, C, H, W, k, pad]] of shapes.entries()) {
    for (const dtype of ['f64', 'f32'] as const) {
      it(`n=${n} C=${C} ${H}x${W} k=${k} pad=${pad} ${dtype}`, (t) => {
        const rng = new Rng(7 + si);
        const Ho = H + 2 * pad - k + 1, Wo = W + 2 * pad - k + 1, colLen = C * k * k * n * Ho * Wo, xLen = n * C * H * W;
        const xOff = 5, colOff = 3, dxOff = 4, extra = 6;
        const xv = Array.from({ length: xOff + xLen + extra }, () => rng.normal());
        const colGarbage = Array.from({ length: colOff + colLen + extra }, () => rng.normal());
        const colv = Array.from({ length: colOff + colLen + extra }, () => rng.normal());
        const dxv = Array.from({ length: dxOff + xLen + extra }, () => rng.normal());

        const rc = ref.upload(dtype, colGarbage), rdx = ref.upload(dtype, dxv);
        ref.im2col(n, C, H, W, k, pad, ref.upload(dtype, xv), xOff, rc, colOff);
        ref.col2im(n, C, H, W, k, pad, ref.upload(dtype, colv), colOff, rdx, dxOff);
        const wantCols = ref.readSync(rc), wantDx = ref.readSync(rdx);

        for (const run of runners(t)) {
          const sc = core.upload(dtype, colGarbage), sdx = core.upload(dtype, dxv);
          run.fns.im2col(run.k, n, C, H, W, k, pad, core.upload(dtype, xv), xOff, sc, colOff);
          run.fns.col2im(run.k, n, C, H, W, k, pad, core.upload(dtype, colv), colOff, sdx, dxOff);
          run.after();
          // Pure copies: exact. col2im adds in the reference's order: exact too.
          assert.deepEqual(core.readSync(sc), wantCols, `im2col ${run.label}`);
          assert.deepEqual(core.readSync(sdx), wantDx, `col2im ${run.label}`);
        }
      });
    }
  }
});
