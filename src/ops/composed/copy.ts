import type { Kernels, Storage } from '../../backend/backend.js';
import { copy2 } from './util.js';

/** copy2d as the core's copyStrided over a [rows, cols] block (ldSrc 0: one row broadcast). */
export function copy2d(k: Kernels, rows: number, cols: number, src: Storage, sOff: number, ldSrc: number,
  dst: Storage, dOff: number, ldDst: number, accumulate: boolean): void {
  copy2(k, rows, cols, src, sOff, ldSrc, dst, dOff, ldDst, accumulate);
}
