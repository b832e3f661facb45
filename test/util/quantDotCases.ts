// The int8 products test/quant-dot.test.ts runs in the parent (TypeScript reference) and in its
// children (test/util/quantDotChild.ts: the wasm kernels of one build, one V8 tier): every case's
// inputs drawn from its own seed, so both sides compute the same product.
import type { Backend } from '../../src/backend/backend.js';
import { kernels } from '../../src/ops/kernels.js';
import { quantizeInt8 } from '../../src/quant/scheme.js';
import { randArray, rng } from './random.js';

export interface DotCase { m: number; n: number; k: number; bias: boolean; acc: boolean; ldx: number; xOff: number; extreme: boolean }

// k around the 16-byte blocks of the relaxed kernel and the 8-lane ones of the SIMD128 kernel;
// n with a tail past the 4-row tiles; m odd, even, one, and past the 64-row panel; `extreme`:
// weights +-127 and activations that quantize to codes 0 and 127 (the largest pairwise sums,
// |2 * 127 * 127| just below 2^15, and the largest zero-point corrections) over k = 4096.
export const DOT_CASES: DotCase[] = [
  { m: 1, n: 36, k: 64, bias: true, acc: false, ldx: 64, xOff: 0, extreme: false },
  { m: 3, n: 21, k: 17, bias: false, acc: true, ldx: 20, xOff: 3, extreme: false },
  { m: 2, n: 8, k: 300, bias: true, acc: true, ldx: 300, xOff: 0, extreme: false },
  { m: 67, n: 13, k: 48, bias: true, acc: false, ldx: 48, xOff: 0, extreme: false },
  { m: 5, n: 9, k: 4096, bias: false, acc: false, ldx: 4096, xOff: 0, extreme: true },
];

/** Packed weights as the kernels take them: int8 four to an i32 element. */
function packed(be: Backend, v: Int8Array) {
  const p = new Int32Array(Math.ceil(v.byteLength / 4));
  new Uint8Array(p.buffer).set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return be.upload('i32', p);
}

/** Case i's product on backend `be` (its quant kernel set or the TypeScript reference): out [m, n + 1]. */
export function runDotCase(be: Backend, c: DotCase, i: number): Float32Array {
  const r = rng(500 + i), { m, n, k } = c, ldo = n + 1;
  const x = randArray(r, c.xOff + (m - 1) * c.ldx + k, 2);
  const w = randArray(r, n * k, 0.5), bias = randArray(r, n), out0 = randArray(r, m * ldo);
  if (c.extreme) {
    // Row i of x spans [-1, 1] (zero point 64) with a run at each end; odd rows all positive (zero point 0).
    for (let j = 0; j < x.length; j++) x[j] = j % 3 === 0 ? 1 : j % 3 === 1 ? -1 : x[j];
    for (let row = 1; row < m; row += 2) for (let t = 0; t < k; t++) x[c.xOff + row * c.ldx + t] = Math.abs(x[c.xOff + row * c.ldx + t]);
    for (let j = 0; j < w.length; j++) w[j] = j % 5 === 4 ? 0.5 : -0.5;
  }
  const { q, scales } = quantizeInt8(w, n, k);
  const xs = be.upload('f32', x), bs = c.bias ? be.upload('f32', bias) : null, os = be.upload('f32', out0);
  kernels(be).qgemmInt8(m, n, k, xs, c.xOff, c.ldx, packed(be, q), be.upload('f32', scales), bs, os, 0, ldo, c.acc);
  return Float32Array.from(be.readSync!(os) as Float32Array);
}
