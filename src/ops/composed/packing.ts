import type { Kernels, PreparedB, Storage } from '../../backend/backend.js';
import { copy2 } from './util.js';

/** Nothing to pack: the descriptor itself, and gemmPrepared is a plain GEMM on it. */
export function prepareB(_k: Kernels, transB: boolean, k: number, n: number, b: Storage, bOff: number, ldb: number,
  _maxRows?: number): PreparedB {
  return { transB, k, n, b, bOff, ldb };
}

export function gemmPrepared(k: Kernels, m: number, alpha: number, a: Storage, aOff: number, lda: number, p: PreparedB,
  beta: number, c: Storage, cOff: number, ldc: number): void {
  k.gemm(false, p.transB, m, p.n, p.k, alpha, a, aOff, lda, p.b, p.bOff, p.ldb, beta, c, cOff, ldc);
}

export function releasePrepared(_k: Kernels, _p: PreparedB): void { /* nothing was made */ }

/** out = x1 W1^T + x2 W2^T + b1 + b2 as bias row broadcasts and two GEMMs. */
export function linear2(k: Kernels, m: number, n: number, k1: number, x1: Storage, x1Off: number, ldx1: number, w1: Storage,
  k2: number, x2: Storage | null, x2Off: number, ldx2: number, w2: Storage | null,
  b1: Storage | null, b2: Storage | null, out: Storage, outOff: number, ldo: number): void {
  if (b1) copy2(k, m, n, b1, 0, 0, out, outOff, ldo, false);
  if (b2) copy2(k, m, n, b2, 0, 0, out, outOff, ldo, !!b1);
  k.gemm(false, true, m, n, k1, 1, x1, x1Off, ldx1, w1, 0, k1, b1 || b2 ? 1 : 0, out, outOff, ldo);
  if (k2 > 0 && x2 && w2) k.gemm(false, true, m, n, k2, 1, x2, x2Off, ldx2, w2, 0, k2, 1, out, outOff, ldo);
}
