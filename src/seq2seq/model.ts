import { noGrad } from '../autograd/tape.js';
import { crossEntropy } from '../loss/crossEntropy.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { concat, reshape, stack } from '../ops/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { AttentionKind } from './attention.js';
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';
import { BOS, EOS, PAD } from './vocab.js';

export interface Seq2SeqConfig {
  /** Encoder cell: any of the registry. */
  cell: string;
  /** Decoder cell: LSTM family or gru. */
  decoderCell: string;
  srcVocab: number;
  tgtVocab: number;
  embedding: number;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  attention: AttentionKind;
  dropout: number;
}

/** A padded batch, time-major. */
export interface Batch {
  B: number;
  S: number;
  T: number;
  src: Int32Array;        // [S, B] source ids, PAD past each length
  srcLengths: number[];   // [B]
  tgtIn: Int32Array;      // [T, B] <s> y_1 .. y_n, PAD after
  tgtOut: Int32Array;     // [T, B] y_1 .. y_n </s>, IGNORE after
  /** Target tokens the loss counts (each sequence's tokens and its </s>). */
  tokens: number;
}

/** Target id that cross-entropy skips (padding). */
export const IGNORE = -100;

/** Pad a batch of id sequences (sources non-empty; targets without <s>/</s>). */
export function makeBatch(src: readonly (readonly number[])[], tgt: readonly (readonly number[])[]): Batch {
  const B = src.length;
  if (B === 0 || tgt.length !== B) throw new Error(`makeBatch: expected as many targets as sources (at least one), got ${B} and ${tgt.length}`);
  const S = Math.max(...src.map((s) => s.length)), T = Math.max(...tgt.map((t) => t.length)) + 1;
  const s = new Int32Array(S * B).fill(PAD), ti = new Int32Array(T * B).fill(PAD), to = new Int32Array(T * B).fill(IGNORE);
  let tokens = 0;
  for (let b = 0; b < B; b++) {
    if (src[b].length === 0) throw new Error(`makeBatch: source ${b} is empty`);
    src[b].forEach((id, t) => { s[t * B + b] = id; });
    const y = tgt[b];
    ti[b] = BOS;
    for (let t = 0; t < y.length; t++) { ti[(t + 1) * B + b] = y[t]; to[t * B + b] = y[t]; }
    to[y.length * B + b] = EOS;
    tokens += y.length + 1;
  }
  return { B, S, T, src: s, srcLengths: src.map((x) => x.length), tgtIn: ti, tgtOut: to, tokens };
}

/**
 * Encoder-decoder with attention (Sutskever et al. 2014; Bahdanau et al. 2015; Luong et al. 2015).
 * Parameter names: encoder.* and decoder.* (see Encoder, Decoder).
 */
export class Seq2Seq extends Module {
  readonly encoder: Encoder;
  readonly decoder: Decoder;

  constructor(readonly config: Seq2SeqConfig, opts?: ModuleOptions) {
    super(opts);
    const c = config;
    this.encoder = this.addModule('encoder', new Encoder({ cell: c.cell, vocabSize: c.srcVocab, embedding: c.embedding, hidden: c.hidden, layers: c.layers, bidirectional: c.bidirectional, dropout: c.dropout }, opts));
    this.decoder = this.addModule('decoder', new Decoder({
      cell: c.decoderCell, vocabSize: c.tgtVocab, embedding: c.embedding, hidden: c.hidden, layers: c.layers,
      attention: c.attention, keySize: this.encoder.outputSize, dropout: c.dropout,
    }, opts));
  }

  ids(values: ArrayLike<number>, shape: number[]): Tensor { return new Tensor(this.backend.upload('i32', values), shape); }

  /** Encode a batch's sources: the attention memory and the decoder's first state. */
  start(b: Pick<Batch, 'src' | 'S' | 'B' | 'srcLengths'>) {
    const enc = this.encoder.forward(this.ids(b.src, [b.S, b.B]), b.srcLengths);
    const memory = this.decoder.attention.prepare(enc.keys, b.srcLengths);
    return { memory, state: this.decoder.initialState(enc.summary) };
  }

  /**
   * Teacher-forced decoding of a batch: logits [T*B, V] (time-major rows) and the attention
   * weights of every step ([T] of [B, S]). Scheduled sampling (Bengio et al. 2015): with
   * probability `sampling` per sequence and step, the input is the model's own previous
   * prediction (argmax) instead of the reference token; `draw` gives uniform [0, 1) numbers.
   */
  teacherForced(b: Batch, sampling = 0, draw: () => number = () => 1): { logits: Tensor; weights: Tensor[] } {
    let { memory, state } = this.start(b);
    const B = b.B, dec = this.decoder;
    const outs: Tensor[] = [], logits: Tensor[] = [], weights: Tensor[] = [];
    let prev: Int32Array | null = null; // [B] the previous step's predictions (scheduled sampling)
    for (let t = 0; t < b.T; t++) {
      const input = b.tgtIn.slice(t * B, (t + 1) * B);
      if (prev) for (let i = 0; i < B; i++) if (input[i] !== PAD && draw() < sampling) input[i] = prev[i];
      const r = dec.step(dec.embed(this.ids(input, [B])), state, memory);
      state = r.state;
      weights.push(r.weights);
      if (sampling > 0) {
        const l = dec.logits(r.out); // [B, V]
        logits.push(l);
        if (t + 1 < b.T) prev = noGrad(() => argmaxRows(l));
      } else {
        outs.push(r.out);
      }
    }
    const all = sampling > 0 ? concat(logits, 0) : dec.logits(reshape(stack(outs, 0), [b.T * B, this.config.hidden]));
    return { logits: all, weights };
  }

  /** Mean cross-entropy over a batch's target tokens (their </s> included). */
  loss(b: Batch, sampling = 0, draw?: () => number): Tensor {
    return crossEntropy(this.teacherForced(b, sampling, draw).logits, b.tgtOut, 'mean', IGNORE);
  }
}

/** The index of each row's largest value: x [N, V] -> [N]. */
export function argmaxRows(x: Tensor): Int32Array {
  const [N, V] = x.shape, v = x.dataSync(), out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = 0;
    for (let k = 1; k < V; k++) if (v[n * V + k] > v[n * V + best]) best = k;
    out[n] = best;
  }
  return out;
}
