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
 * work: doubles, at least T*C + T*L + 2L + C for the longest sample (L = 2S + 1).
 */
#include "vmath.h"

#define EXPORT(name) __attribute__((export_name(#name)))

static int ctc_one(const float *lp, int T, int N, int C, int n, int Tn, const int32_t *tg, int S, int blank,
                   float *loss, float *grad, double *work) {
  const int L = 2 * S + 1;
  double *y = work;              /* [Tn, C]  exp(log_probs) */
  double *alpha = y + (int64_t)Tn * C;  /* [Tn, L]  normalised alpha */
  double *bcur = alpha + (int64_t)Tn * L, *bnext = bcur + L; /* [L] beta' at t and t+1 */
  double *acc = bnext + L;       /* [C] */
#define LAB(s) (((s) & 1) ? tg[(s) >> 1] : blank)
  for (int t = 0; t < T; t++) {
    float *g = grad + ((int64_t)t * N + n) * C;
    if (t >= Tn) for (int c = 0; c < C; c++) g[c] = 0.0f;
  }
  if (Tn <= 0) { loss[n] = __builtin_inff(); return 0; }
  for (int t = 0; t < Tn; t++) {
    const float *row = lp + ((int64_t)t * N + n) * C;
    for (int c = 0; c < C; c++) y[(int64_t)t * C + c] = dexp((double)row[c]);
  }
  /* forward */
  double logscale = 0.0;
  for (int s = 0; s < L; s++) alpha[s] = 0.0;
  alpha[0] = y[blank];
  if (L > 1) alpha[1] = y[LAB(1)];
  {
    double a = alpha[0] + (L > 1 ? alpha[1] : 0.0);
    if (!(a > 0.0)) return 1;
    for (int s = 0; s < L; s++) alpha[s] /= a;
    logscale += dlog(a);
  }
  for (int t = 1; t < Tn; t++) {
    const double *ap = alpha + (int64_t)(t - 1) * L, *yt = y + (int64_t)t * C;
    double *at = alpha + (int64_t)t * L;
    double sum = 0.0;
    for (int s = 0; s < L; s++) {
      int l = LAB(s);
      double v = ap[s];
      if (s > 0) v += ap[s - 1];
      if (s > 1 && l != blank && l != LAB(s - 2)) v += ap[s - 2];
      v *= yt[l];
      at[s] = v; sum += v;
    }
    if (!(sum > 0.0)) return 1;
    double inv = 1.0 / sum;
    for (int s = 0; s < L; s++) at[s] *= inv;
    logscale += dlog(sum);
  }
  const double *alast = alpha + (int64_t)(Tn - 1) * L;
  double pend = alast[L - 1] + (L > 1 ? alast[L - 2] : 0.0);
  if (!(pend > 0.0)) return 1;
  loss[n] = (float)(-(logscale + dlog(pend)));
  /* backward, with the gradient of each step as soon as beta'_t is known */
  for (int s = 0; s < L; s++) bcur[s] = 0.0;
  bcur[L - 1] = 1.0;
  if (L > 1) bcur[L - 2] = 1.0;
  for (int t = Tn - 1; t >= 0; t--) {
    if (t < Tn - 1) {
      const double *yn = y + (int64_t)(t + 1) * C;
      double *tmp = bnext; bnext = bcur; bcur = tmp; /* bnext = beta'_{t+1} */
      double sum = 0.0;
      for (int s = 0; s < L; s++) {
        int l = LAB(s);
        double v = bnext[s] * yn[l];
        if (s < L - 1) v += bnext[s + 1] * yn[LAB(s + 1)];
        if (s < L - 2 && l != blank && l != LAB(s + 2)) v += bnext[s + 2] * yn[LAB(s + 2)];
        bcur[s] = v; sum += v;
      }
      if (!(sum > 0.0)) return 1;
      double inv = 1.0 / sum;
      for (int s = 0; s < L; s++) bcur[s] *= inv;
    }
    const double *at = alpha + (int64_t)t * L, *yt = y + (int64_t)t * C;
    for (int c = 0; c < C; c++) acc[c] = 0.0;
    double D = 0.0;
    for (int s = 0; s < L; s++) { double gm = at[s] * bcur[s]; acc[LAB(s)] += gm; D += gm; }
    if (!(D > 0.0)) return 1;
    double invD = 1.0 / D;
    float *g = grad + ((int64_t)t * N + n) * C;
    for (int c = 0; c < C; c++) g[c] = (float)(yt[c] - acc[c] * invD);
  }
  return 0;
#undef LAB
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
