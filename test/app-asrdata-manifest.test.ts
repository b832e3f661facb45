import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readManifest, writeManifest } from '../src/asr/manifest.js';
import { featureDim, featuresOf, kindOfFile } from '../src/asr/features.js';
import { logMel } from '../src/audio/melspec.js';
import { parseWav } from '../src/audio/wav.js';
import { writeStrokes } from '../src/strokes/format.js';

const AUDIO = new URL('../../test/data/audio/', import.meta.url).pathname;
const ref = JSON.parse(readFileSync(join(AUDIO, 'reference.json'), 'utf8'));

test('manifest: relative paths resolve against its folder, absolute ones stay; extra keys and blank lines pass; writeManifest round-trips', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-manifest-'));
  mkdirSync(join(dir, 'sets'));
  writeManifest(join(dir, 'sets', 'm.jsonl'), [
    { audio: 'a/1.wav', text: 'one two', voice: 'en-us+f3' },
    { strokes: '/abs/s.json', text: 'thou art', phonemes: "D 'aU  'A@ t" },
  ]);
  assert.equal(readFileSync(join(dir, 'sets', 'm.jsonl'), 'utf8'), '{"audio":"a/1.wav","text":"one two","voice":"en-us+f3"}\n{"strokes":"/abs/s.json","text":"thou art","phonemes":"D \'aU  \'A@ t"}\n');
  writeFileSync(join(dir, 'sets', 'm.jsonl'), readFileSync(join(dir, 'sets', 'm.jsonl'), 'utf8') + '\n  \n{"audio": "../b.wav", "text": "oh"}\n');
  assert.deepEqual(readManifest(join(dir, 'sets', 'm.jsonl')), [
    { kind: 'audio', path: join(dir, 'sets', 'a', '1.wav'), text: 'one two', line: 1 },
    { kind: 'strokes', path: '/abs/s.json', text: 'thou art', phonemes: "D 'aU  'A@ t", line: 2 },
    { kind: 'audio', path: join(dir, 'b.wav'), text: 'oh', line: 5 },
  ]);
});

test('manifest: each kind of bad line is refused naming file:line and what was found', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-manifest-'));
  const m = join(dir, 'm.jsonl');
  const bad = (line: string, re: RegExp) => {
    writeFileSync(m, `{"audio": "ok.wav", "text": "fine"}\n${line}\n`);
    assert.throws(() => readManifest(m), (e: Error) => e.name === 'DataError' && e.message.startsWith(`${m}:2: `) && re.test(e.message) && !e.message.includes('\n'), line);
  };
  bad('not json', /expected a JSON object like \{"audio": "a\.wav", "text": "\.\.\."\}, got 'not json'/);
  bad('[1, 2]', /expected a JSON object, got \[1, 2\]/);
  bad('{"text": "hi"}', /no "audio" or "strokes" key \(found "text"\)/);
  bad('{"audio": "a.wav", "strokes": "s.json", "text": "hi"}', /both "audio" and "strokes"/);
  bad('{"audio": "a.wav"}', /no "text" \(the transcript\)/);
  bad('{"audio": "a.wav", "text": 5}', /"text" should be a string, got 5/);
  bad('{"audio": "a.wav", "text": "  "}', /empty "text"/);
  bad('{"audio": 3, "text": "x"}', /"audio" should be a file path, got 3/);
  bad('{"audio": "a.wav", "text": "x", "phonemes": ["k", "s"]}', /"phonemes" should be sound tokens separated by spaces, got \["k","s"\]/);
  bad('{"audio": "a.wav", "text": "x", "phonemes": " "}', /"phonemes" should be sound tokens separated by spaces, got " "/);
  // A byte-order mark (some editors write one) is not part of the first line.
  writeFileSync(m, '\uFEFF{"audio": "a.wav", "text": "x"}\n');
  assert.equal(readManifest(m)[0].text, 'x');
  writeFileSync(m, '\n\n');
  assert.throws(() => readManifest(m), /m\.jsonl: no utterances/);
  assert.throws(() => readManifest(join(dir, 'none.jsonl')), /manifest .*none\.jsonl: no such file/);
});

test('features: audio is 16 kHz log-mel (numpy\'s values on the fixture), strokes are (dx, dy, pen-up); kinds by extension', () => {
  const f = featuresOf({ kind: 'audio', path: join(AUDIO, 's16.wav') }, { kind: 'audio' });
  assert.equal(f.dim, 40);
  assert.equal(f.frames, ref.logmel.frames);
  let worst = 0;
  for (let i = 0; i < f.data.length; i++) worst = Math.max(worst, Math.abs(f.data[i] - ref.logmel.data[i]));
  assert.ok(worst < 1e-3, `features differ from numpy by ${worst}`);
  assert.equal(featureDim({ kind: 'audio' }), 40);
  assert.equal(featureDim({ kind: 'audio', melBins: 80 }), 80);
  assert.equal(featuresOf({ kind: 'audio', path: join(AUDIO, 's16.wav') }, { kind: 'audio', melBins: 80 }).dim, 80);
  assert.equal(featureDim({ kind: 'strokes' }), 3);
  // Every format of the same signal gives nearly the same features; stereo and 8 kHz are converted and said so.
  const notes: string[] = [];
  for (const name of ['u8.wav', 's24.wav', 'f64.wav', 'r44100.wav', 'stereo.wav', 'r8000.wav']) {
    const g = featuresOf({ kind: 'audio', path: join(AUDIO, name) }, { kind: 'audio', note: (n) => notes.push(n) });
    assert.equal(g.frames, f.frames, name);
    assert.ok(g.data.every(Number.isFinite), name);
  }
  assert.deepEqual(notes.map((n) => n.replace(AUDIO, "")), ["r44100.wav: 44100 Hz, resampled to 16000 Hz", "stereo.wav: 2 channels, mixed down to mono", "r8000.wav: 8000 Hz, resampled to 16000 Hz"]);
  const dir = mkdtempSync(join(tmpdir(), 'carousel-features-'));
  writeStrokes(join(dir, 's.json'), [[[10, 20], [14, 22]], [[18, 20], [18, 22]]]);
  const s = featuresOf({ kind: 'strokes', path: join(dir, 's.json') }, { kind: 'strokes' });
  assert.deepEqual([s.frames, s.dim, ...s.data], [4, 3, 0, 0, 0, 1, 0.5, 1, 1, -0.5, 0, 0, 0.5, 1]);
  assert.equal(kindOfFile('/x/a.WAV'), 'audio');
  assert.equal(kindOfFile('b.json'), 'strokes');
  assert.throws(() => kindOfFile('c.mp3'), /c\.mp3: expected a \.wav \(audio\) or \.json \(pen strokes\) file, got '\.mp3'/);
  assert.throws(() => kindOfFile('noext'), /got no extension/);
  // The same raw samples through logMel directly: featuresOf adds nothing else.
  const direct = logMel(parseWav(readFileSync(join(AUDIO, 's16.wav')), 's16').samples);
  assert.deepEqual(direct.data, f.data);
});

test('features: unreadable, empty, truncated or mismatched inputs are DataErrors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-features-'));
  writeFileSync(join(dir, 'empty.wav'), '');
  writeFileSync(join(dir, 'text.wav'), 'hello, I am not audio');
  writeFileSync(join(dir, 'cut.wav'), readFileSync(join(AUDIO, 's16.wav')).subarray(0, 2000));
  copyFileSync(join(AUDIO, 's16.wav'), join(dir, 'ok.wav'));
  const bad = (path: string, kind: 'audio' | 'strokes', re: RegExp) => assert.throws(() => featuresOf({ kind, path }, { kind }), (e: Error) => e.name === 'DataError' && e.message.includes(path) && re.test(e.message));
  bad(join(dir, 'empty.wav'), 'audio', /empty file/);
  bad(join(dir, 'text.wav'), 'audio', /expected a WAV file .*found a file starting with 'hell'/);
  bad(join(dir, 'cut.wav'), 'audio', /truncated/);
  bad(join(dir, 'gone.wav'), 'audio', /no such file/);
  bad(join(dir, 'ok.wav'), 'strokes', /not JSON|expected/);
  assert.throws(() => featuresOf({ kind: 'audio', path: join(dir, 'ok.wav') }, { kind: 'strokes' }), /audio input given to a strokes model/);
});
