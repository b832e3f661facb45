import type { Kernels, Storage } from '../../backend/backend.js';

/**
 * Composed im2col / col2im (oracle: src/backend/reference/conv.ts), from core kernels only.
 *
 * For one kernel tap (u, v) the columns of every channel and image are one strided view of x:
 *   cols[(c*k + u)*k + v, b*P + r*Wo + s] = x[b, c, r + u - pad, s + v - pad]
 * over the output rows r and columns s whose input pixel lies inside the image (a box
 * [r0, r1) x [s0, s1), the same for every c and b). So im2col is one fill (the zero padding)
 * and k*k copyStrided calls of shape [C, n, r1 - r0, s1 - s0]; col2im is the same copies in the
 * other direction with accumulate = true (for a fixed tap the map to x is one-to-one, so no
 * element is added twice within a call; across taps the sums go in the reference's (u, v) order).
 */

interface Tap { shape: number[]; xOff: number; xStr: number[]; cOff: number; cStr: number[] }

/** The k*k copies between x (at xOff) and cols (at colOff), skipping taps that touch no pixel. */
function taps(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number, xOff: number, colOff: number): Tap[] {
  const Ho = Hgt + 2 * pad - k + 1, Wo = Wid + 2 * pad - k + 1;
  if (n <= 0 || C <= 0 || Ho <= 0 || Wo <= 0) return [];
  const P = Ho * Wo, ld = n * P, HW = Hgt * Wid;
  const out: Tap[] = [];
  for (let u = 0; u < k; u++) {
    const r0 = Math.max(0, pad - u), r1 = Math.min(Ho, Hgt + pad - u);
    if (r0 >= r1) continue;
    for (let v = 0; v < k; v++) {
      const s0 = Math.max(0, pad - v), s1 = Math.min(Wo, Wid + pad - v);
      if (s0 >= s1) continue;
      out.push({
        shape: [C, n, r1 - r0, s1 - s0],
        xOff: xOff + (r0 + u - pad) * Wid + (s0 + v - pad),
        xStr: [HW, C * HW, Wid, 1],
        cOff: colOff + (u * k + v) * ld + r0 * Wo + s0,
        cStr: [k * k * ld, P, Wo, 1],
      });
    }
  }
  return out;
}

export function im2col(k: Kernels, n: number, C: number, Hgt: number, Wid: number, kk: number, pad: number,
  x: Storage, xOff: number, cols: Storage, colOff: number): void {
  const Ho = Hgt + 2 * pad - kk + 1, Wo = Wid + 2 * pad - kk + 1;
  if (n <= 0 || C <= 0 || Ho <= 0 || Wo <= 0) return;
  k.fill(cols, colOff, C * kk * kk * n * Ho * Wo, 0);
  for (const t of taps(n, C, Hgt, Wid, kk, pad, xOff, colOff)) {
    k.copyStrided(t.shape, x, t.xOff, t.xStr, cols, t.cOff, t.cStr, false);
  }
}

export function col2im(k: Kernels, n: number, C: number, Hgt: number, Wid: number, kk: number, pad: number,
  cols: Storage, colOff: number, dx: Storage, dxOff: number): void {
  for (const t of taps(n, C, Hgt, Wid, kk, pad, dxOff, colOff)) {
    k.copyStrided(t.shape, cols, t.cOff, t.cStr, dx, t.xOff, t.xStr, true);
  }
}
