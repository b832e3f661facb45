import { noGrad } from '../autograd/tape.js';
import { ctcLoss } from '../loss/ctc.js';
import { tidy } from '../tensor/tidy.js';
import type { Rng } from '../tensor/random.js';
import { add, affine } from '../ops/elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { columnStats, hzToMel, melToHz } from '../audio/melspec.js';
import type { BatchResult, EvalResult, Task } from '../train/task.js';
import { minFrames } from './alphabet.js';
import { greedyDecode, type Posteriors } from './decode.js';
import { ctcLogLikelihood } from './rescore.js';
import { errorRates } from './metrics.js';
import { batchInput, type CtcModel } from './model.js';

/** One utterance ready for the model: stacked standardized frames [steps, width] and its labels. */
export interface Utterance {
  x: Float32Array;
  steps: number;
  labels: number[];
  text: string;
  /** Its sound tokens' classes, for a model with phonemes (training only). */
  phonemes?: number[];
  /** Where it came from, for messages: the manifest and line. */
  where: string;
}

/** An utterance whose transcript cannot be aligned to its frames under CTC. */
export interface TooShort { where: string; steps: number; needed: number; text: string }

/**
 * Split utterances into those CTC can align and those it cannot: a label sequence needs one
 * output frame per label and one more between equal neighbours (minFrames). The impossible ones
 * would give an infinite loss (NaN gradients); they are left out before training, and counted.
 */
export function alignable(utts: readonly Utterance[]): { kept: Utterance[]; tooShort: TooShort[] } {
  const kept: Utterance[] = [], tooShort: TooShort[] = [];
  for (const u of utts) {
    const needed = minFrames(u.labels);
    if (u.steps < needed || u.labels.length === 0) tooShort.push({ where: u.where, steps: u.steps, needed, text: u.text });
    else kept.push(u);
  }
  return { kept, tooShort };
}

/** SpecAugment (Park et al. 2019) without time warping: zeroed bands of features and spans of frames. */
export interface SpecAugment {
  freqMasks: number;
  /** Widest frequency mask, as a fraction of the features per frame. */
  freqWidth: number;
  timeMasks: number;
  /** Widest time mask, in input frames, and at most this fraction of the utterance. */
  timeWidth: number;
  timeFraction: number;
}

export const DEFAULT_SPECAUGMENT: SpecAugment = { freqMasks: 2, freqWidth: 0.15, timeMasks: 2, timeWidth: 10, timeFraction: 0.1 };

/**
 * A copy of stacked frames [steps, k * dim] with masks drawn from rng: inputs are standardized, so
 * zero is the mean, what a masked value should carry no information about.
 */
export function maskFrames(x: Float32Array, steps: number, dim: number, k: number, s: SpecAugment, rng: Rng): Float32Array {
  const out = x.slice(), frames = steps * k;
  for (let m = 0; m < s.freqMasks; m++) {
    const w = rng.int(Math.floor(s.freqWidth * dim) + 1), f0 = rng.int(dim - w + 1);
    for (let f = 0; f < frames; f++) out.fill(0, f * dim + f0, f * dim + f0 + w);
  }
  const maxT = Math.min(s.timeWidth, Math.floor(s.timeFraction * frames));
  for (let m = 0; m < s.timeMasks; m++) {
    const w = rng.int(maxT + 1), t0 = rng.int(frames - w + 1);
    out.fill(0, t0 * dim, (t0 + w) * dim);
  }
  return out;
}

/**
 * Speed perturbation of stacked frames [steps, k * dim]: the frame sequence resampled in time by
 * `speed` (linear interpolation between neighbouring frames; 1.25 is a quarter faster, so fewer
 * frames), then stacked k at a time again (the last step zero-padded). It changes the speaking
 * rate alone, as espeak-ng's rate does, not the spectrum (resampling the waveform would move the
 * pitch and formants too). A stack's zero padding counts as frames: at most k - 1 at the end.
 */
export function stretchFrames(x: Float32Array, steps: number, dim: number, k: number, speed: number): { x: Float32Array; steps: number } {
  const frames = steps * k, n = Math.max(1, Math.round(frames / speed));
  const outSteps = Math.ceil(n / k), out = new Float32Array(outSteps * k * dim); // [outSteps, k * dim]
  for (let j = 0; j < n; j++) {
    // Frame j of the output sits at input position j * (frames - 1) / (n - 1): the ends stay the ends.
    const pos = n === 1 ? 0 : (j * (frames - 1)) / (n - 1), i = Math.min(Math.floor(pos), frames - 1), w = pos - i;
    const a = i * dim, b = Math.min(i + 1, frames - 1) * dim;
    for (let d = 0; d < dim; d++) out[j * dim + d] = (1 - w) * x[a + d] + w * x[b + d];
  }
  return { x: out, steps: outSteps };
}

/**
 * Vocal tract length perturbation (Jaitly & Hinton 2013) of stacked log-mel frames [steps, k * dim]:
 * the spectrum warped in frequency by `alpha` (1.1 moves every formant a tenth up, as a shorter
 * vocal tract would), one way one speaker's voice differs from another's that neither speed nor
 * masks imitate (on the words set it did not help: README, issue 12). Band b of the output reads the input at frequency f_b / alpha, f_b its
 * centre on the HTK mel scale between fmin and fmax (the front end's: 20 Hz to 8 kHz at 16 kHz),
 * linear between neighbouring bands; above 0.85 fmax (times alpha when it is below 1) the map
 * runs straight to fmax, so the top band stays the top band. Each band then gets back the mean
 * and spread it had (the inputs are normalised per feature; interpolation lowers a band's spread).
 */
export function warpFrames(x: Float32Array, steps: number, dim: number, k: number, alpha: number, fmin = 20, fmax = 8000): Float32Array {
  const { from, w } = warpMap(dim, alpha, fmin, fmax), frames = steps * k;
  const out = new Float32Array(x.length); // [steps, k * dim] = [frames, dim]
  for (let f = 0; f < frames; f++) {
    const row = f * dim;
    for (let b = 0; b < dim; b++) out[row + b] = (1 - w[b]) * x[row + from[b]] + w[b] * x[row + Math.min(from[b] + 1, dim - 1)];
  }
  const a = columnStats(x, frames, dim), z = columnStats(out, frames, dim);
  for (let f = 0; f < frames; f++) {
    const row = f * dim;
    for (let b = 0; b < dim; b++) out[row + b] = a.mean[b] + ((out[row + b] - z.mean[b]) * a.sd[b]) / z.sd[b];
  }
  return out;
}

/** For each output band: the input band below the frequency it reads and the weight of the one above. */
function warpMap(dim: number, alpha: number, fmin: number, fmax: number): { from: Int32Array; w: Float32Array } {
  const lo = hzToMel(fmin), hi = hzToMel(fmax), edge = 0.85 * fmax * Math.min(alpha, 1);
  const from = new Int32Array(dim), w = new Float32Array(dim);
  for (let b = 0; b < dim; b++) {
    const f = melToHz(lo + ((hi - lo) * (b + 1)) / (dim + 1)); // band b's centre
    const g = f <= edge ? f / alpha : edge / alpha + ((f - edge) * (fmax - edge / alpha)) / (fmax - edge);
    const pos = Math.min(Math.max(((hzToMel(Math.max(g, fmin)) - lo) / (hi - lo)) * (dim + 1) - 1, 0), dim - 1);
    from[b] = Math.floor(pos);
    w[b] = pos - from[b];
  }
  return { from, w };
}

/**
 * CTC training for fit(): batches of utterances of similar length (sorted by frames, cut into
 * batches once; each epoch shuffles the batches' order), so little of a batch is padding; loss
 * F.ctc_loss's 'mean' (each utterance's loss over its label count, then averaged). Utterances that
 * cannot be aligned must be removed first (alignable); zeroInfinity is on as a second guard only.
 * Validation: the loss, and greedy decoding's character and word error rates.
 */
export class CtcTask implements Task {
  readonly stateful = false;
  private readonly batches: number[][];
  private readonly width: number;

  constructor(readonly model: CtcModel, readonly train: readonly Utterance[], readonly val: readonly Utterance[] | null,
    readonly batchSize: number, private readonly rng: Rng, private readonly augment: SpecAugment | null,
    /** Speed perturbation: each training utterance at a speed drawn from [1 - stretch, 1 + stretch] (0: off). */
    private readonly stretch = 0,
    /** With a model with phonemes: the phonemes' CTC loss counts this much beside the characters'. */
    private readonly phonemeWeight = 0,
    /** Vocal tract length perturbation: each training utterance's spectrum warped by a factor drawn from [1 - warp, 1 + warp] (0: off; audio only). */
    private readonly warp = 0) {
    if (!train.length) throw new Error('CtcTask: no training utterances');
    if (model.phon) {
      const bad = train.find((u) => !u.phonemes);
      if (bad) throw new Error(`CtcTask: the model has a phoneme output, but ${bad.where} has no phonemes`);
    }
    this.width = model.config.inputDim * model.config.subsample;
    const byLength = train.map((_, i) => i).sort((a, b) => train[a].steps - train[b].steps || a - b);
    this.batches = [];
    for (let i = 0; i < byLength.length; i += batchSize) this.batches.push(byLength.slice(i, i + batchSize));
  }

  numBatches(): number { return this.batches.length; }
  epochOrder(rng: Rng): number[] { return rng.shuffle(this.batches.map((_, i) => i)); }

  trainBatch(order: readonly number[], k: number): BatchResult {
    const utts = this.batches[order[k]].map((i) => this.train[i]);
    const c = this.model.config;
    const items = utts.map((u) => {
      let item: { x: Float32Array; steps: number } = u;
      if (this.stretch > 0) {
        const s = stretchFrames(u.x, u.steps, c.inputDim, c.subsample, this.rng.uniform(1 - this.stretch, 1 + this.stretch));
        if (s.steps >= minFrames(u.labels) && (!u.phonemes || s.steps >= minFrames(u.phonemes))) item = s; // never too short for its labels
      }
      if (this.warp > 0) item = { x: warpFrames(item.x, item.steps, c.inputDim, c.subsample, this.rng.uniform(1 - this.warp, 1 + this.warp)), steps: item.steps };
      return this.augment ? { x: maskFrames(item.x, item.steps, c.inputDim, c.subsample, this.augment, this.rng), steps: item.steps } : item;
    });
    const { x, T, lengths } = batchInput(items, this.width);
    const input = this.model.tensor(x, [T, utts.length, this.width]);
    const chars = (lp: Tensor) => ctcLoss(lp, utts.flatMap((u) => u.labels), lengths, utts.map((u) => u.labels.length), { zeroInfinity: true });
    if (!this.model.phon) return { loss: chars(this.model.forward(input, lengths)), items: utts.length, state: null };
    // Hierarchical CTC: the characters' loss plus the weighted loss of the phonemes read lower down.
    // An utterance too short for its phonemes adds zero there (zeroInfinity), its characters still count.
    const both = this.model.forwardBoth(input, lengths);
    const phon = ctcLoss(both.phonemes, utts.flatMap((u) => u.phonemes!), lengths, utts.map((u) => u.phonemes!.length), { zeroInfinity: true });
    return { loss: add(chars(both.chars), affine(phon, this.phonemeWeight)), items: utts.length, state: null };
  }

  async validate(): Promise<EvalResult | null> {
    if (!this.val?.length) return null;
    const { posteriors, loss } = await runModel(this.model, this.val, this.batchSize, true);
    const hyps = posteriors.map((p) => greedyDecode(p, this.model.alphabet));
    const r = errorRates(this.val.map((u) => u.text), hyps);
    return { loss: loss!, metrics: { cer: r.cer, wer: r.wer } };
  }

  /**
   * CTC loss of the uniform distribution over the classes, on (up to 64) validation or training
   * utterances, reduced as training's (each utterance's loss over its label count, then the mean;
   * an impossible alignment counts 0). Computed on the host (the forward algorithm over constant
   * log-probabilities), so it needs no synchronous read of a device backend.
   */
  trivialLoss(): number {
    const utts = (this.val?.length ? this.val : this.train).slice(0, 64);
    const C = this.model.alphabet.classes;
    let sum = 0;
    for (const u of utts) {
      const ll = ctcLogLikelihood({ T: u.steps, C, data: new Float32Array(u.steps * C).fill(-Math.log(C)) }, u.labels);
      if (Number.isFinite(ll)) sum -= ll / Math.max(u.labels.length, 1);
    }
    return sum / utts.length;
  }
}

/**
 * The model's per-frame log-probabilities for each utterance (in their order), in batches of
 * similar length, without gradients; with withLoss, the mean CTC loss (as training's) too.
 */
export async function runModel(model: CtcModel, utts: readonly Utterance[], batchSize = 32, withLoss = false, withPhonemes = false): Promise<{ posteriors: Posteriors[]; loss: number | null; phonemes: Posteriors[] | null }> {
  const wasTraining = model.training;
  model.eval();
  if (withPhonemes && !model.phonemes) throw new Error('runModel: phoneme posteriors asked of a model without a phoneme output');
  const width = model.config.inputDim * model.config.subsample, C = model.alphabet.classes, P = model.phonemes?.classes ?? 0;
  const out: Posteriors[] = new Array(utts.length), phon: Posteriors[] | null = withPhonemes ? new Array(utts.length) : null;
  const order = utts.map((_, i) => i).sort((a, b) => utts[a].steps - utts[b].steps);
  let lossSum = 0;
  // Utterance b's frames of a time-major batch [T, B, K], as its own [steps, K].
  const unbatch = (data: Float32Array, B: number, b: number, steps: number, K: number): Posteriors => {
    const p = new Float32Array(steps * K);
    for (let t = 0; t < steps; t++) p.set(data.subarray((t * B + b) * K, (t * B + b + 1) * K), t * K);
    return { T: steps, C: K, data: p };
  };
  try {
    for (let s = 0; s < order.length; s += batchSize) {
      const idx = order.slice(s, s + batchSize), B = idx.length;
      const { x, T, lengths } = batchInput(idx.map((i) => utts[i]), width);
      const [lp, pp, loss] = tidy(() => noGrad(() => {
        const input = model.tensor(x, [T, B, width]);
        const both = withPhonemes ? model.forwardBoth(input, lengths) : null;
        const l = both ? both.chars : model.forward(input, lengths);
        return [l, both?.phonemes ?? null, withLoss ? ctcLoss(l, idx.flatMap((i) => utts[i].labels), lengths, idx.map((i) => utts[i].labels.length), { zeroInfinity: true }) : null] as const;
      }));
      const data = await lp.data() as Float32Array; // [T, B, C]
      const pdata = pp ? await pp.data() as Float32Array : null; // [T, B, P]
      if (loss) { lossSum += (await loss.data())[0] * B; loss.dispose(); }
      lp.dispose(); pp?.dispose();
      idx.forEach((u, b) => {
        out[u] = unbatch(data, B, b, lengths[b], C);
        if (phon) phon[u] = unbatch(pdata!, B, b, lengths[b], P);
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return { posteriors: out, loss: withLoss ? lossSum / Math.max(utts.length, 1) : null, phonemes: phon };
}
