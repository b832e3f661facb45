import type { TypedArray } from '../dtype.js';
import { sigmoid } from './elementwise.js';

/**
 * Fused GRU step (nn.GRU semantics), forward next to backward.
 *   gx [rows, 3H] = x W_ih^T + b_ih  -> overwritten with activations (r, z, n)
 *   gh [rows, 3H] = h W_hh^T         -> b_hh added in place (kept: n needs W_hn h + b_hn)
 *   r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r * gh_n), h' = (1 - z) n + z h
 */
export function gruCellForwardRef(rows: number, H: number, gx: TypedArray, gxOff: number, gh: TypedArray, ghOff: number,
  bhh: TypedArray | null, hPrev: TypedArray, hpOff: number, ldhp: number, hOut: TypedArray, hOff: number, ldh: number): void {
  const G = 3 * H;
  for (let b = 0; b < rows; b++) {
    const x0 = gxOff + b * G, h0 = ghOff + b * G, hp = hpOff + b * ldhp, ho = hOff + b * ldh;
    for (let j = 0; j < H; j++) {
      if (bhh) { gh[h0 + j] += bhh[j]; gh[h0 + H + j] += bhh[H + j]; gh[h0 + 2 * H + j] += bhh[2 * H + j]; }
      const r = sigmoid(gx[x0 + j] + gh[h0 + j]);
      const z = sigmoid(gx[x0 + H + j] + gh[h0 + H + j]);
      const n = Math.tanh(gx[x0 + 2 * H + j] + r * gh[h0 + 2 * H + j]);
      gx[x0 + j] = r; gx[x0 + H + j] = z; gx[x0 + 2 * H + j] = n;
      hOut[ho + j] = (1 - z) * n + z * hPrev[hp + j];
    }
  }
}

export function gruCellBackwardRef(rows: number, H: number, gx: TypedArray, gxOff: number, gh: TypedArray, ghOff: number,
  hPrev: TypedArray, hpOff: number, ldhp: number, dh: TypedArray, dhOff: number, ldh: number,
  dGx: TypedArray, dgxOff: number, dGh: TypedArray, dghOff: number, dhPrev: TypedArray, dhpOff: number): void {
  const G = 3 * H;
  for (let b = 0; b < rows; b++) {
    const x0 = gxOff + b * G, h0 = ghOff + b * G, hp = hpOff + b * ldhp, d = dhOff + b * ldh;
    const dx0 = dgxOff + b * G, dh0 = dghOff + b * G, dp = dhpOff + b * H;
    for (let j = 0; j < H; j++) {
      const r = gx[x0 + j], z = gx[x0 + H + j], n = gx[x0 + 2 * H + j];
      const dhj = dh[d + j];
      const dn = dhj * (1 - z) * (1 - n * n);
      const dz = dhj * (hPrev[hp + j] - n) * z * (1 - z);
      const dr = dn * gh[h0 + 2 * H + j] * r * (1 - r);
      dGx[dx0 + j] = dr; dGx[dx0 + H + j] = dz; dGx[dx0 + 2 * H + j] = dn;
      dGh[dh0 + j] = dr; dGh[dh0 + H + j] = dz; dGh[dh0 + 2 * H + j] = dn * r;
      dhPrev[dp + j] = dhj * z;
    }
  }
}
