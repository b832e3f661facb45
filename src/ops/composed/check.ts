import type { Kernels, Storage } from '../../backend/backend.js';
import { free, scratch } from './util.js';

/** out[outOff] = 1 if x[xOff, xOff + n) holds a NaN or infinity: x - x is NaN exactly there, and NaN != NaN. */
export function anyNonFinite(k: Kernels, x: Storage, xOff: number, n: number, out: Storage, outOff: number): void {
  k.fill(out, outOff, 1, 0);
  if (n <= 0) return;
  const t = scratch(k, x.dtype, n);
  k.binary('sub', [n], x, xOff, [1], x, xOff, [1], t, 0);
  k.binary('ne', [n], t, 0, [1], t, 0, [1], t, 0);
  k.reduce('max', [n], t, 0, [1], out, outOff, [0]);
  free(k, t);
}
