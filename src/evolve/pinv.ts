/**
 * The Moore-Penrose pseudo-inverse by a one-sided Jacobi SVD (Hestenes 1958; Demmel & Veselic
 * 1992): columns of A are rotated pairwise until orthogonal, so A V = U S with V orthogonal. It
 * works on A itself, not on A^T A, so a readout on nearly dependent hidden states keeps its
 * accuracy (the normal equations would square the condition number). Singular values below
 * rcond times the largest are treated as zero (the minimum-norm least-squares solution).
 */
export interface Svd {
  /** [m, n] row-major, columns the left singular vectors (zero columns for zero singular values). */
  u: Float64Array;
  s: Float64Array;
  /** [n, n] row-major, columns the right singular vectors. */
  v: Float64Array;
}

/** a: [m, n] row-major. */
export function svd(a: ArrayLike<number>, m: number, n: number, maxSweeps = 60): Svd {
  if (a.length !== m * n) throw new Error(`svd: expected ${m * n} values for a ${m}x${n} matrix, got ${a.length}`);
  // Column-major work copies: column j of U at j * m.
  const U = new Float64Array(m * n), V = new Float64Array(n * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) U[j * m + i] = a[i * n + j];
  for (let j = 0; j < n; j++) V[j * n + j] = 1;
  const eps = 1e-15;
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < m; i++) { const up = U[p * m + i], uq = U[q * m + i]; alpha += up * up; beta += uq * uq; gamma += up * uq; }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < m; i++) { const up = U[p * m + i], uq = U[q * m + i]; U[p * m + i] = c * up - s * uq; U[q * m + i] = s * up + c * uq; }
        for (let i = 0; i < n; i++) { const vp = V[p * n + i], vq = V[q * n + i]; V[p * n + i] = c * vp - s * vq; V[q * n + i] = s * vp + c * vq; }
      }
    }
    if (!rotated) break;
  }
  const s = new Float64Array(n), u = new Float64Array(m * n), v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = 0; i < m; i++) norm += U[j * m + i] ** 2;
    s[j] = Math.sqrt(norm);
    for (let i = 0; i < m; i++) u[i * n + j] = s[j] > 0 ? U[j * m + i] / s[j] : 0;
    for (let i = 0; i < n; i++) v[i * n + j] = V[j * n + i];
  }
  return { u, s, v };
}

/** pinv(A) [n, m] of a: [m, n] row-major. */
export function pinv(a: ArrayLike<number>, m: number, n: number, rcond = 1e-12): Float64Array {
  const { u, s, v } = svd(a, m, n);
  const cut = rcond * Math.max(0, ...s);
  const out = new Float64Array(n * m);
  for (let j = 0; j < n; j++) {
    if (!(s[j] > cut)) continue;
    const inv = 1 / s[j];
    for (let r = 0; r < n; r++) {
      const vr = v[r * n + j] * inv;
      if (vr === 0) continue;
      for (let c = 0; c < m; c++) out[r * m + c] += vr * u[c * n + j];
    }
  }
  return out;
}

/** The minimum-norm least-squares W [n, k] of A W = Y, with A [m, n] and Y [m, k] row-major. */
export function leastSquares(a: ArrayLike<number>, m: number, n: number, y: ArrayLike<number>, k: number, rcond = 1e-12): Float64Array {
  if (y.length !== m * k) throw new Error(`leastSquares: expected Y of ${m}x${k} = ${m * k} values, got ${y.length}`);
  const P = pinv(a, m, n, rcond), W = new Float64Array(n * k);
  for (let r = 0; r < n; r++) for (let c = 0; c < m; c++) { const p = P[r * m + c]; if (p !== 0) for (let j = 0; j < k; j++) W[r * k + j] += p * y[c * k + j]; }
  return W;
}
