import { noGrad } from '../autograd/tape.js';
import { tidy } from '../tensor/tidy.js';
import { gatherWindows, type WindowSet } from '../data/series.js';
import { seasonalNaiveOutputs } from './baselines.js';
import { mseLoss } from '../loss/mse.js';
import type { SequenceModel } from '../models/sequenceModel.js';
import type { Rng } from '../tensor/random.js';
import type { BatchResult, EvalResult, Task } from './task.js';

/**
 * Direct multi-step forecasting: a window [W, B, F] -> the next `horizon` values of each target
 * (relative to the last observed value), MSE in normalized units. Validation also reports MAE in
 * the data's own units (`std` of each target undoes the normalization).
 *
 * With `residual` (a seasonal period and the targets' feature columns), the network learns the
 * residual on top of the seasonal-naive forecast: its training targets are y minus that forecast,
 * and predictAll adds the forecast back, so predictions, losses and metrics mean the same as
 * without it.
 */
export interface SeasonalResidual { period: number; targetCols: readonly number[] }

export class ForecastTask implements Task {
  readonly stateful = false;
  constructor(readonly model: SequenceModel, readonly train: WindowSet, readonly val: WindowSet | null,
    readonly batchSize: number, readonly targetStd: readonly number[], readonly bptt = 0, readonly residual: SeasonalResidual | null = null) {
    if (model.arch.outputSize !== train.horizon * train.targets) {
      throw new Error(`ForecastTask: model outputs ${model.arch.outputSize} values, data has horizon ${train.horizon} x ${train.targets} targets`);
    }
    if (residual) this.trainBase = seasonalNaiveOutputs(train, residual.targetCols, residual.period);
  }

  /** The seasonal-naive outputs of the training windows [n, horizon*targets] (residual training only). */
  private trainBase: Float32Array | null = null;

  numBatches(): number { return Math.ceil(this.train.n / this.batchSize); }
  epochOrder(rng: Rng): number[] { return rng.shuffle(Array.from({ length: this.train.n }, (_, i) => i)); }

  trainBatch(order: readonly number[], k: number): BatchResult {
    const idx = order.slice(k * this.batchSize, (k + 1) * this.batchSize);
    const { x, y } = gatherWindows(this.train, idx);
    const m = this.model, B = idx.length, Y = m.arch.outputSize;
    if (this.trainBase) idx.forEach((i, b) => { for (let j = 0; j < Y; j++) y[b * Y + j] -= this.trainBase![i * Y + j]; });
    const pred = m.forwardLast(m.input(x, [this.train.window, B, this.train.features]), null, this.bptt);
    return { loss: mseLoss(pred, m.input(y, [B, m.arch.outputSize])), items: B, state: null };
  }

  /** Predictions [n, horizon*targets] (relative to the anchor, normalized units) for every window (residual models: with the seasonal-naive forecast added back). */
  async predictAll(w: WindowSet): Promise<Float32Array> {
    const m = this.model, Y = m.arch.outputSize, out = new Float32Array(w.n * Y);
    const wasTraining = m.training;
    m.eval();
    try {
      for (let s = 0; s < w.n; s += 256) {
        const idx = Array.from({ length: Math.min(256, w.n - s) }, (_, i) => s + i);
        const { x } = gatherWindows(w, idx);
        // The batch's buffers are freed when tidy ends, except its predictions, freed once read.
        const pred = tidy(() => noGrad(() => m.forwardLast(m.input(x, [w.window, idx.length, w.features]))));
        out.set(await pred.data(), s * Y);
        pred.dispose();
      }
    } finally {
      m.train(wasTraining);
    }
    if (this.residual) {
      const base = seasonalNaiveOutputs(w, this.residual.targetCols, this.residual.period);
      for (let j = 0; j < out.length; j++) out[j] += base[j];
    }
    return out;
  }

  async evaluate(w: WindowSet): Promise<EvalResult> {
    const p = await this.predictAll(w), K = w.targets;
    let se = 0, ae = 0;
    for (let i = 0; i < p.length; i++) {
      const d = p[i] - w.y[i];
      se += d * d;
      ae += Math.abs(d) * this.targetStd[i % K];
    }
    return { loss: se / p.length, metrics: { mae: ae / p.length } };
  }

  async validate(): Promise<EvalResult | null> { return this.val ? this.evaluate(this.val) : null; }

  /** MSE of predicting the training mean (0 in normalized units) for every target: the targets' mean square level. */
  trivialLoss(): number {
    const w = this.val ?? this.train, K = w.targets, Y = w.horizon * K;
    let s = 0;
    for (let i = 0; i < w.n; i++) for (let j = 0; j < Y; j++) s += (w.anchor[i * K + (j % K)] + w.y[i * Y + j]) ** 2;
    return s / Math.max(w.n * Y, 1);
  }
}
