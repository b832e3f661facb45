import { mul, sub } from '../ops/elementwise.js';
import { mean, sum } from '../ops/reduce.js';
import { fmt, sameShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export type Reduction = 'none' | 'sum' | 'mean';

/** torch.nn.functional.mse_loss: (pred - target)^2, reduced. Shapes must match exactly. */
export function mseLoss(pred: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (!sameShape(pred.shape, target.shape)) {
    throw new Error(`mseLoss: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} must have the same shape`);
  }
  const d = sub(pred, target);
  const sq = mul(d, d);
  if (reduction === 'none') return sq;
  if (reduction === 'sum') return sum(sq);
  if (reduction === 'mean') return mean(sq);
  throw new Error(`mseLoss: reduction must be 'none', 'sum' or 'mean', got '${reduction}'`);
}
