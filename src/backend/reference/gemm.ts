import type { TypedArray } from '../dtype.js';

/** Row accumulator of the untransposed-B branch, grown as needed (no allocation per call). */
let acc = new Float64Array(256);

/**
 * Plain row-major GEMM: C = alpha * op(A) op(B) + beta * C. The oracle, not the fast path:
 * the i-k-j loop order keeps the inner loop contiguous for the common (no transpose) case.
 */
export function gemmRef(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
  a: TypedArray, aOff: number, lda: number, b: TypedArray, bOff: number, ldb: number,
  beta: number, c: TypedArray, cOff: number, ldc: number): void {
  for (let i = 0; i < m; i++) {
    const ci = cOff + i * ldc;
    if (beta === 0) for (let j = 0; j < n; j++) c[ci + j] = 0;
    else if (beta !== 1) for (let j = 0; j < n; j++) c[ci + j] *= beta;
  }
  if (k === 0 || alpha === 0) return;
  if (!transB) {
    // Sums in a float64 row (not in C) so f32 results round once, like the transB branch.
    if (acc.length < n) acc = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      const ci = cOff + i * ldc;
      acc.fill(0, 0, n);
      for (let p = 0; p < k; p++) {
        const av = transA ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
        if (av === 0) continue;
        const bp = bOff + p * ldb;
        for (let j = 0; j < n; j++) acc[j] += av * b[bp + j];
      }
      for (let j = 0; j < n; j++) c[ci + j] += alpha * acc[j];
    }
  } else {
    for (let i = 0; i < m; i++) {
      const ci = cOff + i * ldc;
      for (let j = 0; j < n; j++) {
        const bj = bOff + j * ldb;
        let s = 0;
        if (transA) for (let p = 0; p < k; p++) s += a[aOff + p * lda + i] * b[bj + p];
        else { const ai = aOff + i * lda; for (let p = 0; p < k; p++) s += a[ai + p] * b[bj + p]; }
        c[ci + j] += alpha * s;
      }
    }
  }
}
