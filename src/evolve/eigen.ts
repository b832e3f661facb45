/**
 * Eigendecomposition of a symmetric matrix by the cyclic Jacobi method (Golub & Van Loan 8.5):
 * sweeps of plane rotations, each zeroing one off-diagonal element, until the off-diagonal mass
 * is below eps times the matrix's norm. Slower than tridiagonal QL by a constant factor, but short,
 * unconditionally stable and accurate to the last bits in the small eigenvalues, which is what
 * CMA-ES's C^(-1/2) needs.
 */
export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** [n, n] row-major; column j is the unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/** a: [n, n] row-major, symmetric (only read; the upper triangle is trusted). */
export function symmetricEigen(a: ArrayLike<number>, n: number, maxSweeps = 60): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n * n} values for a ${n}x${n} matrix, got ${a.length}`);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) { const v = a[i * n + j]; if (!Number.isFinite(v)) throw new Error(`symmetricEigen: expected finite values, got ${v} at (${i}, ${j})`); A[i * n + j] = A[j * n + i] = v; }
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let norm = 0;
  for (let i = 0; i < n * n; i++) norm += A[i] * A[i];
  const tol = (Number.EPSILON * Number.EPSILON) * norm;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] * A[p * n + q];
    if (off <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        const app = A[p * n + p], aqq = A[q * n + q];
        // The rotation angle from tan(2 theta) = 2 apq / (aqq - app), taking the smaller root (stable).
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) { // columns p and q of A
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq; A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // rows p and q of A
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk; A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - s * vkq; V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[i * n + i] - A[j * n + j]);
  const values = new Float64Array(n), vectors = new Float64Array(n * n);
  order.forEach((src, j) => {
    values[j] = A[src * n + src];
    for (let k = 0; k < n; k++) vectors[k * n + j] = V[k * n + src];
  });
  return { values, vectors };
}
