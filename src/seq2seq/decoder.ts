import { dropout } from '../ops/dropout.js';
import { concat, indexSelect, permute, reshape } from '../ops/shape.js';
import { tanh } from '../ops/elementwise.js';
import { makeCell, type RecurrentBlock } from '../models/cells.js';
import { Embedding } from '../nn/embedding.js';
import { GRU } from '../nn/gru.js';
import { Linear } from '../nn/linear.js';
import { LSTM } from '../nn/lstm.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';
import { Attention, type AttentionKind, type AttentionMemory } from './attention.js';

export interface DecoderConfig {
  /** An LSTM-family cell or gru (a decoder runs one step at a time from a state it is given). */
  cell: string;
  vocabSize: number;
  embedding: number;
  hidden: number;
  layers: number;
  attention: AttentionKind;
  /** Size of each encoder output (the attention's keys). */
  keySize: number;
  dropout: number;
}

/** The decoder's state between steps. */
export interface DecoderState {
  rnn: Tensor[]; // [h] (GRU) or [h, c] (LSTM family), each [L, N, H]
  feed: Tensor;  // [N, H] the previous attentional vector h~ (input feeding); zeros at the start
}

export interface DecoderStep {
  out: Tensor;     // [N, H] h~_t = tanh(W_c [context; h_t]), what the output layer reads
  weights: Tensor; // [N, S] attention weights
  state: DecoderState;
}

/**
 * Attentional decoder with input feeding (Luong et al. 2015), one step at a time:
 *   x_t = [embed(y_{t-1}); h~_{t-1}]       (input feeding: the last attentional vector goes back in)
 *   h_t = RNN(x_t, state)                   (one fused LSTM/GRU op over a single step)
 *   a_t, context_t = attention(h_t, encoder outputs)   (additive or general; attention.ts)
 *   h~_t = tanh(W_c [context_t; h_t]);  logits_t = W_out h~_t
 * Every layer's initial h is tanh(W_b summary) (the encoder outputs' mean, a bridge), c starts at 0.
 * Parameters: embedding.weight, rnn.*, bridge.*, attention.*, combine.weight, out.*.
 */
export class Decoder extends Module {
  readonly embedding: Embedding;
  readonly rnn: RecurrentBlock;
  readonly bridge: Linear;
  readonly attention: Attention;
  readonly combine: Linear;
  readonly out: Linear;
  private readonly stateCount: 1 | 2;

  constructor(readonly config: DecoderConfig, opts?: ModuleOptions) {
    super(opts);
    const c = config, H = c.hidden;
    this.embedding = this.addModule('embedding', new Embedding({ numEmbeddings: c.vocabSize, embeddingDim: c.embedding }, opts));
    this.rnn = makeCell(c.cell, { inputSize: c.embedding + H, hiddenSize: H, numLayers: c.layers, bidirectional: false, dropout: c.layers > 1 ? c.dropout : 0 }, opts ?? {});
    const m = this.rnn.module;
    if (m instanceof LSTM && m.projSize === 0) this.stateCount = 2;
    else if (m instanceof GRU) this.stateCount = 1;
    else throw new Error(`decoder cell ${c.cell}: expected an LSTM-family cell or gru (a decoder steps from a state [h] or [h, c])`);
    this.addModule('rnn', m);
    this.bridge = this.addModule('bridge', new Linear({ inFeatures: c.keySize, outFeatures: H }, opts));
    this.attention = this.addModule('attention', new Attention({ kind: c.attention, querySize: H, keySize: c.keySize }, opts));
    this.combine = this.addModule('combine', new Linear({ inFeatures: c.keySize + H, outFeatures: H, bias: false }, opts));
    this.out = this.addModule('out', new Linear({ inFeatures: H, outFeatures: c.vocabSize }, opts));
  }

  /** The state before the first step, from the encoder's summary [N, K]. */
  initialState(summary: Tensor): DecoderState {
    const N = summary.shape[0], H = this.config.hidden, L = this.config.layers;
    const h1 = reshape(tanh(this.bridge.forward(summary)), [1, N, H]);
    const h = L === 1 ? h1 : concat(Array.from({ length: L }, () => h1), 0);
    const zeros = (shape: number[]) => new Tensor(this.backend.alloc(this.dtype, shape.reduce((a, b) => a * b, 1)), shape);
    const rnn = this.stateCount === 2 ? [h, zeros([L, N, H])] : [h];
    return { rnn, feed: zeros([N, H]) };
  }

  /** Embedded previous tokens: ids i32 [N] -> [N, E] (dropout while training). */
  embed(ids: Tensor): Tensor {
    return dropout(this.embedding.forward(ids), this.config.dropout, this.rng, this.training);
  }

  /** One step from embedded inputs x [N, E]. */
  step(x: Tensor, st: DecoderState, memory: AttentionMemory): DecoderStep {
    const N = x.shape[0], H = this.config.hidden;
    const input = reshape(concat([x, st.feed], 1), [1, N, this.config.embedding + H]);
    const r = this.rnn.forward(input, st.rnn);
    const h = reshape(r.y, [N, H]);
    const { context, weights } = this.attention.step(h, memory);
    const out = tanh(this.combine.forward(concat([context, h], 1)));
    return { out, weights, state: { rnn: r.state, feed: out } };
  }

  /** Output scores of attentional vectors [..., H] -> [..., V] (dropout on h~ while training). */
  logits(out: Tensor): Tensor {
    return this.out.forward(dropout(out, this.config.dropout, this.rng, this.training));
  }

  /** The state of rows `rows` (i32 [M]) in that order (beam search). */
  selectState(st: DecoderState, rows: Tensor): DecoderState {
    const pick = (t: Tensor) => permute(indexSelect(permute(t, [1, 0, 2]), rows), [1, 0, 2]); // over [L, N, H]'s N
    return { rnn: st.rnn.map(pick), feed: indexSelect(st.feed, rows) };
  }
}
