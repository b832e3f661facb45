import type { Kernels, Storage } from '../../backend/backend.js';
import { Blocks, type Block } from './util.js';

/**
 * The GRU cell (nn.GRU) from core kernels. gx [rows, 3H] = x W_ih^T + b_ih, overwritten with
 * the activations (r, z, n); gh [rows, 3H] = h W_hh^T, b_hh added in place (kept).
 *   r = σ(gx_r + gh_r), z = σ(gx_z + gh_z), n = tanh(gx_n + r gh_n), h' = (1 - z) n + z h
 */
export function gruCellForward(k: Kernels, rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
  bhh: Storage | null, hPrev: Storage, hpOff: number, ldhp: number, hOut: Storage, hOff: number, ldh: number): void {
  if (rows <= 0 || H <= 0) return;
  const B = new Blocks(k, rows, H, gx.dtype), G = 3 * H;
  const x = (j: number): Block => ({ s: gx, off: gxOff + j * H, ld: G });
  const h = (j: number): Block => ({ s: gh, off: ghOff + j * H, ld: G });
  if (bhh) for (let j = 0; j < 3; j++) B.bin('add', h(j), { s: bhh, off: j * H, ld: 0 }, h(j));
  const r = B.un('sigmoid', B.bin('add', x(0), h(0)));
  const z = B.un('sigmoid', B.bin('add', x(1), h(1)));
  const n = B.un('tanh', B.bin('add', x(2), B.bin('mul', r, h(2))));
  const hp: Block = { s: hPrev, off: hpOff, ld: ldhp };
  // (1 - z) n + z h = n + z (h - n)
  const out = B.bin('add', n, B.bin('mul', z, B.bin('sub', hp, n)));
  B.copy(r, x(0)); B.copy(z, x(1)); B.copy(n, x(2));
  B.copy(out, { s: hOut, off: hOff, ld: ldh });
  B.free();
}

/**
 * Backward of gruCellForward: dh [rows, H] (row stride ldh) = dL/dh_t; writes dGx, dGh [rows, 3H]
 * and dhPrev [rows, H] = dh z (the direct path; the caller adds dGh W_hh).
 */
export function gruCellBackward(k: Kernels, rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
  hPrev: Storage, hpOff: number, ldhp: number, dh: Storage, dhOff: number, ldh: number,
  dGx: Storage, dgxOff: number, dGh: Storage, dghOff: number, dhPrev: Storage, dhpOff: number): void {
  if (rows <= 0 || H <= 0) return;
  const B = new Blocks(k, rows, H, gx.dtype), G = 3 * H;
  const x = (j: number): Block => ({ s: gx, off: gxOff + j * H, ld: G });
  const r = x(0), z = x(1), n = x(2);
  const ghn: Block = { s: gh, off: ghOff + 2 * H, ld: G };
  const d: Block = { s: dh, off: dhOff, ld: ldh }, hp: Block = { s: hPrev, off: hpOff, ld: ldhp };
  const dn = B.bin('mul', B.bin('mul', d, B.oneMinus(z)), B.dtanh(n));
  const dz = B.bin('mul', B.bin('mul', d, B.bin('sub', hp, n)), B.dsig(z));
  const dr = B.bin('mul', B.bin('mul', dn, ghn), B.dsig(r));
  const dgx = (j: number): Block => ({ s: dGx, off: dgxOff + j * H, ld: G });
  const dgh = (j: number): Block => ({ s: dGh, off: dghOff + j * H, ld: G });
  B.copy(dr, dgx(0)); B.copy(dz, dgx(1)); B.copy(dn, dgx(2));
  B.copy(dr, dgh(0)); B.copy(dz, dgh(1)); B.bin('mul', dn, r, dgh(2));
  B.bin('mul', d, z, { s: dhPrev, off: dhpOff, ld: H });
  B.free();
}
