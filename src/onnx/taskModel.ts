import type { ModuleOptions, TensorData } from '../nn/module.js';
import { logSoftmax, softmax } from '../ops/softmax.js';
import { permute, reshape } from '../ops/shape.js';
import { noGrad } from '../autograd/tape.js';
import { SequenceModel, type Architecture, type TaskKind } from '../models/sequenceModel.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import type { OnnxModel } from './model.js';
import { Attrs, nodeLabel } from './node.js';
import type { OnnxNodeProto } from './proto.js';

/**
 * Recognise one of Carousel's task models in an ONNX graph (what `carousel import` needs to write
 * a model directory): LSTM or GRU layers with PyTorch's cell (default activations, no clip, no
 * peepholes; GRU with linear_before_reset=1), a Linear head (Gemm, or MatMul + Add) over the last
 * layer's final hidden state (forecast / classify) or over every step's output after an
 * Embedding (a Gather of a float table by integer ids: charlm), optionally a final Softmax /
 * LogSoftmax. The weights are read into a SequenceModel, which is then run next to the graph on
 * random inputs, time-major and batch-first: the import succeeds only where they agree.
 */
export interface RecognisedModel {
  model: SequenceModel;
  /** How the graph takes its sequences. */
  layout: 'time-major' | 'batch-first';
  /** A Softmax or LogSoftmax the graph applies after the head (the task model outputs logits). */
  finalActivation: 'Softmax' | 'LogSoftmax' | null;
  /** Largest difference between the graph and the model on the check's random inputs. */
  maxDifference: number;
}

const EXPECTED = 'expected a Carousel task model: LSTM or GRU layers (PyTorch\'s cell) and a Linear head over the last hidden state '
  + '(forecast, classify) or over each step after an Embedding (charlm)';

/** ONNX block k holds PyTorch block ORDER[k]; PyTorch block j is ONNX block INV[j]. */
const INV = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2] } as const;

function regroup(data: ArrayLike<number>, H: number, width: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * H * width);
  order.forEach((src, k) => { for (let i = 0; i < H * width; i++) out[k * H * width + i] = data[src * H * width + i]; });
  return out;
}

export function recogniseTaskModel(onnx: OnnxModel, opts: ModuleOptions & { task?: TaskKind } = {}): RecognisedModel {
  const nodes = onnx.proto.graph?.node ?? [];
  const params = new Map(onnx.namedParameters());
  const value = (name: string): TensorData | null => {
    const p = params.get(name);
    return p ? { shape: [...p.shape], data: p.dataSync() } : null;
  };
  const fail = (why: string): never => { throw new Error(`${EXPECTED}; ${why}`); };

  const rec = nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.op_type === 'LSTM' || n.op_type === 'GRU');
  if (!rec.length) fail(`got no LSTM or GRU node (operators: ${[...new Set(onnx.operators)].join(', ') || 'none'})`);
  const kind = rec[0].n.op_type as 'LSTM' | 'GRU';
  if (rec.some(({ n }) => n.op_type !== kind)) fail('got both LSTM and GRU layers');
  const G = kind === 'LSTM' ? 4 : 3;
  let H = 0, D = 0, inputSize = 0;
  const dict = new Map<string, TensorData>();
  const used = new Set<string>();
  rec.forEach(({ n, i }, l) => {
    const label = nodeLabel(n, i);
    const a = new Attrs(label, n.attribute ?? []);
    const acts = a.strings('activations');
    const std = kind === 'LSTM' ? ['Sigmoid', 'Tanh', 'Tanh'] : ['Sigmoid', 'Tanh'];
    if (acts && acts.some((x, k) => x !== std[k % std.length])) fail(`${label} has activations ${acts.join(', ')} (PyTorch's cell: ${std.join(', ')})`);
    if (a.has('clip')) fail(`${label} clips its gates`);
    if (a.int('input_forget', 0)) fail(`${label} couples its input and forget gates (input_forget)`);
    if (kind === 'GRU' && a.int('linear_before_reset', 0) !== 1) fail(`${label} has linear_before_reset=0 (nn.GRU applies the reset gate after the linear map: 1)`);
    const dir = a.string('direction', 'forward');
    if (dir === 'reverse') fail(`${label} runs in reverse only`);
    const inputs = n.input ?? [];
    if (inputs[7]) fail(`${label} has peepholes`);
    const [W, R, B] = [inputs[1], inputs[2], inputs[3]].map((nm) => (nm ? value(nm) : null));
    if (!W || !R) fail(`${label}: its weights W and R are not initializers`);
    if (inputs[3] && !B) fail(`${label}: its bias B is not an initializer`);
    for (const nm of inputs.slice(1, 4)) if (nm) used.add(nm);
    const h = a.int('hidden_size', 0), d = dir === 'bidirectional' ? 2 : 1;
    if (l === 0) { H = h; D = d; inputSize = W!.shape[2]; } else if (h !== H || d !== D) fail(`${label} differs in hidden_size or direction from the first layer`);
    const I = W!.shape[2];
    if (l > 0 && I !== D * H) fail(`${label} takes ${I} inputs, not the previous layer's ${D * H} outputs`);
    for (let k = 0; k < D; k++) {
      const sfx = `_l${l}${k ? '_reverse' : ''}`;
      const slab = (t: TensorData, rows: number, width: number) => Array.prototype.slice.call(t.data, k * rows * width, (k + 1) * rows * width) as number[];
      dict.set(`rnn.weight_ih${sfx}`, { shape: [G * H, I], data: regroup(slab(W!, G * H, I), H, I, INV[kind]) });
      dict.set(`rnn.weight_hh${sfx}`, { shape: [G * H, H], data: regroup(slab(R!, G * H, H), H, H, INV[kind]) });
      const b = B ? slab(B, 2 * G * H, 1) : new Array<number>(2 * G * H).fill(0);
      dict.set(`rnn.bias_ih${sfx}`, { shape: [G * H], data: regroup(b.slice(0, G * H), H, 1, INV[kind]) });
      dict.set(`rnn.bias_hh${sfx}`, { shape: [G * H], data: regroup(b.slice(G * H), H, 1, INV[kind]) });
    }
  });

  // The embedding: a Gather of a 2-D float initializer by a graph input of integers.
  const intInputs = new Set(onnx.inputs.filter((i) => i.elemType === 'int').map((i) => i.name));
  const gathers = nodes.filter((n) => n.op_type === 'Gather' && n.input?.[0] && value(n.input[0])?.shape.length === 2 && intInputs.has(n.input?.[1] ?? ''));
  if (gathers.length > 1) fail('got more than one embedding table');
  const embed = gathers.length ? value(gathers[0].input![0])! : null;
  if (embed) { dict.set('embed.weight', embed); used.add(gathers[0].input![0]); }

  const task: TaskKind = opts.task ?? (embed ? 'charlm' : onnx.outputs.length && /^(Log)?Softmax$/.test(producer(nodes, onnx.outputs[0].name)?.op_type ?? '') ? 'classify' : 'forecast');
  if (task === 'charlm' && !embed) fail('a charlm model starts with an embedding of integer ids, and this graph has none');
  if (task !== 'charlm' && embed) fail(`a ${task} model takes float features, and this graph embeds integer ids (a charlm model)`);
  if (task === 'charlm' && D === 2) fail('a character language model cannot be bidirectional');
  if (embed && embed.shape[1] !== inputSize) fail(`the embedding width ${embed.shape[1]} differs from the first layer's input size ${inputSize}`);
  const headIn = task === 'charlm' ? H : D * H;

  // The head: the one Gemm / MatMul with a 2-D float initializer, and its bias.
  const heads: { weight: TensorData; bias: TensorData | null }[] = [];
  for (const n of nodes) {
    const ins = n.input ?? [];
    if (n.op_type === 'Gemm') {
      const w = value(ins[1]);
      if (!w || w.shape.length !== 2) continue;
      const a = new Attrs('Gemm', n.attribute ?? []);
      if (a.int('transA', 0) || a.float('alpha', 1) !== 1 || a.float('beta', 1) !== 1) fail(`${n.name}: a Gemm with transA, alpha or beta is not a Linear layer`);
      const weight = a.int('transB', 0) ? w : transpose(w);
      heads.push({ weight, bias: ins[2] ? value(ins[2]) : null });
      used.add(ins[1]); if (ins[2]) used.add(ins[2]);
    } else if (n.op_type === 'MatMul') {
      const w = value(ins[1]);
      if (!w || w.shape.length !== 2) continue;
      // A following Add of a 1-D initializer is the bias.
      const add = nodes.find((m) => m.op_type === 'Add' && (m.input ?? []).includes(n.output?.[0] ?? '\0'));
      const bName = add?.input?.find((x) => x !== n.output?.[0]) ?? '';
      const bias = value(bName);
      heads.push({ weight: transpose(w), bias: bias && bias.shape.length === 1 ? bias : null });
      used.add(ins[1]); if (bias) used.add(bName);
    }
  }
  if (heads.length !== 1) fail(`got ${heads.length} Linear layers (Gemm or MatMul with a weight initializer), expected one head`);
  const head = heads[0];
  if (head.weight.shape[1] !== headIn) fail(`the head takes ${head.weight.shape[1]} inputs, expected ${headIn} (${task === 'charlm' ? 'hidden size' : 'directions x hidden size'})`);
  const outputSize = head.weight.shape[0];
  dict.set('head.weight', head.weight);
  dict.set('head.bias', head.bias ?? { shape: [outputSize], data: new Float32Array(outputSize) });
  const unused = [...params.keys()].filter((p) => !used.has(p));
  if (unused.length) fail(`got weights that are not part of it: ${unused.slice(0, 5).join(', ')}`);

  const arch: Architecture = {
    task, cell: kind.toLowerCase(), inputSize, hiddenSize: H, numLayers: rec.length, bidirectional: D === 2, dropout: 0, outputSize,
    ...(task === 'charlm' ? { vocabSize: embed!.shape[0] } : {}),
  };
  if (task === 'charlm' && arch.vocabSize !== outputSize) fail(`the head predicts ${outputSize} classes for a vocabulary of ${arch.vocabSize}`);
  const model = new SequenceModel(arch, { backend: onnx.backend, dtype: onnx.dtype, ...opts });
  model.loadStateDict(dict);
  model.eval();
  const out = producer(nodes, onnx.outputs[0]?.name ?? '')?.op_type;
  const finalActivation = out === 'Softmax' || out === 'LogSoftmax' ? out : null;
  return { model, finalActivation, ...check(onnx, model, finalActivation) };
}

function producer(nodes: readonly OnnxNodeProto[], value: string): OnnxNodeProto | undefined {
  let n = nodes.find((m) => (m.output ?? []).includes(value));
  while (n && n.op_type === 'Identity') { const src = n.input?.[0] ?? ''; n = nodes.find((m) => (m.output ?? []).includes(src)); }
  return n;
}

function transpose(t: TensorData): TensorData {
  const [r, c] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return { shape: [c, r], data: out };
}

/** Run graph and model on the same random sequences, in both layouts; the one they agree in. */
function check(onnx: OnnxModel, model: SequenceModel, act: 'Softmax' | 'LogSoftmax' | null): { layout: RecognisedModel['layout']; maxDifference: number } {
  const a = model.arch, rng = new Rng(1234);
  const seqIn = onnx.inputs.find((i) => i.elemType === (a.task === 'charlm' ? 'int' : 'float'));
  if (!seqIn) throw new Error(`${EXPECTED}; got no ${a.task === 'charlm' ? 'integer' : 'float'} graph input for the sequences`);
  const fixed = (k: number, dflt: number) => (typeof seqIn.dims?.[k] === 'number' ? seqIn.dims[k] as number : dflt);
  const diffs: string[] = [];
  for (const layout of ['time-major', 'batch-first'] as const) {
    const bf = layout === 'batch-first';
    const T = fixed(bf ? 1 : 0, 5), B = fixed(bf ? 0 : 1, 3);
    const n = T * B * (a.task === 'charlm' ? 1 : a.inputSize);
    const values = Array.from({ length: n }, () => (a.task === 'charlm' ? Math.floor(rng.uniform(0, a.vocabSize!)) % a.vocabSize! : rng.uniform(-1, 1)));
    const shape = a.task === 'charlm' ? (bf ? [B, T] : [T, B]) : (bf ? [B, T, a.inputSize] : [T, B, a.inputSize]);
    const feed: Record<string, { data: number[]; shape: number[] }> = { [seqIn.name]: { data: values, shape } };
    // Other inputs (initial states): zeros, the batch in place of each dynamic dimension.
    for (const i of onnx.inputs) {
      if (i === seqIn) continue;
      const dims = (i.dims ?? []).map((d) => (typeof d === 'number' ? d : B));
      feed[i.name] = { data: new Array<number>(dims.reduce((p, d) => p * d, 1)).fill(0), shape: dims };
    }
    let graphOut: Float32Array | Float64Array, want: Float32Array | Float64Array;
    try {
      graphOut = noGrad(() => onnx.forward(feed)[onnx.outputs[0].name].dataSync()) as Float32Array;
    } catch (e) { diffs.push(`${layout}: the graph fails (${(e as Error).message})`); continue; }
    want = noGrad(() => {
      const tm = model.input(values, shape, a.task === 'charlm' ? 'i32' : 'f32');
      const x = bf ? permute(tm, a.task === 'charlm' ? [1, 0] : [1, 0, 2]) : tm;
      let y: Tensor;
      if (a.task === 'charlm') {
        y = model.forwardLM(x, null).logits; // [T*B, V]
        if (bf) y = reshape(permute(reshape(y, [T, B, a.outputSize]), [1, 0, 2]), [T * B, a.outputSize]);
      } else y = model.forwardLast(x);
      if (act) y = act === 'Softmax' ? softmax(y, -1) : logSoftmax(y, -1);
      return y.dataSync();
    }) as Float32Array;
    if (graphOut.length !== want.length) { diffs.push(`${layout}: the graph gives ${graphOut.length} values, the model ${want.length}`); continue; }
    let d = 0;
    for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(graphOut[k] - want[k]));
    if (d <= 1e-4) return { layout, maxDifference: d };
    diffs.push(`${layout}: outputs differ by up to ${d.toPrecision(3)}`);
  }
  throw new Error(`${EXPECTED}; the graph's weights fit a ${a.task} model but it computes something else (${diffs.join('; ')})`);
}
