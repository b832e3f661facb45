/*
 * CTC forward-backward (Graves et al. 2006) with the semantics of the reference (ctcRef, PyTorch's
 * ctc_loss with reduction none), computed in float64 in *scaled probability space* instead of log
 * space: alpha is renormalised to sum 1 at every step (the log of the scales adds up to the
 * likelihood) and beta likewise, so the recursions are plain multiply-adds with no log/exp per
 * cell. The gradient needs no scale at all:
 *   grad[t,n,c] = y_t(c) - sum_{s: l'_s = c} alpha_t(s) beta'_t(s) / sum_s alpha_t(s) beta'_t(s)
 * where beta'_t(s) is beta without the factor y_t(l'_s) (so nothing divides by a tiny y_t(c)).
 * Returns 0, or 1 when a scale underflowed to 0 (an impossible alignment, or probabilities
 * below 1e-308): the caller then runs the log-space reference, which handles those exactly.
 * exp(log_probs) is the f32x4 exp (relative error ~1e-7); everything after it is float64.
 * work: doubles, at least Tn*C + (Tn + 3)*(L + 2) + C + L/2 + 1 for the longest sample (L = 2S + 1).
 */
#include "vmath.h"

static int ctc_one(const float *lp, int T, int N, int C, int n, int Tn, const int32_t *tg, int S, int blank,
                   float *loss, float *grad, double *work) {
  const int L = 2 * S + 1, LP = L + 2;
  double *y = work;                               /* [Tn, C]  exp(log_probs) */
  double *alpha = y + (int64_t)Tn * C;            /* [Tn, 2 + L]  normalised alpha, two zero pads in front */
  double *bcur = alpha + (int64_t)Tn * LP;        /* [L + 2] beta'_t, two zero pads behind */
  double *bnext = bcur + LP;                      /* [L + 2] beta'_{t+1} * y_{t+1} */
  double *acc = bnext + LP;                       /* [C] */
  double *skip = acc + C;                         /* [L + 2] 1 where alpha may skip from s-2 (l'_s != blank, != l'_{s-2}) */
  int32_t *lab = (int32_t *)(skip + LP);          /* [L] l' */
  for (int t = Tn; t < T; t++) {
    float *g = grad + ((int64_t)t * N + n) * C;
    for (int c = 0; c < C; c++) g[c] = 0.0f;
  }
  if (Tn <= 0) { loss[n] = S == 0 ? 0.0f : __builtin_inff(); return 0; } /* empty input: only an empty target aligns */
  for (int s = 0; s < L; s++) {
    lab[s] = (s & 1) ? tg[s >> 1] : blank;
    skip[s] = (s > 1 && lab[s] != blank && lab[s] != lab[s - 2]) ? 1.0 : 0.0;
  }
  skip[L] = skip[L + 1] = 0.0;
  /* y = exp(log_probs) for this sample: f32x4 exp (relative error ~1e-7), widened to f64 */
  for (int t = 0; t < Tn; t++) {
    const float *row = lp + ((int64_t)t * N + n) * C;
    double *yt = y + (int64_t)t * C;
    int c = 0;
    for (; c + 4 <= C; c += 4) {
      f4 e = vexp(wasm_v128_load(row + c));
      yt[c] = wasm_f32x4_extract_lane(e, 0); yt[c + 1] = wasm_f32x4_extract_lane(e, 1);
      yt[c + 2] = wasm_f32x4_extract_lane(e, 2); yt[c + 3] = wasm_f32x4_extract_lane(e, 3);
    }
    for (; c < C; c++) yt[c] = wasm_f32x4_extract_lane(vexp(wasm_f32x4_splat(row[c])), 0);
  }
  /* forward: alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) + skip_s alpha_{t-1}(s-2)) y_t(l'_s), renormalised */
  double logscale = 0.0;
  {
    double *a0 = alpha + 2;
    a0[-2] = a0[-1] = 0.0;
    for (int s = 0; s < L; s++) a0[s] = 0.0;
    a0[0] = y[blank];
    if (L > 1) a0[1] = y[lab[1]];
    double a = a0[0] + (L > 1 ? a0[1] : 0.0);
    if (!(a > 0.0)) return 1;
    double inv = 1.0 / a;
    a0[0] *= inv; if (L > 1) a0[1] *= inv;
    logscale += dlog(a);
  }
  for (int t = 1; t < Tn; t++) {
    const double *ap = alpha + (int64_t)(t - 1) * LP + 2, *yt = y + (int64_t)t * C;
    double *at = alpha + (int64_t)t * LP + 2;
    at[-2] = at[-1] = 0.0;
    double sum = 0.0;
    for (int s = 0; s < L; s++) {
      double v = (ap[s] + ap[s - 1] + skip[s] * ap[s - 2]) * yt[lab[s]];
      at[s] = v; sum += v;
    }
    if (!(sum > 0.0)) return 1;
    double inv = 1.0 / sum;
    for (int s = 0; s < L; s++) at[s] *= inv;
    logscale += dlog(sum);
  }
  const double *alast = alpha + (int64_t)(Tn - 1) * LP + 2;
  double pend = alast[L - 1] + (L > 1 ? alast[L - 2] : 0.0);
  if (!(pend > 0.0)) return 1;
  loss[n] = (float)(-(logscale + dlog(pend)));
  /* backward: beta'_t(s) = b(s) + b(s+1) + skip_{s+2} b(s+2) with b = beta'_{t+1} y_{t+1}(l'), renormalised;
   * the gradient of step t as soon as beta'_t is known */
  for (int s = 0; s < LP; s++) bcur[s] = 0.0;
  bcur[L - 1] = 1.0;
  if (L > 1) bcur[L - 2] = 1.0;
  bnext[L] = bnext[L + 1] = 0.0;
  for (int t = Tn - 1; t >= 0; t--) {
    if (t < Tn - 1) {
      const double *yn = y + (int64_t)(t + 1) * C;
      for (int s = 0; s < L; s++) bnext[s] = bcur[s] * yn[lab[s]];
      double sum = 0.0;
      for (int s = 0; s < L; s++) {
        double v = bnext[s] + bnext[s + 1] + skip[s + 2] * bnext[s + 2];
        bcur[s] = v; sum += v;
      }
      if (!(sum > 0.0)) return 1;
      double inv = 1.0 / sum;
      for (int s = 0; s < L; s++) bcur[s] *= inv;
    }
    const double *at = alpha + (int64_t)t * LP + 2, *yt = y + (int64_t)t * C;
    for (int c = 0; c < C; c++) acc[c] = 0.0;
    double D = 0.0;
    for (int s = 0; s < L; s++) { double gm = at[s] * bcur[s]; acc[lab[s]] += gm; D += gm; }
    if (!(D > 0.0)) return 1;
    double invD = 1.0 / D;
    float *g = grad + ((int64_t)t * N + n) * C;
    for (int c = 0; c < C; c++) g[c] = (float)(yt[c] - acc[c] * invD);
  }
  return 0;
}

/* Samples [n0, n1) of the batch (threads take disjoint ranges). tOff: offset of sample n0's labels. */
EXPORT(ctc)
int ctc(const float *lp, int T, int N, int C, const int32_t *targets, const int32_t *inLens, const int32_t *tgLens,
        int blank, float *loss, float *grad, double *work, int n0, int n1, int tOff) {
  int status = 0;
  for (int n = n0; n < n1; n++) {
    int Tn = inLens[n], S = tgLens[n];
    status |= ctc_one(lp, T, N, C, n, Tn, targets + tOff, S, blank, loss, grad, work);
    tOff += S;
  }
  return status;
}
