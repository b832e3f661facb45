import type { Storage } from '../backend.js';
import { qgemm16 as qgemm16Ref, qgemmInt8 as qgemmInt8Ref } from '../../ops/composed/quant.js';
import { kernels } from '../../ops/kernels.js';
import { WasmStorage, type WasmBackend } from './index.js';
import { ChunkJob, JOB_ARGS } from './pool.js';

/**
 * The `quant` kernel set on the wasm backend (kernels/quant.c), called from WasmBackend's methods
 * of the same names. Storages outside the linear memory (JS-memory fallbacks) run the TypeScript
 * reference, which gives the same bits for int8.
 * Large products split the weight rows over the threads as claimed chunks (pool.ts), in
 * multiples of 4 rows: each thread quantizes the rows of x itself (int8), and every output is
 * summed by the same code whatever chunk computes it, so results are bit-identical at any thread
 * count. A quantized LSTM step can run fused (qlstmStepWasm): one synchronisation per step.
 */

export interface QuantExports {
  qgemm_work_bytes(k: number): number;
  qgemm_i8(m: number, n: number, k: number, x: number, ldx: number, w: number, scales: number, bias: number,
    out: number, ldo: number, accumulate: number, work: number): void;
  qgemm_16(f16: number, m: number, n: number, k: number, x: number, ldx: number, w: number, bias: number,
    out: number, ldo: number, accumulate: number): void;
  qlstm_step_i8(rows: number, H: number, u0: number, u1: number, K: number, h: number, ldhIn: number, w: number, scales: number,
    rowSums: number, gates: number, cPrev: number, cOut: number, hOut: number, ldh: number,
    I: number, x: number, ldx: number, wi: number, si: number, ri: number, bias: number, work: number): void;
  qlstm_step_16(f16: number, rows: number, H: number, u0: number, u1: number, K: number, h: number, ldhIn: number, w: number,
    gates: number, cPrev: number, cOut: number, hOut: number, ldh: number): void;
  qlstm_seq_i8(r0: number, r1: number, T: number, reverse: number, B: number, H: number, w: number, scales: number, rowSums: number,
    gates: number, h: number, c: number, y: number, ldy: number, work: number): void;
}

/** What the fused step needs of a quantized weight (src/quant/weight.ts QuantizedWeight). */
export interface QuantStepWeight {
  readonly scheme: 'int8' | 'bf16' | 'f16';
  readonly rows: number;
  readonly cols: number;
  readonly data: Storage;
  readonly scales: Storage | null;
  /** int8: each row's sum of its int8 values (i32, [rows]), or null. With them the relaxed build takes its 7-bit dot path for any batch. */
  readonly rowSums: Storage | null;
}

/** A streaming step's input product fused into the step: gates = x W_ih^T + bias before h W_hh^T (int8 only). */
export interface QuantStepInput {
  readonly x: Storage;
  readonly xOff: number;
  readonly ldx: number;
  readonly w: QuantStepWeight;
  readonly bias: Storage | null;
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

/** The weight's row sums in this backend's linear memory, or 0 (the kernel then sums the rows itself where it needs them). */
function rowSumsPtr(b: WasmBackend, w: QuantStepWeight, what: string): number {
  if (w.scheme !== 'int8' || !w.rowSums) return 0;
  return mem(b, w.rowSums, 'i32', `${what} row sums`, w.rows)?.ptr ?? 0;
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
  const e = b.kernels as unknown as QuantExports, wb = e.qgemm_work_bytes(k);
  const T = b.quantThreads(m * n * k, n, wb);
  if (T > 1) {
    const a = b.chunkArgs, J = JOB_ARGS;
    a[J] = m; a[J + 1] = k; a[J + 2] = X; a[J + 3] = ldx; a[J + 4] = W.ptr; a[J + 5] = S.ptr; a[J + 6] = B ? B.ptr : 0;
    a[J + 7] = O; a[J + 8] = ldo; a[J + 9] = accumulate ? 1 : 0;
    // A streaming step (few rows): one chunk per thread; a batch: three, so a late thread costs at most one.
    b.runQuantChunks(ChunkJob.QGemmI8, n, T, m <= 4 ? 1 : 3);
    return;
  }
  e.qgemm_i8(m, n, k, X, ldx, W.ptr, S.ptr, B ? B.ptr : 0, O, ldo, accumulate ? 1 : 0, scratch(b, wb));
}

export function qgemm16Wasm(b: WasmBackend, format: 'bf16' | 'f16', m: number, n: number, k: number, x: Storage, xOff: number, ldx: number,
  w: Storage, bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
  if (m <= 0 || n <= 0) return;
  const X = matrix(b, x, 'qgemm16 x', xOff, m, k, ldx), O = matrix(b, out, 'qgemm16 out', outOff, m, n, ldo);
  const W = mem(b, w, 'i32', 'qgemm16 W', Math.ceil((n * k) / 2)), B = mem(b, bias, 'f32', 'qgemm16 bias', n);
  if (X < 0 || O < 0 || !W || (bias && !B)) {
    return qgemm16Ref(kernels(b), format, m, n, k, x, xOff, ldx, w, bias, out, outOff, ldo, accumulate);
  }
  const T = b.quantThreads(m * n * k, n, 0), f16 = format === 'f16' ? 1 : 0;
  if (T > 1) {
    const a = b.chunkArgs, J = JOB_ARGS;
    a[J] = f16; a[J + 1] = m; a[J + 2] = k; a[J + 3] = X; a[J + 4] = ldx; a[J + 5] = W.ptr; a[J + 6] = B ? B.ptr : 0;
    a[J + 7] = O; a[J + 8] = ldo; a[J + 9] = accumulate ? 1 : 0;
    b.runQuantChunks(ChunkJob.QGemm16, n, T, m <= 4 ? 1 : 3);
    return;
  }
  (b.kernels as unknown as QuantExports).qgemm_16(f16, m, n, k, X, ldx, W.ptr, B ? B.ptr : 0, O, ldo, accumulate ? 1 : 0);
}

/**
 * gates [rows, 4H] += hIn W^T (W [4H, K] quantized), then the standard LSTM cell (i, f, g, o) into
 * cOut and hOut, fused over hidden units: each thread claims units, computes their four gate
 * blocks and their cell, so a step is one synchronisation (the unfused step is a product, then a
 * cell split by rows that must wait for each worker it hands rows to). Runs the same kernel at
 * any thread count. False, with nothing done, where it does not apply: storages outside the
 * linear memory, H not a multiple of 4, or hOut overlapping hIn (every thread reads all of hIn
 * while others write their units of hOut).
 */
export function qlstmStepWasm(b: WasmBackend, rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, w: QuantStepWeight,
  gates: Storage, gOff: number, cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number,
  input: QuantStepInput | null = null): boolean {
  const K = w.cols;
  if (rows <= 0 || H <= 0 || H % 4 !== 0 || w.rows !== 4 * H || K <= 0) return false;
  const X = input ? stepInput(b, rows, H, w, input, hOut, hOff, ldh) : NO_INPUT;
  if (!X) return false;
  const h = matrix(b, hIn, 'qlstmStep hIn', hInOff, rows, K, ldhIn), ho = matrix(b, hOut, 'qlstmStep hOut', hOff, rows, H, ldh);
  const g = mem(b, gates, 'f32', 'qlstmStep gates', gOff + rows * 4 * H), cp = mem(b, cPrev, 'f32', 'qlstmStep cPrev', cpOff + rows * H);
  const co = mem(b, cOut, 'f32', 'qlstmStep cOut', cOff + rows * H);
  const W = mem(b, w.data, 'i32', 'qlstmStep W', Math.ceil((4 * H * K) / (w.scheme === 'int8' ? 4 : 2)));
  const S = w.scales ? mem(b, w.scales, 'f32', 'qlstmStep scales', 4 * H) : null, R = rowSumsPtr(b, w, 'qlstmStep');
  if (h < 0 || ho < 0 || !g || !cp || !co || !W || (w.scheme === 'int8' && !S)) return false;
  if (ho < h + 4 * ((rows - 1) * ldhIn + K) && h < ho + 4 * ((rows - 1) * ldh + H)) return false; // overlapping
  const e = b.kernels as unknown as QuantExports, int8 = w.scheme === 'int8', wb = int8 ? e.qgemm_work_bytes(Math.max(K, X.I)) : 0;
  const G = g.ptr + 4 * gOff, CP = cp.ptr + 4 * cpOff, CO = co.ptr + 4 * cOff;
  const T = b.quantThreads(rows * 4 * H * (K + X.I), H, wb);
  if (T > 1) {
    const a = b.chunkArgs, J = JOB_ARGS;
    if (int8) {
      a[J] = rows; a[J + 1] = H; a[J + 2] = K; a[J + 3] = h; a[J + 4] = ldhIn; a[J + 5] = W.ptr; a[J + 6] = S!.ptr; a[J + 12] = R;
      a[J + 13] = X.I; a[J + 14] = X.x; a[J + 15] = X.ldx; a[J + 16] = X.w; a[J + 17] = X.s; a[J + 18] = X.r; a[J + 19] = X.bias;
    } else {
      a[J] = w.scheme === 'f16' ? 1 : 0; a[J + 1] = rows; a[J + 2] = H; a[J + 3] = K; a[J + 4] = h; a[J + 5] = ldhIn; a[J + 6] = W.ptr;
    }
    a[J + 7] = G; a[J + 8] = CP; a[J + 9] = CO; a[J + 10] = ho; a[J + 11] = ldh;
    b.runQuantChunks(int8 ? ChunkJob.QLstmStepI8 : ChunkJob.QLstmStep16, H, T, 1);
  } else if (int8) {
    e.qlstm_step_i8(rows, H, 0, H, K, h, ldhIn, W.ptr, S!.ptr, R, G, CP, CO, ho, ldh, X.I, X.x, X.ldx, X.w, X.s, X.r, X.bias, scratch(b, wb));
  } else {
    e.qlstm_step_16(w.scheme === 'f16' ? 1 : 0, rows, H, 0, H, K, h, ldhIn, W.ptr, G, CP, CO, ho, ldh);
  }
  return true;
}

/** A fused input product's linear-memory pointers (I = x = 0: none). INPUT is refilled by each step: nothing allocated per step. */
interface InputPtrs { I: number; x: number; ldx: number; w: number; s: number; r: number; bias: number }
const NO_INPUT: Readonly<InputPtrs> = Object.freeze({ I: 0, x: 0, ldx: 0, w: 0, s: 0, r: 0, bias: 0 });
const INPUT: InputPtrs = { ...NO_INPUT };

/**
 * The fused input product's pointers, or null where it cannot fuse: not int8 (both weights), W_ih
 * not [4H, I], storages outside the linear memory, or x overlapping hOut (every thread reads all of
 * x while others write their units of hOut).
 */
function stepInput(b: WasmBackend, rows: number, H: number, w: QuantStepWeight, input: QuantStepInput, hOut: Storage, hOff: number, ldh: number): InputPtrs | null {
  const wi = input.w, I = wi.cols;
  if (w.scheme !== 'int8' || wi.scheme !== 'int8' || wi.rows !== 4 * H || I <= 0) return null;
  const x = matrix(b, input.x, 'qlstmStep x', input.xOff, rows, I, input.ldx), ho = matrix(b, hOut, 'qlstmStep hOut', hOff, rows, H, ldh);
  const W = mem(b, wi.data, 'i32', 'qlstmStep W_ih', Math.ceil((4 * H * I) / 4)), S = wi.scales ? mem(b, wi.scales, 'f32', 'qlstmStep W_ih scales', 4 * H) : null;
  const B = input.bias ? mem(b, input.bias, 'f32', 'qlstmStep bias', 4 * H) : null;
  if (x < 0 || ho < 0 || !W || !S || (input.bias && !B)) return null;
  if (ho < x + 4 * ((rows - 1) * input.ldx + I) && x < ho + 4 * ((rows - 1) * ldh + H)) return null; // overlapping
  const p = INPUT;
  p.I = I; p.x = x; p.ldx = input.ldx; p.w = W.ptr; p.s = S.ptr; p.r = rowSumsPtr(b, wi, 'qlstmStep W_ih'); p.bias = B ? B.ptr : 0;
  return p;
}

/**
 * A whole int8 LSTM recurrence (kernels/quant.c qlstm_seq_i8): for t = 0..T-1 (reverse: T-1..0),
 * gates[t] [B, 4H] += h W^T (W [4H, H] int8), the standard cell, h and c [B, H] updated in place,
 * and h copied to y's rows t * B + b (row stride ldy). The threads split the batch rows, each
 * running every step of its rows: one synchronisation for the sequence (the fused step needs one
 * per step). False, with nothing done, where it does not apply: not int8, H not a multiple of 4,
 * a projection (W not [4H, H]), storages outside the linear memory, or a batch too small to split
 * over the threads that a step split over hidden units would use.
 */
export function qlstmSeqWasm(b: WasmBackend, T: number, B: number, H: number, reverse: boolean, w: QuantStepWeight,
  gates: Storage, gOff: number, h: Storage, hOff: number, c: Storage, cOff: number, y: Storage, yOff: number, ldy: number): boolean {
  if (w.scheme !== 'int8' || T <= 0 || B <= 0 || H <= 0 || H % 4 !== 0 || w.rows !== 4 * H || w.cols !== H || ldy < H) return false;
  const g = mem(b, gates, 'f32', 'qlstmSeq gates', gOff + T * B * 4 * H), hs = mem(b, h, 'f32', 'qlstmSeq h', hOff + B * H);
  const cs = mem(b, c, 'f32', 'qlstmSeq c', cOff + B * H), ys = matrix(b, y, 'qlstmSeq y', yOff, T * B, H, ldy);
  const W = mem(b, w.data, 'i32', 'qlstmSeq W', Math.ceil((4 * H * H) / 4)), S = w.scales ? mem(b, w.scales, 'f32', 'qlstmSeq scales', 4 * H) : null;
  const R = rowSumsPtr(b, w, 'qlstmSeq');
  if (!g || !hs || !cs || ys < 0 || !W || !S) return false;
  const e = b.kernels as unknown as QuantExports, wb = e.qgemm_work_bytes(H);
  const T1 = b.quantThreads(T * B * 4 * H * H, B, wb);
  if (T1 === 1 && b.quantThreads(B * 4 * H * H, H, wb) > 1) return false; // the batch is too small to split: split each step's units
  const G = g.ptr + 4 * gOff, Hp = hs.ptr + 4 * hOff, C = cs.ptr + 4 * cOff;
  if (T1 > 1) {
    const a = b.chunkArgs, J = JOB_ARGS;
    a[J] = T; a[J + 1] = reverse ? 1 : 0; a[J + 2] = B; a[J + 3] = H; a[J + 4] = W.ptr; a[J + 5] = S.ptr;
    a[J + 6] = G; a[J + 7] = Hp; a[J + 8] = C; a[J + 9] = ys; a[J + 10] = ldy; a[J + 11] = R;
    // Two chunks a thread: a thread the OS runs late leaves its second chunk to the others.
    b.runQuantChunks(ChunkJob.QLstmSeqI8, B, T1, 2);
  } else {
    e.qlstm_seq_i8(0, B, T, reverse ? 1 : 0, B, H, W.ptr, S.ptr, R, G, Hp, C, ys, ldy, scratch(b, wb));
  }
  return true;
}
