import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/**
 * Depthwise causal convolution over time (the xLSTM blocks' conv): x [T, B, C], weight [C, 1, K]
 * (torch.nn.Conv1d(C, C, K, groups=C) layout), bias [C] or null:
 *   y[t, b, c] = bias[c] + sum_{j < K} weight[c, 0, j] x[t - (K-1) + j, b, c]
 * i.e. Conv1d with padding K-1 and the last K-1 outputs dropped: y_t sees x_{t-K+1..t} only.
 */
export function causalConv1d(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  checkFloat('causalConv1d', x);
  if (x.rank !== 3) throw new Error(`causalConv1d: expected x of shape [T, B, C], got ${fmt(x.shape)}`);
  const [T, B, C] = x.shape;
  if (weight.rank !== 3 || weight.shape[0] !== C || weight.shape[1] !== 1 || weight.shape[2] < 1) {
    throw new Error(`causalConv1d: expected weight of shape [${C}, 1, K] (depthwise), got ${fmt(weight.shape)}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== C)) throw new Error(`causalConv1d: expected bias of shape [${C}], got ${fmt(bias.shape)}`);
  const K = weight.shape[2];
  const inputs = [x, weight, ...(bias ? [bias] : [])];
  sameDevice('causalConv1d', ...inputs);
  const be = kernels(x.backend);
  const y = emptyLike(x);
  be.causalConv1dForward(T, B, C, K, x.storage, weight.storage, bias?.storage ?? null, y.storage);
  if (needsGrad(inputs)) {
    record({
      name: 'causalConv1d', inputs, outputs: [y],
      backward([g]) {
        const dx = x.requiresGrad ? be.alloc(x.dtype, x.size) : null;
        const dw = weight.requiresGrad ? be.alloc(x.dtype, weight.size) : null;
        const db = bias?.requiresGrad ? be.alloc(x.dtype, C) : null;
        be.causalConv1dBackward(T, B, C, K, x.storage, weight.storage, g!, dx, dw, db);
        return bias ? [dx, dw, db] : [dx, dw];
      },
    }, [y]);
  }
  return y;
}
