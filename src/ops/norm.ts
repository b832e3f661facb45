import type { Storage } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/**
 * Group normalization over the last dimension of x [..., C]: the C features are split into
 * `groups` blocks of C/groups consecutive features, each normalized by its own mean and biased
 * variance, then y = x̂ * weight + bias (weight, bias [C], either may be null). One op, forward
 * next to backward. layerNorm is the single-group case (torch.nn.LayerNorm over the last dim);
 * with groups = heads it is the xLSTM blocks' multi-head (group) norm.
 */
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  checkFloat('groupNorm', x);
  if (x.rank < 1) throw new Error(`groupNorm: expected x of shape [..., C], got ${fmt(x.shape)}`);
  const C = x.shape[x.rank - 1];
  if (!Number.isInteger(groups) || groups < 1 || C % groups !== 0) {
    throw new Error(`groupNorm: groups must be a positive integer dividing the last dimension ${C}, got ${groups}`);
  }
  for (const [name, t] of [['weight', weight], ['bias', bias]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== C)) throw new Error(`groupNorm: expected ${name} of shape [${C}], got ${fmt(t.shape)}`);
  }
  if (!(eps >= 0)) throw new Error(`groupNorm: eps must be >= 0, got ${eps}`);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  sameDevice('groupNorm', ...inputs);
  const be = kernels(x.backend), rows = x.size / Math.max(C, 1);
  const y = emptyLike(x);
  const mean = be.alloc(x.dtype, rows * groups), rstd = be.alloc(x.dtype, rows * groups);
  be.groupNormForward(rows, C, groups, eps, x.storage, weight?.storage ?? null, bias?.storage ?? null, y.storage, mean, rstd);
  if (needsGrad(inputs)) {
    record({
      name: 'groupNorm', inputs, outputs: [y],
      backward([g]) {
        const dx = x.requiresGrad ? be.alloc(x.dtype, x.size) : null;
        const dw = weight?.requiresGrad ? be.alloc(x.dtype, C) : null;
        const db = bias?.requiresGrad ? be.alloc(x.dtype, C) : null;
        be.groupNormBackward(rows, C, groups, x.storage, weight?.storage ?? null, mean, rstd, g!, dx, dw, db);
        const out: (Storage | null)[] = [dx];
        if (weight) out.push(dw);
        if (bias) out.push(db);
        return out;
      },
    }, [y]);
  }
  return y;
}

/** torch.nn.functional.layer_norm over the last dimension. */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return groupNorm(x, 1, weight, bias, eps);
}
