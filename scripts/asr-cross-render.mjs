#!/usr/bin/env node
// Where does a words recogniser's error come from: unseen voices, unseen words, or just unheard
// utterances? This renders a rendered set's words again with another split's voices, as
// `carousel data speech --words` does (espeak-ng -v VOICE -s RATE -p PITCH, resampled to 16 kHz,
// white noise at the SNR), each word with the voice, rate, pitch and SNR of a random utterance of
// the voices' split (gain 0.75, fresh noise), and writes DIR/test.jsonl for `carousel evaluate`.
// Run after `npm run build`:
//   node scripts/asr-cross-render.mjs --set RENDERED_DIR --words train|val|test --voices train|val|test --out DIR [--count 300] [--seed 99]
// e.g. --words train --voices train: training words said anew by training voices (new rate,
// pitch and noise), against which the training utterances themselves and the test set compare.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { relPath, speak } from '../dist/src/asr/speechData.js';
import { writeManifest } from '../dist/src/asr/manifest.js';
import { Rng } from '../dist/src/tensor/random.js';

// A missing folder or a damaged model is one line naming it, not a stack.
process.on('uncaughtException', (e) => { console.error(`asr-cross-render: ${e.message}`); process.exit(1); });
const USAGE = 'usage: node scripts/asr-cross-render.mjs --set RENDERED_DIR --words train|val|test --voices train|val|test --out DIR [--count 300] [--seed 99]';
const fail = (m) => { console.error(`asr-cross-render: ${m}\n${USAGE}`); process.exit(2); };
let v;
try {
  v = parseArgs({ options: { set: { type: 'string' }, words: { type: 'string' }, voices: { type: 'string' }, out: { type: 'string' }, count: { type: 'string', default: '300' }, seed: { type: 'string', default: '99' } } }).values;
} catch (e) { fail(e.message); }
const splits = ['train', 'val', 'test'];
if (!v.set || !v.out) fail('expected --set and --out');
for (const k of ['words', 'voices']) if (!splits.includes(v[k])) fail(`--${k}: expected train, val or test, got '${v[k] ?? ''}'`);
if (!/^\d+$/.test(v.count) || !/^\d+$/.test(v.seed)) fail(`--count and --seed: expected non-negative integers, got '${v.count}', '${v.seed}'`);
const rows = (split) => readFileSync(join(v.set, `${split}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const words = rows(v.words), voices = rows(v.voices);
const n = Math.min(Number(v.count), words.length);
const rng = new Rng(Number(v.seed));
mkdirSync(join(v.out, 'audio', 'test'), { recursive: true });
const out = [];
for (let i = 0; i < n; i++) {
  const text = words[i].text, u = voices[rng.int(voices.length)];
  // The renderer's own code says it: the same espeak-ng call, resampling and noise.
  const job = { split: 'test', index: i, text, voice: u.voice, rate: u.rate, pitch: u.pitch, gap: 0, snr: u.snr, gain: 0.75, noiseSeed: rng.nextU32() };
  await speak(job, v.out, v.out);
  out.push({ audio: relPath(job), text, voice: u.voice, rate: u.rate, pitch: u.pitch, snr: u.snr });
}
writeManifest(join(v.out, 'test.jsonl'), out);
console.log(`${n} ${v.words} words said by ${v.voices} voices -> ${join(v.out, 'test.jsonl')}`);
