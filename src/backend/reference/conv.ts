import type { TypedArray } from '../dtype.js';

/**
 * im2col / col2im for stride-1, dilation-1 2-D cross-correlation (torch conv2d, no kernel flip)
 * with zero padding `pad`, batch in the columns so that a whole batch is ONE GEMM:
 *   out[O, n*Ho*Wo] = W[O, C*k*k] x cols[C*k*k, n*Ho*Wo]
 * x [n, C, Hgt, Wid]; Ho = Hgt + 2 pad - k + 1 (Wo likewise); P = Ho*Wo;
 *   cols[(c*k + u)*k + v, b*P + r*Wo + s] = x[b, c, r + u - pad, s + v - pad]   (0 outside the image)
 */
export function im2colRef(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
  x: TypedArray, xOff: number, cols: TypedArray, colOff: number): void {
  const Ho = Hgt + 2 * pad - k + 1, Wo = Wid + 2 * pad - k + 1, P = Ho * Wo, ld = n * P;
  for (let c = 0; c < C; c++) {
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        const row = colOff + ((c * k + u) * k + v) * ld;
        // Output columns s whose input column s + v - pad lies inside the image.
        const s0 = Math.max(0, pad - v), s1 = Math.min(Wo, Wid + pad - v);
        for (let b = 0; b < n; b++) {
          const xc = xOff + (b * C + c) * Hgt * Wid, ob = row + b * P;
          for (let r = 0; r < Ho; r++) {
            const xr = r + u - pad, o = ob + r * Wo;
            if (xr < 0 || xr >= Hgt || s0 >= s1) { cols.fill(0, o, o + Wo); continue; }
            const xi = xc + xr * Wid + v - pad;
            for (let s = 0; s < s0; s++) cols[o + s] = 0;
            for (let s = s0; s < s1; s++) cols[o + s] = x[xi + s];
            for (let s = s1; s < Wo; s++) cols[o + s] = 0;
          }
        }
      }
    }
  }
}

/** The adjoint of im2colRef: dx[b, c, r + u - pad, s + v - pad] += cols[(c*k + u)*k + v, b*P + r*Wo + s]. */
export function col2imRef(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
  cols: TypedArray, colOff: number, dx: TypedArray, dxOff: number): void {
  const Ho = Hgt + 2 * pad - k + 1, Wo = Wid + 2 * pad - k + 1, P = Ho * Wo, ld = n * P;
  for (let c = 0; c < C; c++) {
    for (let u = 0; u < k; u++) {
      for (let v = 0; v < k; v++) {
        const row = colOff + ((c * k + u) * k + v) * ld;
        const s0 = Math.max(0, pad - v), s1 = Math.min(Wo, Wid + pad - v);
        for (let b = 0; b < n; b++) {
          const xc = dxOff + (b * C + c) * Hgt * Wid, ob = row + b * P;
          for (let r = 0; r < Ho; r++) {
            const xr = r + u - pad;
            if (xr < 0 || xr >= Hgt) continue;
            const o = ob + r * Wo, xi = xc + xr * Wid + v - pad;
            for (let s = s0; s < s1; s++) dx[xi + s] += cols[o + s];
          }
        }
      }
    }
  }
}
