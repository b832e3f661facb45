#!/usr/bin/env node
// Would a recogniser of phonemes, spelled by the P2G model of scripts/p2g-floor.mjs, beat the
// character recogniser on CMUdict words? The classic split: an acoustic model of sounds (CTC over
// espeak-ng's en-us phonemes of each word, whatever the voice's accent), a speller learnt from
// the 90,916 training-split words' text.
//   prepare: phoneme-labelled copies of a rendered set's manifests in OUT (each phoneme token
//            one CJK character, so that `carousel train --task ctc` and the character n-gram LM
//            take them as they are), and OUT/lm-phonemes.txt: the training-split words' phonemes;
//   score:   the trained phoneme model's PER (greedy; beam 16 with a phoneme 5-gram LM at a 3 x 3
//            grid of weight and bonus), and the words its best path spells (P2G beam 4): CER, WER.
// Run after `npm run build` and `node scripts/p2g-floor.mjs prepare --out P2G` + its P2G training:
//   node scripts/phoneme-route.mjs prepare --set RENDERED_DIR --p2g P2G --out OUT
//   carousel train --task ctc --data OUT/train.jsonl --val OUT/val.jsonl --out OUT/model ...
//   node scripts/phoneme-route.mjs score --p2g P2G --out OUT
import '../dist/src/backends.js';
import '../dist/src/cli/apps/index.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadCtcModel, loadForModel } from '../dist/src/asr/app.js';
import { beamDecode, greedyDecode } from '../dist/src/asr/decode.js';
import { CharNgramLM } from '../dist/src/asr/lm.js';
import { errorRates, percent } from '../dist/src/asr/metrics.js';
import { runModel } from '../dist/src/asr/task.js';
import { writeFileAtomic } from '../dist/src/io/atomic.js';
import { loadSeq2Seq } from '../dist/src/seq2seq/app.js';
import { beamSearch } from '../dist/src/seq2seq/beam.js';

// A missing folder or a damaged model is one line naming it, not a stack.
process.on('uncaughtException', (e) => { console.error(`phoneme-route: ${e.message}`); process.exit(1); });
const USAGE = 'usage: node scripts/phoneme-route.mjs prepare --set RENDERED_DIR --p2g P2G --out OUT | score --p2g P2G --out OUT';
const fail = (m) => { console.error(`phoneme-route: ${m}\n${USAGE}`); process.exit(2); };
let parsed;
try { parsed = parseArgs({ allowPositionals: true, options: { set: { type: 'string' }, p2g: { type: 'string' }, out: { type: 'string' } } }); } catch (e) { fail(e.message); }
const { positionals: [phase], values: v } = parsed;
if (!['prepare', 'score'].includes(phase) || !v.p2g || !v.out || (phase === 'prepare' && !v.set)) fail(`expected prepare (--set, --p2g, --out) or score (--p2g, --out), got '${process.argv.slice(2).join(' ')}'`);

// The P2G model's phoneme tokens, each as one character (CJK ideographs: no case, no normalisation).
let tokens;
try { tokens = JSON.parse(readFileSync(join(v.p2g, 'model', 'model.json'), 'utf8')).config.source.tokens; } catch (e) {
  fail(`--p2g ${v.p2g}: expected the P2G folder of scripts/p2g-floor.mjs, with its trained model in model/ (${e.code ?? e.message})`);
}
const charOf = new Map(tokens.map((t, i) => [t, String.fromCodePoint(0x4e00 + i)]));
const toChars = (phonemes) => phonemes.split(' ').map((t) => { const c = charOf.get(t); if (!c) fail(`phoneme '${t}' is not in the P2G model's vocabulary`); return c; }).join('');
const toTokens = (chars) => [...chars].map((c) => tokens[c.codePointAt(0) - 0x4e00]);
const spaced = (s) => [...s].join(' '); // a phoneme string as "words", so WER is PER

if (phase === 'prepare') {
  mkdirSync(v.out, { recursive: true });
  const ph = new Map(readFileSync(join(v.p2g, 'phonemes-en-us.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t')));
  const phonemesOf = (w) => { const p = ph.get(w); if (!p) fail(`'${w}' has no phonemes in ${v.p2g}/phonemes-en-us.tsv: was the set rendered with the same --seed?`); return p; };
  let known = null;
  for (const split of ['train', 'val', 'test']) {
    const rows = readFileSync(join(v.set, `${split}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const out = rows.map((r) => {
      let text = toChars(phonemesOf(r.text));
      // CTC's alphabet is the training transcripts' symbols: a phoneme never in them is dropped (and counted).
      if (known) text = [...text].filter((c) => known.has(c)).join('');
      return { ...r, audio: resolve(v.set, r.audio), text, word: r.text };
    });
    if (!known) known = new Set(out.flatMap((r) => [...r.text]));
    const dropped = rows.reduce((n, r, i) => n + toChars(phonemesOf(r.text)).length - [...out[i].text].length, 0);
    writeFileAtomic(join(v.out, `${split}.jsonl`), out.map((r) => JSON.stringify(r)).join('\n') + '\n');
    console.log(`${split}: ${rows.length} utterances -> ${join(v.out, `${split}.jsonl`)}${dropped ? ` (${dropped} phonemes outside the training alphabet dropped)` : ''}`);
  }
  const train = readFileSync(join(v.p2g, 'p2g-train.tsv'), 'utf8').trim().split('\n').map((l) => toChars(l.split('\t')[0]));
  writeFileAtomic(join(v.out, 'lm-phonemes.txt'), train.join('\n') + '\n');
  console.log(`lm-phonemes.txt: the phonemes of ${train.length} training-split words`);
}

if (phase === 'score') {
  const model = loadCtcModel(join(v.out, 'model'));
  const file = join(v.out, 'test.jsonl');
  const utts = loadForModel(model, file);
  const words = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l).word);
  const { posteriors } = await runModel(model, utts);
  const refs = utts.map((u) => spaced(u.text));
  const { model: p2g, src, tgt } = loadSeq2Seq(join(v.p2g, 'model'));
  const spell = (seqs) => beamSearch(p2g, seqs.map((s) => src.encode(toTokens(s)).ids), { beam: 4, alpha: 1 }).map((h) => tgt.decode(h.ids).join(''));
  const line = (name, paths) => {
    const per = errorRates(refs, paths.map(spaced)).wer, e = errorRates(words, spell(paths));
    console.log(`${name}: PER ${percent(per)} -> P2G beam 4: CER ${percent(e.cer)} WER ${percent(e.wer)}`);
  };
  console.log(`${utts.length} test utterances of ${file}`);
  line('greedy', posteriors.map((p) => greedyDecode(p, model.alphabet)));
  const lm = CharNgramLM.train(readFileSync(join(v.out, 'lm-phonemes.txt'), 'utf8').split('\n'), 5);
  for (const alpha of [0.3, 0.6, 1]) for (const beta of [0, 1, 2]) {
    line(`beam 16 + phoneme 5-gram (weight ${alpha}, bonus ${beta})`, posteriors.map((p) => beamDecode(p, model.alphabet, { beamWidth: 16, lm, alpha, beta })[0].text));
  }
}
