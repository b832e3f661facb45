import type { Kernels, Storage } from '../../backend/backend.js';
import { constant, free, scratch } from './util.js';

/** The most negative finite f32: a row of -inf shifts by it instead of -inf (no inf - inf). */
const LOWEST = -3.4028234663852886e38;

/**
 * Row-wise softmax (or log-softmax) of x [rows, cols] from core kernels:
 *   mx [rows] = max_j x, d = x - mx, s [rows] = sum_j exp(d);  y = exp(d) / s  or  d - log s
 */
export function softmax(k: Kernels, x: Storage, out: Storage, rows: number, cols: number, log: boolean): void {
  if (rows <= 0 || cols <= 0) return;
  const dt = x.dtype, shape = [rows, cols], full = [cols, 1], perRow = [1, 0];
  const mx = scratch(k, dt, rows), low = constant(k, dt, LOWEST), d = scratch(k, dt, rows * cols), s = scratch(k, dt, rows);
  k.reduce('max', shape, x, 0, full, mx, 0, perRow);
  k.binary('max', [rows], mx, 0, [1], low, 0, [0], mx, 0);
  k.binary('sub', shape, x, 0, full, mx, 0, perRow, d, 0);
  k.unary('exp', d, 0, out, 0, rows * cols);
  k.reduce('sum', shape, out, 0, full, s, 0, perRow);
  if (log) {
    k.unary('log', s, 0, s, 0, rows);
    k.binary('sub', shape, d, 0, full, s, 0, perRow, out, 0);
  } else {
    k.binary('div', shape, out, 0, full, s, 0, perRow, out, 0);
  }
  free(k, mx, low, d, s);
}

/**
 * Backward of softmax from y [rows, cols]: dx (+)=
 *   log-softmax: dy - exp(y) * sum_j dy     softmax: y * (dy - sum_j dy * y)
 */
export function softmaxBackward(k: Kernels, y: Storage, dy: Storage, dx: Storage, rows: number, cols: number,
  log: boolean, accumulate: boolean): void {
  if (rows <= 0 || cols <= 0) return;
  const dt = y.dtype, shape = [rows, cols], full = [cols, 1], perRow = [1, 0], n = rows * cols;
  const s = scratch(k, dt, rows), t = scratch(k, dt, n), g = accumulate ? scratch(k, dt, n) : dx;
  if (log) {
    k.reduce('sum', shape, dy, 0, full, s, 0, perRow);
    k.unary('exp', y, 0, t, 0, n);
    k.binary('mul', shape, t, 0, full, s, 0, perRow, t, 0);
    k.binary('sub', shape, dy, 0, full, t, 0, full, g, 0);
  } else {
    k.binary('mul', shape, dy, 0, full, y, 0, full, t, 0);
    k.reduce('sum', shape, t, 0, full, s, 0, perRow);
    k.binary('sub', shape, dy, 0, full, s, 0, perRow, t, 0);
    k.binary('mul', shape, y, 0, full, t, 0, full, g, 0);
  }
  if (accumulate) k.affine(g, 0, dx, 0, n, 1, 0, true);
  free(k, s, t, accumulate ? g : null);
}
