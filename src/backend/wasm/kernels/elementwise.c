/*
 * Elementwise kernels (unary maps and their backward, binary ops, affine, fill, strided copies)
 * and row softmax. Contiguous f32 data, four lanes at a time; tails go through the same vector
 * code on a partially filled vector, so every element sees one formula.
 * Op codes are the order of UnaryOp / BinaryOp in the loader (src/backend/wasm/index.ts).
 */
#include "vmath.h"


enum { U_NEG, U_EXP, U_LOG, U_SQRT, U_ABS, U_SQUARE, U_SIGMOID, U_TANH, U_RELU, U_SOFTPLUS, U_LOGSIGMOID };

static inline f4 unary_v(int op, f4 x) {
  switch (op) {
    case U_NEG: return wasm_f32x4_neg(x);
    case U_EXP: return vexp(x);
    case U_LOG: return vlog(x);
    case U_SQRT: return wasm_f32x4_sqrt(x);
    case U_ABS: return wasm_f32x4_abs(x);
    case U_SQUARE: return wasm_f32x4_mul(x, x);
    case U_SIGMOID: return vsigmoid(x);
    case U_TANH: return vtanh(x);
    case U_RELU: return wasm_v128_bitselect(x, SPLAT(0.0f), wasm_f32x4_gt(x, SPLAT(0.0f)));
    case U_SOFTPLUS: return vsoftplus(x);
    default: return wasm_f32x4_neg(vsoftplus(wasm_f32x4_neg(x))); /* logsigmoid */
  }
}

/* out[i] = f(x[i]); the switch is outside the loop so each op gets its own tight loop. */
#define UNARY_LOOP(EXPR) for (int i = 0; i < n; i += 4) { int r = n - i; f4 x = ldp(xs + i, r); stp(out + i, EXPR, r); } break
EXPORT(unary)
void unary(int op, const float *xs, float *out, int n) {
  switch (op) {
    case U_NEG: UNARY_LOOP(unary_v(U_NEG, x));
    case U_EXP: UNARY_LOOP(unary_v(U_EXP, x));
    case U_LOG: UNARY_LOOP(unary_v(U_LOG, x));
    case U_SQRT: UNARY_LOOP(unary_v(U_SQRT, x));
    case U_ABS: UNARY_LOOP(unary_v(U_ABS, x));
    case U_SQUARE: UNARY_LOOP(unary_v(U_SQUARE, x));
    case U_SIGMOID: UNARY_LOOP(unary_v(U_SIGMOID, x));
    case U_TANH: UNARY_LOOP(unary_v(U_TANH, x));
    case U_RELU: UNARY_LOOP(unary_v(U_RELU, x));
    case U_SOFTPLUS: UNARY_LOOP(unary_v(U_SOFTPLUS, x));
    default: UNARY_LOOP(unary_v(U_LOGSIGMOID, x));
  }
}

/* f'(x) given y = f(x) */
static inline f4 deriv_v(int op, f4 x, f4 y) {
  const f4 one = SPLAT(1.0f), zero = SPLAT(0.0f);
  switch (op) {
    case U_NEG: return SPLAT(-1.0f);
    case U_EXP: return y;
    case U_LOG: return wasm_f32x4_div(one, x);
    case U_SQRT: return wasm_f32x4_div(SPLAT(0.5f), y);
    case U_ABS: return wasm_v128_bitselect(one, wasm_v128_bitselect(SPLAT(-1.0f), zero, wasm_f32x4_lt(x, zero)), wasm_f32x4_gt(x, zero));
    case U_SQUARE: return x; /* times 2 after the product with dy: 2x alone may overflow */
    case U_SIGMOID: return wasm_f32x4_mul(y, wasm_f32x4_sub(one, y));
    case U_TANH: return wasm_f32x4_sub(one, wasm_f32x4_mul(y, y));
    case U_RELU: return wasm_v128_bitselect(one, zero, wasm_f32x4_gt(x, zero));
    case U_SOFTPLUS: return vsigmoid(x);
    default: return vsigmoid(wasm_f32x4_neg(x));
  }
}

/* dx (+)= dy * f'(x); dy == 0 gives 0 even where f' is inf/NaN (as the reference does). */
#define UB_LOOP(OP) for (int i = 0; i < n; i += 4) { int r = n - i; \
    f4 x = ldp(xs + i, r), y = ldp(ys + i, r), d = ldp(dy + i, r); \
    f4 g = OP == U_LOG ? wasm_f32x4_div(d, x) /* not d * (1/x): 1/x overflows for subnormal x */ \
      : OP == U_SQRT ? wasm_f32x4_div(wasm_f32x4_mul(d, SPLAT(0.5f)), y) : wasm_f32x4_mul(d, deriv_v(OP, x, y)); \
    if (OP == U_SQUARE) g = wasm_f32x4_add(g, g); \
    g = wasm_v128_bitselect(SPLAT(0.0f), g, wasm_f32x4_eq(d, SPLAT(0.0f))); \
    if (acc) g = wasm_f32x4_add(ldp(dx + i, r), g); stp(dx + i, g, r); } break
EXPORT(unary_backward)
void unary_backward(int op, const float *xs, const float *ys, const float *dy, float *dx, int n, int acc) {
  switch (op) {
    case U_NEG: UB_LOOP(U_NEG);
    case U_EXP: UB_LOOP(U_EXP);
    case U_LOG: UB_LOOP(U_LOG);
    case U_SQRT: UB_LOOP(U_SQRT);
    case U_ABS: UB_LOOP(U_ABS);
    case U_SQUARE: UB_LOOP(U_SQUARE);
    case U_SIGMOID: UB_LOOP(U_SIGMOID);
    case U_TANH: UB_LOOP(U_TANH);
    case U_RELU: UB_LOOP(U_RELU);
    case U_SOFTPLUS: UB_LOOP(U_SOFTPLUS);
    default: UB_LOOP(U_LOGSIGMOID);
  }
}

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN };
static inline f4 binary_v(int op, f4 a, f4 b) {
  switch (op) {
    case B_ADD: return wasm_f32x4_add(a, b);
    case B_SUB: return wasm_f32x4_sub(a, b);
    case B_MUL: return wasm_f32x4_mul(a, b);
    case B_DIV: return wasm_f32x4_div(a, b);
    case B_MAX: return wasm_v128_bitselect(a, b, wasm_f32x4_ge(a, b)); /* a >= b ? a : b, NaN as the reference */
    default: return wasm_v128_bitselect(a, b, wasm_f32x4_le(a, b));
  }
}

/* out[r, c] = a[r*ars + c*acs] op b[r*brs + c*bcs] for a [rows, cols] view; column strides are 0
 * (broadcast) or 1 (contiguous); out is contiguous. */
#define BIN_LOOP(OP) for (int r = 0; r < rows; r++) { \
    const float *ap = a + (int64_t)r * ars, *bp = b + (int64_t)r * brs; float *op_ = out + (int64_t)r * cols; \
    f4 as = SPLAT(ap[0]), bs = SPLAT(bp[0]); \
    for (int c = 0; c < cols; c += 4) { int rem = cols - c; \
      f4 va = acs ? ldp(ap + c, rem) : as, vb = bcs ? ldp(bp + c, rem) : bs; \
      stp(op_ + c, binary_v(OP, va, vb), rem); } } break
EXPORT(binary2d)
void binary2d(int op, int rows, int cols, const float *a, int ars, int acs, const float *b, int brs, int bcs, float *out) {
  if (rows <= 0 || cols <= 0) return;
  switch (op) {
    case B_ADD: BIN_LOOP(B_ADD);
    case B_SUB: BIN_LOOP(B_SUB);
    case B_MUL: BIN_LOOP(B_MUL);
    case B_DIV: BIN_LOOP(B_DIV);
    case B_MAX: BIN_LOOP(B_MAX);
    default: BIN_LOOP(B_MIN);
  }
}

/* out[i] (+)= alpha x[i] + beta */
EXPORT(affine)
void affine(const float *x, float *out, int n, float alpha, float beta, int acc) {
  f4 va = SPLAT(alpha), vb = SPLAT(beta);
  for (int i = 0; i < n; i += 4) {
    int r = n - i;
    f4 y = wasm_f32x4_add(wasm_f32x4_mul(va, ldp(x + i, r)), vb);
    if (acc) y = wasm_f32x4_add(ldp(out + i, r), y);
    stp(out + i, y, r);
  }
}

/* Index of the first NaN or infinity in x[0:n], or -1. x - x is 0 exactly when x is finite, and
 * NaN propagates through the sums, so a block of 16 needs one test. */
EXPORT(find_nonfinite)
int find_nonfinite(const float *x, int n) {
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    f4 a = wasm_v128_load(x + i), b = wasm_v128_load(x + i + 4), c = wasm_v128_load(x + i + 8), d = wasm_v128_load(x + i + 12);
    f4 t = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_sub(a, a), wasm_f32x4_sub(b, b)),
                          wasm_f32x4_add(wasm_f32x4_sub(c, c), wasm_f32x4_sub(d, d)));
    if (wasm_v128_any_true(wasm_f32x4_ne(t, t))) break;
  }
  for (; i < n; i++) { float v = x[i] - x[i]; if (v != v) return i; }
  return -1;
}

/*
 * One Adam / AdamW step over n values, in place (Backend.adamStep; the rounding order of
 * PyTorch's single-tensor Adam, every product and sum rounded to f32):
 *   decoupled: p += cwd p  (cwd = -lr wd)      else: g' = g + wd p
 *   m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;  amsgrad: vmax = max(vmax, v), v := vmax
 *   p += cstep * m / (sqrt(v) isb2 + eps)      (cstep = -lr / (1 - b1^t), isb2 = 1 / sqrt(1 - b2^t))
 * m, v and vmax below the smallest normal float (2^-126) are flushed to 0: converged training
 * drives them into subnormals, where every x86 operation on them takes a microcode assist (tens
 * of times slower), and wasm has no flush-to-zero mode; their effect on p is far below f32
 * resolution. vmax may be null (0); wd 0 with decoupled 0 skips the decay.
 */
static inline f4 ftz(f4 x) { /* x & ~(|x| < min normal): NaN is kept */
  return wasm_v128_andnot(x, wasm_f32x4_lt(wasm_f32x4_abs(x), SPLAT(1.17549435e-38f)));
}
/* x[i] = 0 where |x[i]| is below the smallest normal float (optimizer state; see above). */
EXPORT(flush_subnormal)
void flush_subnormal(float *x, int n) {
  for (int i = 0; i < n; i += 4) { int r = n - i; stp(x + i, ftz(ldp(x + i, r)), r); }
}

EXPORT(adam_step)
void adam_step(float *p, const float *g, float *m, float *v, float *vmax, int n, float b1, float c1, float b2, float c2,
               float eps, float isb2, float cstep, float wd, float cwd, int decoupled) {
  f4 vb1 = SPLAT(b1), vc1 = SPLAT(c1), vb2 = SPLAT(b2), vc2 = SPLAT(c2), veps = SPLAT(eps), vis = SPLAT(isb2);
  f4 vst = SPLAT(cstep), vwd = SPLAT(wd), vcwd = SPLAT(cwd);
  for (int i = 0; i < n; i += 4) {
    int r = n - i;
    f4 pp = ldp(p + i, r), gg = ldp(g + i, r);
    if (decoupled) { if (cwd != 0.0f) pp = wasm_f32x4_add(pp, wasm_f32x4_mul(vcwd, pp)); }
    else if (wd != 0.0f) gg = wasm_f32x4_add(gg, wasm_f32x4_mul(vwd, pp));
    f4 sq = wasm_f32x4_mul(gg, gg);
    f4 mm = ftz(wasm_f32x4_add(wasm_f32x4_mul(vb1, ldp(m + i, r)), wasm_f32x4_mul(vc1, gg)));
    f4 vv = ftz(wasm_f32x4_add(wasm_f32x4_mul(vb2, ldp(v + i, r)), wasm_f32x4_mul(vc2, sq)));
    stp(m + i, mm, r); stp(v + i, vv, r);
    if (vmax) {
      f4 prev = ldp(vmax + i, r);
      vv = wasm_v128_bitselect(prev, vv, wasm_f32x4_ge(prev, vv)); /* prev >= v ? prev : v, as Backend.binary max */
      stp(vmax + i, vv, r);
    }
    f4 denom = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_sqrt(vv), vis), veps);
    stp(p + i, wasm_f32x4_add(pp, wasm_f32x4_mul(vst, wasm_f32x4_div(mm, denom))), r);
  }
}

EXPORT(fill)
void fill(float *p, int n, float value) {
  f4 v = SPLAT(value);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, v);
  for (; i < n; i++) p[i] = value;
}

/* dst[r*drs + c*dcs] (+)= src[r*srs + c*scs] over [rows, cols], in row-major order (so a
 * zero-stride destination accumulates in the same order as the reference). 32-bit elements. */
EXPORT(copy2d)
void copy2d(int rows, int cols, const float *src, int srs, int scs, float *dst, int drs, int dcs, int acc) {
  for (int r = 0; r < rows; r++) {
    const float *s = src + (int64_t)r * srs;
    float *d = dst + (int64_t)r * drs;
    if (scs == 1 && dcs == 1) {
      int c = 0;
      if (acc) {
        for (; c + 4 <= cols; c += 4) wasm_v128_store(d + c, wasm_f32x4_add(wasm_v128_load(d + c), wasm_v128_load(s + c)));
        for (; c < cols; c++) d[c] += s[c];
      } else {
        for (; c + 4 <= cols; c += 4) wasm_v128_store(d + c, wasm_v128_load(s + c));
        for (; c < cols; c++) d[c] = s[c];
      }
    } else if (acc) {
      for (int c = 0; c < cols; c++) d[(int64_t)c * dcs] += s[(int64_t)c * scs];
    } else {
      /* raw 32-bit moves: also right for i32 data */
      const int32_t *si = (const int32_t *)s; int32_t *di = (int32_t *)d;
      for (int c = 0; c < cols; c++) di[(int64_t)c * dcs] = si[(int64_t)c * scs];
    }
  }
}

static inline float hsum(f4 v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/* Row softmax / log-softmax of [rows, cols]; a row of -inf shifts by 0 as in the reference. */
EXPORT(softmax)
void softmax(const float *x, float *out, int rows, int cols, int log) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (int64_t)r * cols;
    float *orow = out + (int64_t)r * cols;
    f4 vm = SPLAT(-__builtin_inff());
    for (int c = 0; c < cols; c += 4) {
      int rem = cols - c;
      f4 v = rem >= 4 ? wasm_v128_load(xr + c) : wasm_v128_bitselect(ldp(xr + c, rem), vm,
        wasm_i32x4_gt(wasm_i32x4_splat(rem), wasm_i32x4_make(0, 1, 2, 3)));
      vm = wasm_f32x4_max(vm, v);
    }
    float mx = wasm_f32x4_extract_lane(vm, 0);
    for (int l = 1; l < 4; l++) { float t = l == 1 ? wasm_f32x4_extract_lane(vm, 1) : l == 2 ? wasm_f32x4_extract_lane(vm, 2) : wasm_f32x4_extract_lane(vm, 3); mx = (t > mx || t != t) ? t : mx; }
    if (mx == -__builtin_inff()) mx = 0.0f;
    f4 vmx = SPLAT(mx), vs = SPLAT(0.0f);
    for (int c = 0; c < cols; c += 4) {
      int rem = cols - c;
      f4 e = vexp(wasm_f32x4_sub(ldp(xr + c, rem), vmx));
      if (rem < 4) e = wasm_v128_and(e, wasm_i32x4_gt(wasm_i32x4_splat(rem), wasm_i32x4_make(0, 1, 2, 3)));
      vs = wasm_f32x4_add(vs, e);
      if (!log) stp(orow + c, e, rem);
    }
    float s = hsum(vs);
    if (log) {
      float ls = wasm_f32x4_extract_lane(vlog(SPLAT(s)), 0) + mx;
      f4 vls = SPLAT(ls);
      for (int c = 0; c < cols; c += 4) { int rem = cols - c; stp(orow + c, wasm_f32x4_sub(ldp(xr + c, rem), vls), rem); }
    } else {
      f4 vsum = SPLAT(s);
      for (int c = 0; c < cols; c += 4) { int rem = cols - c; stp(orow + c, wasm_f32x4_div(ldp(orow + c, rem), vsum), rem); }
    }
  }
}

EXPORT(softmax_backward)
void softmax_backward(const float *y, const float *dy, float *dx, int rows, int cols, int log, int acc) {
  for (int r = 0; r < rows; r++) {
    const float *yr = y + (int64_t)r * cols, *dyr = dy + (int64_t)r * cols;
    float *dxr = dx + (int64_t)r * cols;
    f4 vs = SPLAT(0.0f);
    for (int c = 0; c < cols; c += 4) {
      int rem = cols - c;
      f4 d = ldp(dyr + c, rem);
      vs = wasm_f32x4_add(vs, log ? d : wasm_f32x4_mul(d, ldp(yr + c, rem)));
    }
    f4 s = SPLAT(hsum(vs));
    for (int c = 0; c < cols; c += 4) {
      int rem = cols - c;
      f4 yv = ldp(yr + c, rem), d = ldp(dyr + c, rem);
      f4 g = log ? wasm_f32x4_sub(d, wasm_f32x4_mul(vexp(yv), s)) : wasm_f32x4_mul(yv, wasm_f32x4_sub(d, s));
      if (acc) g = wasm_f32x4_add(ldp(dxr + c, rem), g);
      stp(dxr + c, g, rem);
    }
  }
}
