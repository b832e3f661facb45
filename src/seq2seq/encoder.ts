import { dropout } from '../ops/dropout.js';
import { matmul } from '../ops/matmul.js';
import { permute, reshape } from '../ops/shape.js';
import { makeCell, type RecurrentBlock } from '../models/cells.js';
import { Embedding } from '../nn/embedding.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';

export interface EncoderConfig {
  /** Any cell of the registry (src/models/cells.ts). */
  cell: string;
  vocabSize: number;
  embedding: number;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  /** Dropout on the embeddings and between layers (training only). */
  dropout: number;
}

export interface Encoded {
  keys: Tensor;    // [B, S, D*H] batch-major outputs for attention (zero past each length)
  summary: Tensor; // [B, D*H] mean of the outputs over each sequence's positions (starts the decoder)
}

/**
 * The source side: embedding, then a recurrent core of the cell registry over the whole batch at
 * once (each LSTM layer one fused op with per-sequence lengths), bidirectional if asked.
 * Parameters: `embedding.weight`, `rnn.*` (torch.nn.LSTM / GRU names).
 */
export class Encoder extends Module {
  readonly embedding: Embedding;
  readonly rnn: RecurrentBlock;
  readonly outputSize: number;

  constructor(readonly config: EncoderConfig, opts?: ModuleOptions) {
    super(opts);
    const c = config;
    this.embedding = this.addModule('embedding', new Embedding({ numEmbeddings: c.vocabSize, embeddingDim: c.embedding }, opts));
    this.rnn = makeCell(c.cell, { inputSize: c.embedding, hiddenSize: c.hidden, numLayers: c.layers, bidirectional: c.bidirectional, dropout: c.layers > 1 ? c.dropout : 0 }, opts ?? {});
    this.addModule('rnn', this.rnn.module);
    this.outputSize = this.rnn.outputSize * this.rnn.numDirections;
  }

  /** src: i32 ids [S, B] time-major, padded; lengths [B] (each >= 1). */
  forward(src: Tensor, lengths: readonly number[]): Encoded {
    const [S, B] = src.shape;
    const x = dropout(this.embedding.forward(src), this.config.dropout, this.rng, this.training); // [S, B, E]
    const y = this.rnn.forward(x, null, lengths).y;                                                 // [S, B, D*H]
    const keys = permute(y, [1, 0, 2]);                                                             // [B, S, D*H]
    // Masked mean as one batched product: w [B, 1, S] = 1/len on a sequence's positions.
    const w = new Float64Array(B * S);
    for (let b = 0; b < B; b++) w.fill(1 / lengths[b], b * S, b * S + lengths[b]);
    const wt = new Tensor(src.backend.upload(keys.dtype, w), [B, 1, S]);
    const summary = reshape(matmul(wt, keys), [B, this.outputSize]);
    return { keys, summary };
  }
}
