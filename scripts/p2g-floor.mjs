#!/usr/bin/env node
// How much of the CMUdict words' CER could a perfect listener avoid? The speech data is
// espeak-ng's rendering of each word, so a perfect listener hears espeak-ng's own phonemes; what
// is left is spelling them. For the word split `carousel data speech --words --seed S` deals
// (its own code: wordSplit), this measures
//   prepare: each word's espeak-ng phonemes (-v VOICE, one process), the homophones (held-out
//            words whose phonemes another spelling shares) and the CER floor they set, and writes
//            phonemes -> letters pairs for `carousel train --task seq2seq` (a P2G model);
//   score:   that model's CER and WER on the held-out words (greedy and beam), and on the words
//            of a rendered set's test.jsonl (--set DIR, e.g. the 4,000-word demo set).
// Run after `npm run build`:
//   node scripts/p2g-floor.mjs prepare --out DIR [--seed 1] [--voice en-us] [--accents]
//   node dist/src/cli/main.js train --task seq2seq --data DIR/p2g-train.tsv --val DIR/p2g-val.tsv --out DIR/model ...
//   node scripts/p2g-floor.mjs score --out DIR [--beam 4] [--set RENDERED_DIR]
// The CLI's apps first: src/seq2seq/app.js, loaded on its own, meets an import cycle through them.
import '../dist/src/backends.js'; // the built-in backends, as the CLI registers them
import '../dist/src/cli/apps/index.js';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { wordSplit, espeakVoices } from '../dist/src/asr/speechData.js';
import { espeakPhonemes, espeakPhonemesOne } from '../dist/src/asr/espeakPhonemes.js';
import { homophoneFloor } from '../dist/src/asr/homophones.js';
import { errorRates, percent } from '../dist/src/asr/metrics.js';
import { writeFileAtomic } from '../dist/src/io/atomic.js';
import { Rng } from '../dist/src/tensor/random.js';
import { loadSeq2Seq, encodeSources } from '../dist/src/seq2seq/app.js';
import { beamSearch } from '../dist/src/seq2seq/beam.js';
import { tokenize } from '../dist/src/seq2seq/vocab.js';

const USAGE = 'usage: node scripts/p2g-floor.mjs prepare|score --out DIR [--seed N] [--voice V] [--accents] [--val-words N] [--beam K] [--set RENDERED_DIR]';
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' }, seed: { type: 'string', default: '1' }, voice: { type: 'string', default: 'en-us' },
      accents: { type: 'boolean' }, beam: { type: 'string', default: '4' }, set: { type: 'string' }, 'val-words': { type: 'string', default: '2000' },
    },
  });
} catch (e) { console.error(`p2g-floor: ${e.message}\n${USAGE}`); process.exit(2); }
const { positionals, values: v } = parsed;
const phase = positionals[0];
if (positionals.length !== 1 || !['prepare', 'score'].includes(phase) || !v.out) {
  console.error(`p2g-floor: expected the phase prepare or score and --out DIR, got '${process.argv.slice(2).join(' ')}'\n${USAGE}`);
  process.exit(2);
}
const int = (name, s) => {
  if (!/^\d+$/.test(s)) { console.error(`--${name}: expected a non-negative integer, got '${s}'`); process.exit(2); }
  return Number(s);
};
const seed = int('seed', v.seed), voice = v.voice;
const out = v.out;
mkdirSync(out, { recursive: true });
const t0 = Date.now();
const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;

try {
const split = wordSplit(seed);
const all = [...split.train, ...split.val, ...split.test];
console.log(`word split of seed ${seed}: train ${split.train.length}, validation ${split.val.length}, test ${split.test.length}`);

/** Phonemes of every word under a voice, cached in OUT/phonemes-VOICE.tsv (word<TAB>phonemes). */
async function phonemesOf(voiceName) {
  const file = join(out, `phonemes-${voiceName}.tsv`);
  if (existsSync(file)) {
    const m = new Map(readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t')));
    if (all.every((w) => m.has(w))) return m;
  }
  const ph = await espeakPhonemes(all, voiceName);
  // The batch must say what a call of its own says (as the data renders each word): check a sample.
  const rng = new Rng(7);
  for (let k = 0; k < 40; k++) {
    const i = rng.int(all.length), one = espeakPhonemesOne(all[i], voiceName);
    if (one !== ph[i]) throw new Error(`espeak-ng -v ${voiceName}: '${all[i]}' is '${ph[i]}' in the batch but '${one}' alone`);
  }
  writeFileAtomic(file, all.map((w, i) => `${w}\t${ph[i]}`).join('\n') + '\n');
  console.log(`${voiceName}: phonemes of ${all.length} words by one espeak-ng process, ${secs()} so far (40 checked against calls of their own) -> ${file}`);
  return new Map(all.map((w, i) => [w, ph[i]]));
}

function homophoneReport(voiceName, ph) {
  const f = homophoneFloor(split, (w) => ph.get(w));
  const n = f.testWords;
  const p = (k) => `${k} (${(100 * k / n).toFixed(2)}%)`;
  console.log(`${voiceName}: of ${n} held-out test words, ${p(f.sharedWithTrain)} sound like a training word, ${p(f.sharedWithAny)} like another dictionary word`);
  console.log(`  training spelling for those (the closest of them): CER ${percent(f.trainChoice.cer)} WER ${percent(f.trainChoice.wer)} on them; over all test words CER ${percent(f.trainChoiceAll.cer)}`);
  console.log(`  floor of any deterministic listener, even one knowing the test words: CER >= ${percent(f.floor.cer)}, WER >= ${percent(f.floor.wer)} over the test words (${f.floor.groups} groups of test words sound alike)`);
  return f;
}

if (phase === 'prepare') {
  const ph = await phonemesOf(voice);
  const report = { seed, voice, words: { train: split.train.length, val: split.val.length, test: split.test.length }, homophones: { [voice]: homophoneReport(voice, ph) } };
  if (v.accents) {
    for (const accent of espeakVoices().accents) if (accent !== voice) report.homophones[accent] = homophoneReport(accent, await phonemesOf(accent));
  }
  // P2G pairs: phonemes (space tokens) -> letters (characters); validation a fixed sample of the validation split.
  const pairs = (ws) => ws.map((w) => `${ph.get(w)}\t${w}`).join('\n') + '\n';
  const nVal = Math.min(int('val-words', v['val-words']), split.val.length);
  writeFileAtomic(join(out, 'p2g-train.tsv'), pairs(split.train));
  writeFileAtomic(join(out, 'p2g-val.tsv'), pairs(split.val.slice(0, nVal)));
  writeFileAtomic(join(out, 'p2g-test.tsv'), pairs(split.test));
  writeFileAtomic(join(out, 'homophones.json'), JSON.stringify(report, null, 1) + '\n');
  console.log(`wrote ${join(out, 'p2g-train.tsv')} (${split.train.length} pairs), p2g-val.tsv (${nVal}), p2g-test.tsv (${split.test.length}), homophones.json; ${secs()}`);
}

if (phase === 'score') {
  const modelDir = join(out, 'model');
  const { model, src, tgt } = loadSeq2Seq(modelDir);
  if (!existsSync(join(out, `phonemes-${voice}.tsv`))) throw new Error(`${join(out, `phonemes-${voice}.tsv`)} is not there: run the prepare phase with --out ${out} first`);
  const ph = await phonemesOf(voice);
  const beam = int('beam', v.beam);
  // A rendered set's test utterances (repeats count each time), read before any decoding.
  const texts = v.set ? readFileSync(join(v.set, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text) : null;
  const ids = encodeSources(split.test.map((w, i) => ({ src: tokenize(ph.get(w), 'space'), line: i + 1 })), src, join(out, 'p2g-test.tsv'), (m) => console.error(m));
  const spell = (k) => {
    const t = Date.now();
    const hyps = beamSearch(model, ids, { beam: k, alpha: 1 }).map((h) => tgt.decode(h.ids).join(''));
    console.log(`decoded ${hyps.length} test words with beam ${k} in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    return hyps;
  };
  const decoders = { greedy: spell(1), [`beam ${beam}`]: spell(beam) };
  const trainSounds = new Set(split.train.map((w) => ph.get(w)));
  const homophone = split.test.map((w) => trainSounds.has(ph.get(w)));
  const pick = (xs, keep) => xs.filter((_, i) => keep(i));
  const report = { seed, voice, model: modelDir, beam, test: {}, set: null };
  console.log(`P2G (espeak-ng ${voice} phonemes -> letters) on the ${split.test.length} held-out test words:`);
  for (const [name, hyps] of Object.entries(decoders)) {
    const r = errorRates(split.test, hyps);
    const rh = errorRates(pick(split.test, (i) => homophone[i]), pick(hyps, (i) => homophone[i]));
    const rn = errorRates(pick(split.test, (i) => !homophone[i]), pick(hyps, (i) => !homophone[i]));
    report.test[name] = { all: r, soundLikeTraining: rh, rest: rn };
    console.log(`  ${name}: CER ${percent(r.cer)} WER ${percent(r.wer)} (words sounding like a training word: CER ${percent(rh.cer)} WER ${percent(rh.wer)}; the rest: CER ${percent(rn.cer)} WER ${percent(rn.wer)})`);
  }
  const best = decoders[`beam ${beam}`];
  writeFileAtomic(join(out, 'p2g-test-output.tsv'), 'word\tphonemes\tgreedy\tbeam\n' + split.test.map((w, i) => `${w}\t${ph.get(w)}\t${decoders.greedy[i]}\t${best[i]}`).join('\n') + '\n');
  if (texts) {
    // Their words spelled from their phonemes.
    const at = new Map(split.test.map((w, i) => [w, i]));
    const stray = texts.filter((t) => !at.has(t));
    if (stray.length) throw new Error(`${join(v.set, 'test.jsonl')}: ${stray.length} texts are not test words of the seed-${seed} split (first '${stray[0]}'): was it rendered with another --seed?`);
    report.set = { dir: v.set, utterances: texts.length };
    console.log(`the ${texts.length} test utterances of ${v.set} (${new Set(texts).size} distinct words):`);
    for (const [name, hyps] of Object.entries(decoders)) {
      const r = errorRates(texts, texts.map((t) => hyps[at.get(t)]));
      report.set[name] = r;
      console.log(`  ${name}: CER ${percent(r.cer)} WER ${percent(r.wer)}`);
    }
    const f = homophoneFloor({ train: split.train, val: split.val, test: texts }, (w) => ph.get(w));
    report.set.soundLikeTraining = f.sharedWithTrain;
    console.log(`  ${f.sharedWithTrain} of them (${(100 * f.sharedWithTrain / texts.length).toFixed(2)}%) sound like a training word; the training spelling for those: CER ${percent(f.trainChoice.cer)} on them, ${percent(f.trainChoiceAll.cer)} over the ${texts.length}`);
  }
  writeFileAtomic(join(out, 'score.json'), JSON.stringify(report, null, 1) + '\n');
  console.log(`wrote ${join(out, 'score.json')} and ${join(out, 'p2g-test-output.tsv')}; ${secs()}`);
}
} catch (e) {
  // Bad input or a failed step: one line (the stack only with CAROUSEL_DEBUG=1).
  console.error(`p2g-floor ${phase}: ${process.env.CAROUSEL_DEBUG ? e.stack : e.message}`);
  process.exit(1);
}
