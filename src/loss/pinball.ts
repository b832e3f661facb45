import { add, mul, neg, relu, sub } from '../ops/elementwise.js';
import { mean } from '../ops/reduce.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Quantile (pinball) loss, the mean over every element of
 *   tau * d        where d = target - pred >= 0 (under-forecast)
 *   (tau - 1) * d  where d < 0 (over-forecast),
 * written tau * d + relu(-d). Its minimizer is the tau-quantile of the target, so outputs trained
 * with tau 0.1, 0.5 and 0.9 are an 80% interval around the median.
 * pred, target: [B, N]; tau: [N] (each output's quantile, in (0, 1)), broadcast over B.
 */
export function pinballLoss(pred: Tensor, target: Tensor, tau: Tensor): Tensor {
  if (!sameShape(pred.shape, target.shape)) throw new Error(`pinballLoss: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape`);
  if (tau.rank !== 1 || tau.shape[0] !== pred.shape[pred.rank - 1]) throw new Error(`pinballLoss: tau ${fmt(tau.shape)} must be [${pred.shape[pred.rank - 1]}] (one quantile per output)`);
  const d = sub(target, pred);
  return mean(add(mul(tau, d), relu(neg(d))));
}

/** The same on host arrays: pred, target [B, N] flat; tau [N], one quantile per output of a row. */
export function pinballValue(pred: ArrayLike<number>, target: ArrayLike<number>, tau: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < pred.length; i++) {
    const d = target[i] - pred[i], t = tau[i % tau.length];
    s += d >= 0 ? t * d : (t - 1) * d;
  }
  return s / Math.max(pred.length, 1);
}
