import type { Storage } from '../backend.js';
import { qgemm16 as qgemm16Ref, qgemmInt8 as qgemmInt8Ref } from '../../ops/composed/quant.js';
import { kernels } from '../../ops/kernels.js';
import { WasmStorage, type WasmBackend } from './index.js';

/**
 * The `quant` kernel set on the wasm backend (kernels/quant.c), called from WasmBackend's methods
 * of the same names. Storages outside the linear memory (JS-memory fallbacks) run the TypeScript
 * reference, which gives the same bits for int8.
 */

interface QuantExports {
  qgemm_work_bytes(k: number): number;
  qgemm_i8(m: number, n: number, k: number, x: number, ldx: number, w: number, scales: number, bias: number,
    out: number, ldo: number, accumulate: number, work: number): void;
  qgemm_16(f16: number, m: number, n: number, k: number, x: number, ldx: number, w: number, bias: number,
    out: number, ldo: number, accumulate: number): void;
}

/** Per backend: the scratch the int8 kernel quantizes rows of x into (grows, never shrinks). */
const work = new WeakMap<WasmBackend, { ptr: number; bytes: number }>();

function scratch(b: WasmBackend, bytes: number): number {
  let w = work.get(b);
  if (!w || w.bytes < bytes) {
    if (w) b.heap.free(w.ptr, w.bytes);
    const ptr = b.heap.alloc(bytes);
    if (ptr < 0) throw new Error(`backend wasm: out of linear memory: ${bytes} bytes of quantized-GEMM scratch needed`);
    w = { ptr, bytes };
    work.set(b, w);
  }
  return w.ptr;
}

/** The storage in this backend's linear memory, in bounds, or null (then the reference runs). */
function mem(b: WasmBackend, s: Storage | null, dtype: 'f32' | 'i32', what: string, elements: number): WasmStorage | null {
  if (!s || !(s instanceof WasmStorage) || s.backend !== b || s.dtype !== dtype || !s.block) return null;
  if (elements > s.array.length) throw new Error(`${what}: expected at least ${elements} elements, the storage has ${s.array.length}`);
  return s;
}

function matrix(b: WasmBackend, s: Storage, what: string, off: number, rows: number, cols: number, ld: number): number {
  if (!(ld >= cols && off >= 0)) throw new Error(`${what}: expected a leading dimension >= ${cols} and an offset >= 0, got ${ld} and ${off}`);
  const w = mem(b, s, 'f32', what, off + (rows - 1) * ld + cols);
  return w ? w.ptr + 4 * off : -1;
}

export function qgemmInt8Wasm(b: WasmBackend, m: number, n: number, k: number, x: Storage, xOff: number, ldx: number,
  w: Storage, scales: Storage, bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
  if (m <= 0 || n <= 0) return;
  const X = matrix(b, x, 'qgemmInt8 x', xOff, m, k, ldx), O = matrix(b, out, 'qgemmInt8 out', outOff, m, n, ldo);
  const W = mem(b, w, 'i32', 'qgemmInt8 W', Math.ceil((n * k) / 4)), S = mem(b, scales, 'f32', 'qgemmInt8 scales', n);
  const B = mem(b, bias, 'f32', 'qgemmInt8 bias', n);
  if (X < 0 || O < 0 || !W || !S || (bias && !B)) {
    return qgemmInt8Ref(kernels(b), m, n, k, x, xOff, ldx, w, scales, bias, out, outOff, ldo, accumulate);
  }
  const e = b.kernels as unknown as QuantExports;
  e.qgemm_i8(m, n, k, X, ldx, W.ptr, S.ptr, B ? B.ptr : 0, O, ldo, accumulate ? 1 : 0, scratch(b, e.qgemm_work_bytes(k)));
}

export function qgemm16Wasm(b: WasmBackend, format: 'bf16' | 'f16', m: number, n: number, k: number, x: Storage, xOff: number, ldx: number,
  w: Storage, bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
  if (m <= 0 || n <= 0) return;
  const X = matrix(b, x, 'qgemm16 x', xOff, m, k, ldx), O = matrix(b, out, 'qgemm16 out', outOff, m, n, ldo);
  const W = mem(b, w, 'i32', 'qgemm16 W', Math.ceil((n * k) / 2)), B = mem(b, bias, 'f32', 'qgemm16 bias', n);
  if (X < 0 || O < 0 || !W || (bias && !B)) {
    return qgemm16Ref(kernels(b), format, m, n, k, x, xOff, ldx, w, bias, out, outOff, ldo, accumulate);
  }
  (b.kernels as unknown as QuantExports).qgemm_16(format === 'f16' ? 1 : 0, m, n, k, X, ldx, W.ptr, B ? B.ptr : 0, O, ldo, accumulate ? 1 : 0);
}
