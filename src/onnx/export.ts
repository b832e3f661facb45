import { Embedding } from '../nn/embedding.js';
import { GRU } from '../nn/gru.js';
import { Linear } from '../nn/linear.js';
import { LSTM } from '../nn/lstm.js';
import type { Module, TensorData } from '../nn/module.js';
import { SequenceModel } from '../models/sequenceModel.js';
import { GraphBuilder } from './builder.js';

/**
 * Carousel models as ONNX files (opset 14, float32 weights, dynamic batch and time axes):
 *   a task model (SequenceModel with an lstm or gru cell):
 *     forecast / classify: x [time, batch, inputSize] -> y [batch, outputSize]
 *       (the head reads the last layer's final hidden state, both directions, as forwardLast does)
 *     charlm: ids [time, batch] (int64), h0 [layers, batch, H] (and c0 for LSTM)
 *       -> logits [time, batch, vocab], h_n, c_n (the state to carry to the next chunk)
 *   a stack of LSTM / GRU / Linear / Embedding modules, each feeding the next:
 *     input -> output (an Embedding takes int64 ids; LSTM and GRU keep their batchFirst layout
 *     and pass on their output sequence)
 * The recurrent layers become ONNX LSTM / GRU nodes with the weights regrouped from PyTorch's gate
 * order (i f g o; r z n) into ONNX's (i o f c; z r h), GRU with linear_before_reset=1.
 */
export type Exportable = SequenceModel | Module | readonly Module[];

/** ONNX block k takes PyTorch block ORDER[k]. */
const LSTM_ORDER = [0, 3, 1, 2], GRU_ORDER = [1, 0, 2];

export async function onnxBytes(model: Exportable): Promise<Uint8Array> {
  if (model instanceof SequenceModel) return taskModelGraph(model, await model.readStateDict()).bytes(14);
  const mods = Array.isArray(model) ? [...model as readonly Module[]] : [model as Module];
  if (!mods.length) throw new Error('exportOnnx: expected a model, a module or a non-empty list of modules, got an empty list');
  return stackGraph(mods, await Promise.all(mods.map((m) => m.readStateDict()))).bytes(14);
}

/** Rows of `data` [G*H, ...] (G blocks of H rows of `width`) regrouped: block k of the result is block order[k]. */
function regroup(data: ArrayLike<number>, H: number, width: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * H * width);
  order.forEach((src, k) => { for (let i = 0; i < H * width; i++) out[k * H * width + i] = data[src * H * width + i]; });
  return out;
}

function concatF(parts: readonly ArrayLike<number>[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(Array.from(p), o); o += p.length; }
  return out;
}

interface RecurrentOut { y: string; hN: string; cN: string | null }

/**
 * The layers of an LSTM or GRU (time-major x [T, B, I]) as ONNX nodes: y [T, B, D*H] and the
 * final states [L*D, B, H]; h0 / c0 (names of [L*D, B, H] values) or zeros.
 */
function emitRecurrent(g: GraphBuilder, m: LSTM | GRU, dict: Map<string, TensorData>, prefix: string, x: string, h0: string | null, c0: string | null): RecurrentOut {
  const lstm = m instanceof LSTM;
  if (lstm && (m.projSize || m.cell)) {
    throw new Error(`exportOnnx: ${prefix || 'LSTM'}: an LSTM with ${m.projSize ? 'a projection (projSize)' : 'peepholes or a Greff variant'} has no ONNX LSTM equivalent here: expected a standard nn.LSTM`);
  }
  const G = lstm ? 4 : 3, order = lstm ? LSTM_ORDER : GRU_ORDER;
  const H = m.hiddenSize, D = m.numDirections, L = m.numLayers;
  const get = (n: string) => {
    const t = dict.get(n);
    if (!t) throw new Error(`exportOnnx: missing parameter ${prefix}${n}`);
    return t.data;
  };
  const hs: string[] = [], cs: string[] = [];
  let input = x;
  for (let l = 0; l < L; l++) {
    const I = l === 0 ? m.inputSize : H * D;
    const sfx = (d: number) => `_l${l}${d ? '_reverse' : ''}`;
    const dirs = Array.from({ length: D }, (_, d) => d);
    const W = g.initializer(`${prefix}W_l${l}`, [D, G * H, I], concatF(dirs.map((d) => regroup(get(`weight_ih${sfx(d)}`), H, I, order))));
    const R = g.initializer(`${prefix}R_l${l}`, [D, G * H, H], concatF(dirs.map((d) => regroup(get(`weight_hh${sfx(d)}`), H, H, order))));
    const B = m.bias ? g.initializer(`${prefix}B_l${l}`, [D, 2 * G * H], concatF(dirs.flatMap((d) => [
      regroup(get(`bias_ih${sfx(d)}`), H, 1, order), regroup(get(`bias_hh${sfx(d)}`), H, 1, order)]))) : '';
    const layerRows = (s: string | null) => (s ? (L === 1 ? s : g.node('Slice', [s, g.ints([l * D]), g.ints([(l + 1) * D]), g.ints([0])])[0]) : '');
    const inputs = [input, W, R, B, '', layerRows(h0)];
    if (lstm) inputs.push(layerRows(c0));
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const outs = g.node(lstm ? 'LSTM' : 'GRU', inputs, lstm ? 3 : 2, {
      hidden_size: H, direction: D === 2 ? 'bidirectional' : 'forward', ...(lstm ? {} : { linear_before_reset: 1 }),
    }, `${prefix}${lstm ? 'lstm' : 'gru'}_l${l}`);
    // Y [T, D, B, H] -> [T, B, D*H]
    input = D === 1
      ? g.node('Squeeze', [outs[0], g.ints([1])])[0]
      : g.node('Reshape', [g.node('Transpose', [outs[0]], 1, { perm: [0, 2, 1, 3] })[0], g.ints([0, 0, -1])])[0];
    hs.push(outs[1]);
    if (lstm) cs.push(outs[2]);
  }
  const cat = (xs: string[]) => (xs.length === 1 ? xs[0] : g.node('Concat', xs, 1, { axis: 0 })[0]);
  return { y: input, hN: cat(hs), cN: lstm ? cat(cs) : null };
}

function taskModelGraph(model: SequenceModel, dict: Map<string, TensorData>): GraphBuilder {
  const a = model.arch;
  if (a.cell !== 'lstm' && a.cell !== 'gru') throw new Error(`exportOnnx: a model with cell '${a.cell}' has no ONNX operator: expected cell lstm or gru`);
  const rnn = model.rnn.module;
  // A derived model (quantized weights, for one) has other modules in these places: refuse it rather than misread it.
  if (!(rnn instanceof LSTM || rnn instanceof GRU) || !(model.head instanceof Linear)) {
    throw new Error(`exportOnnx: expected a float model with an nn.LSTM / nn.GRU core and a Linear head, got ${rnn.constructor.name} and ${model.head.constructor.name}`);
  }
  const sub = (prefix: string) => new Map([...dict].filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t]));
  const g = new GraphBuilder(`carousel ${a.task} ${a.cell}`);
  const H = a.hiddenSize, D = a.bidirectional ? 2 : 1, L = a.numLayers;
  const head = (x: string, inF: number, out: string) => g.node('Gemm', [x, g.initializer('head.weight', [a.outputSize, inF], dict.get('head.weight')!.data),
    g.initializer('head.bias', [a.outputSize], dict.get('head.bias')!.data)], [out], { transB: 1 }, 'head');
  if (a.task === 'charlm') {
    g.input('ids', 'int', ['time', 'batch']);
    g.input('h0', 'float', [L, 'batch', H]);
    if (a.cell === 'lstm') g.input('c0', 'float', [L, 'batch', H]);
    const [e] = g.node('Gather', [g.initializer('embed.weight', [a.vocabSize!, a.inputSize], dict.get('embed.weight')!.data), 'ids'], 1, {}, 'embed');
    const r = emitRecurrent(g, rnn, sub('rnn.'), 'rnn.', e, 'h0', a.cell === 'lstm' ? 'c0' : null);
    const [flat] = g.node('Reshape', [r.y, g.ints([-1, H])]);
    const [logits2] = head(flat, H, 'logits_flat');
    const [shape] = g.node('Concat', [g.node('Shape', ['ids'])[0], g.ints([a.outputSize])], 1, { axis: 0 });
    g.node('Reshape', [logits2, shape], ['logits']);
    g.node('Identity', [r.hN], ['h_n']);
    g.output('logits', 'float', ['time', 'batch', a.outputSize]);
    g.output('h_n', 'float', [L, 'batch', H]);
    if (r.cN) { g.node('Identity', [r.cN], ['c_n']); g.output('c_n', 'float', [L, 'batch', H]); }
    return g;
  }
  g.input('x', 'float', ['time', 'batch', a.inputSize]);
  const r = emitRecurrent(g, rnn, sub('rnn.'), 'rnn.', 'x', null, null);
  // The last layer's directions side by side: hN [L*D, B, H] -> [B, D*H] (SequenceModel.lastHidden).
  const last = L === 1 ? r.hN : g.node('Slice', [r.hN, g.ints([(L - 1) * D]), g.ints([L * D]), g.ints([0])])[0];
  const [feat] = g.node('Reshape', [g.node('Transpose', [last], 1, { perm: [1, 0, 2] })[0], g.ints([0, -1])]);
  head(feat, D * H, 'y');
  g.output('y', 'float', ['batch', a.outputSize]);
  return g;
}

function stackGraph(mods: Module[], dicts: Map<string, TensorData>[]): GraphBuilder {
  const g = new GraphBuilder('carousel module stack');
  const first = mods[0];
  if (first instanceof Embedding) g.input('input', 'int', ['time', 'batch']);
  else if (first instanceof LSTM || first instanceof GRU) g.input('input', 'float', first.batchFirst ? ['batch', 'time', first.inputSize] : ['time', 'batch', first.inputSize]);
  else if (first instanceof Linear) g.input('input', 'float', ['batch', first.config.inFeatures]);
  let x = 'input';
  let dims: (number | string)[] = [];
  mods.forEach((m, k) => {
    const p = `m${k}.`;
    const dict = dicts[k];
    if (m instanceof Embedding) {
      if (k > 0) throw new Error(`exportOnnx: module ${k} is an Embedding: an Embedding takes token ids, so it can only come first`);
      [x] = g.node('Gather', [g.initializer(`${p}weight`, [m.config.numEmbeddings, m.config.embeddingDim], dict.get('weight')!.data), x], 1, {}, `${p}embedding`);
      dims = ['time', 'batch', m.config.embeddingDim];
    } else if (m instanceof LSTM || m instanceof GRU) {
      const xt = m.batchFirst ? g.node('Transpose', [x], 1, { perm: [1, 0, 2] })[0] : x;
      const r = emitRecurrent(g, m, dict, p, xt, null, null);
      x = m.batchFirst ? g.node('Transpose', [r.y], 1, { perm: [1, 0, 2] })[0] : r.y;
      const w = m.hiddenSize * m.numDirections;
      dims = m.batchFirst ? ['batch', 'time', w] : ['time', 'batch', w];
    } else if (m instanceof Linear) {
      const { inFeatures: I, outFeatures: O } = m.config;
      const w = dict.get('weight')!.data;
      const wt = new Float32Array(I * O); // [I, O] = weight^T, for MatMul over any leading dimensions
      for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = w[o * I + i];
      [x] = g.node('MatMul', [x, g.initializer(`${p}weight_t`, [I, O], wt)], 1, {}, `${p}linear`);
      if (m.bias) [x] = g.node('Add', [x, g.initializer(`${p}bias`, [O], dict.get('bias')!.data)]);
      dims = k === 0 ? ['batch', O] : [...dims.slice(0, -1), O];
    } else {
      throw new Error(`exportOnnx: module ${k} is a ${m.constructor.name}: expected LSTM, GRU, Linear or Embedding (or a task model)`);
    }
  });
  g.node('Identity', [x], ['output']);
  g.output('output', 'float', dims);
  return g;
}
