import type { TypedArray } from '../dtype.js';

/**
 * Group normalization over the last dimension, forward next to backward. x [rows, C] is split
 * into G groups of C/G consecutive features; each (row, group) is normalized by its own mean and
 * biased variance (as torch.nn.LayerNorm / GroupNorm), then scaled by w[c] and shifted by b[c]:
 *   y = (x - mean) * rstd * w + b,   rstd = 1 / sqrt(var + eps)
 * Layer norm is G = 1. mean, rstd [rows, G] are saved for the backward.
 */
export function groupNormForwardRef(rows: number, C: number, G: number, eps: number, x: TypedArray,
  w: TypedArray | null, b: TypedArray | null, y: TypedArray, mean: TypedArray, rstd: TypedArray): void {
  const cs = C / G;
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      const o = r * C + g * cs;
      let s = 0;
      for (let j = 0; j < cs; j++) s += x[o + j];
      const mu = s / cs;
      let v = 0;
      for (let j = 0; j < cs; j++) { const d = x[o + j] - mu; v += d * d; }
      const rs = 1 / Math.sqrt(v / cs + eps);
      mean[r * G + g] = mu; rstd[r * G + g] = rs;
      for (let j = 0; j < cs; j++) {
        const c = g * cs + j;
        y[o + j] = (x[o + j] - mu) * rs * (w ? w[c] : 1) + (b ? b[c] : 0);
      }
    }
  }
}

/**
 * Backward: dx = rstd (dxh - mean(dxh) - xh mean(dxh xh)) per group, with xh = (x - mean) rstd
 * and dxh = dy w; dw[c] = sum_rows dy xh, db[c] = sum_rows dy. Every output is overwritten.
 */
export function groupNormBackwardRef(rows: number, C: number, G: number, x: TypedArray, w: TypedArray | null,
  mean: TypedArray, rstd: TypedArray, dy: TypedArray, dx: TypedArray | null, dw: TypedArray | null, db: TypedArray | null): void {
  const cs = C / G;
  if (dw) dw.fill(0, 0, C);
  if (db) db.fill(0, 0, C);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      const o = r * C + g * cs, mu = mean[r * G + g], rs = rstd[r * G + g];
      let s1 = 0, s2 = 0;
      for (let j = 0; j < cs; j++) {
        const c = g * cs + j, xh = (x[o + j] - mu) * rs, d = dy[o + j];
        const dxh = d * (w ? w[c] : 1);
        s1 += dxh; s2 += dxh * xh;
        if (dw) dw[c] += d * xh;
        if (db) db[c] += d;
      }
      if (!dx) continue;
      const m1 = s1 / cs, m2 = s2 / cs;
      for (let j = 0; j < cs; j++) {
        const c = g * cs + j, xh = (x[o + j] - mu) * rs;
        dx[o + j] = rs * (dy[o + j] * (w ? w[c] : 1) - m1 - xh * m2);
      }
    }
  }
}
