/*
 * Quantized GEMMs for inference (the `quant` kernel set; the numbers are defined in
 * src/quant/scheme.ts and the TypeScript reference is src/ops/composed/quant.ts):
 *   qgemm_i8:  out[i, j] (+)= f32(acc) * (sx_i * sw_j) (+ bias[j]), acc = sum_k qx[i, k] w[j, k] in int32.
 *              Rows of x are quantized per row to int16 lanes holding int8 values, a panel of QP
 *              rows at a time into `work`; weights are int8 widened to int16 on load
 *              (v128.load8x8_s), and i32x4.dot_i16x8_s does two multiply-adds per lane.
 *              Integer sums are exact, so every order gives the reference's bits.
 *   qgemm_16:  bf16 / f16 weights widened to f32 on load (bf16: a shift; f16: a shift and one
 *              multiply by 2^112, exact for normal and subnormal values), f32 multiply-adds.
 * Weight rows are read in place ([n, k], row-major, from `w`); each weight row is read once per
 * panel of rows of x, and four rows of x share each load of it.
 */
#include "vmath.h"

#define QP 64 /* rows of x quantized at a time */

EXPORT(qgemm_work_bytes) int qgemm_work_bytes(int k) { return QP * ((k + 7) & ~7) * 2 + QP * 4; }

/* Quantize row x[0, k) into q[0, k8) (zero padded past k); returns the row's scale (scheme.ts). */
static float quant_row(const float *x, int k, int16_t *q) {
  f4 vm = SPLAT(0.0f);
  int i = 0;
  for (; i + 4 <= k; i += 4) vm = wasm_f32x4_max(vm, wasm_f32x4_abs(wasm_v128_load(x + i)));
  float amax = wasm_f32x4_extract_lane(vm, 0);
  for (int l = 1; l < 4; l++) {
    float v = l == 1 ? wasm_f32x4_extract_lane(vm, 1) : l == 2 ? wasm_f32x4_extract_lane(vm, 2) : wasm_f32x4_extract_lane(vm, 3);
    if (v > amax) amax = v;
  }
  for (; i < k; i++) { float a = __builtin_fabsf(x[i]); if (a > amax) amax = a; }
  float inv = 127.0f / (amax > 0x1p-100f ? amax : 0x1p-100f);
  const f4 vinv = SPLAT(inv), lo = SPLAT(-127.0f), hi = SPLAT(127.0f);
  for (i = 0; i + 8 <= k; i += 8) {
    f4 a = wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + i), vinv));
    f4 b = wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(x + i + 4), vinv));
    a = wasm_f32x4_min(wasm_f32x4_max(a, lo), hi);
    b = wasm_f32x4_min(wasm_f32x4_max(b, lo), hi);
    wasm_v128_store(q + i, wasm_i16x8_narrow_i32x4(wasm_i32x4_trunc_sat_f32x4(a), wasm_i32x4_trunc_sat_f32x4(b)));
  }
  for (; i < k; i++) {
    float r = __builtin_rintf(x[i] * inv);
    q[i] = (int16_t)(r > 127.0f ? 127.0f : r < -127.0f ? -127.0f : r);
  }
  for (; i & 7; i++) q[i] = 0;
  return amax / 127.0f;
}

static inline int hsum(v128_t a) {
  return wasm_i32x4_extract_lane(a, 0) + wasm_i32x4_extract_lane(a, 1) + wasm_i32x4_extract_lane(a, 2) + wasm_i32x4_extract_lane(a, 3);
}

static inline void put(float *o, float y, const float *bias, int j, int acc) {
  if (bias) y += bias[j];
  *o = acc ? *o + y : y;
}

EXPORT(qgemm_i8)
void qgemm_i8(int m, int n, int k, const float *x, int ldx, const int8_t *w, const float *scales, const float *bias,
              float *out, int ldo, int accumulate, void *work) {
  const int k8 = (k + 7) & ~7, kv = k & ~7;
  int16_t *q = (int16_t *)work;
  float *sx = (float *)(q + QP * k8);
  for (int p0 = 0; p0 < m; p0 += QP) {
    const int P = m - p0 < QP ? m - p0 : QP;
    for (int r = 0; r < P; r++) sx[r] = quant_row(x + (p0 + r) * ldx, k, q + r * k8);
    for (int j = 0; j < n; j++) {
      const int8_t *wj = w + (long)j * k;
      const float sw = scales[j];
      int r = 0;
      for (; r + 4 <= P; r += 4) {
        const int16_t *q0 = q + r * k8, *q1 = q0 + k8, *q2 = q1 + k8, *q3 = q2 + k8;
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
        for (int t = 0; t < kv; t += 8) {
          v128_t wv = wasm_i16x8_load8x8(wj + t);
          a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(q0 + t)));
          a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(q1 + t)));
          a2 = wasm_i32x4_add(a2, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(q2 + t)));
          a3 = wasm_i32x4_add(a3, wasm_i32x4_dot_i16x8(wv, wasm_v128_load(q3 + t)));
        }
        int s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
        for (int t = kv; t < k; t++) { int wt = wj[t]; s0 += q0[t] * wt; s1 += q1[t] * wt; s2 += q2[t] * wt; s3 += q3[t] * wt; }
        float *o = out + (p0 + r) * ldo + j;
        put(o, (float)s0 * (sx[r] * sw), bias, j, accumulate);
        put(o + ldo, (float)s1 * (sx[r + 1] * sw), bias, j, accumulate);
        put(o + 2 * ldo, (float)s2 * (sx[r + 2] * sw), bias, j, accumulate);
        put(o + 3 * ldo, (float)s3 * (sx[r + 3] * sw), bias, j, accumulate);
      }
      for (; r < P; r++) {
        const int16_t *q0 = q + r * k8;
        v128_t a0 = wasm_i32x4_splat(0), a1 = a0;
        int t = 0;
        for (; t + 16 <= kv; t += 16) {
          a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wj + t), wasm_v128_load(q0 + t)));
          a1 = wasm_i32x4_add(a1, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wj + t + 8), wasm_v128_load(q0 + t + 8)));
        }
        for (; t < kv; t += 8) a0 = wasm_i32x4_add(a0, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(wj + t), wasm_v128_load(q0 + t)));
        int s0 = hsum(wasm_i32x4_add(a0, a1));
        for (t = kv; t < k; t++) s0 += q0[t] * wj[t];
        put(out + (p0 + r) * ldo + j, (float)s0 * (sx[r] * sw), bias, j, accumulate);
      }
    }
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

EXPORT(qgemm_16)
void qgemm_16(int f16, int m, int n, int k, const float *x, int ldx, const uint16_t *w, const float *bias,
              float *out, int ldo, int accumulate) {
  const int kv = k & ~7;
  for (int j = 0; j < n; j++) {
    const uint16_t *wj = w + (long)j * k;
    int r = 0;
    for (; r + 4 <= m; r += 4) {
      const float *x0 = x + r * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
      f4 a0 = SPLAT(0.0f), a1 = a0, a2 = a0, a3 = a0;
      for (int t = 0; t < kv; t += 8) {
        f4 lo, hi;
        widen8(wj + t, f16, &lo, &hi);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_add(wasm_f32x4_mul(lo, wasm_v128_load(x0 + t)), wasm_f32x4_mul(hi, wasm_v128_load(x0 + t + 4))));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_add(wasm_f32x4_mul(lo, wasm_v128_load(x1 + t)), wasm_f32x4_mul(hi, wasm_v128_load(x1 + t + 4))));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_add(wasm_f32x4_mul(lo, wasm_v128_load(x2 + t)), wasm_f32x4_mul(hi, wasm_v128_load(x2 + t + 4))));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_add(wasm_f32x4_mul(lo, wasm_v128_load(x3 + t)), wasm_f32x4_mul(hi, wasm_v128_load(x3 + t + 4))));
      }
      float s0 = fsum(a0), s1 = fsum(a1), s2 = fsum(a2), s3 = fsum(a3);
      for (int t = kv; t < k; t++) { float wt = widen1(wj[t], f16); s0 += x0[t] * wt; s1 += x1[t] * wt; s2 += x2[t] * wt; s3 += x3[t] * wt; }
      float *o = out + r * ldo + j;
      put(o, s0, bias, j, accumulate);
      put(o + ldo, s1, bias, j, accumulate);
      put(o + 2 * ldo, s2, bias, j, accumulate);
      put(o + 3 * ldo, s3, bias, j, accumulate);
    }
    for (; r < m; r++) {
      const float *x0 = x + r * ldx;
      f4 a0 = SPLAT(0.0f), a1 = a0;
      for (int t = 0; t < kv; t += 8) {
        f4 lo, hi;
        widen8(wj + t, f16, &lo, &hi);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(lo, wasm_v128_load(x0 + t)));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(hi, wasm_v128_load(x0 + t + 4)));
      }
      float s0 = fsum(wasm_f32x4_add(a0, a1));
      for (int t = kv; t < k; t++) s0 += x0[t] * widen1(wj[t], f16);
      put(out + r * ldo + j, s0, bias, j, accumulate);
    }
  }
}
