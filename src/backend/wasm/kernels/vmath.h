/*
 * Vector (f32x4) and scalar (f64) transcendental functions for the kernels. Freestanding: no libc
 * in wasm32, so exp/log are written here (Cephes-style polynomials, relative error ~1e-7 in f32,
 * ~1e-16 in f64). Every function is overflow-safe for large |x| and propagates NaN.
 */
#pragma once
#include <stdint.h>
#include <wasm_simd128.h>

typedef v128_t f4;

/* A kernel callable from JavaScript under its own name. */
#define EXPORT(name) __attribute__((export_name(#name)))

/* Load / store the first r (1..4) floats of a vector: the tail of a row runs the vector code. */
static inline f4 ldp(const float *p, int r) {
  if (r >= 4) return wasm_v128_load(p);
  return wasm_f32x4_make(p[0], r > 1 ? p[1] : 0.0f, r > 2 ? p[2] : 0.0f, 0.0f);
}
static inline void stp(float *p, f4 v, int r) {
  if (r >= 4) { wasm_v128_store(p, v); return; }
  p[0] = wasm_f32x4_extract_lane(v, 0);
  if (r > 1) p[1] = wasm_f32x4_extract_lane(v, 1);
  if (r > 2) p[2] = wasm_f32x4_extract_lane(v, 2);
}

#define SPLAT(x) wasm_f32x4_splat(x)

/* a * b + c. The relaxed-SIMD build (scripts/build-wasm.mjs: -mrelaxed-simd -DCAROUSEL_RELAXED)
 * emits f32x4.relaxed_madd, one fused multiply-add where the CPU has FMA (a single rounding);
 * the SIMD128 build a multiply and an add. Either way an engine runs one choice for every call,
 * so a kernel's elements stay bit-identical whichever thread computes them. */
#ifdef CAROUSEL_RELAXED
#define MADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#define KERNEL_BUILD 1
#else
#define MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#define KERNEL_BUILD 0
#endif

/* The peak probes' 12 independent accumulator chains s0..s11 (kernels/gemm.c simd_peak,
 * kernels/quant.c qdot_peak): declared from `zero`, stepped by ACC(j), summed with `add`. */
#define PEAK12_DECL(zero) v128_t s0 = zero, s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0
#define PEAK12_STEP(ACC) do { ACC(0); ACC(1); ACC(2); ACC(3); ACC(4); ACC(5); ACC(6); ACC(7); ACC(8); ACC(9); ACC(10); ACC(11); } while (0)
#define PEAK12_SUM(add) add(add(add(add(s0, s1), add(s2, s3)), add(add(s4, s5), add(s6, s7))), add(add(s8, s9), add(s10, s11)))

/* e^x, f32x4. n = round(x log2 e); r = x - n ln2 (two-constant Cody-Waite); e^r by a degree-6
 * polynomial; 2^n by building the exponent bits (clamped to [-126, 128]: underflow -> ~0, overflow -> inf).
 * Written for V8's SIMD lowering: pmin/pmax are single instructions (min/max with NaN propagation
 * are several) and keep NaN when x is the first operand; n is rounded by adding 1.5 * 2^23 (its
 * integer lands in the low mantissa bits, read back with an integer subtract), which rounds to
 * nearest-even exactly as f32x4.nearest and avoids a saturating truncation. */
static inline f4 vexp(f4 x) {
  const f4 hi = SPLAT(88.7228391f), lo = SPLAT(-103.97208f), magic = SPLAT(12582912.0f);
  f4 xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi);
  f4 t = wasm_f32x4_add(wasm_f32x4_mul(xc, SPLAT(1.44269504088896341f)), magic); /* |x log2 e| <= 150 < 2^22 */
  f4 fn = wasm_f32x4_sub(t, magic);
  v128_t n = wasm_i32x4_sub(t, magic);
  f4 r = wasm_f32x4_sub(xc, wasm_f32x4_mul(fn, SPLAT(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(fn, SPLAT(-2.12194440e-4f)));
  f4 z = wasm_f32x4_mul(r, r);
  f4 p = SPLAT(1.9875691500E-4f);
  p = MADD(p, r, SPLAT(1.3981999507E-3f));
  p = MADD(p, r, SPLAT(8.3334519073E-3f));
  p = MADD(p, r, SPLAT(4.1665795894E-2f));
  p = MADD(p, r, SPLAT(1.6666665459E-1f));
  p = MADD(p, r, SPLAT(5.0000001201E-1f));
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(p, z), r), SPLAT(1.0f));
  /* 2^n split in two factors so n in [-150, 128] never overflows the exponent field. */
  v128_t n1 = wasm_i32x4_shr(n, 1), n2 = wasm_i32x4_sub(n, n1);
  f4 s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, wasm_i32x4_splat(127)), 23);
  f4 s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, wasm_i32x4_splat(127)), 23);
  f4 y = wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
  /* x > hi -> +inf; x < lo -> 0 (the clamp alone gives tiny denormals, set them to exact 0) */
  y = wasm_v128_bitselect(SPLAT(__builtin_inff()), y, wasm_f32x4_gt(x, hi));
  y = wasm_v128_bitselect(SPLAT(0.0f), y, wasm_f32x4_lt(x, lo));
  return y;
}

/* log(x), f32x4 (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) by a degree-9
 * polynomial in m-1. x < 0 or NaN -> NaN, 0 -> -inf, +inf -> +inf. Denormal inputs are scaled first. */
static inline f4 vlog(f4 x) {
  f4 den = wasm_f32x4_lt(x, SPLAT(1.17549435e-38f));
  f4 xs = wasm_v128_bitselect(wasm_f32x4_mul(x, SPLAT(16777216.0f)), x, den); /* * 2^24 */
  v128_t bits = xs;
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(bits, 23), wasm_i32x4_splat(127));
  e = wasm_i32x4_sub(e, wasm_v128_and(den, wasm_i32x4_splat(24)));
  f4 m = wasm_v128_or(wasm_v128_and(bits, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000)); /* [1,2) */
  f4 big = wasm_f32x4_gt(m, SPLAT(1.41421356237f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, SPLAT(0.5f)), m, big);
  e = wasm_i32x4_sub(e, big); /* big is -1 where true */
  f4 fe = wasm_f32x4_convert_i32x4(e);
  f4 f = wasm_f32x4_sub(m, SPLAT(1.0f));
  f4 z = wasm_f32x4_mul(f, f);
  f4 p = SPLAT(7.0376836292E-2f);
  p = MADD(p, f, SPLAT(-1.1514610310E-1f));
  p = MADD(p, f, SPLAT(1.1676998740E-1f));
  p = MADD(p, f, SPLAT(-1.2420140846E-1f));
  p = MADD(p, f, SPLAT(1.4249322787E-1f));
  p = MADD(p, f, SPLAT(-1.6668057665E-1f));
  p = MADD(p, f, SPLAT(2.0000714765E-1f));
  p = MADD(p, f, SPLAT(-2.4999993993E-1f));
  p = MADD(p, f, SPLAT(3.3333331174E-1f));
  f4 y = wasm_f32x4_mul(wasm_f32x4_mul(p, f), z);
  y = wasm_f32x4_add(y, wasm_f32x4_mul(fe, SPLAT(-2.12194440e-4f)));
  y = wasm_f32x4_sub(y, wasm_f32x4_mul(z, SPLAT(0.5f)));
  y = wasm_f32x4_add(wasm_f32x4_add(f, y), wasm_f32x4_mul(fe, SPLAT(0.693359375f)));
  /* special cases */
  y = wasm_v128_bitselect(SPLAT(-__builtin_inff()), y, wasm_f32x4_eq(x, SPLAT(0.0f)));
  y = wasm_v128_bitselect(SPLAT(__builtin_inff()), y, wasm_f32x4_eq(x, SPLAT(__builtin_inff())));
  y = wasm_v128_bitselect(SPLAT(__builtin_nanf("")), y, wasm_f32x4_lt(x, SPLAT(0.0f)));
  y = wasm_v128_bitselect(x, y, wasm_f32x4_ne(x, x)); /* NaN in, NaN out */
  return y;
}

/* log(1 + u) accurate for tiny u: log(w) * u / (w - 1) with w = 1 + u (exact when w == 1: u). */
static inline f4 vlog1p(f4 u) {
  f4 w = wasm_f32x4_add(u, SPLAT(1.0f));
  f4 d = wasm_f32x4_sub(w, SPLAT(1.0f));
  f4 r = wasm_f32x4_div(wasm_f32x4_mul(vlog(w), u), d);
  r = wasm_v128_bitselect(u, r, wasm_f32x4_eq(d, SPLAT(0.0f)));
  /* w = inf (u huge): log(w) */
  r = wasm_v128_bitselect(u, r, wasm_f32x4_eq(u, SPLAT(__builtin_inff())));
  return r;
}

/* 1 / (1 + e^-x): e^-x overflows to inf for x << 0, giving exactly 0, never NaN. */
static inline f4 vsigmoid(f4 x) {
  return wasm_f32x4_div(SPLAT(1.0f), wasm_f32x4_add(SPLAT(1.0f), vexp(wasm_f32x4_neg(x))));
}

/* tanh: odd polynomial for |x| < 0.625 (Cephes tanhf, keeps relative accuracy near 0), else
 * 1 - 2 / (e^{2|x|} + 1) with the sign put back. */
static inline f4 vtanh(f4 x) {
  f4 ax = wasm_f32x4_abs(x);
  f4 z = wasm_f32x4_mul(x, x);
  f4 p = SPLAT(-5.70498872745E-3f);
  p = MADD(p, z, SPLAT(2.06390887954E-2f));
  p = MADD(p, z, SPLAT(-5.37397155531E-2f));
  p = MADD(p, z, SPLAT(1.33314422036E-1f));
  p = MADD(p, z, SPLAT(-3.33332819422E-1f));
  f4 small = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, z), x), x);
  f4 e = vexp(wasm_f32x4_add(ax, ax));
  f4 large = wasm_f32x4_sub(SPLAT(1.0f), wasm_f32x4_div(SPLAT(2.0f), wasm_f32x4_add(e, SPLAT(1.0f))));
  large = wasm_v128_or(large, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000))); /* copysign */
  f4 r = wasm_v128_bitselect(small, large, wasm_f32x4_lt(ax, SPLAT(0.625f)));
  return wasm_v128_bitselect(x, r, wasm_f32x4_ne(x, x));
}

/* softplus(x) = max(x, 0) + log1p(e^-|x|) */
static inline f4 vsoftplus(f4 x) {
  f4 ax = wasm_f32x4_abs(x);
  f4 r = wasm_f32x4_add(wasm_f32x4_max(x, SPLAT(0.0f)), vlog1p(vexp(wasm_f32x4_neg(ax))));
  return wasm_v128_bitselect(x, r, wasm_f32x4_ne(x, x));
}

/* ---- f64 scalar (CTC) ---- */
static inline double dexp(double x) {
  if (x != x) return x;
  if (x > 709.78) return __builtin_inf();
  if (x < -745.2) return 0.0;
  double fn = __builtin_nearbyint(x * 1.4426950408889634);
  double r = x - fn * 6.93147180369123816490e-01;
  r = r - fn * 1.90821492927058770002e-10;
  /* Taylor to degree 13 on |r| <= 0.35: truncation below 1e-17 */
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  int64_t n = (int64_t)fn;
  int64_t n1 = n / 2, n2 = n - n1;
  union { double d; int64_t i; } s1, s2;
  s1.i = (n1 + 1023) << 52; s2.i = (n2 + 1023) << 52;
  return p * s1.d * s2.d;
}

static inline double dlog(double x) {
  if (x != x || x < 0) return __builtin_nan("");
  if (x == 0) return -__builtin_inf();
  if (x == __builtin_inf()) return x;
  union { double d; int64_t i; } u; u.d = x;
  int64_t e = 0;
  if (x < 2.2250738585072014e-308) { u.d = x * 18014398509481984.0; e = -54; } /* denormal: * 2^54 */
  e += ((u.i >> 52) & 0x7ff) - 1023;
  u.i = (u.i & 0x000fffffffffffffLL) | 0x3ff0000000000000LL; /* m in [1, 2) */
  double m = u.d;
  if (m > 1.4142135623730951) { m *= 0.5; e += 1; }
  double f = (m - 1.0) / (m + 1.0), f2 = f * f;
  /* 2 atanh(f) = 2 (f + f^3/3 + f^5/5 + ...), |f| <= 0.172 */
  double p = 1.0 / 23;
  p = p * f2 + 1.0 / 21; p = p * f2 + 1.0 / 19; p = p * f2 + 1.0 / 17; p = p * f2 + 1.0 / 15;
  p = p * f2 + 1.0 / 13; p = p * f2 + 1.0 / 11; p = p * f2 + 1.0 / 9; p = p * f2 + 1.0 / 7;
  p = p * f2 + 1.0 / 5; p = p * f2 + 1.0 / 3; p = p * f2 + 1.0;
  return 2.0 * f * p + (double)e * 6.93147180559945286227e-01;
}
