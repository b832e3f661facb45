import type { Kernels, Storage } from '../../backend/backend.js';
import { arr } from '../../backend/reference/index.js';
import { quantizeActivationRow, widen16 } from '../../quant/scheme.js';

/**
 * The quantized GEMMs (the `quant` kernel set), exactly as src/quant/scheme.ts defines them, in
 * TypeScript over the host arrays of CPU storages. Unlike the other composed fallbacks these are
 * not built from core kernels: the core has no integer arithmetic nor rounding to integers, so
 * int32 accumulation cannot be composed from it exactly. A backend whose memory is not host
 * memory (a GPU) must implement the set itself; here it is refused by name.
 *
 * Weights are stored from element 0 of an i32 storage, row-major [n, k]: int8 values four to an
 * element, 16-bit values two to an element (little-endian, as the wasm kernel reads the bytes).
 */

const f = Math.fround;

function host(what: string, s: Storage): Float32Array | Float64Array | Int32Array {
  try { return arr(s); } catch {
    throw new Error(`${what}: the quantized kernels run on host memory (reference, composed, wasm); backend '${s.backend.name}' keeps its storage elsewhere and implements no 'quant' kernel set`);
  }
}

function bytesOf(what: string, s: Storage, n: number): Uint8Array {
  const a = host(what, s);
  if (s.dtype !== 'i32') throw new Error(`${what}: expected the packed weights in an i32 storage, got ${s.dtype}`);
  if (a.byteLength < n) throw new Error(`${what}: expected at least ${n} bytes of weights, got ${a.byteLength}`);
  return new Uint8Array(a.buffer, a.byteOffset, n);
}

/**
 * out[i, j] (+)= f32(f32(acc) * f32(sx_i * scales[j])) (+ bias[j]) with acc = sum_k (u(x_i)_k - z_i) Wq[j, k]
 * in int32, x_i quantized per row to 7-bit codes u with zero point z_i (scheme.ts); rows i < m of
 * x [m, k] (row stride ldx) and out (ldo).
 */
export function qgemmInt8(_k: Kernels, m: number, n: number, k: number, x: Storage, xOff: number, ldx: number,
  w: Storage, scales: Storage, bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
  const X = host('qgemmInt8 x', x), S = host('qgemmInt8 scales', scales), O = host('qgemmInt8 out', out);
  const B = bias ? host('qgemmInt8 bias', bias) : null;
  const wb = bytesOf('qgemmInt8 W', w, n * k), W = new Int8Array(wb.buffer, wb.byteOffset, n * k);
  const q = new Int32Array(k);
  for (let i = 0; i < m; i++) {
    const { scale: sx, zero } = quantizeActivationRow(X, xOff + i * ldx, k, q, 0);
    for (let t = 0; t < k; t++) q[t] -= zero;
    for (let j = 0; j < n; j++) {
      let acc = 0; // |acc| <= k * 127 * 127: exact in a double for any k the limits allow
      for (let t = 0, r = j * k; t < k; t++) acc += q[t] * W[r + t];
      let y = f(f(acc) * f(sx * S[j]));
      if (B) y = f(y + B[j]);
      const o = outOff + i * ldo + j;
      O[o] = accumulate ? f(O[o] + y) : y;
    }
  }
}

/**
 * out[i, j] (+)= sum_k x[i, k] widen(W16[j, k]) (+ bias[j]): 16-bit float weights (bf16 or f16 bits)
 * widened to f32. The sum runs in a double here; a native kernel's f32 sum agrees within rounding.
 */
export function qgemm16(_k: Kernels, format: 'bf16' | 'f16', m: number, n: number, k: number, x: Storage, xOff: number, ldx: number,
  w: Storage, bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
  const X = host('qgemm16 x', x), O = host('qgemm16 out', out), B = bias ? host('qgemm16 bias', bias) : null;
  const wb = bytesOf('qgemm16 W', w, 2 * n * k), W = new Uint16Array(wb.buffer, wb.byteOffset, n * k);
  const wf = new Float32Array(k);
  for (let j = 0; j < n; j++) {
    for (let t = 0; t < k; t++) wf[t] = widen16(format, W[j * k + t]);
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let t = 0, r = xOff + i * ldx; t < k; t++) acc += X[r + t] * wf[t];
      let y = f(acc);
      if (B) y = f(y + B[j]);
      const o = outOff + i * ldo + j;
      O[o] = accumulate ? f(O[o] + y) : y;
    }
  }
}
