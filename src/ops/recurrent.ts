import type { Backend, Storage } from '../backend/backend.js';
import type { DType } from '../backend/dtype.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { kernels } from './kernels.js';

/**
 * Shared pieces of the fused recurrent layer ops (LSTM, GRU and their relatives).
 *
 * Variable lengths follow pack_padded_sequence: the batch is sorted by decreasing length (the
 * module does that), so at time t the active rows are the first batchSizes[t] ones and every
 * kernel call works on one contiguous block of rows. Rows past their length are never written:
 * their outputs stay zero and their state stays where it was, as in PyTorch.
 */

/** batchSizes[t] = number of sequences longer than t. lengths must be sorted descending. */
export function batchSizes(lengths: ArrayLike<number> | null, T: number, B: number): Int32Array {
  const bs = new Int32Array(T);
  if (!lengths) { bs.fill(B); return bs; }
  for (let b = 0; b < B; b++) {
    const L = lengths[b];
    if (b > 0 && L > lengths[b - 1]) throw new Error(`recurrent layer: lengths must be sorted in decreasing order here, got ${Array.from(lengths).join(', ')}`);
    for (let t = 0; t < L; t++) bs[t]++;
  }
  return bs;
}

/** Validate per-sequence lengths against a batch of B sequences of at most T steps. */
export function checkLengths(lengths: ArrayLike<number>, T: number, B: number): void {
  if (lengths.length !== B) throw new Error(`lengths: expected ${B} values (one per sequence in the batch), got ${lengths.length}`);
  for (let b = 0; b < B; b++) {
    const L = lengths[b];
    if (!Number.isInteger(L) || L < 1 || L > T) {
      throw new Error(`lengths[${b}]: expected an integer in [1, ${T}] (the padded sequence length), got ${L}`);
    }
  }
}

/**
 * out [rows, G] = x [rows, I] W^T [I, G] + b1 + b2 (either bias may be absent): the input
 * projection of every time step of a layer as ONE matrix product.
 */
export function projectInputs(be: Backend, rows: number, I: number, G: number, x: Storage, w: Storage,
  b1: Storage | null, b2: Storage | null, out: Storage): void {
  if (b1) be.copyStrided([rows, G], b1, 0, [0, 1], out, 0, [G, 1], false);
  if (b2) be.copyStrided([rows, G], b2, 0, [0, 1], out, 0, [G, 1], true);
  be.gemm(false, true, rows, G, I, 1, x, 0, I, w, 0, I, b1 || b2 ? 1 : 0, out, 0, G);
}

/**
 * Backward of the projections over all R = T*B rows at once (inactive rows hold zeros), one GEMM
 * each: dx [R, I] (+)= dGx W_ih (accumulating for the second direction), dW_ih [G, I] = dGx^T x,
 * dW_hh [G, K] = dGh^T hPrev, with dGx / dGh [R, G] the gate gradients reaching each product
 * (the same buffer for an LSTM; separate ones for a GRU, whose recurrent product is gated).
 */
export function projectionGrads(be: Backend, dt: DType, R: number, I: number, G: number, K: number, dGx: Storage,
  dGh: Storage, x: Storage, wIh: Storage, hPrev: Storage, dx: Storage | null, accumulateDx: boolean): { dWih: Storage; dWhh: Storage } {
  if (dx) be.gemm(false, false, R, I, G, 1, dGx, 0, G, wIh, 0, I, accumulateDx ? 1 : 0, dx, 0, I);
  const dWih = be.alloc(dt, G * I);
  be.gemm(true, false, G, I, R, 1, dGx, 0, G, x, 0, I, 0, dWih, 0, I);
  const dWhh = be.alloc(dt, G * K);
  be.gemm(true, false, G, K, R, 1, dGh, 0, G, hPrev, 0, K, 0, dWhh, 0, K);
  return { dWih, dWhh };
}

/** dst [n] (+)= column sums of src [rows, n]: bias gradients. */
export function columnSums(be: Backend, src: Storage, rows: number, n: number, dst: Storage, accumulate: boolean): void {
  if (!accumulate) be.fill(dst, 0, n, 0);
  be.copyStrided([rows, n], src, 0, [n, 1], dst, 0, [0, 1], true);
}

/** Copy `rows` rows of `width` values between two strided row blocks. */
export function copyRows(be: Backend, rows: number, width: number, src: Storage, sOff: number, ldSrc: number,
  dst: Storage, dOff: number, ldDst: number, accumulate = false): void {
  if (rows > 0) kernels(be).copy2d(rows, width, src, sOff, ldSrc, dst, dOff, ldDst, accumulate);
}

export function checkWeight(op: string, name: string, t: Tensor | null, shape: readonly number[]): void {
  if (!t) return;
  if (t.rank !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: expected ${name} of shape ${fmt(shape)}, got ${fmt(t.shape)}`);
  }
}
