import { Module, type ModuleOptions } from '../nn/module.js';
import { GraphBuilder, type AttrValue } from '../onnx/builder.js';
import { loadOnnxBytes, type OnnxInput, type OnnxModel } from '../onnx/model.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * TF.js Layers models (model.json topology + weight shards, as `model.save()` and
 * tensorflowjs_converter write them) as Carousel modules. The Keras layers are translated into an
 * ONNX graph (GraphBuilder) that OnnxModel runs: Keras's LSTM/GRU/SimpleRNN are ONNX's
 * LSTM/GRU/RNN with Keras's gate order regrouped (LSTM i f c o -> ONNX i o f c; GRU z r h is
 * ONNX's) and its activations (hard_sigmoid is ONNX HardSigmoid 0.2, 0.5); GRU reset_after
 * false / true is ONNX linear_before_reset 0 / 1. So every weight is a Parameter and the model
 * trains with fit.
 * Covered: Sequential models (or functional ones that are a single chain) of InputLayer, LSTM,
 * GRU, SimpleRNN, Bidirectional (merge concat, sum, mul, ave), Dense, TimeDistributed(Dense),
 * Embedding, Dropout, Activation.
 */
export interface TfjsWeightSpec { name: string; shape: number[]; dtype?: string; quantization?: unknown }
export interface TfjsModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: TfjsWeightSpec[] }[];
  format?: string;
}

type Json = Record<string, unknown>;

const KERAS_ACTS: Record<string, { op: string; attrs?: [number, number] | [number] }> = {
  tanh: { op: 'Tanh' }, sigmoid: { op: 'Sigmoid' }, hard_sigmoid: { op: 'HardSigmoid', attrs: [0.2, 0.5] }, hardSigmoid: { op: 'HardSigmoid', attrs: [0.2, 0.5] },
  relu: { op: 'Relu' }, linear: { op: 'Affine', attrs: [1, 0] }, softsign: { op: 'Softsign' }, softplus: { op: 'Softplus' }, elu: { op: 'Elu', attrs: [1] },
};

/** A TF.js Layers model: forward(x) takes Keras's layout ([batch, time, features], or [batch, time] ids) and returns the output. */
export class TfjsLayersModel extends Module {
  readonly graph: OnnxModel;
  constructor(graph: OnnxModel, opts: ModuleOptions = {}) {
    super({ backend: graph.backend, dtype: graph.dtype, ...opts });
    this.graph = this.addModule('graph', graph);
  }
  forward(x: OnnxInput): Tensor { return this.graph.forward({ input: x }).output; }
}

/** Weight values in manifest order, from the concatenated shards. */
export function readWeights(manifest: TfjsModelJson['weightsManifest'], data: Uint8Array): { spec: TfjsWeightSpec; data: Float32Array }[] {
  const out: { spec: TfjsWeightSpec; data: Float32Array }[] = [];
  let offset = 0;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const group of manifest ?? []) {
    for (const spec of group.weights) {
      if (spec.quantization) throw new Error(`TF.js weight '${spec.name}' is quantized: expected float32 weights`);
      if ((spec.dtype ?? 'float32') !== 'float32') throw new Error(`TF.js weight '${spec.name}' is ${spec.dtype}: expected float32`);
      const n = spec.shape.reduce((p, d) => p * d, 1);
      if (offset + 4 * n > data.length) throw new Error(`TF.js weights: '${spec.name}' [${spec.shape.join(', ')}] runs past the end of the weight data (${data.length} bytes)`);
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = view.getFloat32(offset + 4 * i, true);
      offset += 4 * n;
      out.push({ spec, data: values });
    }
  }
  if (offset !== data.length) throw new Error(`TF.js weights: the manifest describes ${offset} bytes, the shards hold ${data.length}`);
  return out;
}

/** The layers of a Sequential model, or of a functional model that is one chain. */
function layersOf(topology: unknown): Json[] {
  const t = (topology as Json | undefined);
  const root = (t && 'model_config' in t ? t.model_config : t) as Json | undefined;
  const cls = root?.class_name, config = root?.config as Json | undefined;
  const layers = (Array.isArray(config) ? config : config?.layers) as Json[] | undefined;
  if (!Array.isArray(layers)) throw new Error('TF.js model.json: expected a modelTopology with a layers list (a Layers model, not a graph model)');
  if (cls === 'Model' || cls === 'Functional') {
    // A chain: every layer after the first takes exactly the previous one.
    layers.forEach((l, i) => {
      const inbound = l.inbound_nodes as unknown[][] | undefined;
      const from = inbound?.[0]?.map((e) => (e as unknown[])[0]);
      if (i > 0 && (inbound?.length !== 1 || from?.length !== 1 || from[0] !== (layers[i - 1].config as Json).name)) {
        throw new Error(`TF.js model.json: layer '${String((l.config as Json).name)}' is not fed by the layer before it: only single-chain models are supported`);
      }
    });
  } else if (cls !== 'Sequential') throw new Error(`TF.js model.json: expected a Sequential or functional Model, got ${String(cls)}`);
  return layers;
}

/** Build the ONNX graph of a TF.js Layers model, then load it. */
export function tfjsLayersModel(json: TfjsModelJson, weightData: Uint8Array, opts: ModuleOptions = {}): TfjsLayersModel {
  const layers = layersOf(json.modelTopology);
  const weights = readWeights(json.weightsManifest, weightData);
  let wi = 0;
  const take = (layer: string, what: string, shape: number[]): Float32Array => {
    const w = weights[wi++];
    if (!w) throw new Error(`TF.js weights: layer '${layer}' needs its ${what} [${shape.join(', ')}], the manifest has no more weights`);
    if (w.spec.shape.join(',') !== shape.join(',')) throw new Error(`TF.js weights: layer '${layer}' ${what}: expected shape [${shape.join(', ')}], got '${w.spec.name}' [${w.spec.shape.join(', ')}]`);
    return w.data;
  };
  const g = new GraphBuilder('tfjs layers model');
  let x = '', feat = 0, rank = 0;
  const start = (cfg: Json, layerName: string, ids: boolean) => {
    const shape = cfg.batch_input_shape as (number | null)[] | undefined;
    if (x) return;
    if (!shape) throw new Error(`TF.js model.json: the first layer '${layerName}' has no batch_input_shape`);
    const dims = shape.map((d, i) => (d === null ? (i === 0 ? 'batch' : 'time') : d));
    x = g.input('input', ids ? 'int' : 'float', dims);
    rank = shape.length; feat = ids ? 0 : shape[shape.length - 1] as number;
    if (!ids && feat === null) throw new Error(`TF.js model.json: the first layer '${layerName}' has no feature size`);
  };
  const dense = (cfg: Json, name: string) => {
    const U = cfg.units as number, useBias = cfg.use_bias !== false;
    const k = take(name, 'kernel', [feat, U]);
    [x] = g.node('MatMul', [x, g.initializer(`${name}/kernel`, [feat, U], k)]);
    if (useBias) [x] = g.node('Add', [x, g.initializer(`${name}/bias`, [U], take(name, 'bias', [U]))]);
    x = activation(g, x, (cfg.activation as string) ?? 'linear', name);
    feat = U;
  };
  for (const layer of layers) {
    const cls = layer.class_name as string, cfg = (layer.config ?? {}) as Json;
    const name = String(cfg.name ?? cls);
    switch (cls) {
      case 'InputLayer': start(cfg, name, (cfg.dtype as string | undefined)?.startsWith('int') ?? false); break;
      case 'Embedding': {
        start(cfg, name, true);
        if (cfg.mask_zero) throw new Error(`TF.js layer '${name}': Embedding with mask_zero is not supported (masking changes the recurrent layers)`);
        const V = cfg.input_dim as number, E = cfg.output_dim as number;
        [x] = g.node('Gather', [g.initializer(`${name}/embeddings`, [V, E], take(name, 'embeddings', [V, E])), x]);
        feat = E; rank = 3;
        break;
      }
      case 'Dense': start(cfg, name, false); dense(cfg, name); break;
      case 'TimeDistributed': {
        const inner = cfg.layer as Json;
        start(cfg, name, false);
        if (inner.class_name === 'Dense') dense(inner.config as Json, name);
        else if (inner.class_name !== 'Dropout') throw new Error(`TF.js layer '${name}': TimeDistributed(${String(inner.class_name)}) is not supported (expected Dense or Dropout inside)`);
        break;
      }
      case 'Dropout': case 'SpatialDropout1D': start(cfg, name, false); break;
      case 'Activation': start(cfg, name, false); x = activation(g, x, cfg.activation as string, name); break;
      case 'LSTM': case 'GRU': case 'SimpleRNN': case 'Bidirectional': {
        start(cfg, name, false);
        if (rank !== 3) throw new Error(`TF.js layer '${name}': a recurrent layer needs a sequence [batch, time, features]`);
        const r = recurrent(g, x, feat, cls === 'Bidirectional' ? cfg.layer as Json : layer, cls === 'Bidirectional' ? cfg : null, name, take);
        x = r.x; feat = r.feat; rank = r.rank;
        break;
      }
      default:
        throw new Error(`TF.js layer '${name}' is a ${cls}: supported are InputLayer, LSTM, GRU, SimpleRNN, Bidirectional, Dense, TimeDistributed, Embedding, Dropout, Activation`);
    }
  }
  if (!x) throw new Error('TF.js model.json: the model has no layers');
  if (wi !== weights.length) throw new Error(`TF.js weights: ${weights.length - wi} weight(s) left over after the last layer (from '${weights[wi].spec.name}')`);
  g.node('Identity', [x], ['output']);
  g.output('output', 'float', rank === 3 ? ['batch', 'time', feat] : ['batch', feat]);
  return new TfjsLayersModel(loadOnnxBytes(g.bytes(14, 'carousel-tfjs'), opts), opts);
}

function activation(g: GraphBuilder, x: string, act: string, layer: string): string {
  switch (act) {
    case 'linear': case undefined: case null: return x;
    case 'relu': return g.node('Relu', [x])[0];
    case 'sigmoid': return g.node('Sigmoid', [x])[0];
    case 'tanh': return g.node('Tanh', [x])[0];
    case 'softmax': return g.node('Softmax', [x], 1, { axis: -1 })[0];
    default: throw new Error(`TF.js layer '${layer}': activation '${act}' is not supported here (expected linear, relu, sigmoid, tanh or softmax)`);
  }
}

/** ONNX block k takes Keras block ORDER[k]. */
const ORDER: Record<string, number[]> = { LSTM: [0, 3, 1, 2], GRU: [0, 1, 2], SimpleRNN: [0] };
const OP: Record<string, string> = { LSTM: 'LSTM', GRU: 'GRU', SimpleRNN: 'RNN' };

/** Keras [in, G*H] (columns in gate blocks) -> ONNX [G*H, in] with blocks regrouped. */
function toOnnx(k: Float32Array, inDim: number, H: number, order: readonly number[]): Float32Array {
  const G = order.length, out = new Float32Array(G * H * inDim);
  order.forEach((src, blk) => {
    for (let h = 0; h < H; h++) for (let i = 0; i < inDim; i++) out[(blk * H + h) * inDim + i] = k[i * G * H + src * H + h];
  });
  return out;
}
function vecToOnnx(b: ArrayLike<number>, H: number, order: readonly number[]): Float32Array {
  const out = new Float32Array(order.length * H);
  order.forEach((src, blk) => { for (let h = 0; h < H; h++) out[blk * H + h] = b[src * H + h]; });
  return out;
}

function recurrent(g: GraphBuilder, x: string, I: number, layer: Json, wrapper: Json | null, name: string,
  take: (layer: string, what: string, shape: number[]) => Float32Array): { x: string; feat: number; rank: number } {
  const cls = layer.class_name as string, cfg = layer.config as Json;
  if (!ORDER[cls]) throw new Error(`TF.js layer '${name}': Bidirectional(${cls}) is not supported (expected LSTM, GRU or SimpleRNN inside)`);
  for (const k of ['stateful', 'return_state']) if (cfg[k]) throw new Error(`TF.js layer '${name}': ${k} is not supported`);
  const H = cfg.units as number, G = ORDER[cls].length, order = ORDER[cls];
  const useBias = cfg.use_bias !== false, resetAfter = cls === 'GRU' && cfg.reset_after === true;
  const seqs = cfg.return_sequences === true;
  const backwards = !wrapper && cfg.go_backwards === true;
  const D = wrapper ? 2 : 1;
  const acts = (cls === 'LSTM' ? [cfg.recurrent_activation, cfg.activation, cfg.activation] : cls === 'GRU' ? [cfg.recurrent_activation, cfg.activation] : [cfg.activation])
    .map((a, i) => String(a ?? (i === 0 && cls !== 'SimpleRNN' ? 'hard_sigmoid' : 'tanh')));
  const onnxActs: string[] = [], alphas: number[] = [], betas: number[] = [];
  for (const a of acts) {
    const m = KERAS_ACTS[a];
    if (!m) throw new Error(`TF.js layer '${name}': activation '${a}' is not supported (expected one of ${Object.keys(KERAS_ACTS).join(', ')})`);
    onnxActs.push(m.op);
    if (m.attrs) { alphas.push(m.attrs[0]); if (m.attrs.length > 1) betas.push(m.attrs[1]!); }
  }
  const W: Float32Array[] = [], R: Float32Array[] = [], B: Float32Array[] = [];
  for (let d = 0; d < D; d++) {
    const who = wrapper ? `${name} (${d ? 'backward' : 'forward'})` : name;
    W.push(toOnnx(take(who, 'kernel', [I, G * H]), I, H, order));
    R.push(toOnnx(take(who, 'recurrent_kernel', [H, G * H]), H, H, order));
    if (useBias) {
      const b = take(who, 'bias', resetAfter ? [2, G * H] : [G * H]);
      const wb = vecToOnnx(b.subarray(0, G * H), H, order);
      const rb = resetAfter ? vecToOnnx(b.subarray(G * H), H, order) : new Float32Array(G * H);
      B.push(Float32Array.from([...wb, ...rb]));
    }
  }
  const cat = (xs: Float32Array[]) => Float32Array.from(xs.flatMap((a) => Array.from(a)));
  const [xt] = g.node('Transpose', [x], 1, { perm: [1, 0, 2] }); // [T, B, I]
  const inputs = [xt, g.initializer(`${name}/W`, [D, G * H, I], cat(W)), g.initializer(`${name}/R`, [D, G * H, H], cat(R))];
  if (useBias) inputs.push(g.initializer(`${name}/B`, [D, 2 * G * H], cat(B)));
  const attrs: Record<string, AttrValue> = {
    hidden_size: H, direction: wrapper ? 'bidirectional' : backwards ? 'reverse' : 'forward',
    activations: wrapper ? [...onnxActs, ...onnxActs] : onnxActs,
  };
  if (alphas.length) attrs.activation_alpha = { floats: wrapper ? [...alphas, ...alphas] : alphas };
  if (betas.length) attrs.activation_beta = { floats: wrapper ? [...betas, ...betas] : betas };
  if (cls === 'GRU') attrs.linear_before_reset = resetAfter ? 1 : 0;
  const [Y, Yh] = g.node(OP[cls], inputs, 2, attrs, name);
  const mode = wrapper ? (wrapper.merge_mode ?? 'concat') as string : 'concat';
  if (!['concat', 'sum', 'mul', 'ave'].includes(mode)) throw new Error(`TF.js layer '${name}': merge_mode '${mode}' is not supported (expected concat, sum, mul or ave)`);
  // seqs: Y [T, D, B, H] -> [B, T, D, H]; else Y_h [D, B, H] -> [B, D, H]. Then merge the directions.
  let y = seqs ? Y : Yh;
  // go_backwards alone returns its outputs in the order it read them: last step first.
  if (seqs && backwards) [y] = g.node('Slice', [y, g.ints([-1]), g.ints([-(2 ** 31)]), g.ints([0]), g.ints([-1])]);
  [y] = g.node('Transpose', [y], 1, { perm: seqs ? [2, 0, 1, 3] : [1, 0, 2] });
  const dAxis = seqs ? 2 : 1;
  if (D === 1 || mode === 'concat') {
    [y] = g.node('Reshape', [y, g.ints(seqs ? [0, 0, -1] : [0, -1])]);
    return { x: y, feat: D * H, rank: seqs ? 3 : 2 };
  }
  const part = (d: number) => g.node('Squeeze', [g.node('Slice', [y, g.ints([d]), g.ints([d + 1]), g.ints([dAxis])])[0], g.ints([dAxis])])[0];
  let m = g.node(mode === 'mul' ? 'Mul' : 'Add', [part(0), part(1)])[0];
  if (mode === 'ave') [m] = g.node('Mul', [m, g.initializer(g.fresh('half'), [1], [0.5])]);
  return { x: m, feat: H, rank: seqs ? 3 : 2 };
}
