import { needsGrad, record } from '../autograd/tape.js';
import { reshape } from '../ops/shape.js';
import { checkFinite, checkOptions } from '../tensor/check.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

export interface CtcOptions {
  /** Index of the blank class (default 0). */
  blank?: number;
  /** 'mean' (default): each loss divided by its target length, then averaged; 'sum'; 'none': [N]. */
  reduction?: 'none' | 'sum' | 'mean';
  /** An impossible alignment gives loss 0 and zero gradient instead of Infinity. */
  zeroInfinity?: boolean;
}

type IntList = ArrayLike<number> | Tensor;

function ints(what: string, v: IntList): Int32Array {
  const a = v instanceof Tensor ? v.dataSync() : v;
  const out = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isInteger(a[i])) throw new Error(`ctcLoss: ${what} must hold integers, got ${a[i]} at index ${i}`);
    out[i] = a[i];
  }
  return out;
}

/**
 * Connectionist temporal classification loss with the semantics of PyTorch's
 * F.ctc_loss: logProbs [T, N, C] (log-softmaxed), targets concatenated ([sum S_n]) or padded
 * ([N, S_max]), inputLengths [N], targetLengths [N]. Computed in log space (float64 inside),
 * so sequences of thousands of steps stay exact. The gradient w.r.t. logProbs is PyTorch's.
 */
export function ctcLoss(logProbs: Tensor, targets: IntList, inputLengths: IntList, targetLengths: IntList,
  opts: CtcOptions = {}): Tensor {
  checkOptions('ctcLoss', opts, ['blank', 'reduction', 'zeroInfinity']);
  if (logProbs.rank === 2) {
    // Unbatched, as PyTorch allows: [T, C] with one target sequence; 'none' gives a scalar.
    const loss = ctcLoss(reshape(logProbs, [logProbs.shape[0], 1, logProbs.shape[1]]), targets, inputLengths, targetLengths, opts);
    return loss.rank === 1 ? reshape(loss, []) : loss;
  }
  const blank = opts.blank ?? 0, reduction = opts.reduction ?? 'mean', zeroInf = opts.zeroInfinity ?? false;
  if (logProbs.rank !== 3) throw new Error(`ctcLoss: expected logProbs of shape [T, N, C] (or [T, C] unbatched), got ${fmt(logProbs.shape)}`);
  if (logProbs.dtype === 'i32') throw new Error('ctcLoss: expected floating-point logProbs, got i32');
  const [T, N, C] = logProbs.shape;
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) throw new Error(`ctcLoss: blank must be a class index in [0, ${C}), got ${blank}`);
  if (!['none', 'sum', 'mean'].includes(reduction)) throw new Error(`ctcLoss: reduction must be 'none', 'sum' or 'mean', got '${reduction}'`);
  checkFinite('ctcLoss logProbs', logProbs);
  const il = ints('inputLengths', inputLengths), tl = ints('targetLengths', targetLengths);
  if (il.length !== N) throw new Error(`ctcLoss: expected ${N} input lengths (batch size), got ${il.length}`);
  if (tl.length !== N) throw new Error(`ctcLoss: expected ${N} target lengths (batch size), got ${tl.length}`);
  for (let n = 0; n < N; n++) {
    if (il[n] < 0 || il[n] > T) throw new Error(`ctcLoss: inputLengths[${n}] must be in [0, ${T}], got ${il[n]}`);
    if (tl[n] < 0) throw new Error(`ctcLoss: targetLengths[${n}] must be >= 0, got ${tl[n]}`);
  }
  // Targets: concatenated, or padded [N, S] rows cut to their lengths.
  let tg = ints('targets', targets);
  const total = tl.reduce((s, v) => s + v, 0);
  const tShape = targets instanceof Tensor ? targets.shape : [tg.length];
  if (tShape.length === 2) {
    const [rows, S] = tShape;
    if (rows !== N) throw new Error(`ctcLoss: padded targets must have ${N} rows, got shape ${fmt(tShape)}`);
    const flat = new Int32Array(total);
    let o = 0;
    for (let n = 0; n < N; n++) {
      if (tl[n] > S) throw new Error(`ctcLoss: targetLengths[${n}] = ${tl[n]} exceeds the padded target width ${S}`);
      flat.set(tg.subarray(n * S, n * S + tl[n]), o); o += tl[n];
    }
    tg = flat;
  } else if (tg.length !== total) {
    throw new Error(`ctcLoss: concatenated targets must hold sum(targetLengths) = ${total} labels, got ${tg.length}`);
  }
  for (let i = 0; i < tg.length; i++) {
    if (tg[i] === blank) throw new Error(`ctcLoss: targets must not contain the blank index ${blank} (found at position ${i})`);
    if (tg[i] < 0 || tg[i] >= C) throw new Error(`ctcLoss: target label ${tg[i]} at position ${i} is outside [0, ${C})`);
  }

  const be = logProbs.backend, dt = logProbs.dtype;
  const up = (a: Int32Array) => be.upload('i32', a);
  const lossN = be.alloc(dt, N);       // [N] per-sample negative log likelihood
  const grad = be.alloc(dt, T * N * C); // [T, N, C] d loss_n / d logProbs
  be.ctc(logProbs.storage, T, N, C, up(tg), up(il), up(tl), blank, lossN, grad);

  // Per-sample weights: zeroInfinity masks impossible samples; 'mean' divides by target length and N.
  const perSample = be.readSync(lossN);
  const weight = new Float64Array(N);
  const zero = be.alloc(dt, 1);
  for (let n = 0; n < N; n++) {
    const impossible = perSample[n] === Infinity;
    if (zeroInf && impossible) {
      perSample[n] = 0;
      // The raw gradient of an impossible sample is NaN (inf - inf): zero its [T, C] block.
      be.copyStrided([T, C], zero, 0, [0, 0], grad, n * C, [N * C, 1], false);
    }
    weight[n] = zeroInf && impossible ? 0 : reduction === 'mean' ? 1 / (Math.max(tl[n], 1) * N) : 1;
  }
  let value: number[];
  if (reduction === 'none') value = Array.from(perSample);
  else value = [Array.from(perSample).reduce((s, v, n) => s + v * (reduction === 'mean' ? 1 / (Math.max(tl[n], 1) * N) : 1), 0)];
  const out = new Tensor(be.upload(dt, value), reduction === 'none' ? [N] : []);

  if (!needsGrad([logProbs])) { be.dispose(grad); return out; }
  let released = false;
  record({
      name: 'ctcLoss', inputs: [logProbs], outputs: [out],
      backward([g]) {
        if (released) throw new Error('ctcLoss: backward through the same graph a second time (its saved gradient was freed after the first)');
        // d[t, n, c] = grad[t, n, c] * weight[n] * g (g: a scalar, or [N] for reduction 'none').
        // The per-sample factor is spread over a row of N*C values, so the product is one
        // row-broadcast multiply of grad as [T, N*C].
        const gv = be.readSync(g!);
        const row = new Float64Array(N * C);
        for (let n = 0; n < N; n++) row.fill(weight[n] * (reduction === 'none' ? gv[n] : gv[0]), n * C, (n + 1) * C);
        const d = be.alloc(dt, T * N * C);
        be.binary('mul', [T, N * C], grad, [N * C, 1], be.upload(dt, row), [0, 1], d);
        return [d];
      },
      release() { released = true; be.dispose(grad); },
  }, [out]);
  return out;
}
