import { fft } from './fft.js';
import { memo } from './memo.js';

/**
 * Log-mel filterbank features, the recognisers' input: pre-emphasis, 25 ms periodic-Hann frames
 * every 10 ms (no centring: frame t covers samples [t * hop, t * hop + win)), 512-point FFT power
 * spectrum, triangular filters on the HTK mel scale (mel = 2595 log10(1 + f / 700), triangles
 * linear in Hz between centres equally spaced in mel, unnormalised peaks of 1), natural log with a
 * floor, then each feature's mean and variance normalised over the utterance.
 */
export interface MelOptions {
  sampleRate?: number; // 16000
  melBins?: number; // 40
  winLength?: number; // 400 samples (25 ms at 16 kHz)
  hop?: number; // 160 samples (10 ms)
  nfft?: number; // 512
  fmin?: number; // 20 Hz
  fmax?: number; // sampleRate / 2
  preemphasis?: number; // 0.97; 0 turns it off
  /** Mean and variance normalisation per utterance (default true). */
  normalize?: boolean;
}

/** Log floor: the log of a power below it is the log of it (silence gives -23, never -Infinity). */
export const LOG_FLOOR = 1e-10;
/** The smallest standard deviation divided by (a constant feature becomes 0, never NaN). */
const STD_FLOOR = 1e-5;

export const hzToMel = (f: number) => 2595 * Math.log10(1 + f / 700);
export const melToHz = (m: number) => 700 * (10 ** (m / 2595) - 1);

/** The filterbank: weights[b * (nfft / 2 + 1) + k] of FFT bin k in mel band b. */
export function melFilterbank(melBins: number, nfft: number, sampleRate: number, fmin: number, fmax: number): Float64Array {
  const nBins = nfft / 2 + 1;
  const lo = hzToMel(fmin), hi = hzToMel(fmax);
  const centres = Array.from({ length: melBins + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (melBins + 1)));
  const w = new Float64Array(melBins * nBins);
  for (let b = 0; b < melBins; b++) {
    const [l, c, r] = [centres[b], centres[b + 1], centres[b + 2]];
    for (let k = 0; k < nBins; k++) {
      const f = (k * sampleRate) / nfft;
      const v = Math.min((f - l) / (c - l), (r - f) / (r - c));
      if (v > 0) w[b * nBins + k] = v;
    }
  }
  return w;
}

/**
 * The filterbank with each band's nonzero span [first[b], end[b]) (about 13 of the 257 bins for
 * 40 bands), cached per setting: every utterance of a set is transformed alike.
 */
const banks = new Map<string, { bank: Float64Array; first: Int32Array; end: Int32Array }>();
function sparseBank(melBins: number, nfft: number, sampleRate: number, fmin: number, fmax: number): { bank: Float64Array; first: Int32Array; end: Int32Array } {
  return memo(banks, `${melBins}/${nfft}/${sampleRate}/${fmin}/${fmax}`, () => {
    const bank = melFilterbank(melBins, nfft, sampleRate, fmin, fmax), nBins = nfft / 2 + 1;
    const first = new Int32Array(melBins), end = new Int32Array(melBins);
    for (let m = 0; m < melBins; m++) {
      let lo = nBins, hi = 0;
      for (let k = 0; k < nBins; k++) if (bank[m * nBins + k] !== 0) { lo = Math.min(lo, k); hi = k + 1; }
      first[m] = lo; end[m] = Math.max(lo, hi);
    }
    return { bank, first, end };
  });
}

/** Frames of a signal of n samples: 1 + floor((n - win) / hop), and 1 (zero-padded) for 0 < n < win. */
export function frameCount(n: number, win: number, hop: number): number {
  if (n <= 0) return 0;
  return n < win ? 1 : 1 + Math.floor((n - win) / hop);
}

/** Log-mel features of mono samples at opts.sampleRate: [frames, melBins] row-major. */
export function logMel(samples: Float32Array, opts: MelOptions = {}): { frames: number; dim: number; data: Float32Array } {
  const sr = opts.sampleRate ?? 16000, dim = opts.melBins ?? 40;
  const win = opts.winLength ?? 400, hop = opts.hop ?? 160, nfft = opts.nfft ?? 512;
  const pre = opts.preemphasis ?? 0.97;
  if (win > nfft) throw new Error(`logMel: window ${win} longer than the FFT (${nfft})`);
  const { bank, first, end } = sparseBank(dim, nfft, sr, opts.fmin ?? 20, opts.fmax ?? sr / 2);
  const nBins = nfft / 2 + 1;
  // y[n] = x[n] - pre * x[n - 1] over the whole signal (y[0] = x[0]).
  const y = new Float64Array(samples.length);
  for (let i = 0; i < samples.length; i++) y[i] = samples[i] - (i > 0 ? pre * samples[i - 1] : 0);
  const window = Float64Array.from({ length: win }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / win));
  const frames = frameCount(y.length, win, hop);
  const out = new Float32Array(frames * dim); // [frames, dim]
  const re = new Float64Array(nfft), im = new Float64Array(nfft), power = new Float64Array(nBins);
  for (let t = 0; t < frames; t++) {
    re.fill(0); im.fill(0);
    for (let i = 0; i < win; i++) { const k = t * hop + i; if (k < y.length) re[i] = y[k] * window[i]; }
    fft(re, im);
    for (let k = 0; k < nBins; k++) power[k] = re[k] * re[k] + im[k] * im[k];
    for (let b = 0; b < dim; b++) {
      let e = 0;
      const row = b * nBins;
      for (let k = first[b]; k < end[b]; k++) { const wk = bank[row + k]; if (wk !== 0) e += wk * power[k]; }
      out[t * dim + b] = Math.log(Math.max(e, LOG_FLOOR));
    }
  }
  if (opts.normalize ?? true) normalizeColumns(out, frames, dim);
  return { frames, dim, data: out };
}

/** Each column of a [frames, dim] matrix to mean 0 and standard deviation 1 (population statistics). */
export function normalizeColumns(data: Float32Array, frames: number, dim: number): void {
  if (frames === 0) return;
  const { mean, sd } = columnStats(data, frames, dim);
  for (let d = 0; d < dim; d++) for (let t = 0; t < frames; t++) data[t * dim + d] = (data[t * dim + d] - mean[d]) / sd[d];
}

/** Each column's mean and standard deviation (population; at least STD_FLOOR) of a [frames, dim] matrix, frames > 0. */
export function columnStats(data: Float32Array, frames: number, dim: number): { mean: Float64Array; sd: Float64Array } {
  const mean = new Float64Array(dim), sd = new Float64Array(dim);
  for (let d = 0; d < dim; d++) {
    let m = 0;
    for (let t = 0; t < frames; t++) m += data[t * dim + d];
    m /= frames;
    let v = 0;
    for (let t = 0; t < frames; t++) { const z = data[t * dim + d] - m; v += z * z; }
    mean[d] = m;
    sd[d] = Math.max(Math.sqrt(v / frames), STD_FLOOR);
  }
  return { mean, sd };
}
