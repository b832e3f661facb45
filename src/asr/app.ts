import { createHash } from 'node:crypto';
import { refuseFlagsOnResume, resumeCheckpoint, trainReported } from '../cli/commands/resumeConfig.js';
import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CHECKPOINT_FILE, type CheckpointData } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadAppWeights, readAppModel, saveAppModel } from '../io/appModel.js';
import { ModelFileError } from '../io/errors.js';
import { Adam } from '../optim/adam.js';
import { CosineAnnealingLR } from '../optim/schedule.js';
import { lossCurveSvg } from '../plot/svg.js';
import { Rng } from '../tensor/random.js';
import { fit, type FitResult } from '../train/fit.js';
import { Progress, silentProgress, type ProgressSink } from '../train/progress.js';
import type { App } from '../cli/apps/registry.js';
import { RunError, UserError } from '../cli/errors.js';
import { choiceFlag, intFlag, numFlag, parseFlags, requireFlag, userErrors } from '../cli/commands/shared.js';
import { Alphabet, normalizeText } from './alphabet.js';
import { greedyDecode, Lexicon, type Hypothesis, type Posteriors } from './decode.js';
import { beamDecodeAll } from './beamThreads.js';
import { featureDim } from './features.js';
import { CharNgramLM } from './lm.js';
import { errorRates, percent, type ErrorRates } from './metrics.js';
import { checkCombinable, runViews } from './ensemble.js';
import { candidateScores } from './rescore.js';
import { Pronouncer, pronunciationScore, type HeardPhonemes } from './pronounce.js';
import { CharLmScorer } from './charLmScore.js';
import { espeakVoices } from './speechData.js';
import { checkCtcConfig, CtcModel, featureStats, type CtcConfig } from './model.js';
import { PhonemeSet } from './phonemes.js';
import { alignable, CtcTask, DEFAULT_SPECAUGMENT, runModel, type TooShort, type Utterance } from './task.js';
import { loadSet, loadSetThreaded, toUtterances, type LoadedSet } from './utterances.js';

export const APP = 'ctc';

/** Everything a training run depends on; saved in the checkpoint so --resume repeats it exactly. */
export interface CtcTrainConfig {
  data: string;
  val: string | null;
  /** SHA-256 of the manifests' text, so a resume on changed data is refused. */
  dataHash: string;
  out: string;
  melBins: number;
  hidden: number;
  layers: number;
  proj: number;
  subsample: number;
  dropout: number;
  specaugment: boolean;
  /** Speed perturbation range: training utterances at speeds in [1 - stretch, 1 + stretch] (0: off). */
  stretch: number;
  /** Vocal tract length perturbation: training utterances' spectra warped by factors in [1 - warp, 1 + warp] (0: off; audio only). */
  warp: number;
  /** Hierarchical CTC: a phoneme output after this many layers (0: none), its loss weighted by phonemeWeight. */
  phonemeLayer: number;
  phonemeWeight: number;
  epochs: number;
  batchSize: number;
  lr: number;
  clip: number;
  schedule: 'none' | 'cosine';
  patience: number;
  seed: number;
  checkpointEvery: number;
}

const TRAIN_HELP = `Usage: carousel train --task ctc --data train.jsonl [--val val.jsonl] --out DIR [options]

Trains a speech or handwriting recognizer: a bidirectional LSTM stack over log-mel frames (audio)
or (dx, dy, pen-up) steps (strokes), a softmax over the transcripts' characters and the blank,
and the CTC loss (Graves et al. 2006). The manifests are JSON Lines, one utterance a line:
{"audio": "rel/path.wav", "text": "..."} or {"strokes": "rel/path.json", "text": "..."}, paths
relative to the manifest (carousel data speech|handwriting makes them). Transcripts are
lower-cased, white space collapsed; the alphabet is that of the training transcripts.
Utterances too short for their transcript under CTC are reported and left out, with a count.
Writes DIR/model.json, the weights, loss.svg and checkpoint.safetensors.

Options:
  --data FILE          training manifest (required)
  --val FILE           validation manifest: loss and greedy CER/WER after each epoch
  --out DIR            model directory (required)
  --hidden N           LSTM units per direction (default 128)
  --layers N           stacked BiLSTM layers (default 2)
  --proj N             LSTMP projection of each direction's output (default 0: none)
  --subsample K        stack K input frames per LSTM step (default 3 for audio, 1 for strokes)
  --mel-bins N         audio: log-mel bands (default 40)
  --dropout P          between LSTM layers (default 0)
  --specaugment        mask 2 bands of features and 2 spans of frames in each training utterance
  --stretch X          speed perturbation: each training utterance, each epoch, at a random speed
                       in [1 - X, 1 + X] (its frames resampled in time; default 0: off)
  --warp X             audio: vocal tract length perturbation: each training utterance, each epoch,
                       its spectrum warped by a random factor in [1 - X, 1 + X] (formants moved as
                       another speaker's would be; default 0: off)
  --phoneme-layer K    hierarchical CTC: a second output over the training manifest's "phonemes"
                       (sound tokens separated by spaces; carousel data speech writes espeak-ng's)
                       after layer K, trained beside the characters (default 0: none); decoding
                       reads the characters alone
  --phoneme-weight W   the phonemes' CTC loss counts W times beside the characters' (default 0.5)
  --epochs N           passes over the data (default 20)
  --batch-size N       utterances per batch, of similar lengths (default 16)
  --lr X               Adam learning rate (default 0.003)
  --clip X             clip the gradient norm (default 5; 0: off)
  --schedule S         none or cosine (default cosine)
  --patience N         stop after N epochs without a better validation loss (default 0: off)
  --seed N             random seed (default 1)
  --checkpoint-every N also checkpoint every N steps (default 0: each epoch)
  --resume             continue from DIR/checkpoint.safetensors (only --epochs may change)
  -h, --help           this help`;

const EVAL_HELP = `Usage: carousel evaluate --model DIR [--model DIR2 ...] --data test.jsonl [--beam 16] [--lm lm.json] [options]

Transcribes every utterance of the manifest and prints one line per decoder:
  greedy: CER <x>% WER <y>%      best path
  beam: CER <x>% WER <y>%        CTC prefix beam search
  beam+lm: CER <x>% WER <y>%     the same with the character language model (--lm, or DIR/lm.json)
CER and WER are edit distances over the reference's characters and words, over the whole set.
Several --model: their per-frame log-probabilities averaged (they must share the input kind,
--subsample and alphabet), decoded as one model's; the LM default is the first's lm.json.

Options:
  --model DIR        a CTC model directory (required; repeat to combine models)
  --data FILE        manifest of utterances with transcripts (required)
  --beam N           beam width (default 16)
  --lm FILE          character n-gram LM (carousel lm); default DIR/lm.json when it exists
  --lm-weight X      LM weight alpha (default: lm.json's tuned value, else 0.5)
  --bonus X          insertion bonus beta per character (default: lm.json's, else 1)
  --lexicon FILE     only words of FILE (white-space separated) in beam+lm's output
  --speeds S1,S2     beam+lm hears each utterance at these speeds too (0.9,1,1.1: its frames
                     resampled in time, as training's --stretch): its best candidates (--candidates)
                     ranked again by the mean over models and speeds of their CTC log-likelihoods,
                     plus the LM's weighted log-probability and the bonus
  --pronounce W      pronunciation rescoring (needs a model trained with --phoneme-layer, and
                     espeak-ng): beam+lm's best candidates ranked again with W times the
                     best accent's log-likelihood of each one's espeak-ng phonemes under the
                     phoneme output (default: lm.json's tuned value, else 0: off)
  --accents A,B      the espeak-ng accents tried (default: all of its English ones)
  --charlm DIR       LSTM LM rescoring: beam+lm's best candidates ranked again with
                     --charlm-weight times each one's log-probability under DIR, a character
                     LSTM LM (carousel train --task charlm on the LM's corpus, a transcript a line)
  --charlm-weight W  its weight (default: lm.json's tuned value)
  --candidates N     how many of beam+lm's best candidates --speeds, --pronounce and --charlm
                     rank again (default 16, at most --beam; more: slower)
  --batch-size N     utterances per forward pass (default 32)
  -h, --help         this help`;

export const ctcApp: App = {
  name: APP,
  summary: 'speech / handwriting recognition: BiLSTM + CTC over characters (carousel train --task ctc --help)',
  train: (argv) => trainCommand(argv),
  evaluate: (argv) => evaluateCommand(argv),
};

const RESUME_FLAGS = ['task', 'resume', 'out', 'data', 'val', 'epochs', 'help'];

async function trainCommand(argv: string[]): Promise<number> {
  const { values: v } = parseFlags('train', argv, {
    task: { type: 'string' }, data: { type: 'string' }, val: { type: 'string' }, out: { type: 'string' }, hidden: { type: 'string' },
    layers: { type: 'string' }, proj: { type: 'string' }, subsample: { type: 'string' }, 'mel-bins': { type: 'string' }, dropout: { type: 'string' },
    specaugment: { type: 'boolean' }, stretch: { type: 'string' }, warp: { type: 'string' }, 'phoneme-layer': { type: 'string' }, 'phoneme-weight': { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, clip: { type: 'string' },
    schedule: { type: 'string' }, patience: { type: 'string' }, seed: { type: 'string' }, 'checkpoint-every': { type: 'string' },
    resume: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { console.log(TRAIN_HELP); return 0; }
  if (v.resume) refuseFlagsOnResume(v, RESUME_FLAGS);
  return userErrors(async () => {
    const out = resolve(requireFlag('out', v.out));
    let c: CtcTrainConfig, resume: CheckpointData | null = null;
    if (v.resume) {
      const { path, checkpoint } = resumeCheckpoint(out);
      resume = checkpoint;
      const saved = checkTrainConfig(resume.meta.config, path);
      c = { ...saved, out, epochs: intFlag('epochs', v.epochs, saved.epochs) };
      if (v.data && resolve(v.data) !== saved.data) throw new UserError(`--resume: the checkpoint was trained on ${saved.data}, not ${resolve(v.data)}`);
      if (v.val && resolve(v.val) !== saved.val) throw new UserError(`--resume: the checkpoint was validated on ${saved.val ?? 'nothing'}, not ${resolve(v.val)}`);
    } else {
      c = {
        data: resolve(requireFlag('data', v.data)), val: v.val ? resolve(v.val) : null, dataHash: '', out,
        melBins: intFlag('mel-bins', v['mel-bins'], 40, 8), hidden: intFlag('hidden', v.hidden, 128), layers: intFlag('layers', v.layers, 2),
        proj: intFlag('proj', v.proj, 0, 0), subsample: intFlag('subsample', v.subsample, 0), dropout: numFlag('dropout', v.dropout, 0, 0, 0.99),
        specaugment: Boolean(v.specaugment), stretch: numFlag('stretch', v.stretch, 0, 0, 0.5), warp: numFlag('warp', v.warp, 0, 0, 0.3),
        phonemeLayer: intFlag('phoneme-layer', v['phoneme-layer'], 0, 0), phonemeWeight: numFlag('phoneme-weight', v['phoneme-weight'], 0.5, 0), epochs: intFlag('epochs', v.epochs, 20), batchSize: intFlag('batch-size', v['batch-size'], 16),
        lr: numFlag('lr', v.lr, 0.003, 0), clip: numFlag('clip', v.clip, 5, 0), schedule: choiceFlag('schedule', v.schedule, ['none', 'cosine'] as const, 'cosine'),
        patience: intFlag('patience', v.patience, 0, 0), seed: intFlag('seed', v.seed, 1, 0), checkpointEvery: intFlag('checkpoint-every', v['checkpoint-every'], 0, 0),
      };
      if (c.proj && c.proj >= c.hidden) throw new UserError(`--proj: expected a projection smaller than --hidden (${c.hidden}), got ${c.proj}`);
      if (c.phonemeLayer > c.layers) throw new UserError(`--phoneme-layer: expected a layer in 1..${c.layers} (--layers), got ${c.phonemeLayer}`);
      if (v['phoneme-weight'] !== undefined && !c.phonemeLayer) throw new UserError('--phoneme-weight: given without --phoneme-layer K, which says where the phonemes are read');
    }
    const r = await trainReported('ctc', out, `try a smaller --lr than ${c.lr}`, () => trainCtc(c, { resume, progress: new Progress(process.stderr) }));
    if (!r) return 130;
    console.log(r.summary);
    return 0;
  });
}

/** SHA-256 of the training and validation manifests' text. */
function manifestsHash(c: CtcTrainConfig): string {
  const hash = createHash('sha256');
  for (const f of [c.data, c.val]) if (f) hash.update(readManifestText(f)).update('\0');
  return hash.digest('hex');
}

function readManifestText(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`manifest ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected a .jsonl file' : `cannot read it (${code})`}`);
  }
}

export interface TrainOutcome { model: CtcModel; config: CtcConfig; result: FitResult; summary: string; tooShort: TooShort[]; seconds: number }

/** Train (or resume) a recognizer as configured; saves the model directory. The commands and the demos run this. */
export async function trainCtc(c: CtcTrainConfig, o: { resume?: CheckpointData | null; progress?: ProgressSink } = {}): Promise<TrainOutcome> {
  const progress = o.progress ?? silentProgress;
  const t0 = Date.now();
  // The manifests' hash, here so that every run's checkpoint carries it (the demos' too).
  const dataHash = manifestsHash(c);
  if (o.resume && dataHash !== c.dataHash) throw new UserError(`--resume: ${c.data}${c.val ? ` or ${c.val}` : ''} changed since the checkpoint was written${c.dataHash ? '' : ' (it records no hash of them)'}; resuming would not repeat the run`);
  c.dataHash = dataHash;
  const trainSet = await loadSetThreaded(c.data, c.melBins);
  const valSet = c.val ? await loadSetThreaded(c.val, c.melBins, trainSet.kind) : null;
  for (const s of [trainSet, valSet]) if (s?.notes.length) progress.message(`${s.manifest}: converted ${s.notes.join('; ')}`);
  const kind = trainSet.kind, dim = featureDim({ kind, melBins: c.melBins });
  if (c.warp > 0 && kind !== 'audio') throw new UserError(`--warp: warps the spectrum of audio; ${c.data} holds pen strokes`);
  const alphabet = Alphabet.fromTexts(trainSet.entries.map((e) => e.text));
  const { mean, std } = featureStats(trainSet.features, dim);
  const subsample = c.subsample || (kind === 'audio' ? 3 : 1);
  const phonemes = c.phonemeLayer ? phonemesOf(trainSet) : undefined;
  const config: CtcConfig = {
    kind, ...(kind === 'audio' ? { melBins: c.melBins } : {}), inputDim: dim, subsample, hidden: c.hidden, layers: c.layers, proj: c.proj,
    dropout: c.dropout, alphabet: alphabet.toJSON(), mean, std, ...(phonemes ? { phonemes: phonemes.toJSON(), phonemeLayer: c.phonemeLayer } : {}),
  };
  const train = alignable(toUtterances(trainSet, config, alphabet, phonemes));
  const val = valSet ? alignable(toUtterances(valSet, config, alphabet)) : null;
  const tooShort = [...train.tooShort, ...(val?.tooShort ?? [])];
  if (train.tooShort.length) progress.message(skipMessage('training', train.tooShort, train.kept.length + train.tooShort.length, subsample));
  if (val?.tooShort.length) progress.message(skipMessage('validation', val.tooShort, val.kept.length + val.tooShort.length, subsample));
  if (!train.kept.length) throw new UserError(`${c.data}: every utterance is too short for its transcript under CTC; nothing to train on`);
  const rng = new Rng(c.seed);
  let model: CtcModel;
  try { model = new CtcModel(config, { rng }); } catch (e) { throw new UserError(`the model cannot be built: ${(e as Error).message}`); }
  const task = new CtcTask(model, train.kept, val?.kept.length ? val.kept : null, c.batchSize, rng, c.specaugment ? DEFAULT_SPECAUGMENT : null, c.stretch, c.phonemeWeight, c.warp);
  const opt = new Adam(model.parameters(), { lr: c.lr });
  const schedule = c.schedule === 'cosine' ? new CosineAnnealingLR(opt, c.epochs, c.lr * 0.05) : null;
  mkdirSync(c.out, { recursive: true });
  accessSync(c.out, constants.W_OK);
  const result = await fit(task, {
    epochs: c.epochs, optimizer: opt, schedule, clipNorm: c.clip, rng, progress,
    announce: `${o.resume ? 'resuming' : 'training'} a CTC BiLSTM (${model.numParameters()} parameters, ${alphabet.chars.length} characters + blank${phonemes ? `; ${phonemes.tokens.length} phonemes + blank after layer ${c.phonemeLayer}, weight ${c.phonemeWeight}` : ''}) on ${train.kept.length} ${kind} utterances, validating on ${val?.kept.length ?? 0}`,
    earlyStopping: c.patience > 0 ? { patience: c.patience, restoreBest: true } : null,
    checkpoint: { path: join(c.out, CHECKPOINT_FILE), everySteps: c.checkpointEvery, config: c },
    resume: o.resume ?? null,
  });
  const seconds = (Date.now() - t0) / 1000;
  if (result.stopped === 'interrupted') return { model, config, result, summary: '', tooShort, seconds };
  const last = result.stopped === 'diverged' ? result.history.find((h) => h.epoch === result.bestEpoch) : result.history[result.history.length - 1];
  await saveAppModel(c.out, APP, config, model, {
    epochs: result.history.length, steps: result.steps, stopped: result.stopped, seed: c.seed, lr: c.lr, loss: last?.loss, val: last?.val ?? null,
    bestEpoch: result.bestEpoch, data: c.data, trainUtterances: train.kept.length, skippedTooShort: tooShort.length, seconds: Math.round(seconds),
  });
  writeFileAtomic(join(c.out, 'loss.svg'), lossCurveSvg(result.history, `CTC ${kind} recognizer: training loss`));
  if (result.stopped === 'diverged') throw new RunError(`${result.divergence!.reason}; saved the model of epoch ${result.bestEpoch} to ${c.out} instead (try a smaller --lr than ${c.lr})`);
  const lines = [`saved model to ${c.out} (${result.history.length} epochs, ${seconds.toFixed(0)} s)`];
  if (last?.val) lines.push(`validation: loss ${last.val.loss.toFixed(4)}, greedy CER ${percent(last.val.metrics.cer)} WER ${percent(last.val.metrics.wer)}`);
  lines.push(`plot: ${join(c.out, 'loss.svg')}`);
  return { model, config, result, summary: lines.join('\n'), tooShort, seconds };
}

/** The sound tokens of a training set's "phonemes" (every line must have them). */
function phonemesOf(set: LoadedSet): PhonemeSet {
  const missing = set.entries.find((e) => e.phonemes === undefined);
  if (missing) throw new UserError(`--phoneme-layer: ${set.manifest}:${missing.line} has no "phonemes"; every training line needs its sound tokens (carousel data speech writes espeak-ng's)`);
  return PhonemeSet.fromStrings(set.entries.map((e) => e.phonemes!));
}

function skipMessage(what: string, skipped: TooShort[], total: number, k: number): string {
  const ex = skipped.slice(0, 2).map((s) => `${s.where}: ${s.steps} frame${s.steps === 1 ? '' : 's'}${k > 1 ? ` after subsampling by ${k}` : ''}, ${JSON.stringify(s.text.slice(0, 30))} needs ${s.needed}`).join('; ');
  return `skipped ${skipped.length} of ${total} ${what} utterances too short for their transcripts under CTC (${ex}${skipped.length > 2 ? '; ...' : ''})`;
}

/** A saved recognizer: the model, rebuilt and loaded, and its config. */
export function loadCtcModel(dir: string): CtcModel {
  const { meta, tensors, weightsFile } = readAppModel<Record<string, unknown>>(dir, APP);
  const config = checkCtcConfig(meta.config, join(dir, 'model.json'));
  const model = new CtcModel(config);
  loadAppWeights(model, tensors, weightsFile);
  return model;
}

/** The models of one or more --model flags, loaded, and checked to combine (runViews). */
export function loadCtcModels(dirs: readonly string[] | undefined): { dir: string; model: CtcModel }[] {
  if (!dirs?.length) requireFlag('model', undefined);
  const models = dirs!.map((dir) => ({ dir, model: loadCtcModel(dir) }));
  checkCombinable(models);
  return models;
}

/**
 * Decoding settings: beam width, the LM with its weight and bonus when there is one, and the
 * pronunciation weight (0: off) with the Pronouncer that spells candidates out as phonemes.
 */
export interface DecodeSettings {
  beam: number; lm: CharNgramLM | null; alpha: number; beta: number; lexicon: Lexicon | null; pronounce: number; pronouncer: Pronouncer | null; candidates: number;
  /** LSTM LM rescoring (--charlm) and its weight; absent: off. */
  charlm?: CharLmScorer | null; charlmWeight?: number;
}

/** --speeds S1,S2,...: the test-time speeds (runViews, lmRanker); null when not given. */
export function speedsFlag(v: string | undefined): number[] | null {
  if (v === undefined) return null;
  const speeds = v.split(',').map((x) => x.trim());
  if (speeds.some((x) => !/^\d*\.?\d+$/.test(x) || !(+x >= 0.5 && +x <= 2))) throw new UserError(`--speeds: expected speeds in [0.5, 2] separated by commas (0.9,1,1.1), got '${v}'`);
  return speeds.map(Number);
}

/** --accents a,b (espeak-ng voices) for pronunciation rescoring; default every English accent of espeak-ng. */
export function pronouncerOf(accents: string | undefined): Pronouncer {
  if (accents === undefined) return new Pronouncer(espeakVoices().accents);
  const list = accents.split(',').map((a) => a.trim());
  if (list.some((a) => !/^[a-z][a-z0-9-]*$/i.test(a))) throw new UserError(`--accents: expected espeak-ng voice names separated by commas (en-us,en-gb), got '${accents}'`);
  return new Pronouncer(list);
}

export const NO_PHONEMES = 'pronunciation rescoring reads a phoneme output: none of the models has one (train --phoneme-layer)';

/** How many of beam + LM's best candidates are ranked again (--speeds, pronunciation rescoring) by default. */
export const CANDIDATES = 16;

/**
 * --candidates N: how many of beam + LM's best candidates --speeds and --pronounce rank again
 * (default CANDIDATES, or the beam width when that is smaller); more than the beam keeps is an error.
 */
export function candidatesFlag(v: string | undefined, beam: number): number {
  const n = intFlag('candidates', v, Math.min(CANDIDATES, beam));
  if (n > beam) throw new UserError(`--candidates: expected at most the beam width (--beam ${beam}), which is all the beam keeps, got ${n}`);
  return n;
}

/** --candidates changes only what --speeds, --pronounce or --charlm ranks: given without any, an error. */
export function checkCandidatesUsed(v: string | undefined, ranking: boolean): void {
  if (v !== undefined && !ranking) throw new UserError('--candidates is how many of beam+lm\'s candidates --speeds, --pronounce or --charlm ranks again: give one of them too');
}

/** --charlm DIR: an LSTM character LM for rescoring (null when not given). */
export function charlmFlag(dir: string | undefined): CharLmScorer | null {
  if (dir === undefined) return null;
  try { return CharLmScorer.load(dir); } catch (e) { throw new UserError(`--charlm: expected a character LSTM LM (carousel train --task charlm) in ${dir}: ${(e as Error).message}`); }
}

/**
 * Beam + LM over every utterance, split for tuning: the beam searches once, and the function it
 * returns ranks at any pronunciation and charlm weight. Each utterance's best hypothesis; with
 * `views` (--speeds), at a pronunciation weight > 0 (with `heard`, the phoneme posteriors) or a
 * charlm weight > 0 (with `s.charlm`), its `s.candidates` best ranked again (rankCandidates), the
 * pronunciation score and the LSTM LM's log-probability weighted.
 */
export async function lmRanker(frame: readonly Posteriors[], views: readonly Posteriors[][] | null, heard: readonly HeardPhonemes[][] | null, alphabet: Alphabet, s: DecodeSettings): Promise<(pronounce: number, charlm?: number) => string[]> {
  if (!views && !heard && !s.charlm) {
    const best = (await beamDecodeAll(frame, alphabet, beamOptions(s))).map((h) => h[0].text);
    return () => best;
  }
  const t = await candidateTable(frame, views, heard, alphabet, s);
  return (w, cw = 0) => t.cands.map((c, u) => {
    // No views and no rescoring: the beam's own ranking, as without candidates.
    if (!views && w === 0 && cw === 0) return c[0].text;
    return c[bestCandidate(t, u, w, cw)]?.text ?? '';
  });
}

/** beamDecode's options for the settings (no LM terms without an LM). */
const beamOptions = (s: DecodeSettings) => ({ beamWidth: s.beam, lm: s.lm, alpha: s.lm ? s.alpha : 0, beta: s.lm ? s.beta : 0, lexicon: s.lexicon });

/**
 * Beam + LM's `s.candidates` best for every utterance, with each one's terms that no rescoring
 * weight changes, computed once (ranking at many weights, as tuning does, reuses them):
 * `fixed[u][i]` the mean over the views (else the frame) of log P_ctc plus alpha log P_lm + beta
 * |text|; `pron[u][i]` the pronunciation score (with `heard`); `neural[u][i]` the LSTM LM's
 * log-probability (with `s.charlm`).
 */
export interface CandidateTable { cands: Hypothesis[][]; fixed: number[][]; pron: number[][] | null; neural: number[][] | null }

export async function candidateTable(frame: readonly Posteriors[], views: readonly Posteriors[][] | null, heard: readonly HeardPhonemes[][] | null, alphabet: Alphabet, s: DecodeSettings): Promise<CandidateTable> {
  const o = beamOptions(s), charlm = s.charlm ?? null;
  const cands = await beamDecodeAll(frame, alphabet, { ...o, topK: s.candidates });
  const pronouncer = heard ? s.pronouncer : null;
  if (heard && !pronouncer) throw new Error('candidateTable: phoneme posteriors without a Pronouncer');
  const texts = cands.flatMap((c) => c.map((h) => h.text));
  await pronouncer?.prepare(texts);
  charlm?.prepare(texts);
  return {
    cands,
    fixed: cands.map((c, u) => candidateScores(c, views?.[u] ?? [frame[u]], alphabet, o).map((h) => h.score)),
    pron: heard ? cands.map((c, u) => c.map((h) => pronunciationScore(heard[u], pronouncer!.of(h.text)))) : null,
    neural: charlm ? cands.map((c) => c.map((h) => charlm.of(h.text))) : null,
  };
}

/**
 * The index of utterance u's best candidate at pronunciation weight w and charlm weight cw
 * (-1 when it has none): rankCandidates' first, so the beam's order settles equal scores.
 */
export function bestCandidate(t: CandidateTable, u: number, w: number, cw: number): number {
  if (w > 0 && !t.pron) throw new Error('bestCandidate: a pronunciation weight without phoneme posteriors');
  if (cw > 0 && !t.neural) throw new Error('bestCandidate: a charlm weight without a charlm');
  let best = -1, top = -Infinity;
  for (let i = 0; i < t.cands[u].length; i++) {
    const score = t.fixed[u][i] + (w > 0 ? w * t.pron![u][i] : 0) + (cw > 0 ? cw * t.neural![u][i] : 0);
    if (best < 0 || score > top) { best = i; top = score; }
  }
  return best;
}

/** Beam + LM over every utterance at the settings' pronunciation and charlm weights (lmRanker). */
export async function decodeAllWithLm(frame: readonly Posteriors[], views: readonly Posteriors[][] | null, heard: readonly HeardPhonemes[][] | null, alphabet: Alphabet, s: DecodeSettings): Promise<string[]> {
  const cw = s.charlm ? s.charlmWeight ?? 0 : 0;
  return (await lmRanker(frame, views, s.pronounce > 0 ? heard : null, alphabet, { ...s, charlm: cw > 0 ? s.charlm : null }))(s.pronounce, cw);
}

/**
 * The LM of --lm, else DIR/lm.json; weight and bonus from the flags, else lm.json's tuned ones,
 * else 0.5 and 1; the pronunciation weight from --pronounce, else lm.json's, else 0, and 0 when
 * it came from lm.json but `hasPhonemes` is false (said on stderr: those models cannot use it).
 */
export function decodeSettings(dir: string, v: { beam?: string; lm?: string; 'lm-weight'?: string; bonus?: string; lexicon?: string; pronounce?: string; accents?: string; candidates?: string; charlm?: string; 'charlm-weight'?: string }, hasPhonemes = false): DecodeSettings {
  const beam = intFlag('beam', v.beam, 16), candidates = candidatesFlag(v.candidates, beam);
  const lmPath = v.lm ?? (existsSync(join(dir, 'lm.json')) ? join(dir, 'lm.json') : null);
  const lm = lmPath ? CharNgramLM.load(lmPath) : null;
  const alpha = numFlag('lm-weight', v['lm-weight'], lm?.tuned?.weight ?? 0.5, 0);
  const beta = numFlag('bonus', v.bonus, lm?.tuned?.bonus ?? 1);
  let pronounce = numFlag('pronounce', v.pronounce, lm?.tuned?.pronounce ?? 0, 0);
  if (pronounce > 0 && !hasPhonemes) {
    if (v.pronounce !== undefined) throw new UserError(NO_PHONEMES);
    console.error(`note: ${lmPath} was tuned with pronunciation rescoring (weight ${pronounce}), which needs a model with a phoneme output: decoding without it`);
    pronounce = 0;
  }
  if (pronounce > 0 && !lm) throw new UserError('--pronounce ranks beam+lm\'s candidates: give --lm too (or put lm.json in the model directory)');
  if (v.accents !== undefined && !(pronounce > 0)) throw new UserError('--accents is for pronunciation rescoring: give --pronounce W (W > 0) too, or an lm.json tuned with it');
  // LSTM LM rescoring: --charlm DIR, weighted by --charlm-weight, else by lm.json's tuned weight.
  if (v['charlm-weight'] !== undefined && v.charlm === undefined) throw new UserError('--charlm-weight weighs the LSTM LM of --charlm DIR: give --charlm too');
  if (v.charlm !== undefined && !lm) throw new UserError('--charlm ranks beam+lm\'s candidates: give --lm too (or put lm.json in the model directory)');
  const tunedCharlm = lm?.tuned?.charlm;
  if (v.charlm === undefined && tunedCharlm) console.error(`note: ${lmPath} was tuned with LSTM LM rescoring (weight ${tunedCharlm}): give --charlm DIR (that LM) to use it; decoding without it`);
  const charlmWeight = numFlag('charlm-weight', v['charlm-weight'], tunedCharlm ?? NaN, 0);
  if (v.charlm !== undefined && !Number.isFinite(charlmWeight)) throw new UserError(`--charlm: give its weight, --charlm-weight W (${lmPath} records none: tune one with carousel lm --tune ... --charlm DIR)`);
  const charlm = v.charlm !== undefined ? charlmFlag(v.charlm) : null;
  let lexicon: Lexicon | null = null;
  if (v.lexicon) {
    let text: string;
    try { text = readFileSync(v.lexicon, 'utf8'); } catch { throw new UserError(`--lexicon ${v.lexicon}: cannot read it`); }
    const words = normalizeText(text).split(' ').filter(Boolean);
    if (!words.length) throw new UserError(`--lexicon ${v.lexicon}: no words (expected words separated by white space)`);
    lexicon = new Lexicon(words);
  }
  return { beam, lm, alpha, beta, lexicon, pronounce, pronouncer: pronounce > 0 ? pronouncerOf(v.accents) : null, candidates, charlm, charlmWeight: charlm ? charlmWeight : 0 };
}

export interface DecoderScores { greedy: ErrorRates; beam: ErrorRates; 'beam+lm': ErrorRates | null }

/**
 * Each decoder's error rates on utterances' posteriors against their references; with `views`
 * (--speeds) or pronunciation rescoring (`heard`), beam+lm ranks its candidates by them (lmRanker).
 */
export async function scoreDecoders(posteriors: readonly Posteriors[], refs: readonly string[], alphabet: Alphabet, s: DecodeSettings, views: readonly Posteriors[][] | null = null, heard: readonly HeardPhonemes[][] | null = null): Promise<{ scores: DecoderScores; hyps: Record<string, string[]> }> {
  const greedy = posteriors.map((p) => greedyDecode(p, alphabet));
  const beam = (await beamDecodeAll(posteriors, alphabet, { beamWidth: s.beam })).map((h) => h[0].text);
  const withLm = s.lm ? await decodeAllWithLm(posteriors, views, heard, alphabet, s) : null;
  return {
    scores: { greedy: errorRates(refs, greedy), beam: errorRates(refs, beam), 'beam+lm': withLm ? errorRates(refs, withLm) : null },
    hyps: { greedy, beam, ...(withLm ? { 'beam+lm': withLm } : {}) },
  };
}

/** The lines evaluate prints: `<decoder>: CER <x>% WER <y>%`. */
export function scoreLines(s: DecoderScores): string[] {
  return (['greedy', 'beam', 'beam+lm'] as const).filter((d) => s[d]).map((d) => `${d}: CER ${percent(s[d]!.cer)} WER ${percent(s[d]!.wer)}`);
}

async function evaluateCommand(argv: string[]): Promise<number> {
  const { values: v } = parseFlags('evaluate', argv, {
    model: { type: 'string', multiple: true }, data: { type: 'string' }, beam: { type: 'string' }, lm: { type: 'string' }, 'lm-weight': { type: 'string' },
    bonus: { type: 'string' }, lexicon: { type: 'string' }, speeds: { type: 'string' }, pronounce: { type: 'string' }, accents: { type: 'string' }, candidates: { type: 'string' }, 'batch-size': { type: 'string' },
    charlm: { type: 'string' }, 'charlm-weight': { type: 'string' }, help: { type: 'boolean', short: 'h' },
  });
  if (v.help) { console.log(EVAL_HELP); return 0; }
  return userErrors(async () => {
    const data = requireFlag('data', v.data);
    const models = loadCtcModels(v.model), [{ dir, model }] = models;
    const settings = decodeSettings(dir, v, models.some((m) => m.model.phonemes));
    if (settings.lexicon && !settings.lm) throw new UserError('--lexicon constrains beam+lm decoding: give --lm too (or put lm.json in the model directory)');
    const speeds = speedsFlag(v.speeds);
    if (speeds && !settings.lm) throw new UserError('--speeds ranks beam+lm\'s candidates: give --lm too (or put lm.json in the model directory)');
    checkCandidatesUsed(v.candidates, !!speeds || settings.pronounce > 0 || !!settings.charlm);
    let texts: string[] = [];
    const read = await readSets(models.map((m) => m.model), data);
    const inputs = (m: CtcModel) => {
      const utts = loadForModel(m, data, m === model ? (l) => console.error(l) : undefined, read);
      if (m === model) texts = utts.map((u) => u.text);
      return utts;
    };
    const batch = intFlag('batch-size', v['batch-size'], 32), ms = models.map((m) => m.model);
    const { frame, views, heard } = await runViews(ms, inputs, speeds, batch, settings.pronounce > 0);
    const { scores } = await scoreDecoders(frame, texts, model.alphabet, settings, views, heard);
    for (const line of scoreLines(scores)) console.log(line);
    return 0;
  });
}

/**
 * A manifest's features for each mel-band count among `models` (their kind: the first model's),
 * read over worker threads, for loadForModel to share (with `limit`, its first `limit` utterances).
 */
export async function readSets(models: CtcModel[], manifest: string, limit = Infinity): Promise<Map<number, LoadedSet>> {
  const read = new Map<number, LoadedSet>();
  for (const melBins of new Set(models.map((m) => m.config.melBins ?? 40))) read.set(melBins, await loadSetThreaded(manifest, melBins, models[0].config.kind, limit));
  return read;
}

/**
 * A manifest read for a saved model: its kind and features, transcripts in its alphabet (with
 * `limit`, its first `limit` utterances only).
 */
export function loadForModel(model: CtcModel, manifest: string, note: (m: string) => void = () => {}, read?: Map<number, LoadedSet>, limit = Infinity): Utterance[] {
  const c = model.config, melBins = c.melBins ?? 40;
  // With `read`, models of one mel-band count share one reading of the files (combined models).
  const set = read?.get(melBins) ?? loadSet(manifest, melBins, c.kind, limit);
  read?.set(melBins, set);
  if (set.notes.length) note(`${manifest}: converted ${set.notes.join('; ')}`);
  const utts = toUtterances(set, c, model.alphabet);
  const short = alignable(utts).tooShort.length;
  if (short) note(`note: ${short} of ${utts.length} utterances are too short for their transcripts under CTC: no decoder can get them right`);
  return utts;
}

/** The checkpoint's training settings, checked (a damaged checkpoint names its field). */
function checkTrainConfig(raw: unknown, file: string): CtcTrainConfig {
  const bad = (f: string, e: string, got: unknown) => ModelFileError.field(file, `config.${f}`, e, got);
  if (typeof raw !== 'object' || raw === null) throw new ModelFileError(`${file}: the checkpoint holds no training settings`, file, 'config');
  const c = raw as Record<string, unknown>;
  const ints: [keyof CtcTrainConfig, number][] = [['melBins', 8], ['hidden', 1], ['layers', 1], ['proj', 0], ['subsample', 0], ['epochs', 1], ['batchSize', 1], ['patience', 0], ['seed', 0], ['checkpointEvery', 0]];
  for (const [k, lo] of ints) if (!Number.isInteger(c[k]) || (c[k] as number) < lo) throw bad(k, `an integer >= ${lo}`, c[k]);
  for (const k of ['dropout', 'lr', 'clip'] as const) if (typeof c[k] !== 'number' || !((c[k] as number) >= 0)) throw bad(k, 'a number >= 0', c[k]);
  for (const k of ['data', 'out', 'dataHash'] as const) if (typeof c[k] !== 'string') throw bad(k, 'a string', c[k]);
  if (c.val !== null && typeof c.val !== 'string') throw bad('val', 'a path or null', c.val);
  if (typeof c.specaugment !== 'boolean') throw bad('specaugment', 'true or false', c.specaugment);
  if (c.stretch === undefined) c.stretch = 0; // checkpoints from before --stretch
  if (typeof c.stretch !== 'number' || !(c.stretch >= 0 && c.stretch <= 0.5)) throw bad('stretch', 'a number in [0, 0.5]', c.stretch);
  if (c.warp === undefined) c.warp = 0; // checkpoints from before --warp
  if (typeof c.warp !== 'number' || !(c.warp >= 0 && c.warp <= 0.3)) throw bad('warp', 'a number in [0, 0.3]', c.warp);
  if (c.schedule !== 'none' && c.schedule !== 'cosine') throw bad('schedule', 'none or cosine', c.schedule);
  if (c.phonemeLayer === undefined) { c.phonemeLayer = 0; c.phonemeWeight = 0.5; } // checkpoints from before --phoneme-layer
  if (!Number.isInteger(c.phonemeLayer) || !((c.phonemeLayer as number) >= 0 && (c.phonemeLayer as number) <= (c.layers as number))) throw bad('phonemeLayer', `an integer in [0, layers = ${c.layers}]`, c.phonemeLayer);
  if (typeof c.phonemeWeight !== 'number' || !(c.phonemeWeight >= 0)) throw bad('phonemeWeight', 'a number >= 0', c.phonemeWeight);
  return c as unknown as CtcTrainConfig;
}
