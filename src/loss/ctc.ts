import { needsGrad, record } from '../autograd/tape.js';
import { reshape } from '../ops/shape.js';
import { checkOptions } from '../tensor/check.js';
import { checkFinite } from '../ops/checks.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { kernels } from '../ops/kernels.js';
import type { Kernels, Storage } from '../backend/backend.js';

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
  if (v instanceof Tensor && !v.backend.readSync) {
    // Lengths and labels are host metadata (PyTorch's cuDNN path takes them as host lists too):
    // reading a device tensor here would stall every step.
    throw new Error(`ctcLoss: ${what} is a tensor on backend '${v.backend.name}', which reads only asynchronously: pass an array (or await t.data() once, outside the step)`);
  }
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

  const be = kernels(logProbs.backend), dt = logProbs.dtype;
  const up = (a: Int32Array) => be.upload('i32', a);
  const lossN = be.alloc(dt, N);       // [N] per-sample negative log likelihood
  const grad = be.alloc(dt, T * N * C); // [T, N, C] d loss_n / d logProbs
  be.ctc(logProbs.storage, T, N, C, up(tg), up(il), up(tl), blank, lossN, grad);

  // Per-sample weights (known on the host): 'mean' divides by target length and N.
  const weight = new Float64Array(N);
  for (let n = 0; n < N; n++) weight[n] = reduction === 'mean' ? 1 / (Math.max(tl[n], 1) * N) : 1;
  const w = be.upload(dt, weight); // [N]
  if (zeroInf) zeroImpossible(be, lossN, grad, T, N, C);
  let out: Tensor;
  if (reduction === 'none') {
    out = new Tensor(lossN, [N]);
  } else {
    const wl = be.alloc(dt, N), s = be.alloc(dt, 1);
    be.binary('mul', [N], lossN, 0, [1], w, 0, [1], wl, 0);
    be.reduce('sum', [N], wl, 0, [1], s, 0, [0]);
    be.dispose(wl); be.dispose(lossN);
    out = new Tensor(s, []);
  }

  if (!needsGrad([logProbs])) { be.dispose(grad); be.dispose(w); return out; }
  let released = false;
  record({
      name: 'ctcLoss', inputs: [logProbs], outputs: [out],
      backward([g]) {
        if (released) throw new Error('ctcLoss: backward through the same graph a second time (its saved gradient was freed after the first)');
        // d[t, n, c] = grad[t, n, c] * weight[n] * g (g: a scalar, or [N] for reduction 'none').
        const wg = be.alloc(dt, N);
        be.binary('mul', [N], w, 0, [1], g!, 0, [reduction === 'none' ? 1 : 0], wg, 0);
        const d = be.alloc(dt, T * N * C);
        be.binary('mul', [T, N, C], grad, 0, [N * C, C, 1], wg, 0, [0, 1, 0], d, 0);
        be.dispose(wg);
        return [d];
      },
      release() { released = true; be.dispose(grad); be.dispose(w); },
  }, [out]);
  return out;
}

/**
 * zeroInfinity on the device: an impossible sample (loss Infinity) gets loss 0 and a zero
 * gradient. Its raw gradient is NaN (inf - inf), which no multiply can zero, so its rows are
 * replaced by indexing: row r of grad [T*N, C] is gathered from itself where the sample is
 * possible and from an appended zero row where it is not.
 */
function zeroImpossible(be: Kernels, lossN: Storage, grad: Storage, T: number, N: number, C: number): void {
  const dt = lossN.dtype, R = T * N;
  const consts = be.upload(dt, [Infinity, 3.4028234663852886e38]);
  const ok = be.alloc(dt, N);
  be.binary('lt', [N], lossN, 0, [1], consts, 0, [0], ok, 0);           // ok = loss < inf
  be.binary('min', [N], lossN, 0, [1], consts, 1, [0], lossN, 0);       // inf -> finite, then * 0
  be.binary('mul', [N], lossN, 0, [1], ok, 0, [1], lossN, 0);
  // idx[t, n] = ok[n] ? t*N + n : R  (as i32), over a copy of grad with a zero row at R
  const okI = be.alloc('i32', N), ramp = be.upload('i32', Array.from({ length: R }, (_, r) => r - R)), idx = be.alloc('i32', R);
  const src = be.alloc(dt, (R + 1) * C);
  be.copyStrided([N], ok, 0, [1], okI, 0, [1], false);                     // float -> i32
  be.binary('mul', [T, N], ramp, 0, [N, 1], okI, 0, [0, 1], idx, 0);      // ok (r - R)
  be.fill(ramp, 0, 1, R);
  be.binary('add', [R], idx, 0, [1], ramp, 0, [0], idx, 0);               // + R
  be.copyStrided([R * C], grad, 0, [1], src, 0, [1], false);
  be.gatherRows(src, 0, idx, R, C, grad, 0);
  for (const x of [consts, ok, okI, ramp, idx, src]) be.dispose(x);
}
