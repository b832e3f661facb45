import type { Storage } from '../backend/backend.js';
import { checkFlag, deviceCheck } from '../backend/checks.js';
import { needsGrad, record } from '../autograd/tape.js';
import { logSoftmax } from '../ops/softmax.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Reduction } from './mse.js';

/**
 * torch.nn.functional.cross_entropy for logits [N, C] and class indices [N] (i32 tensor or
 * integers): -log softmax(logits)[n, target_n], reduced; ignoreIndex skips targets (default -100,
 * as in PyTorch; 'mean' averages over the targets not ignored). Runs on the device: targets given
 * as a tensor are checked there, never read back.
 */
export function crossEntropy(logits: Tensor, targets: Tensor | ArrayLike<number>, reduction: Reduction = 'mean',
  ignoreIndex = -100): Tensor {
  if (logits.rank !== 2) throw new Error(`crossEntropy: expected logits of shape [N, C], got ${fmt(logits.shape)}`);
  if (!['none', 'sum', 'mean'].includes(reduction)) throw new Error(`crossEntropy: reduction must be 'none', 'sum' or 'mean', got '${reduction}'`);
  return nllLoss(logSoftmax(logits), targets, reduction, ignoreIndex, 'crossEntropy');
}

/**
 * Negative log likelihood of log-probabilities lp [N, C] at the target indices [N], on the device:
 *   keep[n] = (t_n != ignoreIndex); flat[n] = n*C + keep[n] t_n; loss_n = -keep[n] lp[flat[n]]
 *   'sum': sum_n loss_n; 'mean': sum_n loss_n / max(sum_n keep[n], 1)
 * Backward scatters -keep[n] g (/ count) into the picked elements.
 */
export function nllLoss(lp: Tensor, targets: Tensor | ArrayLike<number>, reduction: Reduction, ignoreIndex = -100,
  op = 'nllLoss'): Tensor {
  if (lp.rank !== 2) throw new Error(`${op}: expected log-probabilities of shape [N, C], got ${fmt(lp.shape)}`);
  const [N, C] = lp.shape;
  const be = lp.backend, dt = lp.dtype;
  const n = targets instanceof Tensor ? targets.size : targets.length;
  if (n !== N) throw new Error(`${op}: expected ${N} targets (one per row of logits), got ${n}`);
  let flat: Storage, keepF: Storage; // [N] i32 element indices, [N] float 0/1
  if (targets instanceof Tensor) {
    if (targets.dtype !== 'i32') throw new Error(`${op}: expected i32 targets, got ${targets.dtype}`);
    if (targets.backend !== be) throw new Error(`${op}: targets live on backend ${targets.backend.name}, logits on ${be.name}`);
    ({ flat, keepF } = deviceTargets(op, targets, N, C, ignoreIndex, dt));
  } else {
    const f = new Int32Array(N), k = new Float64Array(N);
    for (let i = 0; i < N; i++) {
      const t = targets[i];
      if (t === ignoreIndex) { f[i] = i * C; continue; }
      if (!Number.isInteger(t) || t < 0 || t >= C) throw new Error(`${op}: target ${t} at position ${i} is not a class index in [0, ${C})`);
      f[i] = i * C + t; k[i] = 1;
    }
    flat = be.upload('i32', f); keepF = be.upload(dt, k);
  }
  const lossN = be.alloc(dt, N); // [N]
  be.gatherRows(lp.storage, 0, flat, N, 1, lossN, 0);
  be.binary('mul', [N], lossN, 0, [1], keepF, 0, [1], lossN, 0);
  be.affine(lossN, 0, lossN, 0, N, -1, 0, false);
  let out: Tensor, count: Storage | null = null; // count [1]: max(sum keep, 1), for 'mean'
  if (reduction === 'none') {
    out = new Tensor(lossN, [N]);
  } else {
    const s = be.alloc(dt, 1);
    if (N > 0) be.reduce('sum', [N], lossN, 0, [1], s, 0, [0]);
    if (reduction === 'mean') {
      count = be.alloc(dt, 1);
      const one = be.upload(dt, [1]);
      if (N > 0) be.reduce('sum', [N], keepF, 0, [1], count, 0, [0]);
      be.binary('max', [1], count, 0, [1], one, 0, [1], count, 0);
      be.binary('div', [1], s, 0, [1], count, 0, [1], s, 0);
      be.dispose(one);
    }
    be.dispose(lossN);
    out = new Tensor(s, []);
  }
  if (needsGrad([lp])) {
    record({
      name: op, inputs: [lp], outputs: [out],
      backward([g]) {
        // coef[n] = -keep[n] * g (g[n] for 'none') / count
        const coef = be.alloc(dt, N);
        be.binary('mul', [N], keepF, 0, [1], g!, 0, [reduction === 'none' ? 1 : 0], coef, 0);
        if (count) be.binary('div', [N], coef, 0, [1], count, 0, [0], coef, 0);
        be.affine(coef, 0, coef, 0, N, -1, 0, false);
        const d = be.alloc(dt, N * C);
        be.scatterAddRows(coef, 0, flat, N, 1, d, 0);
        be.dispose(coef);
        return [d];
      },
    }, [out]);
  } else {
    be.dispose(flat); be.dispose(keepF);
  }
  return out;
}

/** flat and keep from an i32 target tensor, with the range check on the device. */
function deviceTargets(op: string, targets: Tensor, N: number, C: number, ignoreIndex: number, dt: Tensor['dtype']) {
  const be = targets.backend, t = targets.storage;
  const consts = be.upload('i32', [ignoreIndex, 0, C]);
  const keep = be.alloc('i32', N), bad = be.alloc('i32', N), tmp = be.alloc('i32', N), flat = be.alloc('i32', N);
  be.binary('ne', [N], t, 0, [1], consts, 0, [0], keep, 0);          // keep = t != ignore
  be.binary('lt', [N], t, 0, [1], consts, 1, [0], bad, 0);           // t < 0
  be.binary('ge', [N], t, 0, [1], consts, 2, [0], tmp, 0);           // t >= C
  be.binary('max', [N], bad, 0, [1], tmp, 0, [1], bad, 0);
  be.binary('mul', [N], bad, 0, [1], keep, 0, [1], bad, 0);          // only kept targets must be classes
  const flag = checkFlag(be, 'i32');
  if (N > 0) be.reduce('max', [N], bad, 0, [1], flag, 0, [0]);
  deviceCheck(be, flag, `${op}:targets`, `${op}: a target is not a class index in [0, ${C}) (nor ignoreIndex ${ignoreIndex})`, () => {
    const a = targets.dataSync();
    const i = a.findIndex((v) => v !== ignoreIndex && (v < 0 || v >= C));
    return `${op}: target ${a[i]} at position ${i} is not a class index in [0, ${C})`;
  });
  // flat = keep * t + n*C (an ignored target points at its row's first element, weighted 0)
  const ramp = be.upload('i32', Array.from({ length: N }, (_, i) => i * C));
  be.binary('mul', [N], t, 0, [1], keep, 0, [1], flat, 0);
  be.binary('add', [N], flat, 0, [1], ramp, 0, [1], flat, 0);
  const keepF = be.alloc(dt, N);
  be.copyStrided([N], keep, 0, [1], keepF, 0, [1], false); // i32 -> float
  for (const s of [consts, keep, bad, tmp, ramp]) be.dispose(s);
  return { flat, keepF };
}
