import type { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { mul } from './elementwise.js';

/**
 * Inverted dropout: zero each element with probability p, scale the rest by 1/(1-p), so
 * evaluation needs no rescaling. The mask is drawn from `rng` (reproducible with a seed).
 */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: expected probability p in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const keep = 1 / (1 - p);
  const m = new Float64Array(x.size);
  for (let i = 0; i < m.length; i++) m[i] = rng.next() < p ? 0 : keep;
  const mask = new Tensor(x.backend.upload(x.dtype, m), x.shape);
  return mul(x, mask);
}
