import { noGrad } from '../autograd/tape.js';
import { DataError } from '../data/errors.js';
import { mul, scale, softplus, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import type { Rng } from '../tensor/random.js';
import { tensor } from '../tensor/create.js';
import { tidy } from '../tensor/tidy.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BatchResult, EvalResult, Task } from '../train/task.js';
import type { FrameSet } from './frames.js';
import type { NowcastModel } from './model.js';
import { toPatches, type PatchGeometry } from './patches.js';

/** One training example: input + horizon consecutive frames of one sequence, patched. */
export interface NowcastSample {
  /** Where it comes from: the sequence folder and the first frame's index. */
  source: string;
  /** [input + horizon, patch², grid, grid] intensities in [0, 1]. */
  data: Float32Array;
}

export interface NowcastShape extends PatchGeometry {
  input: number;
  horizon: number;
}

/** The patch layout's sizes: channels patch², grid side size / patch. */
export const channelsOf = (g: PatchGeometry) => g.patch * g.patch;
export const gridOf = (g: PatchGeometry) => g.size / g.patch;

/**
 * A data set's examples: each sequence cut into consecutive windows of input + horizon frames
 * (a 20-frame sequence with 10 in and 10 out is one example; a 45-frame one, two), patched.
 */
export function nowcastSamples(set: FrameSet, s: NowcastShape): NowcastSample[] {
  if (set.width !== set.height || set.width !== s.size) {
    throw new DataError(`${set.dir}: frames are ${set.width}x${set.height}, expected ${s.size}x${s.size} (the model's frame size)`);
  }
  const L = s.input + s.horizon, px = s.size * s.size, out: NowcastSample[] = [];
  for (const q of set.sequences) {
    for (let t0 = 0; t0 + L <= q.count; t0 += L) {
      out.push({ source: `${q.dir} from frame ${t0}`, data: toPatches(q.frames.subarray(t0 * px, (t0 + L) * px), L, s) });
    }
  }
  return out;
}

/**
 * Per-pixel binary cross-entropy with logits, summed over the pixels of each frame and averaged
 * over frames (the paper's per-frame cross-entropy): logits, targets [K, B, ...pixels].
 * softplus(z) - y z = -(y log σ(z) + (1 - y) log(1 - σ(z))).
 */
export function frameCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  const frames = logits.shape[0] * logits.shape[1];
  return scale(sum(sub(softplus(logits), mul(targets, logits))), 1 / frames);
}

/** The same in double precision on the host, per frame: [K] sums over pixels, for one example's logits and targets [K, pixels]. */
export function frameCrossEntropyHost(logits: ArrayLike<number>, targets: ArrayLike<number>, K: number): number[] {
  const n = logits.length / K, out: number[] = [];
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let i = k * n; i < (k + 1) * n; i++) {
      const z = logits[i], y = targets[i];
      s += Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
    }
    out.push(s);
  }
  return out;
}

export interface FrameEvaluation {
  /** Mean over examples of each predicted frame's cross-entropy (summed over its pixels): [horizon]. */
  perFrame: number[];
  mean: number;
  /** Predicted probabilities [horizon, patch², grid, grid] of the examples asked for. */
  predictions: Map<number, Float32Array>;
}

/** Shuffled mini-batches of examples; validation reports the per-frame cross-entropy. */
export class NowcastTask implements Task {
  readonly stateful = false;
  constructor(readonly model: NowcastModel, readonly train: readonly NowcastSample[], readonly val: readonly NowcastSample[] | null,
    readonly shape: NowcastShape, readonly batchSize: number) {
    if (!train.length) throw new DataError('nowcast: no training examples');
  }

  numBatches(): number { return Math.ceil(this.train.length / this.batchSize); }
  epochOrder(rng: Rng): number[] { return rng.shuffle(Array.from({ length: this.train.length }, (_, i) => i)); }

  /** x [input, B, patch², G, G] and y [horizon, B, patch², G, G], time-major, from examples. */
  batch(samples: readonly NowcastSample[], idx: readonly number[]): { x: Tensor; y: Tensor } {
    const { input: Tin, horizon: K } = this.shape, C = channelsOf(this.shape), G = gridOf(this.shape), f = C * G * G, B = idx.length;
    const x = new Float32Array(Tin * B * f), y = new Float32Array(K * B * f);
    idx.forEach((i, b) => {
      const d = samples[i].data;
      for (let t = 0; t < Tin; t++) x.set(d.subarray(t * f, (t + 1) * f), (t * B + b) * f);
      for (let k = 0; k < K; k++) y.set(d.subarray((Tin + k) * f, (Tin + k + 1) * f), (k * B + b) * f);
    });
    const opts = { backend: this.model.backend, dtype: this.model.dtype };
    return { x: tensor(x, [Tin, B, C, G, G], opts), y: tensor(y, [K, B, C, G, G], opts) };
  }

  trainBatch(order: readonly number[], k: number): BatchResult {
    const idx = order.slice(k * this.batchSize, (k + 1) * this.batchSize);
    const { x, y } = this.batch(this.train, idx);
    return { loss: frameCrossEntropy(this.model.forward(x), y), items: idx.length * this.shape.horizon, state: null };
  }

  /** Per-frame cross-entropy over examples (in double precision on the host), and the predictions of `keep`. */
  async evaluate(samples: readonly NowcastSample[], keep: readonly number[] = []): Promise<FrameEvaluation> {
    const m = this.model, K = this.shape.horizon, f = channelsOf(this.shape) * gridOf(this.shape) ** 2, Tin = this.shape.input;
    const wasTraining = m.training;
    m.eval();
    const perFrame = new Array<number>(K).fill(0), predictions = new Map<number, Float32Array>();
    try {
      for (let s = 0; s < samples.length; s += this.batchSize) {
        const idx = Array.from({ length: Math.min(this.batchSize, samples.length - s) }, (_, i) => s + i), B = idx.length;
        const out = tidy(() => noGrad(() => m.forward(this.batch(samples, idx).x)));
        const z = await out.data(); // [K, B, f]
        out.dispose();
        idx.forEach((i, b) => {
          const logits = new Float32Array(K * f);
          for (let k = 0; k < K; k++) logits.set(z.subarray((k * B + b) * f, (k * B + b + 1) * f), k * f);
          const ce = frameCrossEntropyHost(logits, samples[i].data.subarray(Tin * f), K);
          ce.forEach((v, k) => { perFrame[k] += v; });
          if (keep.includes(i)) predictions.set(i, logits.map((v) => 1 / (1 + Math.exp(-v))));
        });
      }
    } finally {
      m.train(wasTraining);
    }
    const per = perFrame.map((v) => v / samples.length);
    return { perFrame: per, mean: per.reduce((a, b) => a + b, 0) / K, predictions };
  }

  async validate(): Promise<EvalResult | null> {
    if (!this.val?.length) return null;
    const e = await this.evaluate(this.val);
    return { loss: e.mean, metrics: { ce_first: e.perFrame[0], ce_last: e.perFrame[e.perFrame.length - 1] } };
  }

  /**
   * A model that knows nothing: every pixel the training frames' mean intensity. Its per-frame
   * cross-entropy on the monitored frames (validation, else training).
   */
  trivialLoss(): number {
    const { input: Tin, horizon: K } = this.shape, f = channelsOf(this.shape) * gridOf(this.shape) ** 2;
    let s = 0, n = 0;
    for (const q of this.train) for (let i = Tin * f; i < q.data.length; i++) { s += q.data[i]; n++; }
    const p = Math.min(1 - 1e-6, Math.max(1e-6, s / n)), lp = Math.log(p), lq = Math.log(1 - p);
    const data = this.val?.length ? this.val : this.train;
    let ce = 0;
    for (const q of data) for (let i = Tin * f; i < q.data.length; i++) ce -= q.data[i] * lp + (1 - q.data[i]) * lq;
    return ce / (data.length * K);
  }
}
