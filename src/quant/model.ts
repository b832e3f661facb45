import type { ModuleOptions } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { GRU } from '../nn/gru.js';
import type { LSTM } from '../nn/lstm.js';
import { LSTMVariant } from '../nn/lstm-variants.js';
import { LSTM_VARIANTS, type LstmVariant } from '../ops/lstm-cell.js';
import { SequenceModel, type Architecture, type ModelParts } from '../models/sequenceModel.js';
import type { RecurrentBlock } from '../models/cells.js';
import { checkOptions } from '../tensor/check.js';
import { fmt } from '../tensor/shape.js';
import { Rng } from '../tensor/random.js';
import type { Parameter } from '../tensor/tensor.js';
import { lstmConfigOf, QUANTIZABLE_CELLS } from './cells.js';
import { QuantGRU } from './gru.js';
import { QuantLinear } from './linear.js';
import { QuantLSTM } from './lstm.js';
import { WEIGHT_SCHEMES, type WeightScheme } from './scheme.js';
import { INFERENCE_ONLY, type HasQuantized, type WeightSource } from './source.js';
import { QuantizedWeight } from './weight.js';

export interface QuantizeOptions {
  /** How the LSTM / GRU / Linear weight matrices are stored. */
  weights: WeightScheme;
}


/** `src` seen through a name prefix (the model's `rnn.` / `head.`). */
function under(src: WeightSource, prefix: string): WeightSource {
  return { float: (n, s) => src.float(prefix + n, s), quant: (n, r, c) => src.quant(prefix + n, r, c) };
}

function parts(a: Architecture, scheme: WeightScheme, src: WeightSource, opts: ModuleOptions): ModelParts {
  const spec = { inputSize: a.inputSize, hiddenSize: a.hiddenSize, numLayers: a.numLayers, bidirectional: a.bidirectional, dropout: a.dropout };
  const lstm = lstmConfigOf(a.cell);
  let rnn: RecurrentBlock;
  if (lstm) {
    const m = new QuantLSTM({ ...spec, ...lstm }, under(src, 'rnn.'), opts);
    rnn = {
      module: m, outputSize: m.outputSize, numDirections: m.numDirections, numLayers: m.numLayers,
      forward(x, state, lengths) {
        const r = m.forward(x, { h0: state?.[0] ?? null, c0: state?.[1] ?? null, lengths: lengths ?? null });
        return { y: r.y, state: [r.hN, r.cN] };
      },
      stream: (batch) => m.stream(batch),
    };
  } else if (a.cell === 'gru') {
    const m = new QuantGRU(spec, under(src, 'rnn.'), opts);
    rnn = {
      module: m, outputSize: m.outputSize, numDirections: m.numDirections, numLayers: m.numLayers,
      forward(x, state, lengths) {
        const r = m.forward(x, { h0: state?.[0] ?? null, lengths: lengths ?? null });
        return { y: r.y, state: [r.hN] };
      },
      stream: (batch) => m.stream(batch),
    };
  } else {
    throw new Error(`quantize: cell '${a.cell}' has no quantized form: expected one of ${QUANTIZABLE_CELLS.join(', ')}`);
  }
  const feat = rnn.outputSize * (a.task === 'charlm' ? 1 : rnn.numDirections);
  return { rnn, head: new QuantLinear(feat, a.outputSize, true, under(src, 'head.'), opts) };
}

/**
 * A task model (SequenceModel: forwardLast, forwardLM, StreamingModel, the CLI) whose recurrent
 * weight matrices and head weight are stored quantized; the embedding, biases and peepholes stay
 * f32. Inference only: train() refuses.
 */
export class QuantizedModel extends SequenceModel {
  readonly scheme: WeightScheme;

  constructor(arch: Architecture, scheme: WeightScheme, src: WeightSource, opts: ModuleOptions = {}) {
    if (!WEIGHT_SCHEMES.includes(scheme)) throw new Error(`quantize weights: expected one of ${WEIGHT_SCHEMES.join(', ')}, got ${JSON.stringify(scheme)}`);
    if ((opts.dtype ?? 'f32') !== 'f32') throw new Error(`quantize: a quantized model computes in f32, got dtype ${opts.dtype}`);
    // Its own generator: the embedding's throwaway initial values must not advance the caller's.
    super(arch, { ...opts, rng: new Rng(1) }, (a, o) => parts(a, scheme, src, o));
    this.scheme = scheme;
    if (this.embed) {
      const shape = [...this.embed.weight.shape];
      this.embed.loadStateDict({ weight: { shape, data: src.float('embed.weight', shape) } });
    }
    this.eval();
  }

  override train(on = true): this {
    if (on) throw new Error(`train: ${INFERENCE_ONLY}`);
    return super.train(false);
  }

  /** The quantized weights by their model names (`rnn.weight_ih_l0`, `head.weight`). */
  quantizedWeights(): [string, QuantizedWeight][] {
    const out: [string, QuantizedWeight][] = [];
    for (const [prefix, m] of [['rnn.', this.rnn.module], ['head.', this.head]] as const) {
      for (const [n, w] of (m as unknown as HasQuantized).quantized) out.push([prefix + n, w]);
    }
    return out;
  }

  /** Bytes of the weights as stored (quantized matrices, their scales, the f32 rest). */
  get weightBytes(): number {
    return this.quantizedWeights().reduce((s, [, w]) => s + w.bytes, 0) + 4 * this.numParameters();
  }
}

/** A source reading a float module's parameters (by name) and quantizing its weight matrices. */
function fromParameters(params: Map<string, Parameter>, scheme: WeightScheme, what: string, alias?: (n: string) => string): WeightSource {
  const get = (n: string, shape: readonly number[]) => {
    const p = params.get(n) ?? (alias ? params.get(alias(n)) : undefined);
    if (!p) throw new Error(`${what}: no parameter '${n}'`);
    if (fmt(p.shape) !== fmt(shape)) throw new Error(`${what}: '${n}': expected shape ${fmt(shape)}, got ${fmt(p.shape)}`);
    return p;
  };
  return {
    float: (n, s) => get(n, s).dataSync(),
    quant: (n, r, c) => { const p = get(n, [r, c]); return QuantizedWeight.quantize(p.backend, scheme, p.dataSync(), r, c, n); },
  };
}

function checkScheme(o: QuantizeOptions): WeightScheme {
  if (typeof o !== 'object' || o === null) throw new Error(`quantize: expected options { weights: ${WEIGHT_SCHEMES.join(' | ')} }, got ${o === null ? 'null' : typeof o}`);
  checkOptions('quantize', o, ['weights']);
  if (!WEIGHT_SCHEMES.includes(o.weights)) throw new Error(`quantize weights: expected one of ${WEIGHT_SCHEMES.join(', ')}, got ${JSON.stringify(o.weights)}`);
  return o.weights;
}

/**
 * A model for inference whose LSTM / GRU / Linear weights are stored quantized
 * (src/quant/scheme.ts): int8 per output row with f32 scales and int8 activations, or bf16 / f16
 * weights widened in the kernel. The float model is left as it is. CPU backends (the weights are
 * read without waiting).
 */
export function quantize(model: SequenceModel, options: QuantizeOptions): QuantizedModel {
  const scheme = checkScheme(options);
  if (model instanceof QuantizedModel) throw new Error(`quantize: the model is already quantized (${model.scheme}); quantize the float model`);
  if (!(model instanceof SequenceModel)) throw new Error('quantize: expected a task model (SequenceModel); for one layer use quantizeLayer');
  if (model.dtype !== 'f32') throw new Error(`quantize: expected an f32 model, got ${model.dtype}`);
  return new QuantizedModel(model.arch, scheme, fromParameters(new Map(model.namedParameters()), scheme, 'quantize'), { backend: model.backend });
}

/** One layer quantized: LSTM (any cell, projection included) -> QuantLSTM, GRU -> QuantGRU, Linear -> QuantLinear. */
export function quantizeLayer(m: LSTM, options: QuantizeOptions): QuantLSTM;
export function quantizeLayer(m: GRU, options: QuantizeOptions): QuantGRU;
export function quantizeLayer(m: Linear, options: QuantizeOptions): QuantLinear;
export function quantizeLayer(m: LSTM | GRU | Linear, options: QuantizeOptions): QuantLSTM | QuantGRU | QuantLinear {
  const scheme = checkScheme(options), opts = { backend: m.backend };
  if (m.dtype !== 'f32') throw new Error(`quantizeLayer: expected an f32 layer, got ${m.dtype}`);
  const params = new Map(m.namedParameters());
  if (m instanceof Linear) {
    const c = m.config;
    return new QuantLinear(c.inFeatures, c.outFeatures, c.bias !== false, fromParameters(params, scheme, 'quantizeLayer'), opts);
  }
  const base = { inputSize: m.inputSize, hiddenSize: m.hiddenSize, numLayers: m.numLayers, bias: m.bias, batchFirst: m.batchFirst, bidirectional: m.numDirections === 2 };
  if (m instanceof GRU) return new QuantGRU(base, fromParameters(params, scheme, 'quantizeLayer'), opts);
  // LSTMVariant names a single-layer, one-direction stack's parameters without the `_l0` suffix.
  const alias = m instanceof LSTMVariant ? (n: string) => n.replace(/_l0$/, '') : undefined;
  const variant = (Object.keys(LSTM_VARIANTS) as LstmVariant[]).find((v) => LSTM_VARIANTS[v] === m.cell);
  return new QuantLSTM({ ...base, projSize: m.projSize, ...(variant ? { variant } : {}) }, fromParameters(params, scheme, 'quantizeLayer', alias), opts);
}
