import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPLITS } from '../src/asr/handwritingData.js';
import { makeSpeechData } from '../src/asr/speechData.js';
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
