import type { Module } from '../nn/module.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';

export interface BatchResult {
  /** Mean loss over the batch's items (a scalar on the tape). */
  loss: Tensor;
  /** Items the loss averages over (samples, or characters), for epoch means and throughput. */
  items: number;
  /** The recurrent state at the end of the batch (carried to the next one when stateful). */
  state: Tensor[] | null;
}

export interface EvalResult {
  loss: number;
  /** Task metrics, e.g. { mae } or { accuracy } or { bpc }. */
  metrics: Record<string, number>;
}

/**
 * What `fit()` trains: a model, the batches of an epoch, and validation. Implementations:
 * ForecastTask, ClassifyTask (shuffled mini-batches, full BPTT or truncated to the last --bptt
 * steps) and CharLMTask (parallel text streams walked in --bptt chunks with the state carried).
 */
export interface Task {
  readonly model: Module;
  /** true: the state at the end of batch k starts batch k+1 (truncated BPTT); reset each epoch. */
  readonly stateful: boolean;
  numBatches(): number;
  /** The batch order of one epoch (drawn from rng; saved in checkpoints). */
  epochOrder(rng: Rng): number[];
  trainBatch(order: readonly number[], k: number, state: Tensor[] | null): BatchResult;
  /** Loss and metrics on the validation data, or null when there is none (read with await data()). */
  validate(): Promise<EvalResult | null>;
  /**
   * The loss of a model that knows nothing (the mean level, the uniform distribution) on the data
   * fit() monitors (validation, else training): a reference to tell a diverged run (divergence.ts).
   */
  trivialLoss?(): number;
}
