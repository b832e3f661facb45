import { needsGrad, record } from '../autograd/tape.js';
import { logSoftmax } from '../ops/softmax.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Reduction } from './mse.js';

/**
 * torch.nn.functional.cross_entropy for logits [N, C] and class indices [N] (i32 tensor or
 * integers): -log softmax(logits)[n, target_n], reduced; ignoreIndex skips targets (default -100,
 * as in PyTorch; 'mean' averages over the targets not ignored).
 */
export function crossEntropy(logits: Tensor, targets: Tensor | ArrayLike<number>, reduction: Reduction = 'mean',
  ignoreIndex = -100): Tensor {
  if (logits.rank !== 2) throw new Error(`crossEntropy: expected logits of shape [N, C], got ${fmt(logits.shape)}`);
  const [N, C] = logits.shape;
  const t = targets instanceof Tensor ? targets.dataSync() : targets;
  if (t.length !== N) throw new Error(`crossEntropy: expected ${N} targets (one per row of logits), got ${t.length}`);
  for (let i = 0; i < N; i++) {
    if (t[i] === ignoreIndex) continue;
    if (!Number.isInteger(t[i]) || t[i] < 0 || t[i] >= C) throw new Error(`crossEntropy: target ${t[i]} at position ${i} is not a class index in [0, ${C})`);
  }
  if (!['none', 'sum', 'mean'].includes(reduction)) throw new Error(`crossEntropy: reduction must be 'none', 'sum' or 'mean', got '${reduction}'`);
  const lp = logSoftmax(logits);
  return nllLoss(lp, t, reduction, ignoreIndex);
}

/** Negative log likelihood of log-probabilities [N, C] at the target indices. */
export function nllLoss(lp: Tensor, t: ArrayLike<number>, reduction: Reduction, ignoreIndex = -100): Tensor {
  const [N, C] = lp.shape;
  const be = lp.backend;
  // Flat element indices n*C + t_n, gathered as rows of length 1.
  const used: number[] = [];
  for (let n = 0; n < N; n++) if (t[n] !== ignoreIndex) used.push(n);
  const flat = be.upload('i32', used.map((n) => n * C + t[n]));
  const picked = be.alloc(lp.dtype, used.length);
  be.gatherRows(lp.storage, 0, flat, used.length, 1, picked, 0);
  const vals = be.readSync(picked);
  let out: Tensor;
  const scale = reduction === 'mean' ? 1 / Math.max(used.length, 1) : 1;
  if (reduction === 'none') {
    const v = new Float64Array(N);
    used.forEach((n, i) => { v[n] = -vals[i]; });
    out = new Tensor(be.upload(lp.dtype, v), [N]);
  } else {
    let s = 0;
    for (let i = 0; i < vals.length; i++) s -= vals[i];
    out = new Tensor(be.upload(lp.dtype, [s * scale]), []);
  }
  if (needsGrad([lp])) {
    record({
      name: 'nllLoss', inputs: [lp], outputs: [out],
      backward([g]) {
        // d/dlp[n, t_n] = -g (or -g[n]) * scale; gathered g for 'none'.
        const gv = be.readSync(g!);
        const vals2 = new Float64Array(used.length);
        used.forEach((n, i) => { vals2[i] = -(reduction === 'none' ? gv[n] : gv[0]) * scale; });
        const d = be.alloc(lp.dtype, N * C);
        be.scatterAddRows(be.upload(lp.dtype, vals2), 0, flat, used.length, 1, d, 0);
        return [d];
      },
    }, [out]);
  }
  return out;
}
