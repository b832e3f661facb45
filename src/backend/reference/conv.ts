import type { TypedArray } from '../../tensor/dtype.js';

/**
 * im2col / col2im for stride-1, dilation-1 2-D cross-correlation (torch conv2d, no kernel flip)
 * with zero padding `pad`. A convolution is then one GEMM per image:
 *   out[O, Ho*Wo] = W[O, C*k*k] x cols[C*k*k, Ho*Wo]
 * x [n, C, Hgt, Wid]; cols [n, C*k*k, Ho*Wo], Ho = Hgt + 2 pad - k + 1 (Wo likewise);
 *   cols[b, (c*k + u)*k + v, r*Wo + s] = x[b, c, r + u - pad, s + v - pad]   (0 outside the image)
 */
export function im2colRef(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
  x: TypedArray, xOff: number, cols: TypedArray, colOff: number): void {
  const Ho = Hgt + 2 * pad - k + 1, Wo = Wid + 2 * pad - k + 1, P = Ho * Wo;
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < C; c++) {
      const xc = xOff + (b * C + c) * Hgt * Wid;
      for (let u = 0; u < k; u++) {
        for (let v = 0; v < k; v++) {
          const row = colOff + (b * C * k * k + (c * k + u) * k + v) * P;
          for (let r = 0; r < Ho; r++) {
            const xr = r + u - pad, o = row + r * Wo;
            if (xr < 0 || xr >= Hgt) { for (let s = 0; s < Wo; s++) cols[o + s] = 0; continue; }
            const xrow = xc + xr * Wid;
            for (let s = 0; s < Wo; s++) {
              const xs = s + v - pad;
              cols[o + s] = xs >= 0 && xs < Wid ? x[xrow + xs] : 0;
            }
          }
        }
      }
    }
  }
}

/** The adjoint of im2colRef: dx[b, c, r + u - pad, s + v - pad] += cols[b, (c*k + u)*k + v, r*Wo + s]. */
export function col2imRef(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
  cols: TypedArray, colOff: number, dx: TypedArray, dxOff: number): void {
  const Ho = Hgt + 2 * pad - k + 1, Wo = Wid + 2 * pad - k + 1, P = Ho * Wo;
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < C; c++) {
      const xc = dxOff + (b * C + c) * Hgt * Wid;
      for (let u = 0; u < k; u++) {
        for (let v = 0; v < k; v++) {
          const row = colOff + (b * C * k * k + (c * k + u) * k + v) * P;
          for (let r = 0; r < Ho; r++) {
            const xr = r + u - pad;
            if (xr < 0 || xr >= Hgt) continue;
            const o = row + r * Wo, xrow = xc + xr * Wid;
            for (let s = 0; s < Wo; s++) {
              const xs = s + v - pad;
              if (xs >= 0 && xs < Wid) dx[xrow + xs] += cols[o + s];
            }
          }
        }
      }
    }
  }
}
