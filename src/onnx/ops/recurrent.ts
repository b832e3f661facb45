import { abs, add, addScalar, affine, div, exp, mul, relu, sigmoid, softplus, sub, tanh } from '../../ops/elementwise.js';
import { gruLayer } from '../../ops/gru.js';
import { lstmLayer } from '../../ops/lstm.js';
import { matmul } from '../../ops/matmul.js';
import { concat, permute, reshape, slice, stack } from '../../ops/shape.js';
import { BatchOrder } from '../../nn/rnn.js';
import { fmt } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { NodeInfo, OpCompiler } from '../node.js';
import { asInts, floatTensor, type Value } from '../values.js';
import { needFloat } from './util.js';

/**
 * ONNX's LSTM, GRU and RNN operators, every option: directions (forward, reverse,
 * bidirectional), layout 0 ([T, B, I]) and 1 ([B, T, I]), activations with alpha/beta, clip,
 * input_forget, peepholes, GRU's linear_before_reset, sequence_lens and initial states.
 * The options PyTorch's cells have (default activations, no clip, forward or bidirectional; GRU
 * with linear_before_reset=1) run on Carousel's fused layers (ops/lstm.ts, ops/gru.ts) with the
 * weights regrouped into PyTorch's gate order; the others run step by step on elementwise ops.
 * Both record on the tape, so an imported model's weights train.
 */
type Kind = 'LSTM' | 'GRU' | 'RNN';

const GATES: Record<Kind, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const DEFAULT_ACTS: Record<Kind, string[]> = { LSTM: ['Sigmoid', 'Tanh', 'Tanh'], GRU: ['Sigmoid', 'Tanh'], RNN: ['Tanh'] };

type Act = (x: Tensor) => Tensor;

/** alpha/beta defaults per activation (ONNX's operators of the same name); null: takes none. */
const ACT_PARAMS: Record<string, [number, number] | [number] | []> = {
  Relu: [], Tanh: [], Sigmoid: [], Softsign: [], Softplus: [],
  Affine: [1, 0], LeakyRelu: [0.01], ScaledTanh: [1, 1], HardSigmoid: [0.2, 0.5], Elu: [1],
};

function makeAct(name: string, alpha: number, beta: number): Act {
  switch (name) {
    case 'Relu': return relu;
    case 'Tanh': return tanh;
    case 'Sigmoid': return sigmoid;
    case 'Softsign': return (x) => div(x, addScalar(abs(x), 1));
    case 'Softplus': return softplus;
    case 'Affine': return (x) => affine(x, alpha, beta);
    case 'LeakyRelu': return (x) => sub(relu(x), affine(relu(affine(x, -1, 0)), alpha, 0));
    case 'ScaledTanh': return (x) => affine(tanh(affine(x, beta, 0)), alpha, 0);
    // max(0, min(1, alpha x + beta)) = relu(v) - relu(v - 1)
    case 'HardSigmoid': return (x) => { const v = affine(x, alpha, beta); return sub(relu(v), relu(addScalar(v, -1))); };
    // relu(x) + alpha (exp(min(0, x)) - 1), min(0, x) = -relu(-x)
    case 'Elu': return (x) => add(relu(x), affine(exp(affine(relu(affine(x, -1, 0)), -1, 0)), alpha, -alpha));
    default: throw new Error(`unreachable activation ${name}`);
  }
}

/**
 * x clipped to [-c, c]: y = x + relu(-x - c), then y - relu(y - c). Where nothing is clipped the
 * relus are exactly 0, so x passes unrounded (adding c to x first would round it to c's ulp).
 */
function clipTo(c: number): Act {
  return (x) => { const y = add(x, relu(affine(x, -1, -c))); return sub(y, relu(addScalar(y, -c))); };
}

interface Spec {
  kind: Kind;
  H: number;
  dirs: ('forward' | 'reverse')[];
  /** Per direction: the activations in the operator's order (LSTM f, g, h; GRU f, g; RNN f). */
  acts: Act[][];
  standardActs: boolean;
  clip: Act | null;
  inputForget: boolean;
  layout: 0 | 1;
  linearBeforeReset: boolean;
}

function compileSpec(n: NodeInfo, kind: Kind): Spec {
  const extra = kind === 'LSTM' ? ['input_forget'] : kind === 'GRU' ? ['linear_before_reset'] : [];
  n.attrs.only('activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout', ...extra);
  const H = n.attrs.int('hidden_size', 0);
  if (!Number.isInteger(H) || H < 1) throw new Error(`${n.label}: expected a positive hidden_size attribute, got ${n.attrs.has('hidden_size') ? H : 'none'}`);
  const direction = n.attrs.string('direction', 'forward');
  const dirs: ('forward' | 'reverse')[] = direction === 'forward' ? ['forward'] : direction === 'reverse' ? ['reverse']
    : direction === 'bidirectional' ? ['forward', 'reverse'] : [];
  if (!dirs.length) throw new Error(`${n.label}: direction should be forward, reverse or bidirectional, got '${direction}'`);
  const per = DEFAULT_ACTS[kind].length;
  const names = n.attrs.strings('activations') ?? dirs.flatMap(() => DEFAULT_ACTS[kind]);
  if (names.length !== per * dirs.length) throw new Error(`${n.label}: expected ${per * dirs.length} activations (${per} per direction), got ${names.length}`);
  const alphas = n.attrs.floats('activation_alpha') ?? [], betas = n.attrs.floats('activation_beta') ?? [];
  let ai = 0, bi = 0;
  const acts = names.map((name) => {
    const params = ACT_PARAMS[name];
    if (!params) throw new Error(`${n.label}: activation '${name}' is not supported (expected one of ${Object.keys(ACT_PARAMS).join(', ')})`);
    // activation_alpha / activation_beta are consumed in order by the activations that take them.
    const alpha = params.length >= 1 ? (ai < alphas.length ? alphas[ai++] : params[0]!) : 0;
    const beta = params.length >= 2 ? (bi < betas.length ? betas[bi++] : params[1]!) : 0;
    return makeAct(name, alpha, beta);
  });
  const standardActs = names.every((nm, i) => nm === DEFAULT_ACTS[kind][i % per]);
  const clipAttr = n.attrs.has('clip') ? n.attrs.float('clip', 0) : null;
  if (clipAttr !== null && !(clipAttr > 0)) throw new Error(`${n.label}: clip should be positive, got ${clipAttr}`);
  const layout = n.attrs.int('layout', 0);
  if (layout !== 0 && layout !== 1) throw new Error(`${n.label}: layout should be 0 or 1, got ${layout}`);
  return {
    kind, H, dirs, standardActs, layout,
    acts: dirs.map((_, d) => acts.slice(d * per, (d + 1) * per)),
    clip: clipAttr === null ? null : clipTo(clipAttr),
    inputForget: n.attrs.int('input_forget', 0) === 1,
    linearBeforeReset: n.attrs.int('linear_before_reset', 0) === 1,
  };
}

/** Rows of blocks of size H of t along axis, regrouped in the given block order. */
function regroup(t: Tensor, axis: number, H: number, order: readonly number[]): Tensor {
  return concat(order.map((k) => slice(t, axis, k * H, (k + 1) * H)), axis);
}

/** Direction d's 2-D slice of a [D, ...] weight. */
function dir(t: Tensor, d: number): Tensor { return reshape(slice(t, 0, d, d + 1), t.shape.slice(1)); }

function compileRecurrent(kind: Kind): OpCompiler {
  return (n) => {
    const spec = compileSpec(n, kind);
    const { H, dirs, layout } = spec;
    const D = dirs.length, G = GATES[kind];
    return (inputs: readonly (Value | null)[]) => {
      const [xIn, wIn, rIn, bIn, lensIn, h0In, c0In, pIn] = inputs;
      const X = needFloat(n, xIn, 0), W = needFloat(n, wIn, 1), R = needFloat(n, rIn, 2);
      if (X.rank !== 3) throw new Error(`${n.label}: expected X of rank 3 (${layout ? '[B, T, I]' : '[T, B, I]'}), got ${fmt(X.shape)}`);
      const x = layout ? permute(X, [1, 0, 2]) : X; // [T, B, I]
      const [T, B, I] = x.shape;
      const check = (name: string, t: Tensor | null, want: number[]) => {
        if (t && fmt(t.shape) !== fmt(want)) throw new Error(`${n.label}: expected ${name} of shape ${fmt(want)}, got ${fmt(t.shape)}`);
      };
      check('W', W, [D, G * H, I]);
      check('R', R, [D, G * H, H]);
      const Bias = bIn ? needFloat(n, bIn, 3) : null;
      check('B', Bias, [D, 2 * G * H]);
      const state = (v: Value | null | undefined, i: number, name: string): Tensor | null => {
        if (!v) return null;
        const s = needFloat(n, v, i);
        check(name, s, layout ? [B, D, H] : [D, B, H]);
        return layout ? permute(s, [1, 0, 2]) : s; // [D, B, H]
      };
      const h0 = state(h0In, 5, 'initial_h');
      const c0 = kind === 'LSTM' ? state(c0In, 6, 'initial_c') : null;
      const P = kind === 'LSTM' && pIn ? needFloat(n, pIn, 7) : null;
      check('P', P, [D, 3 * H]);
      let lens: number[] | null = null;
      if (lensIn) {
        const l = asInts(lensIn, n.label);
        if (l.rank !== 1 || l.size !== B || l.data.some((v) => !Number.isInteger(v) || v < 1 || v > T)) {
          throw new Error(`${n.label}: expected sequence_lens of ${B} lengths in 1..${T}, got ${fmt(l.data)}`);
        }
        lens = l.data.every((v) => v === T) ? null : [...l.data];
      }
      const zeros = () => new Tensor(n.dev.backend.alloc(n.dev.dtype, D * B * H), [D, B, H]);
      const fused = spec.standardActs && !spec.clip && !spec.inputForget && !P && dirs[0] === 'forward'
        && (kind === 'LSTM' || (kind === 'GRU' && spec.linearBeforeReset));
      const r = fused
        ? runFused(spec, x, W, R, Bias, h0 ?? zeros(), c0 ?? zeros(), lens)
        : runSteps(spec, n, x, W, R, Bias, h0 ?? zeros(), c0 ?? zeros(), P, lens);
      // r.y [T, D, B, H]; r.hN, r.cN [D, B, H]
      const y = layout ? permute(r.y, [2, 0, 1, 3]) : r.y;
      const out: Value[] = [y, layout ? permute(r.hN, [1, 0, 2]) : r.hN];
      if (r.cN) out.push(layout ? permute(r.cN, [1, 0, 2]) : r.cN);
      return out;
    };
  };
}

interface RunResult { y: Tensor; hN: Tensor; cN: Tensor | null }

/** PyTorch-compatible options on the fused layers: ONNX gates (LSTM i o f c; GRU z r h) regrouped to PyTorch's (i f g o; r z n). */
function runFused(s: Spec, x: Tensor, W: Tensor, R: Tensor, Bias: Tensor | null, h0: Tensor, c0: Tensor, lens: number[] | null): RunResult {
  const { H, kind } = s, D = s.dirs.length, G = GATES[kind];
  const [T, B] = x.shape;
  const order = kind === 'LSTM' ? [0, 2, 3, 1] : [1, 0, 2];
  const weights = s.dirs.map((_, d) => ({
    wIh: regroup(dir(W, d), 0, H, order),
    wHh: regroup(dir(R, d), 0, H, order),
    bIh: Bias ? regroup(slice(dir(Bias, d), 0, 0, G * H), 0, H, order) : null,
    bHh: Bias ? regroup(slice(dir(Bias, d), 0, G * H, 2 * G * H), 0, H, order) : null,
    wHr: null,
  }));
  // Variable lengths: the layers take the batch sorted by decreasing length (as nn.LSTM does).
  const sorter = new BatchOrder(lens, T, B, x);
  const sorted = lens ? sorter.sorted : null;
  let y: Tensor, hN: Tensor, cN: Tensor | null = null;
  if (kind === 'LSTM') {
    const r = lstmLayer(sorter.toSorted(x), sorter.toSorted(h0), sorter.toSorted(c0), weights, sorted);
    y = r.y; hN = r.hN; cN = sorter.toOriginal(r.cN);
  } else {
    const r = gruLayer(sorter.toSorted(x), sorter.toSorted(h0), weights, sorted);
    y = r.y; hN = r.hN;
  }
  y = permute(reshape(sorter.toOriginal(y), [T, B, D, H]), [0, 2, 1, 3]); // [T, D, B, H]
  return { y, hN: sorter.toOriginal(hN), cN };
}

/** Every option, one time step at a time on elementwise ops; sequence_lens by masking (state held, output zero past each length). */
function runSteps(s: Spec, n: NodeInfo, x: Tensor, W: Tensor, R: Tensor, Bias: Tensor | null, h0: Tensor, c0: Tensor,
  P: Tensor | null, lens: number[] | null): RunResult {
  const { H, kind } = s, G = GATES[kind];
  const [T, B, I] = x.shape;
  const clip = s.clip ?? ((t: Tensor) => t);
  const x2 = reshape(x, [T * B, I]);
  // masks[t] [B, 1]: 1 while t < sequence_lens[b]
  const masks = lens ? Array.from({ length: T }, (_, t) => floatTensor(n.dev, lens.map((l) => (t < l ? 1 : 0)), [B, 1])) : null;
  const ys: Tensor[] = [], hs: Tensor[] = [], cs: Tensor[] = [];
  s.dirs.forEach((direction, d) => {
    const [f, g, hAct] = s.acts[d];
    const Wd = dir(W, d), Rd = dir(R, d);
    const Bd = Bias ? dir(Bias, d) : null;
    const wb = Bd ? slice(Bd, 0, 0, G * H) : null, rb = Bd ? slice(Bd, 0, G * H, 2 * G * H) : null;
    let xw = matmul(x2, Wd, false, true); // [T*B, G*H]
    if (wb) xw = add(xw, wb);
    const block = (t: Tensor, k: number) => slice(t, 1, k * H, (k + 1) * H);
    let h = dir(h0, d), c = dir(c0, d);
    const out = new Array<Tensor>(T);
    for (let step = 0; step < T; step++) {
      const t = direction === 'forward' ? step : T - 1 - step;
      const xt = slice(xw, 0, t * B, (t + 1) * B); // [B, G*H]
      let hNew: Tensor, cNew: Tensor | null = null;
      if (kind === 'LSTM') {
        let hr = matmul(h, Rd, false, true);
        if (rb) hr = add(hr, rb);
        const pre = add(xt, hr); // gates i, o, f, c
        const peep = (k: number, cell: Tensor, pre: Tensor) => (P ? add(pre, mul(cell, slice(dir(P, d), 0, k * H, (k + 1) * H))) : pre);
        const i = f(clip(peep(0, c, block(pre, 0))));
        const fg = s.inputForget ? affine(i, -1, 1) : f(clip(peep(2, c, block(pre, 2))));
        const cand = g(clip(block(pre, 3)));
        cNew = add(mul(fg, c), mul(i, cand));
        const o = f(clip(peep(1, cNew, block(pre, 1))));
        hNew = mul(o, hAct(cNew));
      } else if (kind === 'GRU') {
        const Rzr = slice(Rd, 0, 0, 2 * H), Rh = slice(Rd, 0, 2 * H, 3 * H);
        let hzr = matmul(h, Rzr, false, true);
        if (rb) hzr = add(hzr, slice(rb, 0, 0, 2 * H));
        const z = f(clip(add(block(xt, 0), block(hzr, 0))));
        const r = f(clip(add(block(xt, 1), block(hzr, 1))));
        const rbh = rb ? slice(rb, 0, 2 * H, 3 * H) : null;
        let hh: Tensor;
        if (s.linearBeforeReset) {
          let hr = matmul(h, Rh, false, true);
          if (rbh) hr = add(hr, rbh);
          hh = add(block(xt, 2), mul(r, hr));
        } else {
          let hr = matmul(mul(r, h), Rh, false, true);
          if (rbh) hr = add(hr, rbh);
          hh = add(block(xt, 2), hr);
        }
        const cand = g(clip(hh));
        hNew = add(mul(affine(z, -1, 1), cand), mul(z, h)); // (1 - z) h~ + z h
      } else {
        let hr = matmul(h, Rd, false, true);
        if (rb) hr = add(hr, rb);
        hNew = f(clip(add(xt, hr)));
      }
      if (masks) {
        const m = masks[t];
        out[t] = mul(hNew, m);
        h = add(h, mul(sub(hNew, h), m));
        if (cNew) c = add(c, mul(sub(cNew, c), m));
      } else {
        out[t] = hNew; h = hNew;
        if (cNew) c = cNew;
      }
    }
    ys.push(stack(out, 0)); // [T, B, H]
    hs.push(h); cs.push(c);
  });
  return { y: stack(ys, 1), hN: stack(hs, 0), cN: kind === 'LSTM' ? stack(cs, 0) : null };
}

export const recurrentOps: Record<string, OpCompiler> = {
  LSTM: compileRecurrent('LSTM'), GRU: compileRecurrent('GRU'), RNN: compileRecurrent('RNN'),
};
