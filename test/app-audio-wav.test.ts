import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav16, parseWav } from '../src/audio/wav.js';
import { loadAudio } from '../src/audio/load.js';

// Fixtures: scripts/fixtures/audio_reference.py (sox writes each format and decodes it again).
const DIR = new URL('../../test/data/audio/', import.meta.url).pathname;
const ref = JSON.parse(readFileSync(join(DIR, 'reference.json'), 'utf8')) as {
  files: Record<string, { formatTag: number; channels: number; sampleRate: number; frames: number; first: number[]; sum: number; sumSquares: number; maxAbs: number }>;
};

test('WAV: every sample format decodes to what sox decodes (8-bit unsigned, 16/24/32-bit, float 32/64, extensible, stereo mixed down)', () => {
  const expected: Record<string, [string, number]> = {
    'u8.wav': ['pcm', 8], 's16.wav': ['pcm', 16], 's24.wav': ['pcm', 24], 's32.wav': ['pcm', 32],
    'f32.wav': ['float', 32], 'f64.wav': ['float', 64], 'stereo.wav': ['pcm', 16], 'r8000.wav': ['pcm', 16], 'r44100.wav': ['pcm', 16],
  };
  assert.deepEqual(Object.keys(ref.files).sort(), Object.keys(expected).sort());
  // sox wrote 24 and 32-bit integers as WAVE_FORMAT_EXTENSIBLE: that path is covered.
  assert.equal(ref.files['s24.wav'].formatTag, 0xfffe);
  for (const [name, r] of Object.entries(ref.files)) {
    const w = parseWav(readFileSync(join(DIR, name)), name);
    assert.deepEqual([w.encoding, w.bits], expected[name], name);
    assert.equal(w.channels, r.channels, name);
    assert.equal(w.sampleRate, r.sampleRate, name);
    assert.equal(w.samples.length, r.frames, name);
    // float32 holds the samples; sox decodes in float64.
    for (let i = 0; i < r.first.length; i++) assert.ok(Math.abs(w.samples[i] - r.first[i]) < 1e-7, `${name}[${i}]: ${w.samples[i]} vs sox ${r.first[i]}`);
    let sum = 0, sq = 0, max = 0;
    for (const v of w.samples) { sum += v; sq += v * v; max = Math.max(max, Math.abs(v)); }
    assert.ok(Math.abs(sum - r.sum) < 1e-4, `${name} sum ${sum} vs ${r.sum}`);
    assert.ok(Math.abs(sq - r.sumSquares) < 1e-4 * r.sumSquares, `${name} sum of squares ${sq} vs ${r.sumSquares}`);
    assert.ok(Math.abs(max - r.maxAbs) < 1e-7, `${name} max ${max} vs ${r.maxAbs}`);
  }
});

test('WAV: loadAudio converts stereo and 8 kHz to 16 kHz mono and says so', () => {
  const notes: string[] = [];
  const st = loadAudio(join(DIR, 'stereo.wav'), 16000, (m) => notes.push(m));
  assert.equal(st.samples.length, 8000);
  assert.match(notes[0], /stereo\.wav: 2 channels, mixed down to mono/);
  const lo = loadAudio(join(DIR, 'r8000.wav'), 16000, (m) => notes.push(m));
  assert.equal(lo.samples.length, 8000);
  assert.match(notes[1], /r8000\.wav: 8000 Hz, resampled to 16000 Hz/);
  assert.equal(notes.length, 2);
});

test('WAV: the 16-bit writer round-trips through the reader (and sox\'s header layout)', () => {
  const x = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i / 7) * 0.8);
  x[3] = 1.5; x[4] = -2; // clipped, not wrapped
  const bytes = encodeWav16(x, 22050);
  const w = parseWav(bytes, 'mem');
  assert.equal(w.sampleRate, 22050);
  assert.equal(w.samples.length, 1001);
  assert.ok(Math.abs(w.samples[3] - 32767 / 32768) < 1e-9 && w.samples[4] === -1);
  for (let i = 5; i < x.length; i++) assert.ok(Math.abs(w.samples[i] - x[i]) <= 0.5 / 32768 + 1e-9, `sample ${i}`);
  // Same 44-byte header as sox writes for 16-bit mono (s16.wav), apart from the rate and sizes.
  const s16 = readFileSync(join(DIR, 's16.wav'));
  const ours = encodeWav16(new Float32Array(8000), 16000);
  assert.deepEqual(Buffer.from(ours.subarray(0, 44)), s16.subarray(0, 44));
});

test('WAV: empty, unreadable, truncated and unsupported files are refused naming what was found', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'carousel-wav-'));
  const good = Buffer.from(readFileSync(join(DIR, 's16.wav')));
  const bad = (bytes: Uint8Array, re: RegExp) => assert.throws(() => parseWav(bytes, 'x.wav'), (e: Error) => e.name === 'DataError' && re.test(e.message) && !e.message.includes('\n'));
  bad(new Uint8Array(0), /^x\.wav: empty file, expected a WAV/);
  bad(Buffer.from('OggS\0\x02 vorbis'), /expected a WAV file .*found a file starting with 'OggS'/);
  bad(Buffer.from('ID3\x03 mp3 frames'), /found a file starting with bytes 49 44 33 03/);
  bad(Buffer.from('RIFF\0\0\0\0AVI LIST'), /found a RIFF file of type 'AVI '/);
  bad(good.subarray(0, 1000), /truncated: the 'data' chunk declares 16000 bytes, the file holds 956/);
  bad(good.subarray(0, 36), /no 'data' chunk/);
  const noSamples = Buffer.from(good.subarray(0, 44)); noSamples.writeUInt32LE(0, 40);
  bad(noSamples, /no audio samples/);
  const alaw = Buffer.from(good); alaw.writeUInt16LE(6, 20); alaw.writeUInt16LE(8, 34); alaw.writeUInt16LE(1, 32);
  bad(alaw, /WAV sample format 6 \(A-law\), expected PCM \(1\) or IEEE float \(3\)/);
  const b12 = Buffer.from(good); b12.writeUInt16LE(12, 34);
  bad(b12, /12-bit PCM samples, expected 8, 16, 24, 32-bit/);
  const rate = Buffer.from(good); rate.writeUInt32LE(100, 24);
  bad(rate, /sample rate 100 Hz, expected 1000 to 1000000 Hz/);
  writeFileSync(join(tmp, 'e.wav'), '');
  assert.throws(() => loadAudio(join(tmp, 'e.wav')), /e\.wav: empty file/);
  assert.throws(() => loadAudio(join(tmp, 'missing.wav')), /missing\.wav: no such file/);
  assert.throws(() => loadAudio(tmp), /is a folder, expected a WAV file/);
});
