import { memo } from './memo.js';

/**
 * Band-limited resampling by a Kaiser-windowed sinc (polyphase when the rate ratio is a fraction
 * with a small enough table): the low-pass cutoff sits at ROLLOFF of the lower Nyquist rate, so
 * what lies above the new Nyquist rate is filtered out (not folded back as aliases).
 */

/** Zero crossings of the sinc on each side, at the lower of the two rates. */
const ZEROS = 24;
/** Cutoff as a fraction of the lower Nyquist rate: the transition band ends near Nyquist. */
const ROLLOFF = 0.9;
/** Kaiser window shape (about 80 dB of stop-band attenuation). */
const BETA = 8.6;
/** Largest polyphase table (floats); above it each tap is computed on the fly. */
const MAX_TABLE = 1 << 21;

/** Polyphase tables of the last few rate pairs (`from/to`): a renderer resamples every file from one rate, and building a table costs as much as filtering a second of audio. */
const tables = new Map<string, Float32Array>();
const MAX_TABLES = 4;

function gcd(a: number, b: number): number { while (b) [a, b] = [b, a % b]; return a; }

/** Modified Bessel function of the first kind, order 0 (series; converges fast for the window's range). */
function besselI0(x: number): number {
  let sum = 1, term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) { term *= q / (k * k); sum += term; if (term < sum * 1e-12) break; }
  return sum;
}

/** The filter's value at an offset of d input samples. */
function kernel(d: number, scale: number, half: number, i0beta: number): number {
  const r = d / half;
  if (r <= -1 || r >= 1) return 0;
  const x = Math.PI * scale * d;
  const sinc = x === 0 ? 1 : Math.sin(x) / x;
  return scale * sinc * besselI0(BETA * Math.sqrt(1 - r * r)) / i0beta;
}

/** Samples at rate `from` to rate `to` (both whole Hz). The output has round(n * to / from) samples. */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x.slice();
  const g = gcd(from, to);
  const L = to / g, M = from / g; // output n sits at input position n * M / L
  const scale = Math.min(1, to / from) * ROLLOFF; // cutoff in cycles per input sample, times 2
  const half = ZEROS / scale; // the kernel's half width in input samples
  const taps = 2 * Math.ceil(half);
  const h = taps / 2;
  const i0beta = besselI0(BETA);
  const nOut = Math.round((x.length * L) / M);
  const y = new Float32Array(nOut);
  // table[p * taps + j]: the weight of input sample i - h + 1 + j for output phase p (position i + p / L).
  const table = L * taps > MAX_TABLE ? null : memo(tables, `${from}/${to}`, () => {
    const t = new Float32Array(L * taps);
    for (let p = 0; p < L; p++) for (let j = 0; j < taps; j++) t[p * taps + j] = kernel(p / L + h - 1 - j, scale, half, i0beta);
    return t;
  }, MAX_TABLES);
  for (let n = 0; n < nOut; n++) {
    const num = n * M; // exact in doubles for any audio length
    const i = Math.floor(num / L), p = num - i * L;
    let s = 0;
    const first = i - h + 1;
    for (let j = 0; j < taps; j++) {
      const k = first + j;
      if (k < 0 || k >= x.length) continue;
      s += x[k] * (table ? table[p * taps + j] : kernel(p / L + h - 1 - j, scale, half, i0beta));
    }
    y[n] = s;
  }
  return y;
}
