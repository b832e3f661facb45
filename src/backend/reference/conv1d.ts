import type { TypedArray } from '../dtype.js';

/**
 * Depthwise causal 1-D convolution over time, forward next to backward (the xLSTM blocks'
 * conv: torch.nn.Conv1d(C, C, K, groups=C, padding=K-1) with the last K-1 outputs dropped):
 *   y[t, b, c] = bias[c] + sum_{j < K} w[c, j] x[t - (K-1) + j, b, c]    (x = 0 before t = 0)
 * x, y [T, B, C]; w [C, K] (PyTorch's [C, 1, K]); bias [C] or null.
 */
export function causalConv1dForwardRef(T: number, B: number, C: number, K: number, x: TypedArray, w: TypedArray,
  bias: TypedArray | null, y: TypedArray): void {
  const BC = B * C;
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < BC; r++) {
      const c = r % C;
      let s = bias ? bias[c] : 0;
      for (let j = 0; j < K; j++) {
        const ts = t - (K - 1) + j;
        if (ts >= 0) s += w[c * K + j] * x[ts * BC + r];
      }
      y[t * BC + r] = s;
    }
  }
}

/** Backward: dx [T, B, C], dw [C, K], db [C] (each overwritten; null: not wanted). */
export function causalConv1dBackwardRef(T: number, B: number, C: number, K: number, x: TypedArray, w: TypedArray,
  dy: TypedArray, dx: TypedArray | null, dw: TypedArray | null, db: TypedArray | null): void {
  const BC = B * C;
  if (dx) dx.fill(0, 0, T * BC);
  if (dw) dw.fill(0, 0, C * K);
  if (db) db.fill(0, 0, C);
  for (let t = 0; t < T; t++) {
    for (let r = 0; r < BC; r++) {
      const c = r % C, g = dy[t * BC + r];
      if (db) db[c] += g;
      for (let j = 0; j < K; j++) {
        const ts = t - (K - 1) + j;
        if (ts < 0) continue;
        if (dx) dx[ts * BC + r] += w[c * K + j] * g;
        if (dw) dw[c * K + j] += g * x[ts * BC + r];
      }
    }
  }
}
