import { LSTM } from '../nn/lstm.js';
import { dropout } from '../ops/dropout.js';
import { Linear } from '../nn/linear.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { logSoftmax } from '../ops/softmax.js';
import { Tensor } from '../tensor/tensor.js';
import { describe, ModelFileError } from '../io/errors.js';
import { checkLayers, checkWidth } from '../io/limits.js';
import { Alphabet } from './alphabet.js';
import { PhonemeSet } from './phonemes.js';

/** What model.json's config holds for a CTC recognizer: enough to rebuild it and its inputs. */
export interface CtcConfig {
  /** What it reads: audio (log-mel frames) or pen strokes ((dx, dy, pen) steps). */
  kind: 'audio' | 'strokes';
  /** audio: mel bands per frame. */
  melBins?: number;
  /** Features per input frame (before stacking). */
  inputDim: number;
  /** Input frames stacked into one LSTM step (1: none); the output frame rate is divided by it. */
  subsample: number;
  hidden: number;
  layers: number;
  /** LSTMP projection of each direction's output (0: none). */
  proj: number;
  dropout: number;
  /** The characters of classes 1..n (0: blank). */
  alphabet: string[];
  /** Per-feature mean and standard deviation over the training frames (inputs are standardized). */
  mean: number[];
  std: number[];
  /**
   * Hierarchical CTC (Fernandez, Graves & Schmidhuber 2007): a second output over these sound
   * tokens (classes 1..n, 0: blank) after `phonemeLayer` of the `layers`, trained beside the
   * characters; decoding reads the characters alone. Both or neither.
   */
  phonemes?: string[];
  phonemeLayer?: number;
}

/**
 * A bidirectional LSTM stack for CTC (Graves et al. 2006, 2013): frames stacked k at a time
 * (subsampling, as in Sak et al. 2015's lower frame rate), the BiLSTM (optionally LSTMP), then a
 * Linear to the alphabet and the blank, log-softmaxed. x [T', B, k * inputDim] -> [T', B, C].
 * Parameter names as PyTorch: lstm.weight_ih_l0, ..., out.weight. With phonemes, the stack is
 * two nn.LSTMs, `lstm` (the phonemeLayer lower layers) and `upper` (the rest, none when the
 * phonemes are read at the top), dropout between them as inside one; `phon` reads `lstm`'s output.
 */
export class CtcModel extends Module {
  readonly lstm: LSTM;
  readonly upper: LSTM | null;
  readonly out: Linear;
  readonly phon: Linear | null;
  readonly alphabet: Alphabet;
  readonly phonemes: PhonemeSet | null;

  constructor(readonly config: CtcConfig, opts: ModuleOptions = {}) {
    super(opts);
    const c = config;
    this.alphabet = new Alphabet(c.alphabet);
    this.phonemes = c.phonemes ? new PhonemeSet(c.phonemes) : null;
    const low = this.phonemes ? c.phonemeLayer! : c.layers, Hout = c.proj || c.hidden;
    const stack = (inputSize: number, numLayers: number) => new LSTM({ inputSize, hiddenSize: c.hidden, numLayers, bidirectional: true, projSize: c.proj, dropout: c.dropout }, opts);
    this.lstm = this.addModule('lstm', stack(c.inputDim * c.subsample, low));
    this.upper = low < c.layers ? this.addModule('upper', stack(2 * Hout, c.layers - low)) : null;
    this.out = this.addModule('out', new Linear({ inFeatures: 2 * Hout, outFeatures: this.alphabet.classes }, opts));
    this.phon = this.phonemes ? this.addModule('phon', new Linear({ inFeatures: 2 * Hout, outFeatures: this.phonemes.classes }, opts)) : null;
  }

  /** Log-probabilities [T', B, C] of a batch from batchInput. */
  forward(x: Tensor, lengths: readonly number[]): Tensor {
    return logSoftmax(this.out.forward(this.stack(x, lengths).top), -1);
  }

  /** Training with phonemes: the characters' log-probabilities [T', B, C] and the phonemes' [T', B, P]. */
  forwardBoth(x: Tensor, lengths: readonly number[]): { chars: Tensor; phonemes: Tensor } {
    if (!this.phon) throw new Error('CtcModel.forwardBoth: this model has no phoneme output (config.phonemes)');
    const { low, top } = this.stack(x, lengths);
    return { chars: logSoftmax(this.out.forward(top), -1), phonemes: logSoftmax(this.phon.forward(low), -1) };
  }

  /** The lower stack's output and the top's, each [T', B, 2 * Hout], zero past each length. */
  private stack(x: Tensor, lengths: readonly number[]): { low: Tensor; top: Tensor } {
    const low = this.lstm.forward(x, { lengths }).y;
    const top = this.upper ? this.upper.forward(dropout(low, this.config.dropout, this.rng, this.training), { lengths }).y : low;
    return { low, top };
  }

  /** A tensor on this model's backend. */
  tensor(values: Float32Array, shape: readonly number[]): Tensor { return new Tensor(this.backend.upload(this.dtype, values), shape); }
}

/** Output frames for `frames` input frames: ceil(frames / subsample). */
export function outputFrames(frames: number, subsample: number): number { return Math.ceil(frames / subsample); }

/**
 * One utterance's features [frames, dim] standardized and stacked k frames to a step (the last
 * step zero-padded): [ceil(frames / k), k * dim].
 */
export function stackFrames(data: Float32Array, frames: number, dim: number, k: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const steps = outputFrames(frames, k);
  const out = new Float32Array(steps * k * dim);
  for (let f = 0; f < frames; f++) {
    for (let d = 0; d < dim; d++) out[f * dim + d] = (data[f * dim + d] - mean[d]) / std[d];
  }
  return out; // frame f lands at step floor(f / k), slot f % k: the same row-major order
}

/** Padded time-major batch [T', B, width] of stacked utterances (each [steps_b, width]) and their steps. */
export function batchInput(items: readonly { x: Float32Array; steps: number }[], width: number): { x: Float32Array; T: number; lengths: number[] } {
  const T = Math.max(1, ...items.map((i) => i.steps)), B = items.length;
  const x = new Float32Array(T * B * width);
  items.forEach((it, b) => {
    for (let t = 0; t < it.steps; t++) x.set(it.x.subarray(t * width, (t + 1) * width), (t * B + b) * width);
  });
  return { x, T, lengths: items.map((i) => i.steps) };
}

/** Per-dimension mean and standard deviation over all frames (std floored, so a constant feature stays finite). */
export function featureStats(utts: readonly { data: Float32Array; frames: number }[], dim: number): { mean: number[]; std: number[] } {
  const sum = new Float64Array(dim), sq = new Float64Array(dim);
  let n = 0;
  for (const u of utts) {
    for (let f = 0; f < u.frames; f++) for (let d = 0; d < dim; d++) { const v = u.data[f * dim + d]; sum[d] += v; sq[d] += v * v; }
    n += u.frames;
  }
  const mean = [...sum].map((s) => s / Math.max(n, 1));
  const std = [...sq].map((s, d) => Math.max(Math.sqrt(Math.max(s / Math.max(n, 1) - mean[d] ** 2, 0)), 1e-3));
  return { mean, std };
}

/** model.json's config checked field by field (`file` names it in errors). */
export function checkCtcConfig(raw: Record<string, unknown>, file: string): CtcConfig {
  const bad = (f: string, e: string) => ModelFileError.field(file, `config.${f}`, e, raw[f]);
  if (raw.kind !== 'audio' && raw.kind !== 'strokes') throw bad('kind', '"audio" or "strokes"');
  for (const k of ['inputDim', 'subsample', 'hidden', 'layers'] as const) {
    if (!Number.isInteger(raw[k]) || (raw[k] as number) < 1) throw bad(k, 'a positive integer');
  }
  checkWidth(`${file}: config.hidden`, raw.hidden as number); checkLayers(`${file}: config.layers`, raw.layers as number);
  if (raw.melBins !== undefined && (!Number.isInteger(raw.melBins) || (raw.melBins as number) < 1)) throw bad('melBins', 'a positive integer');
  if (!Number.isInteger(raw.proj) || (raw.proj as number) < 0 || (raw.proj as number) >= (raw.hidden as number) && (raw.proj as number) > 0) throw bad('proj', `an integer in [0, hidden = ${raw.hidden})`);
  if (typeof raw.dropout !== 'number' || !(raw.dropout >= 0 && raw.dropout < 1)) throw bad('dropout', 'a number in [0, 1)');
  if (!Array.isArray(raw.alphabet) || !raw.alphabet.length) throw bad('alphabet', 'a list of characters');
  try { new Alphabet(raw.alphabet as string[]); } catch (e) { throw new ModelFileError(`${file}: config.alphabet: ${(e as Error).message} (got ${describe(raw.alphabet)})`, file); }
  if ((raw.phonemes === undefined) !== (raw.phonemeLayer === undefined)) throw bad(raw.phonemes === undefined ? 'phonemes' : 'phonemeLayer', 'present with config.phonemes and config.phonemeLayer both, or neither');
  if (raw.phonemeLayer !== undefined && (!Number.isInteger(raw.phonemeLayer) || (raw.phonemeLayer as number) < 1 || (raw.phonemeLayer as number) > (raw.layers as number))) throw bad('phonemeLayer', `an integer in [1, layers = ${raw.layers}]`);
  if (raw.phonemes !== undefined) {
    if (!Array.isArray(raw.phonemes) || !raw.phonemes.length) throw bad('phonemes', 'a list of sound tokens');
    try { new PhonemeSet(raw.phonemes as string[]); } catch (e) { throw new ModelFileError(`${file}: config.phonemes: ${(e as Error).message} (got ${describe(raw.phonemes)})`, file); }
  }
  for (const k of ['mean', 'std'] as const) {
    const a = raw[k];
    if (!Array.isArray(a) || a.length !== raw.inputDim || !a.every((v) => typeof v === 'number' && Number.isFinite(v) && (k === 'mean' || v > 0))) {
      throw bad(k, `${raw.inputDim} finite numbers${k === 'std' ? ' > 0' : ''}`);
    }
  }
  return raw as unknown as CtcConfig;
}
