/*
 * GEMM for the wasm backend: C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C (row-major, leading dims).
 *
 * Large calls: BLIS-style blocking. B is packed once per (KC x NC) block into NR-wide column
 * panels, A per (MC x KC) block into MR-tall row panels (alpha folded in), and an MR x NR
 * register-tiled micro-kernel runs over the packed panels: KC x NR of B stays in L1, MC x KC of A
 * in L2. Packing absorbs all four transpose cases, so the micro-kernel is one loop.
 * Small-m calls (m < MR: batch-1 streaming) skip packing: matrix-vector kernels read A and B in
 * place, so the common y = W h step costs one pass over W. So do calls with op(B) = B^T and
 * m <= DOT_MAX_M (a recurrent step h W^T over a batch): blocked dot products along k.
 * Beta is applied to C first (beta == 0 writes zeros, never reading C, as BLAS does); every
 * kernel after that accumulates.
 * Determinism: threads split a product into blocks of rows or columns, and each element of C must
 * come out bit-identical whichever block holds it (so results do not depend on the thread count).
 * Within one kernel that holds: every element is the same sequence of multiply-adds in the same
 * k order, for full and edge tiles alike (edge tiles sum zero-padded lanes), and k is blocked from
 * 0 in fixed steps. The kernels differ from each other in that order, so the kernel is chosen from
 * the whole product's shape (gemm_rows takes the whole m), never from a thread's block.
 * `work` is the calling thread's scratch (WORK_FLOATS floats); the kernels never use the stack.
 */
#include "vmath.h"

#define MR 4
#define NR 8
#define KC 256
#define MC 128
#define NC 4096
#define WORK_FLOATS (MC * KC + KC * NC + MR * NR)
#define DOT_MAX_M 64 /* op(B) = B^T with at most this many rows of A: unpacked dot products */

EXPORT(gemm_work_floats) int gemm_work_floats(void) { return WORK_FLOATS; }
/* Which build this is: 0 SIMD128, 1 relaxed SIMD (vmath.h). */
EXPORT(kernel_build) int kernel_build(void) { return KERNEL_BUILD; }

static void scale_c(int m, int n, float beta, float *C, int ldc) {
  if (beta == 1.0f) return;
  for (int i = 0; i < m; i++) {
    float *c = C + (int64_t)i * ldc;
    int j = 0;
    if (beta == 0.0f) {
      for (; j + 4 <= n; j += 4) wasm_v128_store(c + j, wasm_f32x4_splat(0.0f));
      for (; j < n; j++) c[j] = 0.0f;
    } else {
      v128_t b = wasm_f32x4_splat(beta);
      for (; j + 4 <= n; j += 4) wasm_v128_store(c + j, wasm_f32x4_mul(wasm_v128_load(c + j), b));
      for (; j < n; j++) c[j] *= beta;
    }
  }
}

#define TRANSPOSE4(r0, r1, r2, r3) do { \
    v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7); \
    v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7); \
    r0 = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5); r1 = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7); \
    r2 = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5); r3 = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7); } while (0)

/* Pack op(A)[i0:i0+mc, p0:p0+kc] * alpha into MR-row panels: panel r holds, for each p, MR values. */
static void pack_a(int transA, int mc, int kc, float alpha, const float *A, int lda, float *pa) {
  v128_t va = wasm_f32x4_splat(alpha);
  for (int ip = 0; ip < mc; ip += MR) {
    int mr = mc - ip < MR ? mc - ip : MR;
    float *dst = pa + (int64_t)ip * kc;
    if (!transA) { /* A[i*lda + p]: rows are contiguous; transpose 4x4 blocks into panel order */
      const float *a0 = A + (int64_t)ip * lda;
      if (mr == MR) {
        const float *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        int p = 0;
        for (; p + 4 <= kc; p += 4) {
          v128_t r0 = wasm_v128_load(a0 + p), r1 = wasm_v128_load(a1 + p);
          v128_t r2 = wasm_v128_load(a2 + p), r3 = wasm_v128_load(a3 + p);
          TRANSPOSE4(r0, r1, r2, r3);
          wasm_v128_store(dst + p * 4, wasm_f32x4_mul(r0, va));
          wasm_v128_store(dst + p * 4 + 4, wasm_f32x4_mul(r1, va));
          wasm_v128_store(dst + p * 4 + 8, wasm_f32x4_mul(r2, va));
          wasm_v128_store(dst + p * 4 + 12, wasm_f32x4_mul(r3, va));
        }
        for (; p < kc; p++) {
          dst[p * 4] = alpha * a0[p]; dst[p * 4 + 1] = alpha * a1[p];
          dst[p * 4 + 2] = alpha * a2[p]; dst[p * 4 + 3] = alpha * a3[p];
        }
      } else {
        for (int p = 0; p < kc; p++)
          for (int r = 0; r < MR; r++) dst[p * MR + r] = r < mr ? alpha * a0[(int64_t)r * lda + p] : 0.0f;
      }
    } else { /* A[p*lda + i]: MR contiguous values per p */
      const float *a0 = A + ip;
      if (mr == MR) {
        for (int p = 0; p < kc; p++)
          wasm_v128_store(dst + p * 4, wasm_f32x4_mul(wasm_v128_load(a0 + (int64_t)p * lda), va));
      } else {
        for (int p = 0; p < kc; p++)
          for (int r = 0; r < MR; r++) dst[p * MR + r] = r < mr ? alpha * a0[(int64_t)p * lda + r] : 0.0f;
      }
    }
  }
}

/* Pack op(B)[p0:p0+kc, j0:j0+nc] into NR-column panels: panel holds, for each p, NR values. */
static void pack_b(int transB, int kc, int nc, const float *B, int ldb, float *pb) {
  for (int jp = 0; jp < nc; jp += NR) {
    int nr = nc - jp < NR ? nc - jp : NR;
    float *dst = pb + (int64_t)jp * kc;
    if (!transB) { /* B[p*ldb + j] */
      const float *b0 = B + jp;
      if (nr == NR) {
        for (int p = 0; p < kc; p++) {
          const float *s = b0 + (int64_t)p * ldb;
          wasm_v128_store(dst + p * NR, wasm_v128_load(s));
          wasm_v128_store(dst + p * NR + 4, wasm_v128_load(s + 4));
        }
      } else {
        for (int p = 0; p < kc; p++)
          for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? b0[(int64_t)p * ldb + j] : 0.0f;
      }
    } else { /* B[j*ldb + p]: rows of B are columns of op(B); transpose 4x4 blocks */
      const float *b0 = B + (int64_t)jp * ldb;
      if (nr == NR) {
        const float *r0 = b0, *r1 = r0 + ldb, *r2 = r1 + ldb, *r3 = r2 + ldb;
        const float *r4 = r3 + ldb, *r5 = r4 + ldb, *r6 = r5 + ldb, *r7 = r6 + ldb;
        int p = 0;
        for (; p + 4 <= kc; p += 4) {
          v128_t x0 = wasm_v128_load(r0 + p), x1 = wasm_v128_load(r1 + p);
          v128_t x2 = wasm_v128_load(r2 + p), x3 = wasm_v128_load(r3 + p);
          v128_t y0 = wasm_v128_load(r4 + p), y1 = wasm_v128_load(r5 + p);
          v128_t y2 = wasm_v128_load(r6 + p), y3 = wasm_v128_load(r7 + p);
          TRANSPOSE4(x0, x1, x2, x3);
          TRANSPOSE4(y0, y1, y2, y3);
          float *d = dst + p * NR;
          wasm_v128_store(d, x0); wasm_v128_store(d + 4, y0);
          wasm_v128_store(d + 8, x1); wasm_v128_store(d + 12, y1);
          wasm_v128_store(d + 16, x2); wasm_v128_store(d + 20, y2);
          wasm_v128_store(d + 24, x3); wasm_v128_store(d + 28, y3);
        }
        for (; p < kc; p++) {
          float *d = dst + p * NR;
          d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p]; d[6] = r6[p]; d[7] = r7[p];
        }
      } else {
        for (int p = 0; p < kc; p++)
          for (int j = 0; j < NR; j++) dst[p * NR + j] = j < nr ? b0[(int64_t)j * ldb + p] : 0.0f;
      }
    }
  }
}

/* One k step of the 4x8 register tile: 8 accumulators += 4 broadcast A values x 2 vectors of B.
 * Shared by the GEMM micro-kernel and the peak probe, so the probe measures exactly this code. */
#define MICRO_4x8_STEP(pa, pb) do { \
    v128_t b0 = wasm_v128_load(pb), b1 = wasm_v128_load((pb) + 4); \
    v128_t a = wasm_v128_load32_splat(pa); \
    c00 = MADD(a, b0, c00); c01 = MADD(a, b1, c01); \
    a = wasm_v128_load32_splat((pa) + 1); \
    c10 = MADD(a, b0, c10); c11 = MADD(a, b1, c11); \
    a = wasm_v128_load32_splat((pa) + 2); \
    c20 = MADD(a, b0, c20); c21 = MADD(a, b1, c21); \
    a = wasm_v128_load32_splat((pa) + 3); \
    c30 = MADD(a, b0, c30); c31 = MADD(a, b1, c31); \
  } while (0)

/* C[0:MR, 0:NR] += pa (kc x MR) * pb (kc x NR). Twelve live vectors: 8 accumulators, 2 of B, 1 of A. */
static inline void micro_4x8(int kc, const float *pa, const float *pb, float *C, int ldc, int mr, int nr, float *tile) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < kc; p++) {
    MICRO_4x8_STEP(pa, pb);
    pa += MR; pb += NR;
  }
  if (mr == MR && nr == NR) {
    float *r = C;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c00)); wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c01)); r += ldc;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c10)); wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c11)); r += ldc;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c20)); wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c21)); r += ldc;
    wasm_v128_store(r, wasm_f32x4_add(wasm_v128_load(r), c30)); wasm_v128_store(r + 4, wasm_f32x4_add(wasm_v128_load(r + 4), c31));
  } else {
    wasm_v128_store(tile, c00); wasm_v128_store(tile + 4, c01);
    wasm_v128_store(tile + 8, c10); wasm_v128_store(tile + 12, c11);
    wasm_v128_store(tile + 16, c20); wasm_v128_store(tile + 20, c21);
    wasm_v128_store(tile + 24, c30); wasm_v128_store(tile + 28, c31);
    for (int i = 0; i < mr; i++)
      for (int j = 0; j < nr; j++) C[(int64_t)i * ldc + j] += tile[i * NR + j];
  }
}

/*
 * Matrix-vector dot products, 8 rows of W at a time (8 accumulators, one vector of x per 4 k: the
 * fastest shape under V8 measured here, 1.4x the 4-row x 8-k form), for up to two (x, W) pairs
 * summed, so a recurrent step's x W_ih^T + h W_hh^T is one pass with one reduction.
 */
typedef struct { v128_t lo, hi; } f4x2;
#define DOT8_PASS(K, X, W, LD) do { \
    const float *w0 = (W), *w1 = w0 + (LD), *w2 = w1 + (LD), *w3 = w2 + (LD); \
    const float *w4 = w3 + (LD), *w5 = w4 + (LD), *w6 = w5 + (LD), *w7 = w6 + (LD); \
    int p = 0; \
    for (; p + 4 <= (K); p += 4) { DOT8_STEP(X, wasm_v128_load, p); } \
    if (p < (K)) { int r_ = (K) - p; DOT8_STEP(X, LDZ_R, p); } } while (0)
#define LDZ_R(q) ldz(q, r_)
#define DOT8_STEP(X, LD, p) \
    v128_t x = LD((X) + p); \
    s0 = MADD(x, LD(w0 + p), s0); s1 = MADD(x, LD(w1 + p), s1); \
    s2 = MADD(x, LD(w2 + p), s2); s3 = MADD(x, LD(w3 + p), s3); \
    s4 = MADD(x, LD(w4 + p), s4); s5 = MADD(x, LD(w5 + p), s5); \
    s6 = MADD(x, LD(w6 + p), s6); s7 = MADD(x, LD(w7 + p), s7)

static inline v128_t ldz(const float *p, int r) { /* r >= 4: a full vector; else r values and zeros */
  if (r >= 4) return wasm_v128_load(p);
  return wasm_f32x4_make(p[0], r > 1 ? p[1] : 0.0f, r > 2 ? p[2] : 0.0f, 0.0f);
}

/* Sum of each of four vectors, as one vector: (sum s0, sum s1, sum s2, sum s3). */
static inline v128_t hsum4(v128_t s0, v128_t s1, v128_t s2, v128_t s3) {
  TRANSPOSE4(s0, s1, s2, s3);
  return wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
}

/* (dot(x1, W1[r, :k1]) + dot(x2, W2[r, :k2]))_{r = 0..7}; k2 = 0 skips the second pair. */
static inline __attribute__((always_inline)) f4x2 dots8(int k1, const float *x1, const float *W1, int ld1, int k2, const float *x2, const float *W2, int ld2) {
  v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  DOT8_PASS(k1, x1, W1, ld1);
  if (k2 > 0) DOT8_PASS(k2, x2, W2, ld2);
  f4x2 r = { hsum4(s0, s1, s2, s3), hsum4(s4, s5, s6, s7) };
  return r;
}

/* One row: dot(x1, w1[:k1]) + dot(x2, w2[:k2]) with dots8's arithmetic for one of its rows (both
 * pairs in one accumulator, one reduction), so a column's value does not depend on whether it
 * falls in a group of 8 or in the tail. */
static inline float dot1(int k1, const float *x1, const float *w1, int k2, const float *x2, const float *w2) {
  v128_t s = wasm_f32x4_splat(0);
  for (int p = 0; p < k1; p += 4) { int r = k1 - p; s = MADD(ldz(x1 + p, r), ldz(w1 + p, r), s); }
  for (int p = 0; p < k2; p += 4) { int r = k2 - p; s = MADD(ldz(x2 + p, r), ldz(w2 + p, r), s); }
  return (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) + (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
}

/*
 * A recurrent step's gate pre-activations for a few rows (batch-1 streaming):
 *   out[i, j] = x1[i] . W1[j] + x2[i] . W2[j] (+ b1[j]) (+ b2[j])   for i < m, n0 <= j < n1
 * W1 [n, k1] and W2 [n, k2] row-major (PyTorch's W_ih, W_hh); b1/b2 may be 0 (null), k2 may be 0.
 * n0 is a multiple of 8 when threads split [0, n).
 */
EXPORT(linear2)
void linear2(int m, int n0, int n1, int k1, const float *x1, int ldx1, const float *W1, int ldw1,
             int k2, const float *x2, int ldx2, const float *W2, int ldw2, const float *b1, const float *b2,
             float *out, int ldo) {
  for (int i = 0; i < m; i++) {
    const float *a1 = x1 + (int64_t)i * ldx1, *a2 = x2 + (int64_t)i * ldx2;
    float *o = out + (int64_t)i * ldo;
    int j = n0;
    for (; j + 8 <= n1; j += 8) {
      f4x2 d = dots8(k1, a1, W1 + (int64_t)j * ldw1, ldw1, k2, a2, W2 + (int64_t)j * ldw2, ldw2);
      if (b1) { d.lo = wasm_f32x4_add(d.lo, wasm_v128_load(b1 + j)); d.hi = wasm_f32x4_add(d.hi, wasm_v128_load(b1 + j + 4)); }
      if (b2) { d.lo = wasm_f32x4_add(d.lo, wasm_v128_load(b2 + j)); d.hi = wasm_f32x4_add(d.hi, wasm_v128_load(b2 + j + 4)); }
      wasm_v128_store(o + j, d.lo); wasm_v128_store(o + j + 4, d.hi);
    }
    for (; j < n1; j++) {
      float v = dot1(k1, a1, W1 + (int64_t)j * ldw1, k2, a2, W2 + (int64_t)j * ldw2);
      if (b1) v += b1[j];
      if (b2) v += b2[j];
      o[j] = v;
    }
  }
}

/* y[0:n] += alpha * op(B)^T-free matrix-vector products for one row a of op(A) (contiguous, length k). */
static void gemv_row(int transB, int n, int k, float alpha, const float *a, const float *B, int ldb, float *c) {
  if (transB) { /* c[j] += alpha * dot(a, B[j, :]) */
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      f4x2 d = dots8(k, a, B + (int64_t)j * ldb, ldb, 0, 0, 0, 0);
      wasm_v128_store(c + j, wasm_f32x4_add(wasm_v128_load(c + j), wasm_f32x4_mul(d.lo, wasm_f32x4_splat(alpha))));
      wasm_v128_store(c + j + 4, wasm_f32x4_add(wasm_v128_load(c + j + 4), wasm_f32x4_mul(d.hi, wasm_f32x4_splat(alpha))));
    }
    for (; j < n; j++) c[j] += alpha * dot1(k, a, B + (int64_t)j * ldb, 0, 0, 0);
  } else {
    /* c[:] += alpha * sum_p a[p] B[p, :]. Four rows of B at a time, each streamed contiguously
     * (one pass over B in memory order; c stays in L1 across the k/4 passes). */
    int p = 0;
    for (; p + 4 <= k; p += 4) {
      const float *b0 = B + (int64_t)p * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
      v128_t x0 = wasm_f32x4_splat(alpha * a[p]), x1 = wasm_f32x4_splat(alpha * a[p + 1]);
      v128_t x2 = wasm_f32x4_splat(alpha * a[p + 2]), x3 = wasm_f32x4_splat(alpha * a[p + 3]);
      int j = 0;
      for (; j + 8 <= n; j += 8) {
        v128_t s0 = MADD(x1, wasm_v128_load(b1 + j), wasm_f32x4_mul(x0, wasm_v128_load(b0 + j)));
        v128_t s1 = MADD(x3, wasm_v128_load(b3 + j), wasm_f32x4_mul(x2, wasm_v128_load(b2 + j)));
        v128_t t0 = MADD(x1, wasm_v128_load(b1 + j + 4), wasm_f32x4_mul(x0, wasm_v128_load(b0 + j + 4)));
        v128_t t1 = MADD(x3, wasm_v128_load(b3 + j + 4), wasm_f32x4_mul(x2, wasm_v128_load(b2 + j + 4)));
        wasm_v128_store(c + j, wasm_f32x4_add(wasm_v128_load(c + j), wasm_f32x4_add(s0, s1)));
        wasm_v128_store(c + j + 4, wasm_f32x4_add(wasm_v128_load(c + j + 4), wasm_f32x4_add(t0, t1)));
      }
      /* The last n % 8 columns: the same vector arithmetic on (partial) vectors, so a column's value
       * does not depend on where a block of columns starts (MADD may be fused, a scalar a*b+c is not). */
      for (; j < n; j += 4) {
        int r = n - j;
        v128_t s0 = MADD(x1, ldz(b1 + j, r), wasm_f32x4_mul(x0, ldz(b0 + j, r)));
        v128_t s1 = MADD(x3, ldz(b3 + j, r), wasm_f32x4_mul(x2, ldz(b2 + j, r)));
        stp(c + j, wasm_f32x4_add(ldz(c + j, r), wasm_f32x4_add(s0, s1)), r);
      }
    }
    for (; p < k; p++) {
      const float *b0 = B + (int64_t)p * ldb;
      v128_t x0 = wasm_f32x4_splat(alpha * a[p]);
      for (int j = 0; j < n; j += 4) { int r = n - j; stp(c + j, MADD(x0, ldz(b0 + j, r), ldz(c + j, r)), r); }
    }
  }
}


/*
 * C[i, j] += alpha dot(A[i, :], B[j, :]) (op(B) = B^T, A untransposed): both operands are read
 * along k in place, no packing. Two rows of A against four rows of B per block (8 accumulators):
 * the same loads-to-flops ratio as the packed micro-kernel, and the four rows of B stay in L1
 * while all rows of A pass. The fit for small m (a recurrent step: m = batch rows, B = W_hh),
 * where packing W every call would cost as much as the product.
 */
static void gemm_dot(int m, int n, int k, float alpha, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  v128_t al = wasm_f32x4_splat(alpha);
  int j = 0;
  for (; j + 4 <= n; j += 4) {
    const float *b0 = B + (int64_t)j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
    int i = 0;
    for (; i + 2 <= m; i += 2) {
      const float *a0 = A + (int64_t)i * lda, *a1 = a0 + lda;
      v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
#define DOT2x4(LD) do { \
        v128_t x0 = LD(a0 + p), x1 = LD(a1 + p), y; \
        y = LD(b0 + p); s00 = MADD(x0, y, s00); s10 = MADD(x1, y, s10); \
        y = LD(b1 + p); s01 = MADD(x0, y, s01); s11 = MADD(x1, y, s11); \
        y = LD(b2 + p); s02 = MADD(x0, y, s02); s12 = MADD(x1, y, s12); \
        y = LD(b3 + p); s03 = MADD(x0, y, s03); s13 = MADD(x1, y, s13); } while (0)
#define LDV(q) wasm_v128_load(q)
#define LDT(q) ldz(q, k - p)
      int p = 0;
      for (; p + 4 <= k; p += 4) DOT2x4(LDV);
      if (p < k) DOT2x4(LDT);
      float *c0 = C + (int64_t)i * ldc + j, *c1 = c0 + ldc;
      wasm_v128_store(c0, wasm_f32x4_add(wasm_v128_load(c0), wasm_f32x4_mul(hsum4(s00, s01, s02, s03), al)));
      wasm_v128_store(c1, wasm_f32x4_add(wasm_v128_load(c1), wasm_f32x4_mul(hsum4(s10, s11, s12, s13), al)));
    }
    if (i < m) {
      const float *a0 = A + (int64_t)i * lda;
      v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s02 = s00, s03 = s00;
#define DOT1x4(LD) do { \
        v128_t x0 = LD(a0 + p); \
        s00 = MADD(x0, LD(b0 + p), s00); s01 = MADD(x0, LD(b1 + p), s01); \
        s02 = MADD(x0, LD(b2 + p), s02); s03 = MADD(x0, LD(b3 + p), s03); } while (0)
      int p = 0;
      for (; p + 4 <= k; p += 4) DOT1x4(LDV);
      if (p < k) DOT1x4(LDT);
      float *c0 = C + (int64_t)i * ldc + j;
      wasm_v128_store(c0, wasm_f32x4_add(wasm_v128_load(c0), wasm_f32x4_mul(hsum4(s00, s01, s02, s03), al)));
    }
  }
  for (; j < n; j++) { /* the last n % 4 rows of B */
    const float *b0 = B + (int64_t)j * ldb;
    for (int i = 0; i < m; i++) {
      const float *a0 = A + (int64_t)i * lda;
      v128_t s = wasm_f32x4_splat(0);
      for (int p = 0; p < k; p += 4) { int r = k - p; s = MADD(ldz(a0 + p, r), ldz(b0 + p, r), s); }
      float t = (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) + (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
      C[(int64_t)i * ldc + j] += alpha * t;
    }
  }
}

/* The kernels, in the order gemm_kernel picks them. */
enum { GEMV, DOT, BLOCKED };

/* The kernel for a product with m rows of op(A) in all. */
static int gemm_kernel(int transA, int transB, int m) {
  if (m < MR) return GEMV;
  if (transB && !transA && m <= DOT_MAX_M) return DOT;
  return BLOCKED;
}

/*
 * Rows [i0, i1) of C[m, n] = alpha op(A) op(B) + beta C: a thread's block of a product split by
 * rows. Its elements are exactly those of the whole product (gemm), since the kernel is the one
 * the whole m picks (a block of a few rows would otherwise run a matrix-vector or dot kernel,
 * which sums in another order).
 */
EXPORT(gemm_rows)
void gemm_rows(int transA, int transB, int m, int i0, int i1, int n, int k, float alpha, const float *A, int lda,
               const float *B, int ldb, float beta, float *C, int ldc, float *work) {
  int kernel = gemm_kernel(transA, transB, m);
  if (i0 < 0) i0 = 0;
  if (i1 > m) i1 = m;
  m = i1 - i0;
  if (m <= 0 || n <= 0) return;
  A += transA ? (int64_t)i0 : (int64_t)i0 * lda;
  C += (int64_t)i0 * ldc;
  scale_c(m, n, beta, C, ldc);
  if (k <= 0 || alpha == 0.0f) return;
  if (kernel == GEMV) {
    /* Matrix-vector path: each row of op(A), made contiguous in `work` when A is transposed. */
    const int chunk = MC * KC;
    for (int i = 0; i < m; i++) {
      for (int p0 = 0; p0 < k; p0 += chunk) {
        int kc = k - p0 < chunk ? k - p0 : chunk;
        const float *a;
        if (!transA) a = A + (int64_t)i * lda + p0;
        else {
          for (int p = 0; p < kc; p++) work[p] = A[(int64_t)(p0 + p) * lda + i];
          a = work;
        }
        const float *b = transB ? B + p0 : B + (int64_t)p0 * ldb;
        gemv_row(transB, n, kc, alpha, a, b, ldb, C + (int64_t)i * ldc);
      }
    }
    return;
  }
  if (kernel == DOT) { gemm_dot(m, n, k, alpha, A, lda, B, ldb, C, ldc); return; }
  float *pa = work, *pb = work + MC * KC, *tile = pb + KC * NC;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      pack_b(transB, kc, nc, transB ? B + (int64_t)jc * ldb + pc : B + (int64_t)pc * ldb + jc, ldb, pb);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        pack_a(transA, mc, kc, alpha, transA ? A + (int64_t)pc * lda + ic : A + (int64_t)ic * lda + pc, lda, pa);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = nc - jr < NR ? nc - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            micro_4x8(kc, pa + (int64_t)ir * kc, pb + (int64_t)jr * kc,
                      C + (int64_t)(ic + ir) * ldc + jc + jr, ldc, mr, nr, tile);
          }
        }
      }
    }
  }
}

EXPORT(gemm)
void gemm(int transA, int transB, int m, int n, int k, float alpha, const float *A, int lda,
          const float *B, int ldb, float beta, float *C, int ldc, float *work) {
  gemm_rows(transA, transB, m, 0, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, work);
}

/*
 * Prepacked right operand, for many GEMMs against one matrix (a recurrent weight over all the
 * steps of a sequence): op(B)[k, n] packed once into NR-column panels per KC block, block pc
 * (starting at row pc of op(B)) at pb + pc * npad, npad = n rounded up to NR. Then each call
 * packs only A (a few rows) and runs the micro-kernel; columns [n0, n1) (multiples of NR, or n1 =
 * n) let threads share one packed B.
 */
EXPORT(gemm_pack_b)
void gemm_pack_b(int transB, int k, int n, const float *B, int ldb, float *pb) {
  int npad = (n + NR - 1) / NR * NR;
  for (int pc = 0; pc < k; pc += KC) {
    int kc = k - pc < KC ? k - pc : KC;
    pack_b(transB, kc, n, transB ? B + pc : B + (int64_t)pc * ldb, ldb, pb + (int64_t)pc * npad);
  }
}

/*
 * C[0:m, cols] = alpha A[m, k] op(B)[k, cols] + beta C, op(B) prepacked by gemm_pack_b, for the
 * column ranges [n0 + g gs, n1 + g gs), g < groups (a recurrent step's four gate blocks of a
 * thread's hidden units): each KC block of A is packed once for all of them. Every element is the
 * same sum in the same k order whatever the ranges, so the groups change no result.
 */
void gemm_packed_groups(int m, int n, int n0, int n1, int groups, int gs, int k, float alpha, const float *A, int lda,
                        const float *pb, float beta, float *C, int ldc, float *work) {
  if (m <= 0 || n1 <= n0) return;
  for (int g = 0; g < groups; g++) scale_c(m, n1 - n0, beta, C + n0 + g * gs, ldc);
  if (k <= 0 || alpha == 0.0f) return;
  int npad = (n + NR - 1) / NR * NR;
  float *pa = work, *tile = work + MC * KC + KC * NC;
  for (int pc = 0; pc < k; pc += KC) {
    int kc = k - pc < KC ? k - pc : KC;
    const float *pbk = pb + (int64_t)pc * npad;
    for (int ic = 0; ic < m; ic += MC) {
      int mc = m - ic < MC ? m - ic : MC;
      pack_a(0, mc, kc, alpha, A + (int64_t)ic * lda + pc, lda, pa);
      for (int g = 0; g < groups; g++) {
        int c0 = n0 + g * gs, c1 = n1 + g * gs;
        for (int jr = c0; jr < c1; jr += NR) {
          int nr = c1 - jr < NR ? c1 - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = mc - ir < MR ? mc - ir : MR;
            micro_4x8(kc, pa + (int64_t)ir * kc, pbk + (int64_t)jr * kc, C + (int64_t)(ic + ir) * ldc + jr, ldc, mr, nr, tile);
          }
        }
      }
    }
  }
}

/* C[0:m, n0:n1] = alpha A[m, k] op(B)[k, n0:n1] + beta C, op(B) prepacked by gemm_pack_b. */
EXPORT(gemm_packed)
void gemm_packed(int m, int n, int n0, int n1, int k, float alpha, const float *A, int lda, const float *pb,
                 float beta, float *C, int ldc, float *work) {
  gemm_packed_groups(m, n, n0, n1, 1, 0, k, alpha, A, lda, pb, beta, C, ldc, work);
}

/* Peak probe: `iters` rounds of 12 accumulators s_j += x_j * m over f32x4 through MADD, as the
 * kernels are built (mul + add in the SIMD128 build, where the multiplies are independent and the
 * adds chain; one relaxed_madd in the relaxed build), with enough chains to hide the latency. x_j are re-read from two alternating
 * 192-byte rows (L1) so nothing is loop-invariant. 96 flops per round. `buf` needs 96 floats. */
#define PEAK_ACC(j) s##j = MADD(wasm_v128_load(x + 4 * j), m, s##j)
EXPORT(simd_peak)
float simd_peak(int iters, float *buf) {
  v128_t m = wasm_f32x4_splat(0.999999f);
  PEAK12_DECL(wasm_f32x4_splat(0));
  for (int i = 0; i < iters; i++) {
    const float *x = buf + (i & 1) * 48;
    PEAK12_STEP(PEAK_ACC);
  }
  return wasm_f32x4_extract_lane(PEAK12_SUM(wasm_f32x4_add), 0);
}

/* Second probe: the micro-kernel's own loop (2 vector loads, 4 broadcast loads, 8 independent
 * mul+add per step, pointers advancing) over a 256-step panel that stays in L1 (`buf`: 3072
 * floats), repeated: 64 flops a step. `iters` steps in all (a multiple of 256 is run). */
EXPORT(simd_peak_tile)
float simd_peak_tile(int iters, float *buf) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int r = 0; r < iters; r += 256) {
    const float *pb = buf, *pa = buf + 256 * 8;
    for (int p = 0; p < 256; p++) {
      MICRO_4x8_STEP(pa, pb);
      pa += 4; pb += 8;
    }
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c00, c01), wasm_f32x4_add(c10, c11)),
                            wasm_f32x4_add(wasm_f32x4_add(c20, c21), wasm_f32x4_add(c30, c31)));
  return wasm_f32x4_extract_lane(s, 0);
}
