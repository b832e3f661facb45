import { memo } from './memo.js';

/**
 * In-place iterative radix-2 FFT (Cooley-Tukey, decimation in time) of a complex signal held as
 * two arrays; the length must be a power of two. X[k] = sum_n x[n] exp(-2 pi i k n / N).
 */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (n !== im.length || n === 0 || (n & (n - 1)) !== 0) throw new Error(`fft: expected equal power-of-two lengths, got ${re.length} and ${im.length}`);
  const [cos, sin] = twiddles(n);
  // Bit-reversal permutation.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    for (let k = 0; k < half; k++) {
      const wr = cos[half - 1 + k], wi = sin[half - 1 + k];
      for (let i = k; i < n; i += len) {
        const j = i + half;
        const tr = re[j] * wr - im[j] * wi, ti = re[j] * wi + im[j] * wr;
        re[j] = re[i] - tr; im[j] = im[i] - ti;
        re[i] += tr; im[i] += ti;
      }
    }
  }
}

/**
 * The twiddles of every stage of a size-n FFT, stage len at [len / 2 - 1, len - 1): cos and sin
 * of (-2 pi / len) k, each computed directly (not by repeated multiplication) to keep the rounding
 * small; cached per size, since the feature code transforms every frame at one size.
 */
const twiddleCache = new Map<number, [Float64Array, Float64Array]>();
function twiddles(n: number): [Float64Array, Float64Array] {
  return memo(twiddleCache, n, () => {
    const t: [Float64Array, Float64Array] = [new Float64Array(Math.max(1, n - 1)), new Float64Array(Math.max(1, n - 1))];
    for (let len = 2; len <= n; len <<= 1) {
      const ang = (-2 * Math.PI) / len, half = len >> 1;
      for (let k = 0; k < half; k++) { t[0][half - 1 + k] = Math.cos(ang * k); t[1][half - 1 + k] = Math.sin(ang * k); }
    }
    return t;
  });
}
