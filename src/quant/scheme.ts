/**
 * The numbers of quantized inference, defined once: every kernel (the TypeScript reference in
 * src/ops/composed/quant.ts, the wasm one in src/backend/wasm/kernels/quant.c) computes exactly
 * these, operation by operation in f32.
 *
 * int8 weights, symmetric per output row:
 *   amax = max_k |v_k|,  scale = f32(amax / 127),  inv = f32(127 / max(amax, 2^-100))
 *   q_k  = nearest-even(f32(v_k * inv)) clamped to [-127, 127]
 * so v_k ~ q_k * scale.
 * Activations, per batch row, as 7-bit unsigned codes with a zero point (asymmetric: the 128
 * levels span the row's own range, which always holds 0 so that 0 is exact):
 *   lo = min(0, min_k v_k),  hi = max(0, max_k v_k),  range = f32(hi - lo) (at least 2^-100)
 *   scale = f32(range / 127),  inv = f32(127 / range),  z = nearest-even(f32(-lo * inv)) (at most 127)
 *   u_k = nearest-even(f32(v_k * inv)) + z clamped to [0, 127]
 * so v_k ~ (u_k - z) * scale. 7 bits because the relaxed-SIMD kernel's i32x4.relaxed_dot_i8x16_i7x16_add_s
 * is deterministic only for a second operand in [0, 127] (kernels/quant.c). A GEMM row then
 * accumulates sum_k (ux_k - zx) qw_k exactly in int32 and gives
 *   y = f32(f32(acc) * f32(sx * sw)) (+ bias, + the old value when accumulating, each in f32).
 * bf16 / f16: each weight rounded to the nearest 16-bit value (ties to even), widened back to f32
 * in the kernel; activations stay f32.
 */

export type WeightScheme = 'int8' | 'bf16' | 'f16';
export const WEIGHT_SCHEMES: readonly WeightScheme[] = ['int8', 'bf16', 'f16'];

/** Below this a row's largest magnitude counts as zero (127 / it stays finite in f32). */
export const AMAX_FLOOR = 2 ** -100;

const f = Math.fround;

/** Round to the nearest integer, ties to even (WebAssembly's f32.nearest). */
export function nearestEven(v: number): number {
  const r = Math.round(v); // ties up
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Quantize row `v[off, off + k)` to int8 values in `q[qOff, qOff + k)` (any integer array);
 * returns the row's scale.
 */
export function quantizeRow(v: ArrayLike<number>, off: number, k: number, q: { [i: number]: number }, qOff: number): number {
  let amax = 0;
  for (let i = 0; i < k; i++) { const a = Math.abs(v[off + i]); if (a > amax) amax = a; }
  amax = f(amax);
  const inv = f(127 / (amax > AMAX_FLOOR ? amax : AMAX_FLOOR));
  for (let i = 0; i < k; i++) {
    const r = nearestEven(f(v[off + i] * inv));
    q[qOff + i] = r > 127 ? 127 : r < -127 ? -127 : r;
  }
  return f(amax / 127);
}

/**
 * Quantize activation row `v[off, off + k)` to 7-bit codes in `u[uOff, uOff + k)` (any integer
 * array); returns the row's scale and zero point.
 */
export function quantizeActivationRow(v: ArrayLike<number>, off: number, k: number, u: { [i: number]: number }, uOff: number): { scale: number; zero: number } {
  let lo = 0, hi = 0;
  for (let i = 0; i < k; i++) { const a = v[off + i]; if (a < lo) lo = a; if (a > hi) hi = a; }
  let range = f(f(hi) - f(lo));
  if (!(range > AMAX_FLOOR)) range = AMAX_FLOOR;
  const inv = f(127 / range);
  const zero = Math.min(127, nearestEven(f(-f(lo) * inv))) | 0; // | 0: -0 (lo = 0) as 0
  for (let i = 0; i < k; i++) {
    const c = nearestEven(f(v[off + i] * inv)) + zero;
    u[uOff + i] = c < 0 ? 0 : c > 127 ? 127 : c;
  }
  return { scale: f(range / 127), zero };
}

/** A weight matrix [rows, cols] quantized per row: int8 values and one f32 scale per row. */
export function quantizeInt8(w: ArrayLike<number>, rows: number, cols: number): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(rows * cols), scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) scales[r] = quantizeRow(w, r * cols, cols, q, r * cols);
  return { q, scales };
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);

/** The bf16 bits nearest to v (ties to even); v must be finite and round to a finite bf16. */
export function toBf16(v: number): number {
  f32[0] = v;
  const b = u32[0];
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBf16(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** Largest finite f16. */
export const F16_MAX = 65504;

/** The f16 bits nearest to the f32 value of v (ties to even, subnormals kept); |v| must round below 65520. */
export function toF16(v: number): number {
  f32[0] = v;
  const b = u32[0], sign = (b >>> 16) & 0x8000, e = (b >>> 23) & 0xff, m = b & 0x7fffff;
  let h: number;
  if (e < 103) h = 0;                                // below half the smallest subnormal (2^-25): zero
  else if (e < 113) {                                // an f16 subnormal: mantissa 2^-24 units
    const mant = m | 0x800000, shift = 126 - e;      // value = mant * 2^(e - 150) = (mant >> shift) * 2^-24
    const r = mant >>> shift, rest = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
    h = r + (rest > half || (rest === half && (r & 1)) ? 1 : 0);
  } else {
    const r = ((e - 112) << 10) | (m >>> 13), rest = m & 0x1fff;
    h = r + (rest > 0x1000 || (rest === 0x1000 && (r & 1)) ? 1 : 0); // a carry into the exponent is right
  }
  return sign | h;
}

export function fromF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * A weight matrix as 16-bit values (bits). `what` names it in the error for a value f16 cannot
 * hold (|w| beyond 65504: bf16 has f32's range).
 */
export function to16(format: 'bf16' | 'f16', w: ArrayLike<number>, what: string): Uint16Array {
  const out = new Uint16Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const v = w[i];
    if (!Number.isFinite(v)) throw new Error(`quantize: ${what}: expected finite weights, got ${v} at index ${i}`);
    const h = format === 'bf16' ? toBf16(v) : toF16(v);
    if ((h & 0x7fff) >= (format === 'bf16' ? 0x7f80 : 0x7c00)) {
      throw new Error(`quantize: ${what}: weight ${v} at index ${i} is beyond ${format}'s range (largest ${format === 'f16' ? F16_MAX : '3.39e38'}); use ${format === 'f16' ? 'bf16' : 'int8'}`);
    }
    out[i] = h;
  }
  return out;
}

export function widen16(format: 'bf16' | 'f16', h: number): number {
  return format === 'bf16' ? fromBf16(h) : fromF16(h);
}
