import type { TypedArray } from '../dtype.js';

/** log(exp(a) + exp(b)) that is exact when either side is -Infinity. */
function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/**
 * CTC forward-backward in log space (Graves et al. 2006), with PyTorch's conventions:
 * loss[n] = -log p(target_n | x_n); grad[t, n, c] = exp(lp) - exp(log(sum_{s: l'_s = c} α_t(s) β_t(s)) + nll - lp),
 * which is what PyTorch's ctc_loss backward returns for log_probs (zero for t >= input_length).
 * α and β are accumulated in float64 whatever the storage type, so thousands of steps stay exact.
 *   logProbs [T, N, C]; targets: concatenated labels; l' = (blank, l1, blank, l2, ..., blank), length 2S+1
 */
export function ctcRef(lp: TypedArray, T: number, N: number, C: number, targets: TypedArray,
  inputLengths: TypedArray, targetLengths: TypedArray, blank: number, loss: TypedArray, grad: TypedArray): void {
  let tOff = 0;
  for (let n = 0; n < N; n++) {
    const Tn = inputLengths[n], S = targetLengths[n], L = 2 * S + 1;
    const lab = (s: number) => (s % 2 === 0 ? blank : targets[tOff + (s - 1) / 2]);
    const at = (t: number, c: number) => lp[(t * N + n) * C + c];
    const alpha = new Float64Array(Tn * L).fill(-Infinity); // [Tn, L]
    const beta = new Float64Array(Tn * L).fill(-Infinity);  // [Tn, L]
    // An empty input aligns only with an empty target (probability 1: loss 0), as PyTorch >= 2.4.
    let nll = S === 0 ? 0 : Infinity;
    if (Tn > 0) {
      alpha[0] = at(0, blank);
      if (L > 1) alpha[1] = at(0, lab(1));
      for (let t = 1; t < Tn; t++) {
        for (let s = 0; s < L; s++) {
          const l = lab(s);
          let a = alpha[(t - 1) * L + s];
          if (s > 0) a = logAdd(a, alpha[(t - 1) * L + s - 1]);
          if (s > 1 && l !== blank && l !== lab(s - 2)) a = logAdd(a, alpha[(t - 1) * L + s - 2]);
          alpha[t * L + s] = a === -Infinity ? -Infinity : a + at(t, l);
        }
      }
      const last = (Tn - 1) * L;
      nll = -logAdd(alpha[last + L - 1], L > 1 ? alpha[last + L - 2] : -Infinity);

      beta[last + L - 1] = at(Tn - 1, blank);
      if (L > 1) beta[last + L - 2] = at(Tn - 1, lab(L - 2));
      for (let t = Tn - 2; t >= 0; t--) {
        for (let s = 0; s < L; s++) {
          const l = lab(s);
          let b = beta[(t + 1) * L + s];
          if (s < L - 1) b = logAdd(b, beta[(t + 1) * L + s + 1]);
          if (s < L - 2 && l !== blank && l !== lab(s + 2)) b = logAdd(b, beta[(t + 1) * L + s + 2]);
          beta[t * L + s] = b === -Infinity ? -Infinity : b + at(t, l);
        }
      }
    }
    loss[n] = nll;
    // Gradient: zero everywhere past the input length; infinite loss gives NaN-free zeros only
    // when the caller asks for zeroInfinity (it masks them), so we write the raw formula here.
    const lcab = new Float64Array(C);
    for (let t = 0; t < T; t++) {
      const row = (t * N + n) * C;
      if (t >= Tn) { for (let c = 0; c < C; c++) grad[row + c] = 0; continue; }
      lcab.fill(-Infinity);
      for (let s = 0; s < L; s++) {
        const l = lab(s);
        lcab[l] = logAdd(lcab[l], alpha[t * L + s] + beta[t * L + s]);
      }
      for (let c = 0; c < C; c++) {
        const p = lp[row + c];
        grad[row + c] = Math.exp(p) - Math.exp(lcab[c] + nll - p);
      }
    }
    tOff += S;
  }
}
