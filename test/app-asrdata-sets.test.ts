import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeHandwritingData, SPLITS } from '../src/asr/handwritingData.js';
import { addNoise, DIGIT_WORDS, makeSpeechData } from '../src/asr/speechData.js';
import { readManifest } from '../src/asr/manifest.js';
import { espeakPhonemesOne } from '../src/asr/espeakPhonemes.js';
import { featuresOf } from '../src/asr/features.js';
import { parseWav } from '../src/audio/wav.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';
import { deadPid } from './util/process.js';
import { dataSpeech } from '../src/cli/apps/data-speech.js';
import { dataHandwriting } from '../src/cli/apps/data-handwriting.js';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `carousel-${name}-`));
const rows = (dir: string, split: string) => readFileSync(join(dir, `${split}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('handwriting data: three splits, writers of their own (every font in each), deterministic by seed, finite features', () => {
  const a = tmp('hw'), b = tmp('hw');
  const s = makeHandwritingData({ out: a, count: 30, writers: 30, seed: 3 });
  // A killed run's half-written file goes (swept once per folder); a running writer's stays.
  mkdirSync(join(b, 'strokes', 'train'), { recursive: true });
  const half = join(b, 'strokes', 'train', `.00001.json.tmp-${deadPid()}-abc123`), running = join(b, 'strokes', 'train', `.00001.json.tmp-${process.ppid}-keep1`);
  for (const f of [half, running]) writeFileSync(f, '{"strokes": [[');
  makeHandwritingData({ out: b, count: 30, writers: 30, seed: 3 });
  assert.ok(!existsSync(half) && existsSync(running));
  assert.deepEqual(s.counts, { train: 24, val: 3, test: 3 });
  const writers = SPLITS.map((sp) => new Set(rows(a, sp).map((r) => r.writer as string)));
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) for (const w of writers[i]) assert.ok(!writers[j].has(w), `writer ${w} in two splits`);
  for (const sp of SPLITS) {
    // Every font writes in every split (its writers, not only its samples: the groups).
    assert.deepEqual(new Set(s.groups[sp].map((w) => w.split('-')[0])), new Set(['cursive', 'scriptc', 'scripts']), sp);
    assert.equal(readFileSync(join(a, `${sp}.jsonl`), 'utf8'), readFileSync(join(b, `${sp}.jsonl`), 'utf8'));
    for (const e of readManifest(join(a, `${sp}.jsonl`))) {
      assert.match(e.text, /^[a-z]+( [a-z]+)?$/);
      assert.equal(readFileSync(e.path, 'utf8'), readFileSync(e.path.replace(a, b), 'utf8'));
      const f = featuresOf(e, { kind: 'strokes' });
      assert.equal(f.dim, 3);
      assert.ok(f.data.every(Number.isFinite) && f.frames >= 2 * e.text.length, `${e.path}: ${f.frames} steps for '${e.text}'`);
    }
  }
  const lm = readFileSync(join(a, 'lm-text.txt'), 'utf8');
  assert.match(lm, /^[a-z ]+(\n[a-z ]+)*\n$/);
  assert.ok(lm.split('\n').length > 200);
  const c = tmp('hw');
  makeHandwritingData({ out: c, count: 30, writers: 30, seed: 4 });
  assert.notEqual(readFileSync(join(c, 'train.jsonl'), 'utf8'), readFileSync(join(a, 'train.jsonl'), 'utf8'));
});

test('speech noise: the added white noise sits at the asked SNR', () => {
  const x = Float32Array.from({ length: 32000 }, (_, i) => 0.3 * Math.sin(i / 5));
  for (const snr of [10, 25]) {
    const y = addNoise(x, snr, 0.5, new Rng(snr));
    let ps = 0, pn = 0;
    for (let i = 0; i < x.length; i++) { ps += x[i] ** 2; pn += (y[i] / 0.5 - x[i]) ** 2; }
    const got = 10 * Math.log10(ps / pn);
    assert.ok(Math.abs(got - snr) < 0.2, `SNR ${got} dB, asked ${snr}`);
  }
});

test('speech data: espeak-ng digits as TIDIGITS, 16 kHz WAV, voices disjoint across splits; words disjoint from the LM word list', async () => {
  const d = tmp('digits');
  const s = await makeSpeechData({ kind: 'digits', out: d, count: 9, seed: 2, snr: [15, 20] });
  assert.deepEqual(s.counts, { train: 7, val: 1, test: 1 });
  // Voices are accent + variant; the variants (and so the voices) of the splits do not meet.
  const variants = SPLITS.map((sp) => new Set(s.groups[sp].map((v) => v.split('+')[1])));
  assert.ok(variants[0].size >= 60 && variants[1].size >= 8 && variants[2].size >= 8);
  for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) for (const v of variants[i]) assert.ok(!variants[j].has(v), `variant ${v} in two splits`);
  const words = new Set([...DIGIT_WORDS, 'oh']);
  for (const sp of SPLITS) {
    for (const r of rows(d, sp)) {
      assert.ok(s.groups[sp].includes(r.voice), `${r.voice} not a ${sp} voice`);
      assert.ok(r.snr >= 15 && r.snr <= 20);
      const n = r.text.split(' ');
      assert.ok(n.length >= 1 && n.length <= 7 && n.every((w: string) => words.has(w)), r.text);
    }
    for (const e of readManifest(join(d, `${sp}.jsonl`))) {
      const w = parseWav(readFileSync(e.path), e.path);
      assert.deepEqual([w.sampleRate, w.channels, w.bits], [16000, 1, 16]);
      const f = featuresOf(e, { kind: 'audio' });
      // Enough frames for CTC: at least one per character (blanks between repeats included).
      assert.ok(f.data.every(Number.isFinite) && f.frames > 2 * e.text.length, `${e.path}: ${f.frames} frames for '${e.text}'`);
    }
  }
  // Each line's phonemes: what espeak-ng says for its text in its voice's accent, asked one call at a time.
  for (const sp of SPLITS) for (const r of rows(d, sp)) assert.equal(r.phonemes, espeakPhonemesOne(r.text, r.voice.split('+')[0]), `${r.text} in ${r.voice}`);
  assert.equal(readFileSync(join(d, 'lm-text.txt'), 'utf8'), rows(d, 'train').map((r) => r.text).join('\n') + '\n');
  // Words: the validation and test words are not in the training word list the LM reads.
  const w = tmp('words');
  await makeSpeechData({ kind: 'words', out: w, count: 6, seed: 2 });
  const lm = new Set(readFileSync(join(w, 'lm-text.txt'), 'utf8').trim().split('\n'));
  assert.ok(lm.size > 80000, `${lm.size} LM words`);
  for (const sp of ['val', 'test']) for (const r of rows(w, sp)) assert.ok(!lm.has(r.text), `${sp} word ${r.text} in the LM text`);
  for (const r of rows(w, 'train')) assert.ok(lm.has(r.text) && /^[a-z]+$/.test(r.text));
  for (const sp of SPLITS) for (const r of rows(w, sp)) assert.equal(r.phonemes, espeakPhonemesOne(r.text, r.voice.split('+')[0]), `${r.text} in ${r.voice}`);
});

test('data CLI: wrong flags and a missing espeak-ng are one-line errors; handwriting runs', async () => {
  // The flag checks in-process (a child process each is slow); the one-line manner in a child below.
  const refused = (run: Promise<number>, re: RegExp) => assert.rejects(run, (e: Error) => e.name === 'UserError' && re.test(e.message));
  await refused(dataSpeech.run(['--digits', '--words', '--out', tmp('x')]), /got both/);
  await refused(dataSpeech.run(['--digits']), /--out is required/);
  await refused(dataSpeech.run(['--digits', '--out', tmp('x'), '--snr-min', '30', '--snr-max', '5']), /--snr-max \(5\) is below --snr-min \(30\)/);
  await refused(dataSpeech.run(['--digits', '--seen-words', '--out', tmp('x')]), /--seen-words applies to --words only/);
  await refused(dataHandwriting.run(['--out', tmp('x'), '--writers', '10']), /--writers: expected an integer >= 30, got '10'/);
  await refused(dataHandwriting.run(['--out', tmp('x'), '--count', '2']), /--count: expected an integer >= 3/);
  userError(carousel(['data', 'speech', '--out', tmp('x')]), /expected one of --digits or --words, got neither/);
  userError(carousel(['data', 'speech', '--digits', '--out', tmp('x')], { CAROUSEL_ESPEAK: '/nonexistent/espeak-ng' }), /needs espeak-ng, which was not found .*apt-get install espeak-ng/);
  const out = tmp('hwcli');
  const r = carousel(['data', 'handwriting', '--out', out, '--count', '6', '--writers', '30', '--max-words', '3']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /handwriting: 4 train, 1 validation, 1 test samples in /);
  assert.equal(readManifest(join(out, 'train.jsonl')).length, 4);
});
