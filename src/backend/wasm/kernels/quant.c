/*
 * Quantized GEMMs for inference (the `quant` kernel set; the numbers are defined in
 * src/quant/scheme.ts and the TypeScript reference is src/ops/composed/quant.ts):
 *   qgemm_i8:  out[i, j] (+)= f32(acc) * (sx_i * sw_j) (+ bias[j]), acc = sum_k (u[i, k] - z_i) w[j, k] in int32.
 *              Rows of x are quantized per row to 7-bit codes u in [0, 127] with a zero point z_i
 *              (scheme.ts quantizeActivationRow), a panel of QP rows at a time into `work`.
 *              Relaxed build: i32x4.relaxed_dot_i8x16_i7x16_add_s multiplies the int8 weights by
 *              the codes, 16 multiply-adds an instruction, deterministic because the codes are
 *              non-negative 7-bit (the pairwise 16-bit sums stay below 2 * 127 * 127 < 2^15); the
 *              zero point comes off at the end as z_i * (sum_k w[j, k]): the weight row sums,
 *              given by the caller (a quantized weight keeps them: src/quant/weight.ts) or else
 *              computed once per call for each 4 weight rows.
 *              SIMD128 build: the centred codes u - z held in int16 lanes, weights widened to
 *              int16 on load (v128.load8x8_s), i32x4.dot_i16x8_s (8 multiply-adds an instruction).
 *              Integer sums are exact, so both builds and every order give the reference's bits.
 *   qgemm_16:  bf16 / f16 weights widened to f32 on load (bf16: a shift; f16: a shift and one
 *              multiply by 2^112, exact for normal and subnormal values), f32 multiply-adds.
 * Weight rows are read in place ([n, k], row-major, from `w`); each weight row is read once per
 * panel of rows of x, and two rows of x share each load of it.
 */
#include "vmath.h"

#define QP 64 /* rows of x quantized at a time */

#define K7(k) (((k) + 15) & ~15)      /* bytes per quantized row as uint8 codes (relaxed build, panels of WIDE_BELOW rows or more) */
#define K16(k) ((((k) + 7) & ~7) * 2) /* bytes per quantized row as int16 centred codes (u - z) */
#define KQ(k) K16(k)                  /* the larger: the panel's room per row */
#ifdef CAROUSEL_RELAXED
/* Panels of fewer rows (batch-1 streaming) take the int16 path unless the caller gives the weight
 * row sums: the 7-bit path would otherwise sum each weight row (for the zero point) per call,
 * which doubles a one-row product's work. */
#define WIDE_BELOW 4
#else
#define WIDE_BELOW (QP + 1) /* always */
#endif

/* Whether a panel of P rows takes the 7-bit path (uint8 codes, qi8_cols7) or the int16 one. */
#ifdef CAROUSEL_RELAXED
#define SEVEN(P, rowsums) ((P) >= WIDE_BELOW || (rowsums) != 0)
#else
#define SEVEN(P, rowsums) 0
#endif

/* The panel: QP rows of codes, then QP f32 scales, then QP int32 zero points. */
EXPORT(qgemm_work_bytes) int qgemm_work_bytes(int k) { return QP * KQ(k) + QP * 8; }

/*
 * Row x[0, k): its range [lo, hi] (widened to hold 0), scale and zero point (scheme.ts
 * quantizeActivationRow, each step in f32); returns the scale.
 */
static float row_params(const float *x, int k, float *invOut, int *zOut) {
  f4 vlo = SPLAT(0.0f), vhi = SPLAT(0.0f);
  int i = 0;
  for (; i + 4 <= k; i += 4) { f4 v = wasm_v128_load(x + i); vlo = wasm_f32x4_min(vlo, v); vhi = wasm_f32x4_max(vhi, v); }
  float lo = 0.0f, hi = 0.0f;
  for (int l = 0; l < 4; l++) {
    float a = l == 0 ? wasm_f32x4_extract_lane(vlo, 0) : l == 1 ? wasm_f32x4_extract_lane(vlo, 1) : l == 2 ? wasm_f32x4_extract_lane(vlo, 2) : wasm_f32x4_extract_lane(vlo, 3);
    float b = l == 0 ? wasm_f32x4_extract_lane(vhi, 0) : l == 1 ? wasm_f32x4_extract_lane(vhi, 1) : l == 2 ? wasm_f32x4_extract_lane(vhi, 2) : wasm_f32x4_extract_lane(vhi, 3);
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  }
  for (; i < k; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i]; }
  float range = hi - lo;
  if (!(range > 0x1p-100f)) range = 0x1p-100f;
  const float inv = 127.0f / range;
  const float zf = __builtin_rintf(-lo * inv);
  *invOut = inv;
  *zOut = zf > 127.0f ? 127 : (int)zf;
  return range / 127.0f;
}

/* Codes of x[0..4): clamp(nearest(x * inv) + z, 0, 127). */
static inline v128_t codes4(const float *x, f4 inv, v128_t z) {
  v128_t c = wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x), inv))), z);
  return wasm_i32x4_min(wasm_i32x4_max(c, wasm_i32x4_splat(0)), wasm_i32x4_splat(127));
}

static inline int code1(float x, float inv, int z) {
  int c = (int)__builtin_rintf(x * inv) + z;
  return c < 0 ? 0 : c > 127 ? 127 : c;
}

/* Rows [0, P) of x quantized into q (seven: uint8 codes for qi8_cols7, else int16 centred codes) with their scales in sx and zero points in zx. */
static void quant_panel(int P, int k, const float *x, int ldx, void *q, float *sx, int *zx, int seven) {
  for (int r = 0; r < P; r++) {
    const float *xr = x + (long)r * ldx;
    float inv;
    int z;
    sx[r] = row_params(xr, k, &inv, &z);
    zx[r] = z;
    const f4 vinv = SPLAT(inv);
    const v128_t vz = wasm_i32x4_splat(z);
    int i = 0;
#ifdef CAROUSEL_RELAXED
    if (seven) { /* uint8 codes for qi8_cols7 */
      uint8_t *u = (uint8_t *)q + (long)r * K7(k);
      for (; i + 16 <= k; i += 16) {
        v128_t a = wasm_i16x8_narrow_i32x4(codes4(xr + i, vinv, vz), codes4(xr + i + 4, vinv, vz));
        v128_t b = wasm_i16x8_narrow_i32x4(codes4(xr + i + 8, vinv, vz), codes4(xr + i + 12, vinv, vz));
        wasm_v128_store(u + i, wasm_u8x16_narrow_i16x8(a, b));
      }
      for (; i < k; i++) u[i] = (uint8_t)code1(xr[i], inv, z);
      for (; i & 15; i++) u[i] = 0;
      continue;
    }
#endif
    /* int16 centred codes for qi8_cols16 */
    int16_t *c = (int16_t *)q + (long)r * (K16(k) / 2);
    for (; i + 8 <= k; i += 8) {
      v128_t a = wasm_i32x4_sub(codes4(xr + i, vinv, vz), vz), b = wasm_i32x4_sub(codes4(xr + i + 4, vinv, vz), vz);
      wasm_v128_store(c + i, wasm_i16x8_narrow_i32x4(a, b));
    }
    for (; i < k; i++) c[i] = (int16_t)(code1(xr[i], inv, z) - z);
    for (; i & 7; i++) c[i] = 0;
  }
}

static inline int hsum(v128_t a) {
  return wasm_i32x4_extract_lane(a, 0) + wasm_i32x4_extract_lane(a, 1) + wasm_i32x4_extract_lane(a, 2) + wasm_i32x4_extract_lane(a, 3);
}

static inline void put(float *o, float y, const float *bias, int j, int acc) {
  if (bias) y += bias[j];
  *o = acc ? *o + y : y;
}

/* [sum(a0), sum(a1), sum(a2), sum(a3)]: four accumulators reduced at once (integer: any order is exact). */
static inline v128_t hsum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  v128_t s01 = wasm_i32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
  v128_t s23 = wasm_i32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
  return wasm_i32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

/* Four outputs j..j+3 of one row from their int32 sums: f32(acc) * f32(sx * sw_j) (+ bias) (+ old). */
static inline void put4(float *o, v128_t acc, float sx, const float *sw, const float *bias, int accumulate) {
  f4 y = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), wasm_f32x4_mul(SPLAT(sx), wasm_v128_load(sw)));
  if (bias) y = wasm_f32x4_add(y, wasm_v128_load(bias));
  if (accumulate) y = wasm_f32x4_add(wasm_v128_load(o), y);
  wasm_v128_store(o, y);
}

#ifdef CAROUSEL_RELAXED
/*
 * acc += per lane l: sum_{i < 4} w[4l + i] * u[4l + i] (w int8, u 7-bit codes): the relaxed
 * i16x8 dot (pairs, exact below 2^15), then the pairs of pairs. Not the fused
 * i32x4.relaxed_dot_i8x16_i7x16_add_s: Node 20's V8 computes it wrongly in its baseline compiler
 * (Liftoff drops the addend and doubles the dot; its optimizing tier is right), so a kernel's
 * results would change when the engine tiers it up. The i16x8 form is right in both tiers
 * (test/quant-dot.test.ts checks the kernel under each).
 */
#define RDOT(acc, wv, uv) acc = wasm_i32x4_add(acc, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(wv, uv)))
/* The sums of 4-byte groups of w, one per lane. */
#define WSUM(acc, wv) acc = wasm_i32x4_add(acc, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(wv)))

/* The codes' part of four sums from scalar tails t[0..4), as a vector. */
static inline v128_t tail4u(const uint8_t *u, const int8_t *w0, int kv, int k) {
  int t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int t = kv; t < k; t++) { int c = u[t]; t0 += c * w0[t]; t1 += c * w0[k + t]; t2 += c * w0[2 * k + t]; t3 += c * w0[3 * k + t]; }
  return wasm_i32x4_make(t0, t1, t2, t3);
}

/* out[r, j] (+)= for P quantized rows (u, sx, zx) and weight rows j < n of w: the product proper. */
static void qi8_cols7(int P, int n, int k, const uint8_t *u, const float *sx, const int *zx, const int8_t *w, const float *scales,
                     const int *rowsums, const float *bias, float *out, int ldo, int accumulate) {
  const int kq = K7(k), kv = k & ~15, n4 = n & ~3;
  /* Tiles of 2 rows x 4 weight rows: each weight vector feeds two rows, each row vector four weight rows. */
  for (int j = 0; j < n4; j += 4) {
    const int8_t *w0 = w + (long)j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    const float *bj = bias ? bias + j : 0;
    v128_t rs; /* the four weight rows' sums */
    if (rowsums) rs = wasm_v128_load(rowsums + j);
    else {
      v128_t r0 = wasm_i32x4_splat(0), r1 = r0, r2 = r0, r3 = r0;
      for (int t = 0; t < kv; t += 16) {
        WSUM(r0, wasm_v128_load(w0 + t)); WSUM(r1, wasm_v128_load(w1 + t));
        WSUM(r2, wasm_v128_load(w2 + t)); WSUM(r3, wasm_v128_load(w3 + t));
      }
      rs = hsum4(r0, r1, r2, r3);
      if (kv < k) {
        int s[4] = {0, 0, 0, 0};
        for (int t = kv; t < k; t++) { s[0] += w0[t]; s[1] += w1[t]; s[2] += w2[t]; s[3] += w3[t]; }
        rs = wasm_i32x4_add(rs, wasm_i32x4_make(s[0], s[1], s[2], s[3]));
      }
    }
    int r = 0;
    for (; r + 2 <= P; r += 2) {
      const uint8_t *u0 = u + r * kq, *u1 = u0 + kq;
      v128_t a00 = wasm_i32x4_splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (int t = 0; t < kv; t += 16) {
        const v128_t v0 = wasm_v128_load(w0 + t), v1 = wasm_v128_load(w1 + t), v2 = wasm_v128_load(w2 + t), v3 = wasm_v128_load(w3 + t);
        const v128_t x0 = wasm_v128_load(u0 + t), x1 = wasm_v128_load(u1 + t);
        RDOT(a00, v0, x0); RDOT(a01, v1, x0); RDOT(a02, v2, x0); RDOT(a03, v3, x0);
        RDOT(a10, v0, x1); RDOT(a11, v1, x1); RDOT(a12, v2, x1); RDOT(a13, v3, x1);
      }
      v128_t s0 = hsum4(a00, a01, a02, a03), s1 = hsum4(a10, a11, a12, a13);
      if (kv < k) { s0 = wasm_i32x4_add(s0, tail4u(u0, w0, kv, k)); s1 = wasm_i32x4_add(s1, tail4u(u1, w0, kv, k)); }
      s0 = wasm_i32x4_sub(s0, wasm_i32x4_mul(wasm_i32x4_splat(zx[r]), rs));
      s1 = wasm_i32x4_sub(s1, wasm_i32x4_mul(wasm_i32x4_splat(zx[r + 1]), rs));
      put4(out + (long)r * ldo + j, s0, sx[r], scales + j, bj, accumulate);
      put4(out + (long)(r + 1) * ldo + j, s1, sx[r + 1], scales + j, bj, accumulate);
    }
    if (r < P) { /* the last row of an odd panel (and batch-1 streaming): 1 row x 4 weight rows */
      const uint8_t *u0 = u + r * kq;
      v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (int t = 0; t < kv; t += 16) {
        const v128_t x0 = wasm_v128_load(u0 + t);
        RDOT(a0, wasm_v128_load(w0 + t), x0); RDOT(a1, wasm_v128_load(w1 + t), x0);
        RDOT(a2, wasm_v128_load(w2 + t), x0); RDOT(a3, wasm_v128_load(w3 + t), x0);
      }
      v128_t s0 = hsum4(a0, a1, a2, a3);
      if (kv < k) s0 = wasm_i32x4_add(s0, tail4u(u0, w0, kv, k));
      s0 = wasm_i32x4_sub(s0, wasm_i32x4_mul(wasm_i32x4_splat(zx[r]), rs));
      put4(out + (long)r * ldo + j, s0, sx[r], scales + j, bj, accumulate);
    }
  }
  for (int j = n4; j < n; j++) { /* the last n % 4 weight rows, one at a time */
    const int8_t *wj = w + (long)j * k;
    int rs = 0;
    if (rowsums) rs = rowsums[j];
    else for (int t = 0; t < k; t++) rs += wj[t];
    for (int r = 0; r < P; r++) {
      const uint8_t *u0 = u + r * kq;
      v128_t a0 = wasm_i32x4_splat(0);
      for (int t = 0; t < kv; t += 16) RDOT(a0, wasm_v128_load(wj + t), wasm_v128_load(u0 + t));
      int s0 = hsum(a0);
      for (int t = kv; t < k; t++) s0 += u0[t] * wj[t];
      s0 -= zx[r] * rs;
      put(out + (long)r * ldo + j, (float)s0 * (sx[r] * scales[j]), bias, j, accumulate);
    }
  }
}
#endif

#define DOT(acc, wv, qp) acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(qp)))

/* out[r, j] (+)= for P quantized rows (centred codes q, scales sx) and weight rows j < n of w: the product proper. */
static void qi8_cols16(int P, int n, int k, const int16_t *q, const float *sx, const int *zx, const int8_t *w, const float *scales,
                     const float *bias, float *out, int ldo, int accumulate) {
  (void)zx; /* the codes are centred already */
  const int k8 = K16(k) / 2, kv = k & ~7, n4 = n & ~3;
  /* Tiles of 2 rows x 4 weight rows: each widened weight vector feeds two rows, each row vector four columns. */
  for (int j = 0; j < n4; j += 4) {
    const int8_t *w0 = w + (long)j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    const float *bj = bias ? bias + j : 0;
    int r = 0;
    for (; r + 2 <= P; r += 2) {
      const int16_t *q0 = q + r * k8, *q1 = q0 + k8;
      v128_t a00 = wasm_i32x4_splat(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (int t = 0; t < kv; t += 8) {
        v128_t v0 = wasm_i16x8_load8x8(w0 + t), v1 = wasm_i16x8_load8x8(w1 + t);
        v128_t v2 = wasm_i16x8_load8x8(w2 + t), v3 = wasm_i16x8_load8x8(w3 + t);
        DOT(a00, v0, q0 + t); DOT(a01, v1, q0 + t); DOT(a02, v2, q0 + t); DOT(a03, v3, q0 + t);
        DOT(a10, v0, q1 + t); DOT(a11, v1, q1 + t); DOT(a12, v2, q1 + t); DOT(a13, v3, q1 + t);
      }
      v128_t s0 = hsum4(a00, a01, a02, a03), s1 = hsum4(a10, a11, a12, a13);
      if (kv < k) {
        int t0[4] = {0, 0, 0, 0}, t1[4] = {0, 0, 0, 0};
        for (int t = kv; t < k; t++) {
          t0[0] += q0[t] * w0[t]; t0[1] += q0[t] * w1[t]; t0[2] += q0[t] * w2[t]; t0[3] += q0[t] * w3[t];
          t1[0] += q1[t] * w0[t]; t1[1] += q1[t] * w1[t]; t1[2] += q1[t] * w2[t]; t1[3] += q1[t] * w3[t];
        }
        s0 = wasm_i32x4_add(s0, wasm_i32x4_make(t0[0], t0[1], t0[2], t0[3]));
        s1 = wasm_i32x4_add(s1, wasm_i32x4_make(t1[0], t1[1], t1[2], t1[3]));
      }
      put4(out + (long)r * ldo + j, s0, sx[r], scales + j, bj, accumulate);
      put4(out + (long)(r + 1) * ldo + j, s1, sx[r + 1], scales + j, bj, accumulate);
    }
    if (r < P) { /* the last row of an odd panel (and batch-1 streaming): 1 row x 4 weight rows */
      const int16_t *q0 = q + r * k8;
      v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
      for (int t = 0; t < kv; t += 8) {
        v128_t qv = wasm_v128_load(q0 + t);
        a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w0 + t), qv));
        a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w1 + t), qv));
        a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w2 + t), qv));
        a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(w3 + t), qv));
      }
      v128_t s0 = hsum4(a0, a1, a2, a3);
      if (kv < k) {
        int t0[4] = {0, 0, 0, 0};
        for (int t = kv; t < k; t++) { t0[0] += q0[t] * w0[t]; t0[1] += q0[t] * w1[t]; t0[2] += q0[t] * w2[t]; t0[3] += q0[t] * w3[t]; }
        s0 = wasm_i32x4_add(s0, wasm_i32x4_make(t0[0], t0[1], t0[2], t0[3]));
      }
      put4(out + (long)r * ldo + j, s0, sx[r], scales + j, bj, accumulate);
    }
  }
  for (int j = n4; j < n; j++) { /* the last n % 4 weight rows, one at a time */
    const int8_t *wj = w + (long)j * k;
    for (int r = 0; r < P; r++) {
      const int16_t *q0 = q + r * k8;
      v128_t a0 = wasm_i32x4_splat(0);
      for (int t = 0; t < kv; t += 8) a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wj + t), wasm_v128_load(q0 + t)));
      int s0 = hsum(a0);
      for (int t = kv; t < k; t++) s0 += q0[t] * wj[t];
      put(out + (long)r * ldo + j, (float)s0 * (sx[r] * scales[j]), bias, j, accumulate);
    }
  }
}

/* The panel's product by the path its layout was quantized for (quant_panel; rowsums: w's row sums, or 0). */
static void qi8_cols(int P, int n, int k, const void *q, const float *sx, const int *zx, const int8_t *w, const float *scales,
                     const int *rowsums, const float *bias, float *out, int ldo, int accumulate) {
#ifdef CAROUSEL_RELAXED
  if (SEVEN(P, rowsums)) { qi8_cols7(P, n, k, q, sx, zx, w, scales, rowsums, bias, out, ldo, accumulate); return; }
#endif
  (void)rowsums; /* the int16 path's codes are centred: no zero point to take off */
  qi8_cols16(P, n, k, q, sx, zx, w, scales, bias, out, ldo, accumulate);
}

EXPORT(qgemm_i8)
void qgemm_i8(int m, int n, int k, const float *x, int ldx, const int8_t *w, const float *scales, const float *bias,
              float *out, int ldo, int accumulate, void *work) {
  float *sx = (float *)((char *)work + QP * KQ(k));
  int *zx = (int *)(sx + QP);
  for (int p0 = 0; p0 < m; p0 += QP) {
    const int P = m - p0 < QP ? m - p0 : QP;
    quant_panel(P, k, x + (long)p0 * ldx, ldx, work, sx, zx, SEVEN(P, 0));
    qi8_cols(P, n, k, work, sx, zx, w, scales, 0, bias, out + (long)p0 * ldo, ldo, accumulate);
  }
}

void lstm_fwd_units(int rows, int H, int j0, int j1, float *gates, const float *cPrev, float *cOut, float *hOut, int ldh); /* rnn.c */

/*
 * The four gate column blocks of gates [rows, 4H] for hidden units [u0, u1) (+)= x W^T (+ bias),
 * W [4H, K] int8 with per-row scales (rowsums: its row sums, or 0): x [rows, K] quantized once per
 * panel for the four blocks. `work` holds at least qgemm_work_bytes(K).
 */
static void gate_blocks(int rows, int H, int u0, int u1, int K, const float *x, int ldx, const int8_t *w, const float *scales,
                        const int *rowsums, const float *bias, float *gates, int accumulate, void *work) {
  float *sx = (float *)((char *)work + QP * KQ(K));
  int *zx = (int *)(sx + QP);
  for (int p0 = 0; p0 < rows; p0 += QP) {
    const int P = rows - p0 < QP ? rows - p0 : QP;
    quant_panel(P, K, x + (long)p0 * ldx, ldx, work, sx, zx, SEVEN(P, rowsums));
    for (int g = 0; g < 4; g++) {
      const int j = g * H + u0;
      qi8_cols(P, u1 - u0, K, work, sx, zx, w + (long)j * K, scales + j, rowsums ? rowsums + j : 0, bias ? bias + j : 0,
               gates + (long)p0 * 4 * H + j, 4 * H, accumulate);
    }
  }
}

/*
 * One quantized LSTM time step for hidden units [u0, u1) of all rows (the float lstm_step_units'
 * contract, kernels/rnn.c): with an input x (else x = 0: gates already hold x W_ih^T + b), the
 * units' gate columns = x W_ih^T + bias (W_ih [4H, I]); then += h W_hh^T (W_hh [4H, K]); each int8
 * with per-row scales and its row sums or 0; then the cell for those units. Threads take disjoint
 * unit ranges: a streaming step, input product included, is one synchronisation, and h (read whole
 * by every thread) must not be hOut. `work` holds qgemm_work_bytes(max(K, I)).
 */
EXPORT(qlstm_step_i8)
void qlstm_step_i8(int rows, int H, int u0, int u1, int K, const float *h, int ldhIn, const int8_t *w, const float *scales,
                   const int *rowsums, float *gates, const float *cPrev, float *cOut, float *hOut, int ldh,
                   int I, const float *x, int ldx, const int8_t *wi, const float *si, const int *ri, const float *bias, void *work) {
  if (x) gate_blocks(rows, H, u0, u1, I, x, ldx, wi, si, ri, bias, gates, 0, work);
  gate_blocks(rows, H, u0, u1, K, h, ldhIn, w, scales, rowsums, 0, gates, 1, work);
  lstm_fwd_units(rows, H, u0, u1, gates, cPrev, cOut, hOut, ldh);
}

/*
 * A quantized LSTM layer's whole recurrence for rows [r0, r1) of its batch of B: T steps of
 * qlstm_step_i8 over all H hidden units (K = H: no projection). Rows are independent through
 * time, so threads that take disjoint rows never wait for each other: one synchronisation per
 * sequence instead of one per step. gates [T, B, 4H] hold x W_ih^T + b (overwritten with the
 * gate activations); h [B, H] and c [B, H] the state, h0 / c0 in and h_T / c_T out; every step's h
 * also goes to y (row t * B + b at y + (t * B + b) * ldy). reverse: steps from T - 1 down to 0.
 * Each row is computed by the same code whatever rows share its call, so any split gives the same bits.
 */
EXPORT(qlstm_seq_i8)
void qlstm_seq_i8(int r0, int r1, int T, int reverse, int B, int H, const int8_t *w, const float *scales, const int *rowsums,
                  float *gates, float *h, float *c, float *y, int ldy, void *work) {
  const int n = r1 - r0;
  float *hr = h + (long)r0 * H, *cr = c + (long)r0 * H;
  for (int s = 0; s < T; s++) {
    const int t = reverse ? T - 1 - s : s;
    float *yt = y + ((long)t * B + r0) * ldy;
    qlstm_step_i8(n, H, 0, H, H, hr, H, w, scales, rowsums, gates + ((long)t * B + r0) * 4 * H, cr, cr, yt, ldy, 0, 0, 0, 0, 0, 0, 0, work);
    for (int b = 0; b < n; b++) __builtin_memcpy(hr + (long)b * H, yt + (long)b * ldy, (unsigned long)H * 4);
  }
}

/* Eight 16-bit weights widened to two f32x4. */
static inline void widen8(const uint16_t *w, int f16, f4 *lo, f4 *hi) {
  v128_t h = wasm_v128_load(w);
  v128_t a = wasm_u32x4_extend_low_u16x8(h), b = wasm_u32x4_extend_high_u16x8(h);
  if (!f16) { *lo = wasm_i32x4_shl(a, 16); *hi = wasm_i32x4_shl(b, 16); return; }
  const v128_t sm = wasm_i32x4_splat(0x8000), em = wasm_i32x4_splat(0x7fff);
  const f4 scale = SPLAT(0x1p112f);
  *lo = wasm_v128_or(wasm_f32x4_mul(wasm_i32x4_shl(wasm_v128_and(a, em), 13), scale), wasm_i32x4_shl(wasm_v128_and(a, sm), 16));
  *hi = wasm_v128_or(wasm_f32x4_mul(wasm_i32x4_shl(wasm_v128_and(b, em), 13), scale), wasm_i32x4_shl(wasm_v128_and(b, sm), 16));
}

static inline float widen1(uint16_t h, int f16) {
  union { uint32_t u; float f; } v;
  if (!f16) { v.u = (uint32_t)h << 16; return v.f; }
  v.u = (uint32_t)(h & 0x7fff) << 13;
  float y = v.f * 0x1p112f;
  return h & 0x8000 ? -y : y;
}

static inline float fsum(f4 a) {
  return (wasm_f32x4_extract_lane(a, 0) + wasm_f32x4_extract_lane(a, 1)) + (wasm_f32x4_extract_lane(a, 2) + wasm_f32x4_extract_lane(a, 3));
}

/* [sum(a0), sum(a1), sum(a2), sum(a3)] of four f32 accumulators. */
static inline f4 fsum4(f4 a0, f4 a1, f4 a2, f4 a3) {
  f4 s01 = wasm_f32x4_add(wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7));
  f4 s23 = wasm_f32x4_add(wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(s01, s23, 0, 1, 4, 5), wasm_i32x4_shuffle(s01, s23, 2, 3, 6, 7));
}

static inline void put4f(float *o, f4 y, const float *bias, int accumulate) {
  if (bias) y = wasm_f32x4_add(y, wasm_v128_load(bias));
  if (accumulate) y = wasm_f32x4_add(wasm_v128_load(o), y);
  wasm_v128_store(o, y);
}

/* Scalar sums of x[kv, k) against the tails of four weight rows, as a vector. */
static inline f4 tail4(const float *x, const uint16_t *w0, const uint16_t *w1, const uint16_t *w2, const uint16_t *w3, int kv, int k, int f16) {
  float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  for (int t = kv; t < k; t++) {
    t0 += x[t] * widen1(w0[t], f16); t1 += x[t] * widen1(w1[t], f16); t2 += x[t] * widen1(w2[t], f16); t3 += x[t] * widen1(w3[t], f16);
  }
  return wasm_f32x4_make(t0, t1, t2, t3);
}

/* acc += lo * x[0..4) + hi * x[4..8) */
#define FMA8(acc, lo, hi, xl, xh) acc = wasm_f32x4_add(acc, wasm_f32x4_add(wasm_f32x4_mul(lo, xl), wasm_f32x4_mul(hi, xh)))

EXPORT(qgemm_16)
void qgemm_16(int f16, int m, int n, int k, const float *x, int ldx, const uint16_t *w, const float *bias,
              float *out, int ldo, int accumulate) {
  const int kv = k & ~7, n4 = n & ~3;
  /* Tiles of 2 rows x 4 weight rows: each widened weight vector feeds two rows, each row vector four weight rows. */
  for (int j = 0; j < n4; j += 4) {
    const uint16_t *w0 = w + (long)j * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
    const float *bj = bias ? bias + j : 0;
    int r = 0;
    for (; r + 2 <= m; r += 2) {
      const float *x0 = x + r * ldx, *x1 = x0 + ldx;
      f4 a00 = SPLAT(0.0f), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
      for (int t = 0; t < kv; t += 8) {
        const f4 x0l = wasm_v128_load(x0 + t), x0h = wasm_v128_load(x0 + t + 4), x1l = wasm_v128_load(x1 + t), x1h = wasm_v128_load(x1 + t + 4);
        f4 lo, hi;
        widen8(w0 + t, f16, &lo, &hi); FMA8(a00, lo, hi, x0l, x0h); FMA8(a10, lo, hi, x1l, x1h);
        widen8(w1 + t, f16, &lo, &hi); FMA8(a01, lo, hi, x0l, x0h); FMA8(a11, lo, hi, x1l, x1h);
        widen8(w2 + t, f16, &lo, &hi); FMA8(a02, lo, hi, x0l, x0h); FMA8(a12, lo, hi, x1l, x1h);
        widen8(w3 + t, f16, &lo, &hi); FMA8(a03, lo, hi, x0l, x0h); FMA8(a13, lo, hi, x1l, x1h);
      }
      f4 s0 = fsum4(a00, a01, a02, a03), s1 = fsum4(a10, a11, a12, a13);
      if (kv < k) { s0 = wasm_f32x4_add(s0, tail4(x0, w0, w1, w2, w3, kv, k, f16)); s1 = wasm_f32x4_add(s1, tail4(x1, w0, w1, w2, w3, kv, k, f16)); }
      put4f(out + r * ldo + j, s0, bj, accumulate);
      put4f(out + (r + 1) * ldo + j, s1, bj, accumulate);
    }
    if (r < m) { /* the last row of an odd m (and batch-1 streaming): 1 row x 4 weight rows */
      const float *x0 = x + r * ldx;
      f4 a0 = SPLAT(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (int t = 0; t < kv; t += 8) {
        const f4 xl = wasm_v128_load(x0 + t), xh = wasm_v128_load(x0 + t + 4);
        f4 lo, hi;
        widen8(w0 + t, f16, &lo, &hi); FMA8(a0, lo, hi, xl, xh);
        widen8(w1 + t, f16, &lo, &hi); FMA8(a1, lo, hi, xl, xh);
        widen8(w2 + t, f16, &lo, &hi); FMA8(a2, lo, hi, xl, xh);
        widen8(w3 + t, f16, &lo, &hi); FMA8(a3, lo, hi, xl, xh);
      }
      f4 s0 = fsum4(a0, a1, a2, a3);
      if (kv < k) s0 = wasm_f32x4_add(s0, tail4(x0, w0, w1, w2, w3, kv, k, f16));
      put4f(out + r * ldo + j, s0, bj, accumulate);
    }
  }
  for (int j = n4; j < n; j++) { /* the last n % 4 weight rows, one at a time */
    const uint16_t *wj = w + (long)j * k;
    for (int r = 0; r < m; r++) {
      const float *x0 = x + r * ldx;
      f4 a0 = SPLAT(0.0f);
      for (int t = 0; t < kv; t += 8) {
        f4 lo, hi;
        widen8(wj + t, f16, &lo, &hi);
        FMA8(a0, lo, hi, wasm_v128_load(x0 + t), wasm_v128_load(x0 + t + 4));
      }
      float s0 = fsum(a0);
      for (int t = kv; t < k; t++) s0 += x0[t] * widen1(wj[t], f16);
      put(out + r * ldo + j, s0, bias, j, accumulate);
    }
  }
}

/* As qlstm_step_i8 with bf16 / f16 weights (qgemm_16 on the four gate column blocks of the units). */
EXPORT(qlstm_step_16)
void qlstm_step_16(int f16, int rows, int H, int u0, int u1, int K, const float *h, int ldhIn, const uint16_t *w,
                   float *gates, const float *cPrev, float *cOut, float *hOut, int ldh) {
  for (int g = 0; g < 4; g++) {
    const int j = g * H + u0;
    qgemm_16(f16, rows, u1 - u0, K, h, ldhIn, w + (long)j * K, 0, gates + j, 4 * H, 1);
  }
  lstm_fwd_units(rows, H, u0, u1, gates, cPrev, cOut, hOut, ldh);
}

/*
 * Peak probe of the int8 product's inner step as this build computes it, for the bench's floor
 * of B3-int8: `iters` rounds of 12 independent accumulators, each fed a fresh weight vector from
 * two alternating L1-resident rows of `buf` (384 bytes), times one vector of activation codes.
 * Relaxed build: RDOT (the 7-bit codes' relaxed dot and its widening), 16 multiply-adds each;
 * SIMD128 build: int8 widened on load and i32x4.dot_i16x8_s, 8 each. qdot_peak_macs() says how
 * many multiply-adds a round does.
 */
#ifdef CAROUSEL_RELAXED
#define QPEAK_STEP 16
#define QPEAK_ACC(j) RDOT(s##j, wasm_v128_load(w + 16 * j), u)
#else
#define QPEAK_STEP 8
#define QPEAK_ACC(j) DOT(s##j, wasm_i16x8_load8x8(w + 8 * j), q)
#endif
EXPORT(qdot_peak_macs) int qdot_peak_macs(void) { return 12 * QPEAK_STEP; }
EXPORT(qdot_peak)
float qdot_peak(int iters, const int8_t *buf) {
#ifdef CAROUSEL_RELAXED
  const v128_t u = wasm_v128_and(wasm_v128_load(buf), wasm_i8x16_splat(0x7f)); /* 7-bit codes */
#else
  const int16_t *q = (const int16_t *)buf; /* int16 centred codes: any 16 bytes */
#endif
  PEAK12_DECL(wasm_i32x4_splat(0));
  for (int i = 0; i < iters; i++) {
    const int8_t *w = buf + (i & 1) * 192;
    PEAK12_STEP(QPEAK_ACC);
  }
  return (float)hsum(PEAK12_SUM(wasm_i32x4_add));
}
