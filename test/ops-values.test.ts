import assert from 'node:assert/strict';
import { it as test } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import type { DType } from '../src/backend/dtype.js';
import { crossEntropy } from '../src/loss/crossEntropy.js';
import { mseLoss } from '../src/loss/mse.js';
import * as ops from '../src/ops/index.js';
import { tensor } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { assertClose, forEachBackend, values } from './backends.js';

/**
 * Basic ops against independent values: every expected number below comes from an explicit
 * float64 formula written here (loops over indices), never from the op itself or its own forward,
 * forward AND backward (the gradient of L = sum(out * w) for fixed weights w), on every backend,
 * in f64 (tight) and f32 (the native kernels' dtype), non-last axes included.
 */

/** Deterministic values in about [-2.5, 2.5] (no two alike along any axis). */
const vals = (n: number, seed: number) => Float64Array.from({ length: n }, (_, i) => 2.5 * Math.sin(1.7 * i + seed) + 0.1 * (i % 3));

/** Index helpers over a contiguous shape. */
function strides(shape: number[]): number[] {
  const s = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
function unravel(i: number, shape: number[]): number[] {
  const st = strides(shape);
  return shape.map((_, a) => Math.floor(i / st[a]) % shape[a]);
}
/** Flat indices of the fiber through element i along axis ax. */
function fiber(i: number, shape: number[], ax: number): number[] {
  const st = strides(shape), idx = unravel(i, shape);
  const base = i - idx[ax] * st[ax];
  return Array.from({ length: shape[ax] }, (_, k) => base + k * st[ax]);
}

/** Explicit softmax / log-softmax along ax, and their vector-Jacobian products with w. */
function softmaxF64(x: Float64Array, shape: number[], ax: number, log: boolean): Float64Array {
  return Float64Array.from(x, (_, i) => {
    const f = fiber(i, shape, ax);
    const m = Math.max(...f.map((j) => x[j]));
    const s = f.reduce((p, j) => p + Math.exp(x[j] - m), 0);
    return log ? x[i] - m - Math.log(s) : Math.exp(x[i] - m) / s;
  });
}
function softmaxVjp(x: Float64Array, w: Float64Array, shape: number[], ax: number, log: boolean): Float64Array {
  const p = softmaxF64(x, shape, ax, false);
  return Float64Array.from(x, (_, i) => {
    const f = fiber(i, shape, ax);
    // d/dx_i sum_j w_j y_j: softmax: p_i (w_i - sum_j w_j p_j); log-softmax: w_i - p_i sum_j w_j
    return log ? w[i] - p[i] * f.reduce((s, j) => s + w[j], 0) : p[i] * (w[i] - f.reduce((s, j) => s + w[j] * p[j], 0));
  });
}

const tols: Record<DType, number> = { f64: 1e-12, f32: 2e-6, i32: 0 };

forEachBackend('basic ops against explicit float64 formulas', (backend) => {
  for (const dtype of ['f64', 'f32'] as const) {
    const o = { backend, dtype };
    const tol = tols[dtype];
    // webgpu computes in f32 only: there the f32 twin of each test runs.
    const skip = backend.dtypes.includes(dtype) ? false : `${backend.name} has no ${dtype} (the ${dtype === 'f64' ? 'f32' : 'f64'} twin of this test runs)`;
    const it = (title: string, fn: () => Promise<void>) => test(title, { skip }, fn);
    const leaf = (data: ArrayLike<number>, shape: number[]): Tensor => { const t = tensor(data, shape, o); t.requiresGrad = true; return t; };
    const fixed = (data: ArrayLike<number>, shape: number[]): Tensor => tensor(data, shape, o);
    /** Forward values and the gradient of sum(out * w) w.r.t. the leaf x. */
    const run = async (x: Tensor, f: (x: Tensor) => Tensor, w: Float64Array): Promise<{ y: number[]; g: number[] }> => {
      const y = f(x);
      backward(ops.sum(ops.mul(y, fixed(w, [...y.shape]))));
      return { y: await values(y), g: await values(x.grad!) };
    };

    it(`softmax and logSoftmax along axes 0, 1, 2, -1, -2 of a [3, 4, 5] tensor, forward and backward (${dtype})`, async () => {
      const shape = [3, 4, 5], n = 60;
      const xv = vals(n, 0.3), w = vals(n, 1.1);
      for (const log of [false, true]) {
        for (const dim of [0, 1, 2, -1, -2, -3]) {
          const ax = dim < 0 ? dim + 3 : dim;
          const what = `${log ? 'logSoftmax' : 'softmax'}(dim ${dim}) ${dtype}`;
          const { y, g } = await run(leaf(xv, shape), (x) => (log ? ops.logSoftmax(x, dim) : ops.softmax(x, dim)), w);
          assertClose(y, softmaxF64(xv, shape, ax, log), tol, tol, `${what} forward`);
          assertClose(g, softmaxVjp(xv, w, shape, ax, log), tol, tol, `${what} backward`);
        }
      }
    });
    it(`softmax defaults to the last axis and each axis normalises its own fibers (${dtype})`, async () => {
      const x = fixed([0, 1, 2, 3], [2, 2]);
      assertClose(await values(ops.softmax(x)), await values(ops.softmax(x, 1)), 0, 0, 'default vs dim 1');
      const e = 1 / (1 + Math.exp(-2)); // axis 0 pairs (0, 2) and (1, 3): each differs by 2
      assertClose(await values(ops.softmax(x, 0)), [1 - e, 1 - e, e, e], tol, tol, 'softmax dim 0');
      const f = 1 / (1 + Math.exp(-1)); // axis 1 pairs (0, 1) and (2, 3): each differs by 1
      assertClose(await values(ops.softmax(x, 1)), [1 - f, f, 1 - f, f], tol, tol, 'softmax dim 1');
    });
    it(`softmax refuses an axis outside the tensor (${dtype})`, async () => {
      const x = fixed(vals(6, 0), [2, 3]);
      assert.throws(() => ops.softmax(x, 2), /^Error: softmax: expected dim in \[-2, 1\] for shape \[2, 3\], got 2$/);
      assert.throws(() => ops.logSoftmax(x, -3), /^Error: logSoftmax: expected dim in \[-2, 1\] for shape \[2, 3\], got -3$/);
      assert.throws(() => ops.softmax(x, 0.5), /expected dim in \[-2, 1\].*got 0\.5/);
    });

    it(`sum and mean over axes (one, several, negative, all; keepDims), forward and backward (${dtype})`, async () => {
      const shape = [2, 3, 4], xv = vals(24, 0.7);
      const cases: { axes: number[] | undefined; keep: boolean }[] = [
        { axes: [0], keep: false }, { axes: [1], keep: true }, { axes: [2], keep: false }, { axes: [0, 2], keep: false },
        { axes: [-1], keep: true }, { axes: undefined, keep: false },
      ];
      for (const { axes, keep } of cases) {
        const red = (axes ?? [0, 1, 2]).map((a) => (a < 0 ? a + 3 : a));
        const outShape = shape.map((d, i) => (red.includes(i) ? 1 : d));
        const count = red.reduce((p, a) => p * shape[a], 1);
        // Output element of input i: its index with the reduced axes set to 0.
        const outIndex = (i: number) => {
          const idx = unravel(i, shape).map((v, a) => (red.includes(a) ? 0 : v));
          const st = strides(outShape);
          return idx.reduce((p, v, a) => p + v * st[a], 0);
        };
        const nOut = outShape.reduce((p, d) => p * d, 1);
        const w = vals(nOut, 2.2);
        const wantSum = new Float64Array(nOut);
        xv.forEach((v, i) => { wantSum[outIndex(i)] += v; });
        for (const isMean of [false, true]) {
          const what = `${isMean ? 'mean' : 'sum'}(${JSON.stringify(axes)}, keepDims ${keep}) ${dtype}`;
          const f = (x: Tensor) => (isMean ? ops.mean(x, axes, keep) : ops.sum(x, axes, keep));
          const { y, g } = await run(leaf(xv, shape), f, w);
          assertClose(y, wantSum.map((s) => (isMean ? s / count : s)), tol * 10, tol, `${what} forward`);
          assertClose(g, Float64Array.from(xv, (_, i) => w[outIndex(i)] / (isMean ? count : 1)), tol, tol, `${what} backward`);
        }
      }
    });

    it(`affine: alpha x + beta, forward and backward (${dtype})`, async () => {
      const xv = vals(6, 0.2), w = vals(6, 4.4);
      const { y, g } = await run(leaf(xv, [2, 3]), (x) => ops.affine(x, 2.5, -1), w);
      assertClose(y, Array.from(xv, (v) => 2.5 * v - 1), tol, tol, 'affine forward');
      assertClose(g, Array.from(w, (v) => 2.5 * v), tol, tol, 'affine backward');
    });

    it(`mseLoss: mean, sum and none, forward and backward (${dtype})`, async () => {
      const n = 12, pv = vals(n, 0.1), tv = vals(n, 0.9), wv = vals(n, 3.3);
      const d = Float64Array.from(pv, (p, i) => p - tv[i]);
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const p = leaf(pv, [3, 4]);
        const out = mseLoss(p, fixed(tv, [3, 4]), reduction);
        const sq = Array.from(d, (v) => v * v);
        const want = reduction === 'none' ? sq : [sq.reduce((a, b) => a + b, 0) / (reduction === 'mean' ? n : 1)];
        assertClose(await values(out), want, tol * 10, tol, `mse ${reduction} forward`);
        if (reduction === 'none') backward(out, fixed(wv, [3, 4]));
        else backward(out);
        const gw = Array.from(d, (v, i) => 2 * v * (reduction === 'none' ? wv[i] : reduction === 'mean' ? 1 / n : 1));
        assertClose(await values(p.grad!), gw, tol, tol, `mse ${reduction} backward`);
      }
    });

    it(`crossEntropy: mean, sum, none, with and without ignoreIndex, forward and backward (${dtype})`, async () => {
      const N = 5, C = 4, lv = vals(N * C, 0.4), gv = vals(N, 5.5);
      const lsm = softmaxF64(lv, [N, C], 1, true), p = softmaxF64(lv, [N, C], 1, false);
      for (const ignore of [undefined, 2]) {
        const targets = ignore === undefined ? [1, 0, 3, 2, 1] : [1, 2, 3, 2, 0]; // with ignore 2: rows 1 and 3 skipped
        const kept = targets.map((t) => t !== (ignore ?? -100));
        const K = kept.filter(Boolean).length;
        for (const reduction of ['mean', 'sum', 'none'] as const) {
          const what = `crossEntropy ${reduction} ignoreIndex ${ignore} ${dtype}`;
          const x = leaf(lv, [N, C]);
          const out = crossEntropy(x, targets, reduction, ignore);
          const per = targets.map((t, n) => (kept[n] ? -lsm[n * C + t] : 0));
          const total = per.reduce((a, b) => a + b, 0);
          assertClose(await values(out), reduction === 'none' ? per : [reduction === 'mean' ? total / K : total], tol * 10, tol, `${what} forward`);
          if (reduction === 'none') backward(out, fixed(gv, [N]));
          else backward(out);
          // d/dlogits[n, c] of -lsm[n, t_n]: p[n, c] - [c == t_n], times the row's weight.
          const rowW = (n: number) => (!kept[n] ? 0 : reduction === 'none' ? gv[n] : reduction === 'mean' ? 1 / K : 1);
          const want = Array.from({ length: N * C }, (_, i) => {
            const n = Math.floor(i / C), c = i % C;
            return rowW(n) * (p[i] - (c === targets[n] ? 1 : 0));
          });
          assertClose(await values(x.grad!), want, tol, tol, `${what} backward`);
        }
      }
    });
  }
}, { asyncF32: true });
