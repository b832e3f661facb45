/*
 * Fused recurrent cell steps (pointwise part), forward next to backward, with the contracts of
 * Backend.lstmCell* / gruCell* (src/backend/backend.ts) and the formulas of the reference
 * (src/backend/reference/lstm.ts, gru.ts). Four hidden units per vector; the tail of H runs the
 * same vector code on a partial vector.
 */
#include "vmath.h"

#define ONE SPLAT(1.0f)
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul

/* gates [rows, 4H] (i, f, g, o) pre-activations -> activations; c = f cPrev + i g; h = o tanh(c),
 * for hidden units [j0, j1) (lstm_fwd: all of them; a fused step gives each thread its units) */
EXPORT(lstm_fwd_units)
void lstm_fwd_units(int rows, int H, int j0, int j1, float *gates, const float *cPrev, float *cOut, float *hOut, int ldh) {
  for (int b = 0; b < rows; b++) {
    float *g0 = gates + (int64_t)b * 4 * H;
    const float *cp = cPrev + (int64_t)b * H;
    float *co = cOut + (int64_t)b * H, *ho = hOut + (int64_t)b * ldh;
    for (int j = j0; j < j1; j += 4) {
      int r = j1 - j;
      f4 i = vsigmoid(ldp(g0 + j, r));
      f4 f = vsigmoid(ldp(g0 + H + j, r));
      f4 g = vtanh(ldp(g0 + 2 * H + j, r));
      f4 o = vsigmoid(ldp(g0 + 3 * H + j, r));
      stp(g0 + j, i, r); stp(g0 + H + j, f, r); stp(g0 + 2 * H + j, g, r); stp(g0 + 3 * H + j, o, r);
      f4 c = MADD(f, ldp(cp + j, r), MUL(i, g));
      stp(co + j, c, r);
      stp(ho + j, MUL(o, vtanh(c)), r);
    }
  }
}

EXPORT(lstm_fwd)
void lstm_fwd(int rows, int H, float *gates, const float *cPrev, float *cOut, float *hOut, int ldh) {
  lstm_fwd_units(rows, H, 0, H, gates, cPrev, cOut, hOut, ldh);
}

void gemm_packed(int m, int n, int n0, int n1, int k, float alpha, const float *A, int lda, const float *pb,
                 float beta, float *C, int ldc, float *work); /* gemm.c */
void gemm_packed_groups(int m, int n, int n0, int n1, int groups, int gs, int k, float alpha, const float *A, int lda,
                        const float *pb, float beta, float *C, int ldc, float *work); /* gemm.c */

/*
 * One LSTM time step for hidden units [u0, u1) of all rows: the four gate column blocks of
 * gates [rows, 4H] += h W_hh^T (W_hh^T [K, 4H] prepacked by gemm_pack_b), then the cell for those
 * units. Threads take disjoint unit ranges, so each core consumes the gates it computed and a step
 * needs one synchronisation. u0 and H multiples of 8 (the packed panels' width).
 */
EXPORT(lstm_step_units)
void lstm_step_units(int rows, int H, int u0, int u1, int K, const float *h, int ldhIn, const float *pb, float *gates,
                     const float *cPrev, float *cOut, float *hOut, int ldh, float *work) {
  /* h packed once for the four gate blocks (it was once per block: 4x the packing, which grows
   * against the product as more threads share the units) */
  gemm_packed_groups(rows, 4 * H, u0, u1, 4, H, K, 1.0f, h, ldhIn, pb, 1.0f, gates, 4 * H, work);
  lstm_fwd_units(rows, H, u0, u1, gates, cPrev, cOut, hOut, ldh);
}

/* dh [rows, H] stride ldh; dc: dL/dc_t in, dL/dc_{t-1} out; dGates [rows, 4H] pre-activation grads */
EXPORT(lstm_bwd)
void lstm_bwd(int rows, int H, const float *gates, const float *cPrev, const float *c, const float *dh, int ldh,
              float *dc, float *dGates) {
  for (int b = 0; b < rows; b++) {
    const float *g0 = gates + (int64_t)b * 4 * H, *cp = cPrev + (int64_t)b * H, *cc = c + (int64_t)b * H;
    const float *hh = dh + (int64_t)b * ldh;
    float *dd = dc + (int64_t)b * H, *d0 = dGates + (int64_t)b * 4 * H;
    for (int j = 0; j < H; j += 4) {
      int r = H - j;
      f4 i = ldp(g0 + j, r), f = ldp(g0 + H + j, r), g = ldp(g0 + 2 * H + j, r), o = ldp(g0 + 3 * H + j, r);
      f4 tc = vtanh(ldp(cc + j, r));
      f4 dhj = ldp(hh + j, r);
      f4 dcj = ADD(ldp(dd + j, r), MUL(MUL(dhj, o), SUB(ONE, MUL(tc, tc))));
      stp(d0 + j, MUL(MUL(MUL(dcj, g), i), SUB(ONE, i)), r);
      stp(d0 + H + j, MUL(MUL(MUL(dcj, ldp(cp + j, r)), f), SUB(ONE, f)), r);
      stp(d0 + 2 * H + j, MUL(MUL(dcj, i), SUB(ONE, MUL(g, g))), r);
      stp(d0 + 3 * H + j, MUL(MUL(MUL(dhj, tc), o), SUB(ONE, o)), r);
      stp(dd + j, MUL(dcj, f), r);
    }
  }
}

/*
 * One LSTM backward time step for rows [r0, r1): the cell backward (dh in: dL/dh_t), then
 * dh[r0:r1] = dGates[r0:r1] W_hh (dL/dh_{t-1}; W_hh [4H, H] prepacked by gemm_pack_b). A thread
 * consumes the rows it produced, so the step needs one synchronisation.
 */
EXPORT(lstm_bwd_step_rows)
void lstm_bwd_step_rows(int r0, int r1, int H, const float *gates, const float *cPrev, const float *c, float *dh, int ldh,
                        float *dc, float *dGates, const float *pb, float *work) {
  int n = r1 - r0;
  const float *g = gates + (int64_t)r0 * 4 * H;
  float *dg = dGates + (int64_t)r0 * 4 * H, *d = dh + (int64_t)r0 * ldh;
  lstm_bwd(n, H, g, cPrev + (int64_t)r0 * H, c + (int64_t)r0 * H, d, ldh, dc + (int64_t)r0 * H, dg);
  gemm_packed(n, H, 0, H, 4 * H, 1.0f, dg, 4 * H, pb, 0.0f, d, ldh, work);
}

/* gx [rows, 3H] (+b_ih) -> (r, z, n); gh [rows, 3H] += b_hh (kept); h' = (1 - z) n + z hPrev */
EXPORT(gru_fwd)
void gru_fwd(int rows, int H, float *gx, float *gh, const float *bhh, const float *hPrev, int ldhp, float *hOut, int ldh) {
  for (int b = 0; b < rows; b++) {
    float *x0 = gx + (int64_t)b * 3 * H, *h0 = gh + (int64_t)b * 3 * H;
    const float *hp = hPrev + (int64_t)b * ldhp;
    float *ho = hOut + (int64_t)b * ldh;
    for (int j = 0; j < H; j += 4) {
      int r = H - j;
      f4 hr = ldp(h0 + j, r), hz = ldp(h0 + H + j, r), hn = ldp(h0 + 2 * H + j, r);
      if (bhh) {
        hr = ADD(hr, ldp(bhh + j, r)); hz = ADD(hz, ldp(bhh + H + j, r)); hn = ADD(hn, ldp(bhh + 2 * H + j, r));
        stp(h0 + j, hr, r); stp(h0 + H + j, hz, r); stp(h0 + 2 * H + j, hn, r);
      }
      f4 rr = vsigmoid(ADD(ldp(x0 + j, r), hr));
      f4 z = vsigmoid(ADD(ldp(x0 + H + j, r), hz));
      f4 n = vtanh(ADD(ldp(x0 + 2 * H + j, r), MUL(rr, hn)));
      stp(x0 + j, rr, r); stp(x0 + H + j, z, r); stp(x0 + 2 * H + j, n, r);
      stp(ho + j, MADD(z, ldp(hp + j, r), MUL(SUB(ONE, z), n)), r);
    }
  }
}

EXPORT(gru_bwd)
void gru_bwd(int rows, int H, const float *gx, const float *gh, const float *hPrev, int ldhp, const float *dh, int ldh,
             float *dGx, float *dGh, float *dhPrev) {
  for (int b = 0; b < rows; b++) {
    const float *x0 = gx + (int64_t)b * 3 * H, *h0 = gh + (int64_t)b * 3 * H;
    const float *hp = hPrev + (int64_t)b * ldhp, *d = dh + (int64_t)b * ldh;
    float *dx0 = dGx + (int64_t)b * 3 * H, *dh0 = dGh + (int64_t)b * 3 * H, *dp = dhPrev + (int64_t)b * H;
    for (int j = 0; j < H; j += 4) {
      int r = H - j;
      f4 rr = ldp(x0 + j, r), z = ldp(x0 + H + j, r), n = ldp(x0 + 2 * H + j, r);
      f4 dhj = ldp(d + j, r);
      f4 dn = MUL(MUL(dhj, SUB(ONE, z)), SUB(ONE, MUL(n, n)));
      f4 dz = MUL(MUL(MUL(dhj, SUB(ldp(hp + j, r), n)), z), SUB(ONE, z));
      f4 dr = MUL(MUL(MUL(dn, ldp(h0 + 2 * H + j, r)), rr), SUB(ONE, rr));
      stp(dx0 + j, dr, r); stp(dx0 + H + j, dz, r); stp(dx0 + 2 * H + j, dn, r);
      stp(dh0 + j, dr, r); stp(dh0 + H + j, dz, r); stp(dh0 + 2 * H + j, MUL(dn, rr), r);
      stp(dp + j, MUL(dhj, z), r);
    }
  }
}
