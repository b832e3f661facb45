import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fft } from '../src/audio/fft.js';
import { frameCount, logMel, melFilterbank } from '../src/audio/melspec.js';
import { resample } from '../src/audio/resample.js';
import { parseWav } from '../src/audio/wav.js';
import { Rng } from '../src/tensor/random.js';

const DIR = new URL('../../test/data/audio/', import.meta.url).pathname;
const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8'));

test('FFT: radix-2 agrees with the direct DFT (sizes 1 to 512)', () => {
  const rng = new Rng(1);
  for (const n of [1, 2, 4, 8, 64, 512]) {
    const xr = Float64Array.from({ length: n }, () => rng.normal()), xi = Float64Array.from({ length: n }, () => rng.normal());
    const re = xr.slice(), im = xi.slice();
    fft(re, im);
    for (let k = 0; k < n; k++) {
      let sr = 0, si = 0;
      for (let t = 0; t < n; t++) { const a = (-2 * Math.PI * k * t) / n; sr += xr[t] * Math.cos(a) - xi[t] * Math.sin(a); si += xr[t] * Math.sin(a) + xi[t] * Math.cos(a); }
      assert.ok(Math.abs(re[k] - sr) < 1e-9 * n && Math.abs(im[k] - si) < 1e-9 * n, `n=${n} k=${k}`);
    }
  }
  assert.throws(() => fft(new Float64Array(6), new Float64Array(6)), /power-of-two/);
});

/** Amplitude of the f Hz component of x (least squares on sin and cos) over its middle half. */
function amplitude(x: Float32Array, rate: number, f: number): number {
  let c = 0, s = 0, n = 0;
  for (let i = x.length >> 2; i < (3 * x.length) >> 2; i++, n++) { c += x[i] * Math.cos((2 * Math.PI * f * i) / rate); s += x[i] * Math.sin((2 * Math.PI * f * i) / rate); }
  return (2 * Math.hypot(c, s)) / n;
}
const sine = (rate: number, f: number, seconds: number) => Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => Math.sin((2 * Math.PI * f * i) / rate));

test('resample: a sine keeps its frequency and amplitude; what lies above the new Nyquist rate is removed, not folded', () => {
  for (const [from, f] of [[22050, 1000], [44100, 3000], [8000, 1000], [48000, 5000], [11025, 440], [12345, 2000]]) {
    const x = sine(from, f, 0.5);
    const y = resample(x, from, 16000);
    assert.equal(y.length, Math.round((x.length * 16000) / from));
    const a = amplitude(y, 16000, f);
    assert.ok(Math.abs(a - 1) < 0.01, `${from} Hz -> 16 kHz: ${f} Hz amplitude ${a}`);
    // Nothing at a neighbouring frequency (10 cycles away over the window, so orthogonal): the tone did not move.
    assert.ok(amplitude(y, 16000, f + 40) < 0.01, `${from}: energy off the tone`);
  }
  // An odd rate whose polyphase table would be too large: the taps are computed on the fly, same filter.
  const odd = resample(sine(192001, 3000, 0.1), 192001, 16000);
  assert.ok(Math.abs(amplitude(odd, 16000, 3000) - 1) < 0.01 && amplitude(odd, 16000, 3040) < 0.01, `192001 Hz: ${amplitude(odd, 16000, 3000)}`);
  // 10 kHz at 44.1 kHz would alias to 6 kHz at 16 kHz: at least 60 dB down.
  const alias = resample(sine(44100, 10000, 0.5), 44100, 16000);
  let rms = 0;
  for (let i = 2000; i < 6000; i++) rms += alias[i] * alias[i];
  assert.ok(Math.sqrt(rms / 4000) < 1e-3, `aliased 10 kHz tone, rms ${Math.sqrt(rms / 4000)}`);
  // Upsampling 8 kHz leaves no image at 8000 - 1000 = 7000 Hz.
  const up = resample(sine(8000, 1000, 0.5), 8000, 16000);
  assert.ok(amplitude(up, 16000, 7000) < 1e-3, `image at 7 kHz: ${amplitude(up, 16000, 7000)}`);
});

test('resample: sox\'s 44.1 kHz and 8 kHz copies of the fixture come back close to the 16 kHz original', () => {
  const orig = parseWav(readFileSync(join(DIR, 's16.wav')), 's16').samples;
  const hi = parseWav(readFileSync(join(DIR, 'r44100.wav')), 'r44100');
  const back = resample(hi.samples, 44100, 16000);
  assert.equal(back.length, orig.length);
  let e = 0, p = 0;
  for (let i = 400; i < orig.length - 400; i++) { e += (back[i] - orig[i]) ** 2; p += orig[i] ** 2; }
  // The fixture's chirp reaches 6.2 kHz, inside both filters' pass bands: -30 dB or better.
  assert.ok(e / p < 1e-3, `44.1 kHz round trip error ratio ${e / p}`);
});

test('log-mel: matches numpy on the fixture (HTK mel, 25 ms Hann frames every 10 ms, log floor, per-utterance normalisation)', () => {
  const x = parseWav(readFileSync(join(DIR, 's16.wav')), 's16').samples;
  assert.equal(frameCount(x.length, 400, 160), ref.logmel.frames);
  const raw = logMel(x, { normalize: false });
  assert.equal(raw.frames, ref.logmelRaw.frames);
  assert.equal(raw.dim, 40);
  let worst = 0;
  for (let i = 0; i < raw.data.length; i++) worst = Math.max(worst, Math.abs(raw.data[i] - ref.logmelRaw.data[i]));
  assert.ok(worst < 1e-4, `raw log-mel differs from numpy by up to ${worst}`);
  const f = logMel(x);
  worst = 0;
  for (let i = 0; i < f.data.length; i++) worst = Math.max(worst, Math.abs(f.data[i] - ref.logmel.data[i]));
  assert.ok(worst < 1e-3, `normalised log-mel differs from numpy by up to ${worst}`);
  // The filterbank: 40 triangles, peaks of 1 on the mel scale's centres, covering 20 Hz to 8 kHz.
  const bank = melFilterbank(40, 512, 16000, 20, 8000);
  for (let b = 0; b < 40; b++) assert.ok(Math.max(...bank.subarray(b * 257, (b + 1) * 257)) > 0.5, `band ${b} empty`);
});

test('log-mel: silence, a few samples and a constant give finite features, never NaN', () => {
  for (const x of [new Float32Array(16000), new Float32Array(10).fill(0.3), Float32Array.from({ length: 3000 }, () => 0.25)]) {
    const f = logMel(x);
    assert.ok(f.frames >= 1);
    assert.ok(f.data.every(Number.isFinite));
  }
  assert.equal(logMel(new Float32Array(0)).frames, 0);
});
