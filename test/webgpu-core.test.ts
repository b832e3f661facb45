import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, BinaryOp, ReduceOp, Storage, UnaryOp } from '../src/backend/backend.js';
import type { DType } from '../src/backend/dtype.js';
import { reference, webgpuForSuite } from './backends.js';
import { assertMatches } from './util/assert.js';
import { randArray as randArrayOf, rng } from './util/random.js';

/**
 * The 14 core kernels of the webgpu backend against the reference backend (the oracle): odd
 * sizes, offsets, transposes, broadcasts, reductions over every axis pattern, i32 data, NaN and
 * infinities, ranks above the shaders' limits, and the batching (uploads and reuse of pooled
 * buffers while dispatches are still recorded, batches longer than one submission).
 */
const gpu = webgpuForSuite();
const rand = rng(2024);
const randArray = (n: number, scale = 1) => randArrayOf(rand, n, scale);

const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 2e-6, atol = 1e-6) => assertMatches(got, want, what, rtol, atol);

/** Run `fn` on both backends (it uploads its own inputs) and compare the storages it returns. */
async function same(g: Backend, what: string, fn: (b: Backend) => Storage[], rtol?: number, atol?: number): Promise<void> {
  const got = fn(g), want = fn(reference);
  for (let k = 0; k < got.length; k++) close(await g.read(got[k]), await reference.read(want[k]), `${what} #${k}`, rtol, atol);
}

describe('webgpu core kernels against the reference', { skip: gpu.skip }, () => {
  const g = gpu.backend!;

  it('alloc is zero-filled, also when it reuses a freed buffer; upload and read round-trip f32 and i32', async () => {
    const a = g.upload('f32', [1, 2, 3, 4, 5]);
    g.dispose(a);
    const z = g.alloc('f32', 5); // the same pool bucket
    assert.deepEqual([...await g.read(z)], [0, 0, 0, 0, 0]);
    const i = g.upload('i32', [-7, 2 ** 30, 0]);
    const r = await g.read(i);
    assert.ok(r instanceof Int32Array);
    assert.deepEqual([...r], [-7, 2 ** 30, 0]);
    assert.deepEqual([...await g.read(g.alloc('f32', 0))], []);
  });

  it('rejects f64 and use after dispose with one clear line', async () => {
    assert.throws(() => g.alloc('f64', 3), /webgpu alloc: expected dtype f32 \(or i32 for indices\), got f64/);
    assert.throws(() => g.upload('f64', [1]), /webgpu upload: expected dtype f32 \(or i32 for indices\), got f64/);
    const s = g.upload('f32', [1]);
    g.dispose(s);
    g.dispose(s); // idempotent, as tidy() relies on
    await assert.rejects(g.read(s), /used after it was freed/);
  });

  it('fill, affine (accumulating, in place), on f32 and i32', async () => {
    const x = randArray(37);
    await same(g, 'fill', (b) => { const s = b.upload('f32', x); b.fill(s, 3, 20, -2.5); return [s]; });
    await same(g, 'fill i32', (b) => { const s = b.alloc('i32', 9); b.fill(s, 1, 7, 123456789); return [s]; });
    await same(g, 'affine', (b) => { const s = b.upload('f32', x), o = b.upload('f32', x); b.affine(s, 2, o, 5, 30, 1.5, -0.25, false); return [o]; });
    await same(g, 'affine acc in place', (b) => { const s = b.upload('f32', x); b.affine(s, 0, s, 0, 37, -3, 1, true); return [s]; });
  });

  it('every unary op and its backward (accumulating; a zero dy gives a zero gradient), edge values included', async () => {
    const ops: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'square', 'sigmoid', 'tanh', 'relu', 'softplus', 'logsigmoid'];
    const x = [...randArray(61, 4), 0, -0.5, 1e-5, -1e-5, 30, -30, 100, -100, 1e-30];
    for (const op of ops) {
      const pos = op === 'log' || op === 'sqrt';
      const xs = pos ? x.map((v) => Math.abs(v) + 0.01) : x;
      await same(g, `unary ${op}`, (b) => { const s = b.upload('f32', xs), o = b.alloc('f32', xs.length + 3); b.unary(op, s, 0, o, 3, xs.length); return [o]; }, 4e-6, 1e-6);
      const dy = xs.map((_, i) => (i % 7 === 0 ? 0 : Math.sin(i)));
      await same(g, `unaryBackward ${op}`, (b) => {
        const s = b.upload('f32', xs), y = b.alloc('f32', xs.length), d = b.upload('f32', dy), dx = b.upload('f32', xs);
        b.unary(op, s, 0, y, 0, xs.length);
        b.unaryBackward(op, s, y, d, dx, xs.length, true);
        return [dx];
      }, 4e-6, 1e-6);
    }
    // IEEE edges the CPU gives: log 0 = -inf, log of a negative = NaN, exp overflow = inf.
    const r = g.alloc('f32', 4);
    g.unary('log', g.upload('f32', [0, -1]), 0, r, 0, 2);
    g.unary('exp', g.upload('f32', [1000, -1000]), 0, r, 2, 2);
    const v = await g.read(r);
    assert.equal(v[0], -Infinity); assert.ok(Number.isNaN(v[1])); assert.equal(v[2], Infinity); assert.equal(v[3], 0);
  });

  it('binary ops with broadcasts, offsets, i32 operands and NaN', async () => {
    const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'];
    const a = [...randArray(60), NaN, 0.5, 0.5], bv = [...randArray(40), 0.5, NaN, 0.5];
    for (const op of ops) {
      await same(g, `binary ${op} [3,4,5] x [4,5]`, (b) => {
        const x = b.upload('f32', a), y = b.upload('f32', bv), o = b.alloc('f32', 62);
        b.binary(op, [3, 4, 5], x, 1, [20, 5, 1], y, 2, [0, 5, 1], o, 2);
        return [o];
      });
      await same(g, `binary ${op} NaN pairs`, (b) => {
        const x = b.upload('f32', a.slice(60)), y = b.upload('f32', bv.slice(40)), o = b.alloc('f32', 3);
        b.binary(op, [3], x, 0, [1], y, 0, [1], o, 0);
        return [o];
      });
      await same(g, `binary ${op} i32`, (b) => {
        const x = b.upload('i32', [5, -3, 7, 0, 2 ** 25 + 1]), y = b.upload('i32', [2, -3, 9]), o = b.alloc('i32', 5);
        b.binary(op, [5], x, 0, [1], y, 1, [0], o, 0);
        return [o];
      });
    }
    // rank 9 (above the shader's 8): split on the host; a transposed read, out in place of a.
    const shape = [2, 1, 2, 2, 3, 2, 2, 1, 3], n = shape.reduce((p, d) => p * d, 1);
    const big = randArray(n), bs = randArray(3);
    await same(g, 'binary rank 9', (b) => {
      const x = b.upload('f32', big), y = b.upload('f32', bs), o = b.upload('f32', big);
      b.binary('mul', shape, x, 0, [144, 144, 72, 36, 12, 6, 3, 3, 1], y, 0, [0, 0, 0, 0, 0, 0, 0, 0, 1], o, 0);
      b.binary('add', shape, o, 0, [144, 144, 72, 36, 12, 6, 3, 3, 1], x, 0, [1, 1, 2, 4, 8, 24, 48, 96, 0].map((v) => v % 144), o, 0);
      return [o];
    });
  });

  it('copyStrided: slices, transposes, broadcasts, sum by accumulation, i32 to f32, rank 7', async () => {
    const x = randArray(120);
    await same(g, 'transpose', (b) => { const s = b.upload('f32', x), o = b.alloc('f32', 120); b.copyStrided([4, 5, 6], s, 0, [30, 6, 1], o, 0, [1, 4, 20], false); return [o]; });
    await same(g, 'slice', (b) => { const s = b.upload('f32', x), o = b.upload('f32', x); b.copyStrided([3, 2], s, 7, [10, 3], o, 50, [2, 1], true); return [o]; });
    await same(g, 'broadcast', (b) => { const s = b.upload('f32', x), o = b.alloc('f32', 60); b.copyStrided([5, 12], s, 3, [0, 1], o, 0, [12, 1], false); return [o]; });
    await same(g, 'accumulate into zero strides', (b) => { const s = b.upload('f32', x), o = b.upload('f32', [1, 2, 3, 4]); b.copyStrided([5, 4, 6], s, 0, [24, 6, 1], o, 0, [0, 1, 0], true); return [o]; });
    await same(g, 'last write wins', (b) => { const s = b.upload('f32', x), o = b.alloc('f32', 4); b.copyStrided([5, 4], s, 0, [4, 1], o, 0, [0, 1], false); return [o]; });
    await same(g, 'i32 to f32', (b) => { const s = b.upload('i32', [1, -2, 3, 2 ** 20]), o = b.alloc('f32', 4); b.copyStrided([4], s, 0, [1], o, 0, [1], false); return [o]; });
    const shape = [2, 2, 2, 2, 2, 3, 2], n = 192, y = randArray(n);
    const src = [96, 48, 24, 12, 6, 2, 1], dst = [1, 2, 4, 8, 16, 32, 96]; // reverse order: nothing merges
    await same(g, 'rank 7 transpose', (b) => { const s = b.upload('f32', y), o = b.alloc('f32', n); b.copyStrided(shape, s, 0, src, o, 0, dst, false); return [o]; });
  });

  it('reduce sum / max / min over every axis pattern, NaN propagating', async () => {
    const x = randArray(3 * 4 * 5);
    x[17] = NaN;
    const ops: ReduceOp[] = ['sum', 'max', 'min'];
    for (const op of ops) {
      for (const dStr of [[0, 0, 0], [0, 1, 0], [5, 0, 1], [0, 0, 1], [4, 1, 0]]) {
        const len = 1 + Math.max(0, ...dStr.map((s, i) => s * ([3, 4, 5][i] - 1)));
        await same(g, `reduce ${op} dst strides ${dStr}`, (b) => {
          const s = b.upload('f32', x), o = b.upload('f32', new Array(len + 2).fill(7));
          b.reduce(op, [3, 4, 5], s, 0, [20, 5, 1], o, 2, dStr);
          return [o];
        }, 4e-6, 1e-6);
      }
      await same(g, `reduce ${op} i32`, (b) => {
        const s = b.upload('i32', [3, -9, 4, 1, 0, 12]), o = b.alloc('i32', 2);
        b.reduce(op, [2, 3], s, 0, [3, 1], o, 0, [1, 0]);
        return [o];
      });
    }
  });

  it('gemm: every transpose, offsets, leading dimensions, alpha / beta, beta 0 ignoring NaN in C, k = 0', async () => {
    for (const [m, n, k] of [[1, 1, 1], [7, 13, 5], [33, 17, 40], [16, 16, 16]]) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const beta of [0, 1, -0.5]) {
            const lda = (tA ? m : k) + 2, ldb = (tB ? k : n) + 1, ldc = n + 3;
            const A = randArray(3 + lda * (tA ? k : m)), B = randArray(1 + ldb * (tB ? n : k)), C = randArray(ldc * m + 2);
            if (beta === 0) C[2] = NaN;
            await same(g, `gemm ${m}x${n}x${k} ${tA} ${tB} beta ${beta}`, (b) => {
              const a = b.upload('f32', A), bb = b.upload('f32', B), c = b.upload('f32', C);
              b.gemm(tA, tB, m, n, k, 0.75, a, 3, lda, bb, 1, ldb, beta, c, 2, ldc);
              return [c];
            }, 1e-5, 1e-5);
          }
        }
      }
    }
    await same(g, 'gemm k = 0', (b) => { const c = b.upload('f32', [1, 2, 3, 4]); b.gemm(false, false, 2, 2, 0, 1, c, 0, 1, c, 0, 2, 0.5, c, 0, 2); return [c]; });
  });

  it('gatherRows and scatterAddRows (repeated indices add in order), on f32 and i32 rows', async () => {
    const src = randArray(5 * 6), idx = [4, 0, 0, 3, 1, 4, 4];
    await same(g, 'gather', (b) => { const s = b.upload('f32', src), i = b.upload('i32', idx), o = b.alloc('f32', 2 + 7 * 6); b.gatherRows(s, 0, i, 7, 6, o, 2); return [o]; });
    await same(g, 'gather i32', (b) => { const s = b.upload('i32', [1, 2, 3, 4, 5, 6]), i = b.upload('i32', [2, 0]), o = b.alloc('i32', 4); b.gatherRows(s, 0, i, 2, 2, o, 0); return [o]; });
    const up = randArray(7 * 6);
    await same(g, 'scatterAdd', (b) => { const s = b.upload('f32', up), i = b.upload('i32', idx), o = b.upload('f32', src); b.scatterAddRows(s, 0, i, 7, 6, o, 0); return [o]; });
  });

  it('an upload into a pooled buffer waits for the recorded dispatches that used it; long batches split', async () => {
    // x is read by a recorded (not yet submitted) dispatch, then freed; the next upload of that
    // size gets its buffer and must not overwrite x before the dispatch ran.
    const x = g.upload('f32', [1, 2, 3, 4]), y = g.alloc('f32', 4);
    g.affine(x, 0, y, 0, 4, 2, 0, false);
    g.dispose(x);
    const z = g.upload('f32', [100, 100, 100, 100]);
    assert.deepEqual([...await g.read(y)], [2, 4, 6, 8]);
    assert.deepEqual([...await g.read(z)], [100, 100, 100, 100]);
    // 5000 dispatches: more than one submission's worth of uniform slots.
    const acc = g.alloc('f32', 3), one = g.upload('f32', [1, 1, 1]);
    for (let i = 0; i < 5000; i++) g.affine(one, 0, acc, 0, 3, 1, 0, true);
    assert.deepEqual([...await g.read(acc)], [5000, 5000, 5000]);
  });

  it('bind groups are reused by their buffers, each dispatch its own uniforms; more pairs than the cache keeps', async () => {
    // 70 x 70 (source, accumulator) pairs: 4,900 distinct bind groups, past the 4,096 kept, and
    // each pair's scale (a uniform) differs, so a group bound at the wrong slot would show.
    const n = 70, xs = Array.from({ length: n }, (_, i) => g.upload('f32', [i + 1]));
    const accs = Array.from({ length: n }, () => g.alloc('f32', 1));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) g.affine(xs[i], 0, accs[j], 0, 1, j + 1, 0, true);
    for (let j = 0; j < n; j++) assert.deepEqual([...await g.read(accs[j])], [(j + 1) * (n * (n + 1)) / 2], `accumulator ${j}`);
  });

  it('reports a storage of another backend instead of crashing', () => {
    const dt: DType = 'f32';
    assert.throws(() => g.affine(reference.upload(dt, [1]), 0, g.alloc(dt, 1), 0, 1, 1, 0, false), /expected a storage of this webgpu backend, got one of 'reference'/);
  });
});
