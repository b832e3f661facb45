import { noGrad } from '../autograd/tape.js';
import { tidy } from '../tensor/tidy.js';
import { gatherWindows, type WindowSet } from '../data/series.js';
import { seasonalNaiveOutputs } from './baselines.js';
import { mseLoss } from '../loss/mse.js';
import { pinballLoss, pinballValue } from '../loss/pinball.js';
import type { SequenceModel } from '../models/sequenceModel.js';
import type { Rng } from '../tensor/random.js';
import type { BatchResult, EvalResult, Task } from './task.js';

/**
 * Direct multi-step forecasting: a window [W, B, F] -> the next `horizon` values of each target
 * (relative to the last observed value), MSE in normalized units. Validation also reports MAE in
 * the data's own units (`std` of each target undoes the normalization; w.targetStd per window
 * where series are normalized separately).
 *
 * With `residual` (a seasonal period and the targets' feature columns), the network learns the
 * residual on top of the seasonal-naive forecast: its training targets are y minus that forecast,
 * and predictAll adds the forecast back, so predictions, losses and metrics mean the same as
 * without it.
 *
 * Options: `outputScale` (per target) sets the unit of the network's outputs: targets are divided
 * by it for training and outputs multiplied by it, so a small residual is learned at unit size
 * (losses are in these units). `quantiles`: the network outputs each quantile of each step
 * ([n, Q, horizon*targets], pinball loss); the point forecast is the 0.5 one.
 */
export interface SeasonalResidual { period: number; targetCols: readonly number[] }
export interface ForecastOptions { outputScale?: readonly number[]; quantiles?: readonly number[] }

export class ForecastTask implements Task {
  readonly stateful = false;
  readonly quantiles: readonly number[];
  readonly outputScale: readonly number[];
  /** Each output's quantile [Q * horizon * targets] (quantile models only). */
  private readonly tau: Float32Array | null;
  constructor(readonly model: SequenceModel, readonly train: WindowSet, readonly val: WindowSet | null,
    readonly batchSize: number, readonly targetStd: readonly number[], readonly bptt = 0, readonly residual: SeasonalResidual | null = null,
    options: ForecastOptions = {}) {
    const Y = train.horizon * train.targets;
    this.quantiles = options.quantiles ?? [];
    const Q = Math.max(1, this.quantiles.length);
    if (model.arch.outputSize !== Q * Y) {
      throw new Error(`ForecastTask: model outputs ${model.arch.outputSize} values, data has ${this.quantiles.length ? `${Q} quantiles x ` : ''}horizon ${train.horizon} x ${train.targets} targets`);
    }
    if (this.quantiles.length && !this.quantiles.includes(0.5)) throw new Error(`ForecastTask: quantiles ${this.quantiles.join(', ')} must include 0.5 (the point forecast)`);
    this.outputScale = options.outputScale ?? Array.from({ length: train.targets }, () => 1);
    if (this.outputScale.length !== train.targets || !this.outputScale.every((s) => s > 0 && Number.isFinite(s))) throw new Error(`ForecastTask: outputScale must hold ${train.targets} positive numbers, got ${this.outputScale.join(', ')}`);
    this.tau = this.quantiles.length ? Float32Array.from({ length: Q * Y }, (_, j) => this.quantiles[Math.floor(j / Y)]) : null;
    if (residual) this.trainBase = seasonalNaiveOutputs(train, residual.targetCols, residual.period);
  }

  /** The seasonal-naive outputs of the training windows [n, horizon*targets] (residual training only). */
  private trainBase: Float32Array | null = null;

  numBatches(): number { return Math.ceil(this.train.n / this.batchSize); }
  epochOrder(rng: Rng): number[] { return rng.shuffle(Array.from({ length: this.train.n }, (_, i) => i)); }

  /** Training targets of windows idx in the network's units: (y - base) / scale, repeated per quantile [B, Q*Y]. */
  private scaledTargets(y: Float32Array, idx: readonly number[], base: Float32Array | null): Float32Array {
    const Y = this.train.horizon * this.train.targets, K = this.train.targets, Q = Math.max(1, this.quantiles.length);
    const out = new Float32Array(idx.length * Q * Y);
    idx.forEach((i, b) => {
      for (let j = 0; j < Y; j++) {
        const v = (y[b * Y + j] - (base ? base[i * Y + j] : 0)) / this.outputScale[j % K];
        for (let q = 0; q < Q; q++) out[(b * Q + q) * Y + j] = v;
      }
    });
    return out;
  }

  trainBatch(order: readonly number[], k: number): BatchResult {
    const idx = order.slice(k * this.batchSize, (k + 1) * this.batchSize);
    const { x, y } = gatherWindows(this.train, idx);
    const m = this.model, B = idx.length, N = m.arch.outputSize;
    const target = m.input(this.scaledTargets(y, idx, this.trainBase), [B, N]);
    const pred = m.forwardLast(m.input(x, [this.train.window, B, this.train.features]), null, this.bptt);
    return { loss: this.tau ? pinballLoss(pred, target, m.input(this.tau, [N])) : mseLoss(pred, target), items: B, state: null };
  }

  /** The network's outputs for every window, in its own units [n, Q*horizon*targets]. */
  private async rawOutputs(w: WindowSet): Promise<Float32Array> {
    const m = this.model, N = m.arch.outputSize, out = new Float32Array(w.n * N);
    const wasTraining = m.training;
    m.eval();
    try {
      for (let s = 0; s < w.n; s += 256) {
        const idx = Array.from({ length: Math.min(256, w.n - s) }, (_, i) => s + i);
        const { x } = gatherWindows(w, idx);
        // The batch's buffers are freed when tidy ends, except its predictions, freed once read.
        const pred = tidy(() => noGrad(() => m.forwardLast(m.input(x, [w.window, idx.length, w.features]))));
        out.set(await pred.data(), s * N);
        pred.dispose();
      }
    } finally {
      m.train(wasTraining);
    }
    return out;
  }

  /**
   * Every quantile's forecast for every window [n, Q, horizon*targets] (Q = 1 without quantiles),
   * relative to the anchor in normalized units (residual models: with the seasonal-naive forecast added back).
   */
  async predictQuantiles(w: WindowSet): Promise<Float32Array> {
    const out = await this.rawOutputs(w), Y = w.horizon * w.targets, K = w.targets, Q = Math.max(1, this.quantiles.length);
    const base = this.residual ? seasonalNaiveOutputs(w, this.residual.targetCols, this.residual.period) : null;
    for (let i = 0; i < w.n; i++) {
      for (let q = 0; q < Q; q++) {
        for (let j = 0; j < Y; j++) {
          const o = (i * Q + q) * Y + j;
          out[o] = out[o] * this.outputScale[j % K] + (base ? base[i * Y + j] : 0);
        }
      }
    }
    return out;
  }

  /** Point predictions [n, horizon*targets] (the 0.5 quantile of a quantile model), relative to the anchor, normalized units. */
  async predictAll(w: WindowSet): Promise<Float32Array> { return this.pointOf(w, await this.predictQuantiles(w)); }

  /** The 0.5 quantile's block of forecasts [n, Q, Y] (all of them without quantiles). */
  pointOf(w: WindowSet, all: Float32Array): Float32Array {
    if (!this.quantiles.length) return all;
    const Y = w.horizon * w.targets, Q = this.quantiles.length, m = this.quantiles.indexOf(0.5), out = new Float32Array(w.n * Y);
    for (let i = 0; i < w.n; i++) out.set(all.subarray((i * Q + m) * Y, (i * Q + m + 1) * Y), i * Y);
    return out;
  }

  /** The training loss (MSE, or pinball for quantiles, in the network's units) of quantile forecasts [n, Q, Y]. */
  private lossOf(w: WindowSet, all: Float32Array): number {
    const Y = w.horizon * w.targets, K = w.targets, Q = Math.max(1, this.quantiles.length);
    const p = new Float32Array(all.length), t = new Float32Array(all.length);
    for (let i = 0; i < w.n; i++) {
      for (let q = 0; q < Q; q++) {
        for (let j = 0; j < Y; j++) {
          const o = (i * Q + q) * Y + j, s = this.outputScale[j % K];
          p[o] = all[o] / s; t[o] = w.y[i * Y + j] / s;
        }
      }
    }
    if (this.tau) return pinballValue(p, t, this.tau);
    let se = 0;
    for (let o = 0; o < p.length; o++) se += (p[o] - t[o]) ** 2;
    return se / Math.max(p.length, 1);
  }

  async evaluate(w: WindowSet): Promise<EvalResult> {
    const all = await this.predictQuantiles(w);
    const p = this.pointOf(w, all), K = w.targets;
    let ae = 0;
    for (let i = 0; i < p.length; i++) {
      const k = i % K, s = w.targetStd ? w.targetStd[Math.floor(i / (w.horizon * K)) * K + k] : this.targetStd[k];
      ae += Math.abs(p[i] - w.y[i]) * s;
    }
    const metrics: Record<string, number> = { mae: ae / Math.max(p.length, 1) };
    if (this.quantiles.length > 1) metrics.coverage = intervalCoverage(w, all, this.quantiles);
    return { loss: this.lossOf(w, all), metrics };
  }

  async validate(): Promise<EvalResult | null> { return this.val ? this.evaluate(this.val) : null; }

  /** The loss of predicting the training mean (0 in normalized units) for every target and quantile. */
  trivialLoss(): number {
    const w = this.val ?? this.train, K = w.targets, Y = w.horizon * K, Q = Math.max(1, this.quantiles.length);
    const all = new Float32Array(w.n * Q * Y);
    for (let i = 0; i < w.n; i++) for (let q = 0; q < Q; q++) for (let j = 0; j < Y; j++) all[(i * Q + q) * Y + j] = -w.anchor[i * K + (j % K)];
    return this.lossOf(w, all);
  }
}

/**
 * The share of true values inside [lowest quantile, highest quantile] of forecasts [n, Q, Y]:
 * about 0.8 for well-calibrated 0.1 and 0.9 quantiles.
 */
export function intervalCoverage(w: WindowSet, all: Float32Array, quantiles: readonly number[]): number {
  const Y = w.horizon * w.targets, Q = quantiles.length;
  const lo = quantiles.indexOf(Math.min(...quantiles)), hi = quantiles.indexOf(Math.max(...quantiles));
  let inside = 0;
  for (let i = 0; i < w.n; i++) {
    for (let j = 0; j < Y; j++) {
      const y = w.y[i * Y + j];
      if (y >= all[(i * Q + lo) * Y + j] && y <= all[(i * Q + hi) * Y + j]) inside++;
    }
  }
  return inside / Math.max(w.n * Y, 1);
}

/**
 * The output scale of each target: the root mean square of what the network learns (training
 * targets minus the seasonal-naive base for residual models), so its outputs are of unit size.
 * A target that never changes gets 1.
 */
export function fitOutputScale(w: WindowSet, residual: SeasonalResidual | null): number[] {
  const K = w.targets, Y = w.horizon * K;
  const base = residual ? seasonalNaiveOutputs(w, residual.targetCols, residual.period) : null;
  const ss = new Float64Array(K);
  for (let i = 0; i < w.n * Y; i++) ss[i % K] += (w.y[i] - (base ? base[i] : 0)) ** 2;
  return Array.from(ss, (s) => { const r = Math.sqrt(s / Math.max(w.n * w.horizon, 1)); return r > 1e-6 && Number.isFinite(r) ? r : 1; });
}

/**
 * Zero the output layer: the network then outputs 0 for every window, so a residual model
 * predicts exactly seasonal-naive before training and learns only what improves on it.
 */
export function zeroHead(model: SequenceModel): void {
  model.loadStateDict(new Map(model.head.namedParameters('head.').map(([n, p]) => [n, { shape: [...p.shape], data: new Float32Array(p.size) }])), false);
}
