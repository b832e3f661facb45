import { createHash } from 'node:crypto';
import { refuseFlagsOnResume, resumeCheckpoint, trainReported } from '../cli/commands/resumeConfig.js';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { App } from '../cli/apps/registry.js';
import { parseFlags, choiceFlag, intFlag, numFlag, readText, requireFlag, userErrors } from '../cli/commands/shared.js';
import { RunError, UserError } from '../cli/errors.js';
import { printable } from '../data/printable.js';
import { loadAppWeights, readAppModel, saveAppModel } from '../io/appModel.js';
import { writeFileAtomic } from '../io/atomic.js';
import { CHECKPOINT_FILE, type CheckpointData } from '../io/checkpoint.js';
import { ModelFileError } from '../io/errors.js';
import { cellFactories } from '../models/cells.js';
import { Adam } from '../optim/adam.js';
import { ReduceLROnPlateau } from '../optim/schedule.js';
import { lossCurveSvg } from '../plot/svg.js';
import { Rng } from '../tensor/random.js';
import { fit, type FitResult } from '../train/fit.js';
import { Progress, silentProgress, type ProgressSink } from '../train/progress.js';
import { ATTENTION_KINDS, type AttentionKind } from './attention.js';
import { beamSearch } from './beam.js';
import { groupBySource, readPairs, splitGroups, ungroup, type Grouped, type TokenizationChoice } from './data.js';
import { errorRates, type ErrorRates } from './metrics.js';
import { Seq2Seq, type Seq2SeqConfig } from './model.js';
import { Seq2SeqTask, type IdGroup, type IdPair } from './task.js';
import { Vocab, type Tokenization } from './vocab.js';

export const APP = 'seq2seq';

/** What model.json's config holds for a seq2seq model. */
export interface Seq2SeqModelConfig {
  model: Seq2SeqConfig;
  source: { mode: Tokenization; tokens: string[] };
  target: { mode: Tokenization; tokens: string[] };
  /** 'g2p': error rates named PER / WER; 'generic': token / sequence error rate. */
  metrics: 'g2p' | 'generic';
}

/** Everything a training run is made from (saved in checkpoints; --resume repeats it). */
export interface Seq2SeqTrainConfig {
  data: string;
  dataHash: string;
  val: string | null;
  valHash: string;
  out: string;
  sourceTokens: TokenizationChoice;
  targetTokens: TokenizationChoice;
  cell: string;
  decoderCell: string;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  attention: AttentionKind;
  embedding: number;
  epochs: number;
  batchSize: number;
  lr: number;
  dropout: number;
  sampling: number;
  seed: number;
  clip: number;
  valSplit: number;
  /** Stop after the epoch that would end past this many minutes of training (0: no limit). */
  minutes: number;
  metrics: 'g2p' | 'generic';
}

/** The names of the two error rates. */
export function rateNames(metrics: 'g2p' | 'generic'): { token: string; sequence: string } {
  return metrics === 'g2p' ? { token: 'PER', sequence: 'WER' } : { token: 'token error rate', sequence: 'sequence error rate' };
}

/** The training data of a run as id pairs and validation groups, with its vocabularies. */
export interface PreparedData {
  train: Grouped[];
  val: Grouped[] | null;
  srcMode: Tokenization;
  tgtMode: Tokenization;
}

export interface TrainOutcome {
  model: Seq2Seq;
  src: Vocab;
  tgt: Vocab;
  result: FitResult;
  config: Seq2SeqModelConfig;
  seconds: number;
  summary: string[];
}

/** The pairs of a file as groups (by source), and the tokenization chosen for each side. */
export function readPairsFile(path: string, srcMode: TokenizationChoice, tgtMode: TokenizationChoice) {
  const r = readPairs(readText(path), path, srcMode, tgtMode);
  return { groups: groupBySource(r.pairs), srcMode: r.srcMode, tgtMode: r.tgtMode };
}

/** Train a model on prepared data with fit() (checkpoints, resume, divergence check), save it to c.out. */
export async function trainSeq2Seq(c: Seq2SeqTrainConfig, d: PreparedData, o: { resume?: CheckpointData | null; progress?: ProgressSink } = {}): Promise<TrainOutcome> {
  const progress = o.progress ?? silentProgress;
  const trainPairs = ungroup(d.train);
  const src = Vocab.build(trainPairs.map((p) => p.src), d.srcMode);
  const tgt = Vocab.build(trainPairs.map((p) => p.tgt), d.tgtMode);
  const rng = new Rng(c.seed);
  const mc: Seq2SeqConfig = {
    cell: c.cell, decoderCell: c.decoderCell, srcVocab: src.size, tgtVocab: tgt.size, embedding: c.embedding, hidden: c.hidden,
    layers: c.layers, bidirectional: c.bidirectional, attention: c.attention, dropout: c.dropout,
  };
  let model: Seq2Seq;
  try { model = new Seq2Seq(mc, { rng }); } catch (e) {
    if (e instanceof RangeError) throw new UserError(`the model is too large to allocate here (--hidden ${c.hidden}, --layers ${c.layers}): ${e.message}`);
    throw new UserError((e as Error).message);
  }
  const ids = (p: { src: string[]; tgt: string[] }): IdPair => ({ src: src.encode(p.src).ids, tgt: tgt.encode(p.tgt).ids });
  const train = trainPairs.map(ids);
  const val: IdGroup[] | null = d.val?.length ? d.val.map((g) => ({ src: src.encode(g.src).ids, refs: g.refs })) : null;
  const valPairs = d.val?.length ? ungroup(d.val).map(ids) : null;
  const unseen = d.val ? d.val.filter((g) => g.src.some((t) => !src.has(t))).length : 0;
  const names = rateNames(c.metrics);
  const task = new Seq2SeqTask(model, train, val, valPairs, c.batchSize, tgt, rng, {
    sampling: c.sampling, names: c.metrics === 'g2p' ? { token: 'per', sequence: 'wer' } : { token: 'ter', sequence: 'ser' },
  });
  const opt = new Adam(model.parameters(), { lr: c.lr });
  const schedule = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 0 });
  mkdirSync(c.out, { recursive: true });
  accessSync(c.out, constants.W_OK); // a read-only output folder fails now, not after the first epoch
  const t0 = Date.now();
  let epochStart = t0;
  const budget = c.minutes * 60_000;
  const result = await fit(task, {
    epochs: c.epochs, optimizer: opt, schedule, clipNorm: c.clip, rng, progress,
    announce: `${o.resume ? 'resuming' : 'training'} seq2seq: ${c.bidirectional ? 'bidirectional ' : ''}${c.cell.toUpperCase()} encoder, ${c.decoderCell.toUpperCase()} decoder with ${c.attention} attention (${model.numParameters()} parameters) on ${train.length} pairs (${d.train.length} sources), ${valPairs?.length ?? 0} validation pairs; vocabularies ${src.size} (${d.srcMode}) -> ${tgt.size} (${d.tgtMode})${unseen ? `; ${unseen} validation sources hold tokens unseen in training (read as <unk>)` : ''}`,
    checkpoint: { path: join(c.out, CHECKPOINT_FILE), config: c },
    resume: o.resume ?? null,
    callbacks: [{
      onEpochEnd() {
        // A time budget: stop when one more epoch like the last would end past it.
        const now = Date.now(), last = now - epochStart;
        epochStart = now;
        if (budget > 0 && now - t0 + last > budget) { progress.message(`time budget of ${c.minutes} minutes: stopping after this epoch`); return 'stop'; }
      },
    }],
  });
  const seconds = (Date.now() - t0) / 1000;
  const config: Seq2SeqModelConfig = { model: mc, source: src.toJSON(), target: tgt.toJSON(), metrics: c.metrics };
  if (result.stopped === 'interrupted') return { model, src, tgt, result, config, seconds, summary: [] };
  const last = result.stopped === 'diverged' ? result.history.find((h) => h.epoch === result.bestEpoch) : result.history[result.history.length - 1];
  await saveAppModel(c.out, APP, config, model, {
    epochs: result.history.length, steps: result.steps, stopped: result.stopped, seed: c.seed, lr: c.lr, seconds: Math.round(seconds),
    loss: last?.loss ?? null, val: last?.val ?? null, data: c.data,
  });
  writeFileAtomic(join(c.out, 'loss.svg'), lossCurveSvg(result.history, `seq2seq: ${c.cell.toUpperCase()} encoder-decoder training loss`));
  const summary = [`saved model to ${c.out} (${result.history.length} epochs, ${formatMinutes(seconds)})`];
  if (last?.val) {
    const m = Object.values(last.val.metrics);
    summary.push(`validation: loss ${last.val.loss.toFixed(4)}, greedy ${names.token} ${pct(m[0])} ${names.sequence} ${pct(m[1])} (first ${Math.min(val!.length, 1000)} sources)`);
  }
  summary.push(`plot: ${join(c.out, 'loss.svg')}`);
  return { model, src, tgt, result, config, seconds, summary };
}

export const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
export const formatMinutes = (s: number) => (s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`);

/** A saved model, rebuilt from model.json and its weights (every field checked). */
export function loadSeq2Seq(dir: string): { model: Seq2Seq; src: Vocab; tgt: Vocab; config: Seq2SeqModelConfig } {
  const { meta, tensors, weightsFile } = readAppModel<Seq2SeqModelConfig>(dir, APP);
  const file = join(dir, 'model.json'), cfg = meta.config;
  const field = (name: string, fn: () => unknown) => {
    try { return fn(); } catch (e) { throw new ModelFileError(`${file}: config.${name}: ${(e as Error).message}`, file, `config.${name}`); }
  };
  const src = field('source', () => Vocab.fromJSON(cfg.source, 'vocabulary')) as Vocab;
  const tgt = field('target', () => Vocab.fromJSON(cfg.target, 'vocabulary')) as Vocab;
  if (cfg.metrics !== 'g2p' && cfg.metrics !== 'generic') throw ModelFileError.field(file, 'config.metrics', "'g2p' or 'generic'", cfg.metrics);
  const m = cfg.model as Partial<Seq2SeqConfig> | undefined;
  if (typeof m !== 'object' || m === null) throw ModelFileError.field(file, 'config.model', 'an object', m);
  if (m.srcVocab !== src.size) throw ModelFileError.field(file, 'config.model.srcVocab', `${src.size} (the source vocabulary's size)`, m.srcVocab);
  if (m.tgtVocab !== tgt.size) throw ModelFileError.field(file, 'config.model.tgtVocab', `${tgt.size} (the target vocabulary's size)`, m.tgtVocab);
  const model = field('model', () => new Seq2Seq({
    cell: m.cell!, decoderCell: m.decoderCell!, srcVocab: src.size, tgtVocab: tgt.size, embedding: m.embedding!, hidden: m.hidden!,
    layers: m.layers!, bidirectional: m.bidirectional!, attention: m.attention!, dropout: m.dropout ?? 0,
  })) as Seq2Seq;
  loadAppWeights(model, tensors, weightsFile);
  return { model, src, tgt, config: cfg };
}

/**
 * Encode sources for a model: tokens outside its vocabulary read as <unk>, each such line named
 * in a warning (at most 5 lines, then a count).
 */
export function encodeSources(sources: readonly { src: string[]; line: number }[], vocab: Vocab, file: string, warn: (s: string) => void): number[][] {
  let warned = 0, more = 0;
  const out = sources.map((s) => {
    const { ids, unknown } = vocab.encode(s.src);
    if (unknown.length) {
      if (warned < 5) { warned++; warn(`warning: ${file}:${s.line}: source token${unknown.length > 1 ? 's' : ''} ${[...new Set(unknown)].map((t) => `'${printable(t, 20)}'`).join(', ')} not in the model's vocabulary, read as <unk>`); } else more++;
    }
    return ids;
  });
  if (more) warn(`warning: ${more} more lines of ${file} hold source tokens outside the vocabulary`);
  return out;
}

/** Decode groups with a beam and score them against their references. */
export function scoreGroups(model: Seq2Seq, src: Vocab, tgt: Vocab, groups: readonly Grouped[], file: string, beam: number, alpha: number, warn: (s: string) => void): ErrorRates {
  const ids = encodeSources(groups, src, file, warn);
  let warned = 0;
  for (const g of groups) {
    const unk = g.refs.flat().filter((t) => !tgt.has(t));
    if (unk.length && warned++ < 5) warn(`warning: ${file}:${g.line}: target token${unk.length > 1 ? 's' : ''} ${[...new Set(unk)].map((t) => `'${printable(t, 20)}'`).join(', ')} not in the model's vocabulary (never predicted: counted as errors)`);
  }
  if (warned > 5) warn(`warning: ${warned - 5} more lines of ${file} hold target tokens outside the vocabulary`);
  const hyps = beamSearch(model, ids, { beam, alpha });
  return errorRates(hyps.map((h) => tgt.decode(h.ids)), groups.map((g) => g.refs));
}

export function formatRates(r: ErrorRates, metrics: 'g2p' | 'generic'): string[] {
  const n = rateNames(metrics);
  return [
    `${n.token} ${pct(r.tokenErrorRate)} (${r.edits} edits over ${r.referenceTokens} reference tokens)`,
    `${n.sequence} ${pct(r.sequenceErrorRate)} (${r.wrongSequences} of ${r.sequences} ${metrics === 'g2p' ? 'words' : 'sources'} wrong)`,
  ];
}

const TRAIN_HELP = `Usage: carousel train --task seq2seq --data PAIRS.tsv --out DIR [options]

Trains an encoder-decoder with attention (Sutskever et al. 2014; Bahdanau et al. 2015; Luong et
al. 2015) on lines 'source<TAB>target'. A source may appear on several lines (several correct
targets, e.g. a word's pronunciations): validation scores an output against the closest one.

Options:
  --data FILE             training pairs (required)
  --val FILE              validation pairs (default: --val-split of the sources of --data)
  --val-split F           fraction of the sources held out when there is no --val (default 0.05)
  --out DIR               model directory (required); checkpoint.safetensors is written there
  --source-tokens M       char, space or auto (default auto: space if any source has a space)
  --target-tokens M       the same for the targets
  --cell C                encoder cell, any of: ${[...cellFactories.keys()].join(', ')} (default lstm)
  --decoder-cell C        decoder cell: LSTM family or gru (default: --cell's, or lstm for xlstm)
  --hidden N              hidden size of encoder (per direction) and decoder (default 128)
  --layers N              layers of each (default 1)
  --bidirectional         bidirectional encoder
  --attention K           additive (Bahdanau) or general (Luong) (default general)
  --embedding N           embedding size of both sides (default 64)
  --epochs N              (default 10)
  --batch-size N          (default 64)
  --lr X                  Adam learning rate, halved when validation loss stops falling (default 0.002)
  --dropout P             on embeddings, between layers, before the output layer (default 0)
  --scheduled-sampling P  feed the model's own previous prediction with probability P (default 0)
  --clip X                gradient norm clipping (default 5; 0: off)
  --minutes M             stop after the epoch that would end past M minutes (default 0: no limit)
  --seed N                (default 1)
  --resume                continue from DIR's checkpoint (only --epochs may change)
  -h, --help              this help

Then: carousel evaluate --model DIR --data PAIRS.tsv; carousel translate --model DIR < lines.txt`;

const RESUME_FLAGS = ['task', 'resume', 'out', 'data', 'val', 'epochs', 'help'];

async function trainCommand(argv: string[]): Promise<number> {
  const { values: v } = parseFlags('train --task seq2seq', argv, {
    task: { type: 'string' }, data: { type: 'string' }, val: { type: 'string' }, 'val-split': { type: 'string' }, out: { type: 'string' },
    'source-tokens': { type: 'string' }, 'target-tokens': { type: 'string' }, cell: { type: 'string' }, 'decoder-cell': { type: 'string' },
    hidden: { type: 'string' }, layers: { type: 'string' }, bidirectional: { type: 'boolean' }, attention: { type: 'string' },
    embedding: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
    dropout: { type: 'string' }, 'scheduled-sampling': { type: 'string' }, clip: { type: 'string' }, minutes: { type: 'string' },
    seed: { type: 'string' }, resume: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { console.log(TRAIN_HELP); return 0; }
  if (v.resume) refuseFlagsOnResume(v, RESUME_FLAGS);
  return userErrors(async () => {
    const out = resolve(requireFlag('out', v.out));
    let c: Seq2SeqTrainConfig;
    let resume: CheckpointData | null = null;
    if (v.resume) {
      const { path, checkpoint } = resumeCheckpoint(out);
      resume = checkpoint;
      const saved = resume.meta.config as Seq2SeqTrainConfig | null;
      if (!saved || typeof saved !== 'object' || typeof saved.data !== 'string' || typeof saved.dataHash !== 'string' || typeof saved.epochs !== 'number') {
        throw new UserError(`${path}: not a checkpoint of carousel train --task seq2seq`);
      }
      c = { ...saved, out, epochs: intFlag('epochs', v.epochs, saved.epochs) };
      if (v.data && resolve(v.data) !== saved.data) throw new UserError(`--resume: the checkpoint was trained on ${saved.data}, not ${resolve(v.data)}`);
    } else {
      const cell = choiceFlag('cell', v.cell, [...cellFactories.keys()], 'lstm');
      const decoderCells = [...cellFactories.keys()].filter((k) => k !== 'xlstm');
      c = {
        data: resolve(requireFlag('data', v.data)), dataHash: '', val: v.val ? resolve(v.val) : null, valHash: '', out,
        sourceTokens: choiceFlag('source-tokens', v['source-tokens'], ['char', 'space', 'auto'] as const, 'auto'),
        targetTokens: choiceFlag('target-tokens', v['target-tokens'], ['char', 'space', 'auto'] as const, 'auto'),
        cell, decoderCell: choiceFlag('decoder-cell', v['decoder-cell'], decoderCells, cell === 'xlstm' ? 'lstm' : cell),
        hidden: intFlag('hidden', v.hidden, 128), layers: intFlag('layers', v.layers, 1), bidirectional: Boolean(v.bidirectional),
        attention: choiceFlag('attention', v.attention, ATTENTION_KINDS, 'general'), embedding: intFlag('embedding', v.embedding, 64),
        epochs: intFlag('epochs', v.epochs, 10), batchSize: intFlag('batch-size', v['batch-size'], 64), lr: numFlag('lr', v.lr, 0.002, 0),
        dropout: numFlag('dropout', v.dropout, 0, 0, 0.99), sampling: numFlag('scheduled-sampling', v['scheduled-sampling'], 0, 0, 1),
        seed: intFlag('seed', v.seed, 1, 0), clip: numFlag('clip', v.clip, 5, 0), valSplit: numFlag('val-split', v['val-split'], 0.05, 0, 0.9),
        minutes: numFlag('minutes', v.minutes, 0, 0), metrics: 'generic',
      };
      if (c.lr === 0) throw new UserError('--lr: expected a number > 0, got 0');
    }
    const hash = (path: string) => createHash('sha256').update(readText(path)).digest('hex');
    const dataHash = hash(c.data), valHash = c.val ? hash(c.val) : '';
    if (resume && (dataHash !== c.dataHash || valHash !== c.valHash)) throw new UserError(`--resume: ${dataHash !== c.dataHash ? c.data : c.val} changed since the checkpoint was written; resuming would not repeat the run`);
    c.dataHash = dataHash; c.valHash = valHash;
    const d = readPairsFile(c.data, c.sourceTokens, c.targetTokens);
    let train = d.groups, val: Grouped[] | null = null;
    if (c.val) {
      const vd = readPairs(readText(c.val), c.val, d.srcMode, d.tgtMode);
      val = groupBySource(vd.pairs);
    } else if (c.valSplit > 0 && d.groups.length >= 2) {
      [train, val] = splitGroups(d.groups, [1 - c.valSplit, c.valSplit], c.seed ^ 0x5bd1e995);
      if (train.length === 0) throw new UserError(`${c.data}: too few sources (${d.groups.length}) to hold out --val-split ${c.valSplit}`);
    }
    const progress = new Progress(process.stderr);
    const r = await trainReported('seq2seq', out, `try a smaller --lr than ${c.lr}`, () => trainSeq2Seq(c, { train, val, srcMode: d.srcMode, tgtMode: d.tgtMode }, { resume, progress }));
    if (!r) return 130;
    if (r.result.stopped === 'diverged') throw new RunError(`${r.result.divergence!.reason}; saved the model of epoch ${r.result.bestEpoch} to ${out} instead (try a smaller --lr than ${c.lr})`);
    console.log([`tokens: source ${d.srcMode}, target ${d.tgtMode}`, ...r.summary].join('\n'));
    return 0;
  });
}

const EVAL_HELP = `Usage: carousel evaluate --model DIR --data PAIRS.tsv [--beam K] [--alpha A]

Decodes every source of PAIRS.tsv ('source<TAB>target' lines; a source on several lines has
several correct targets) with beam search and prints the token error rate and the sequence error
rate against the closest reference (PER and WER for a grapheme-to-phoneme model).

  --beam K     hypotheses kept per source (default 8; 1: greedy)
  --alpha A    length normalisation: score = log P / length^A (default 1)`;

async function evaluateCommand(argv: string[]): Promise<number> {
  const { values: v } = parseFlags('evaluate', argv, { model: { type: 'string' }, data: { type: 'string' }, beam: { type: 'string' }, alpha: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (v.help) { console.log(EVAL_HELP); return 0; }
  return userErrors(async () => {
    const dir = requireFlag('model', v.model), path = requireFlag('data', v.data);
    const beam = intFlag('beam', v.beam, 8), alpha = numFlag('alpha', v.alpha, 1, 0, 5);
    const { model, src, tgt, config } = loadSeq2Seq(dir);
    const d = readPairs(readText(path), path, src.mode, tgt.mode);
    const groups = groupBySource(d.pairs);
    const r = scoreGroups(model, src, tgt, groups, path, beam, alpha, (s) => console.error(s));
    console.log(formatRates(r, config.metrics).join('\n'));
    return 0;
  });
}

export const seq2seqApp: App = {
  name: APP,
  summary: 'encoder-decoder with attention on source<TAB>target pairs (translation, G2P)',
  train: trainCommand,
  evaluate: evaluateCommand,
};
