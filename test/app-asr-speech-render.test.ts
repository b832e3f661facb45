import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPLITS } from '../src/asr/handwritingData.js';
import { dealSplits, espeakVoices, linkedEspeakData, makeSpeechData, relPath, speak, type Job } from '../src/asr/speechData.js';
import { mixVariant, parseVariant, TRAIT_GROUPS } from '../src/asr/voiceMix.js';
import { Rng } from '../src/tensor/random.js';
import { carousel } from './util/cli.js';
import { deadPid } from './util/process.js';

const espeak = spawnSync('espeak-ng', ['--version']).status === 0;
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `carousel-${name}-`));

/** Every file of a rendered set (manifests, LM text, WAVs) by relative path. */
function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of ['train.jsonl', 'val.jsonl', 'test.jsonl', 'lm-text.txt', 'render.json']) out.set(f, readFileSync(join(dir, f)));
  for (const sp of SPLITS) for (const f of readdirSync(join(dir, 'audio', sp))) out.set(`audio/${sp}/${f}`, readFileSync(join(dir, 'audio', sp, f)));
  return out;
}

test('speech data: espeak-ng runs --jobs at a time, never more, and the set is byte-identical at any --jobs', { skip: espeak ? false : 'espeak-ng is not installed' }, async () => {
  // A wrapper around espeak-ng that logs when each synthesis starts and ends and holds it open a
  // moment, so that runs which may overlap do.
  const dir = tmp('espeak-wrap'), log = join(dir, 'log'), wrapper = join(dir, 'espeak');
  writeFileSync(wrapper, `#!/bin/sh
case "$*" in *" -w "*) echo "start $(date +%s%N)" >> ${log}; sleep 0.2; espeak-ng "$@"; s=$?; echo "end $(date +%s%N)" >> ${log}; exit $s;; esac
exec espeak-ng "$@"
`);
  chmodSync(wrapper, 0o755);
  const parallel = tmp('words-j3');
  const r = carousel(['data', 'speech', '--words', '--count', '9', '--seed', '5', '--jobs', '3', '--out', parallel], { CAROUSEL_ESPEAK: wrapper });
  assert.equal(r.code, 0, r.err);
  // The most syntheses running at once, from the log's start and end events in time order.
  const events = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([k, t]) => ({ d: k === 'start' ? 1 : -1, t: BigInt(t) }));
  assert.equal(events.length, 18);
  events.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.d - b.d));
  let running = 0, most = 0;
  for (const e of events) { running += e.d; most = Math.max(most, running); }
  assert.ok(most >= 2 && most <= 3, `at most 3 at once and some overlap expected, got ${most}`);
  // One at a time gives the same files, byte for byte.
  const serial = tmp('words-j1');
  await makeSpeechData({ kind: 'words', out: serial, count: 9, seed: 5, jobs: 1 });
  const a = filesOf(serial), b = filesOf(parallel);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  assert.equal(a.size, 14);
  for (const [f, bytes] of a) assert.ok(bytes.equals(b.get(f)!), `${f} differs between --jobs 1 and --jobs 3`);
});

test('speech data: an interrupted rendering resumes, keeping the files of the same settings and only those', { skip: espeak ? false : 'espeak-ng is not installed' }, async () => {
  const fresh = tmp('words-fresh'), d = tmp('words-resume');
  await makeSpeechData({ kind: 'words', out: fresh, count: 7, seed: 5 });
  await makeSpeechData({ kind: 'words', out: d, count: 6, seed: 5 });
  // A marked file shows what was kept; a removed one what an interruption left unrendered.
  const marked = join(d, 'audio', 'train', '00002.wav'), marker = Buffer.from('kept, not rendered again');
  writeFileSync(marked, marker);
  rmSync(join(d, 'audio', 'train', '00004.wav'));
  // What a killed run leaves (a half-written WAV, espeak-ng's raw output) goes; a live run's stays.
  const dead = deadPid(), live = process.ppid;
  const half = join(d, 'audio', 'train', `.00004.wav.tmp-${dead}-abc123`), raw = join(d, `.espeak-${dead}`);
  const running = join(d, 'audio', 'train', `.00004.wav.tmp-${live}-keep1`), runningRaw = join(d, `.espeak-${live}`);
  for (const f of [half, running]) writeFileSync(f, 'half a WAV');
  for (const f of [raw, runningRaw]) { mkdirSync(f); writeFileSync(join(f, 'train-3.wav'), 'raw'); }
  const lines: string[] = [];
  await makeSpeechData({ kind: 'words', out: d, count: 6, seed: 5, log: (l) => lines.push(l) });
  assert.ok(!existsSync(half) && !existsSync(raw), 'a dead run\'s leftovers should be removed');
  assert.ok(existsSync(running) && existsSync(join(runningRaw, 'train-3.wav')), 'a running writer\'s files should stay');
  rmSync(running);
  rmSync(runningRaw, { recursive: true });
  assert.ok(readFileSync(marked).equals(marker));
  assert.ok(lines.includes('resuming: 5 utterances already rendered by an interrupted run of the same settings are kept'), lines.join('\n'));
  // Another count: the training files are the same ones (drawn first), the others are not.
  await makeSpeechData({ kind: 'words', out: d, count: 7, seed: 5 });
  assert.ok(readFileSync(marked).equals(marker));
  writeFileSync(marked, readFileSync(join(fresh, 'audio', 'train', '00002.wav')));
  const a = filesOf(fresh), b = filesOf(d);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [f, bytes] of a) assert.ok(bytes.equals(b.get(f)!), `${f} differs from a fresh rendering`);
  // Back to the smaller count: the larger run's extra training file goes; a file the renderer
  // does not name that way (a user's) stays, now and when other settings keep nothing.
  const mine = join(d, 'audio', 'train', 'mine.wav');
  writeFileSync(mine, 'a recording of my own');
  await makeSpeechData({ kind: 'words', out: d, count: 6, seed: 5 });
  assert.deepEqual(readdirSync(join(d, 'audio', 'train')).sort(), ['00001.wav', '00002.wav', '00003.wav', '00004.wav', 'mine.wav']);
  // Other settings keep nothing of the renderer's.
  writeFileSync(marked, marker);
  await makeSpeechData({ kind: 'words', out: d, count: 6, seed: 6 });
  assert.ok(!readFileSync(marked).equals(marker));
  assert.equal(readFileSync(mine, 'utf8'), 'a recording of my own');
});

test('speech data: --splits train adds training utterances to a smaller set, as a full rendering of the larger count has them', { skip: espeak ? false : 'espeak-ng is not installed' }, async () => {
  const fresh = tmp('words-full15'), d = tmp('words-grow');
  await makeSpeechData({ kind: 'words', out: fresh, count: 15, seed: 5 });
  await makeSpeechData({ kind: 'words', out: d, count: 9, seed: 5 });
  const kept = readdirSync(join(d, 'audio', 'train')).length;
  const r = carousel(['data', 'speech', '--words', '--count', '15', '--seed', '5', '--splits', 'train', '--out', d]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`resuming: ${kept} utterances already rendered`));
  const trainLines = readFileSync(join(fresh, 'train.jsonl'), 'utf8').trim().split('\n').length;
  assert.match(r.out, new RegExp(`words: ${trainLines} train utterances in `));
  // The training half is the full rendering's, byte for byte; the others, another count's, are gone.
  for (const f of ['train.jsonl', 'lm-text.txt']) assert.ok(readFileSync(join(d, f)).equals(readFileSync(join(fresh, f))), `${f} differs`);
  const train = readdirSync(join(fresh, 'audio', 'train')).sort();
  assert.deepEqual(readdirSync(join(d, 'audio', 'train')).sort(), train);
  for (const f of train) assert.ok(readFileSync(join(d, 'audio', 'train', f)).equals(readFileSync(join(fresh, 'audio', 'train', f))), `${f} differs`);
  for (const sp of ['val', 'test']) {
    assert.deepEqual(readdirSync(join(d, 'audio', sp)), [], `audio/${sp} should be empty`);
    assert.ok(!readdirSync(d).includes(`${sp}.jsonl`), `${sp}.jsonl names files that are gone`);
  }
  // Completing the set later renders the rest, keeping the training files.
  await makeSpeechData({ kind: 'words', out: d, count: 15, seed: 5 });
  const a = filesOf(fresh), b = filesOf(d);
  for (const [f, bytes] of a) assert.ok(bytes.equals(b.get(f)!), `${f} differs from a fresh rendering`);
  // Bad lists are refused, naming what was given.
  for (const [bad, msg] of [['train,dev', /--splits: expected split names from train, val, test, comma-separated, got "dev"/], ['train,train', /--splits: each split once, got "train,train"/]] as const) {
    const e = carousel(['data', 'speech', '--words', '--splits', bad, '--out', tmp('words-bad')]);
    assert.equal(e.code, 2, e.out);
    assert.match(e.err, msg);
  }
});

test('voice mixing: each trait group is the base variant\'s or a donor\'s, whole, and the rest stays the base\'s', () => {
  const base = parseVariant('b', 'language variant\nname B\n// a comment\ngender female\nformant 0 100 100 100\nformant 1 120 80 160\necho 40 10000\nstressAdd 1 2\nstressAmp 3 4\n');
  const d1 = parseVariant('d1', 'language variant\nname D1\nformant 0 145 100 145\ntone 100 255 600 70\n');
  const d2 = parseVariant('d2', '## comment\nlanguage variant\nname D2\nklatt 1\nechO 20 30\n');
  assert.deepEqual(base.rest, ['language variant', 'name B', 'gender female']);
  assert.deepEqual([...base.traits.keys()], ['formant', 'echo', 'stress']);
  assert.deepEqual(base.traits.get('stress'), ['stressAdd 1 2', 'stressAmp 3 4']);
  assert.deepEqual(d2.traits.get('echo'), ['echO 20 30']);
  // p = 0: the base's own lines, grouped.
  const same = mixVariant(base, [base, d1, d2], 0, new Rng(1));
  assert.equal(same.mix, '');
  assert.equal(same.text, 'language variant\nname B\ngender female\nformant 0 100 100 100\nformant 1 120 80 160\necho 40 10000\nstressAdd 1 2\nstressAmp 3 4\n');
  // p = 1: every group from a donor (never the base); a donor without a group leaves it out (espeak-ng's default).
  for (let seed = 0; seed < 20; seed++) {
    const { text, mix } = mixVariant(base, [base, d1, d2], 1, new Rng(seed));
    const from = Object.fromEntries(mix.split(' ').map((t) => t.split('=')));
    assert.deepEqual(Object.keys(from), [...TRAIT_GROUPS]);
    assert.ok(Object.values(from).every((n) => n === 'd1' || n === 'd2'), mix);
    const lines = text.trim().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['language variant', 'name B', 'gender female']);
    assert.equal(lines.includes('formant 0 145 100 145'), from.formant === 'd1');
    assert.equal(lines.includes('echO 20 30'), from.echo === 'd2');
    assert.equal(lines.includes('tone 100 255 600 70'), from.tone === 'd1');
    assert.equal(lines.includes('klatt 1'), from.klatt === 'd2');
    assert.ok(!lines.some((l) => l.startsWith('stress') || l === 'echo 40 10000' || l.startsWith('formant 1')), text);
    // The same draws, the same voice.
    assert.deepEqual(mixVariant(base, [base, d1, d2], 1, new Rng(seed)), { text, mix });
  }
  // p = 0.5 over many draws: about half the groups taken.
  const rng = new Rng(3);
  let taken = 0;
  for (let i = 0; i < 200; i++) taken += mixVariant(base, [d1, d2], 0.5, rng).mix.split(' ').filter(Boolean).length;
  assert.ok(Math.abs(taken / (200 * TRAIT_GROUPS.length) - 0.5) < 0.05, String(taken));
  assert.throws(() => mixVariant(base, [d1], 1.5, new Rng(1)), /p must be in \[0, 1\], got 1.5/);
  assert.throws(() => mixVariant(base, [base], 1, new Rng(1)), /no donor variant other than b/);
  assert.throws(() => parseVariant('x', 'name X\nformant 0 1 2 3\n'), /espeak-ng variant x: no 'language' line/);
});

test('speech data: --mix-voices gives training utterances voices mixed from training variants; validation and test stay byte for byte', { skip: espeak ? false : 'espeak-ng is not installed' }, async () => {
  const plain = tmp('words-plain'), mixed = tmp('words-mixed');
  await makeSpeechData({ kind: 'words', out: plain, count: 12, seed: 5 });
  const r = carousel(['data', 'speech', '--words', '--count', '12', '--seed', '5', '--mix-voices', '1', '--jobs', '3', '--out', mixed]);
  assert.equal(r.code, 0, r.err);
  const a = filesOf(plain), b = filesOf(mixed);
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const f of [...a.keys()].filter((k) => /^(val|test)\.jsonl$|^audio\/(val|test)\/|^lm-text/.test(k))) assert.ok(a.get(f)!.equals(b.get(f)!), `${f} should not change with --mix-voices`);
  // Every training line says which variant gave which traits: all of them, at P = 1, never a held-out variant.
  const { variantsOf } = dealSplits(new Rng(5), espeakVoices().variants, 'words', false);
  const rows = readFileSync(join(mixed, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { audio: string; voice: string; mix: string });
  const plainRows = readFileSync(join(plain, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { voice: string });
  assert.deepEqual(rows.map((x) => x.voice), plainRows.map((x) => x.voice));
  for (const row of rows) {
    const from = row.mix.split(' ').map((t) => t.split('='));
    assert.deepEqual(from.map(([g]) => g), [...TRAIT_GROUPS]);
    for (const [, v] of from) assert.ok(variantsOf.train.includes(v) && v !== row.voice.split('+')[1], `${row.mix}: ${v} is not another training variant`);
  }
  const changed = rows.filter((x) => !a.get(x.audio)!.equals(b.get(x.audio)!)).length;
  assert.ok(changed >= rows.length - 1, `${changed} of ${rows.length} training utterances changed`);
  // One process at a time gives the same bytes; nothing is left in espeak-ng's folder or the set's.
  const serial = tmp('words-mixed-j1');
  await makeSpeechData({ kind: 'words', out: serial, count: 12, seed: 5, mixVoices: 1, jobs: 1 });
  for (const [f, bytes] of filesOf(serial)) assert.ok(bytes.equals(b.get(f)!), `${f} differs between --jobs 1 and --jobs 3`);
  assert.deepEqual(readdirSync(join(espeakVoices().data, 'voices', '!v')).filter((v) => v.startsWith('mix_')), []);
  assert.deepEqual(readdirSync(mixed).filter((f) => f.startsWith('.')), []);
  // The written variant is what espeak-ng reads (a missing one would silently be the plain accent):
  // a base variant's own file, written as a mixed voice, says what the variant itself says.
  const job: Job = { split: 'train', index: 0, text: 'hello', voice: 'en-us+robosoft6', rate: 160, pitch: 50, gap: 0, snr: 30, gain: 0.8, noiseSeed: 7 };
  const root = tmp('espeak-copy'), out1 = tmp('say-plain'), out2 = tmp('say-file'), out3 = tmp('say-accent');
  linkedEspeakData(espeakVoices().data, root);
  for (const d of [out1, out2, out3]) mkdirSync(join(d, 'audio', 'train'), { recursive: true });
  await speak(job, out1, out1);
  await speak({ ...job, variant: { text: readFileSync(join(espeakVoices().data, 'voices', '!v', 'robosoft6'), 'utf8'), mix: '' } }, out2, out2, root);
  await speak({ ...job, voice: 'en-us' }, out3, out3);
  const said = (d: string) => readFileSync(join(d, relPath(job)));
  assert.ok(said(out1).equals(said(out2)), 'a variant file written for the call should be read');
  assert.ok(!said(out1).equals(said(out3)), 'robosoft6 should not sound like the plain accent');
  assert.deepEqual(readdirSync(join(root, 'espeak-ng-data', 'voices', '!v')).filter((v) => v.startsWith('mix_')), []);
  // Bad values are refused, naming what was given.
  const e = carousel(['data', 'speech', '--words', '--mix-voices', '2', '--out', tmp('words-bad-mix')]);
  assert.equal(e.code, 2, e.out);
  assert.match(e.err, /--mix-voices: expected a number >= 0 and <= 1, got '2'/);
});

test('speech data: the renderer draws what it always drew, so the README\'s sets render again byte for byte', { skip: espeak && /eSpeak NG text-to-speech: 1\.51 /.test(spawnSync('espeak-ng', ['--version'], { encoding: 'utf8' }).stdout) ? false : 'needs espeak-ng 1.51 (Debian 12\'s), whose 101 variants the draws index' }, async () => {
  // Lines of `carousel data speech --words --count 40 --seed 1`, as rendered before --mix-voices
  // existed: a change to the order of the draws (accent before variant, ...) shows here.
  const d = tmp('words-pinned');
  await makeSpeechData({ kind: 'words', out: d, count: 40, seed: 1, splits: ['train', 'test'] });
  const pick = (f: string, n: number) => readFileSync(join(d, f), 'utf8').trim().split('\n').slice(0, n).map((l) => {
    const r = JSON.parse(l) as Record<string, unknown>;
    return [r.text, r.voice, r.rate, r.pitch, r.snr];
  });
  assert.deepEqual(pick('train.jsonl', 4), [
    ['judgments', 'en-us-nyc+Andy', 170, 59, 17.4], ['chewers', 'en-us+Gene', 143, 28, 13.1],
    ['fiefdoms', 'en-029+sandro', 199, 42, 14.5], ['skywriter', 'en-029+john', 197, 67, 15.3],
  ]);
  assert.deepEqual(pick('test.jsonl', 2), [['argot', 'en-gb-scotland+antonio', 137, 61, 16.7], ['endeavors', 'en-gb-x-gbcwmd+miguel', 191, 36, 13.2]]);
});
