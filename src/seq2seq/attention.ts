import { add, tanh } from '../ops/elementwise.js';
import { matmul } from '../ops/matmul.js';
import { indexSelect, reshape } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import { Linear } from '../nn/linear.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Attention of a decoder state over the encoder's outputs, batched (every product a batched matmul):
 *   additive (Bahdanau et al. 2015): score(q, k) = v . tanh(W_k k + W_q q)
 *   general  (Luong et al. 2015):    score(q, k) = q . (W_a k)
 *   a = softmax over the source positions of each sequence (padding masked out), context = sum_s a_s k_s.
 * The key projections (W_k k, W_a k) depend only on the source: prepare() makes them once per
 * batch, step() runs per decoder step. Parameter names follow a PyTorch module with Linear
 * children: general `linear_in.weight` [Q, K]; additive `key.weight` [A, K], `query.weight` [A, Q], `v.weight` [1, A].
 */
export type AttentionKind = 'additive' | 'general';
export const ATTENTION_KINDS: readonly AttentionKind[] = ['additive', 'general'];

export interface AttentionConfig {
  kind: AttentionKind;
  /** Size of the query (the decoder's hidden state). */
  querySize: number;
  /** Size of each key (an encoder output: directions * hidden). */
  keySize: number;
  /** Additive only: size of the tanh layer (default querySize). */
  attnSize?: number;
}

/** What prepare() makes from one batch of encoder outputs. */
export interface AttentionMemory {
  keys: Tensor;     // [B, S, K] the encoder outputs (zero past each length)
  proj: Tensor;     // [B, S, A] W_k keys (additive) or [B, S, Q] W_a keys (general)
  maskBias: Tensor; // [B, 1, S] 0 at a sequence's positions, -1e9 past its length
  lengths: readonly number[];
}

/** Added to the score of a padded position: exp underflows to exactly 0 in f32 and f64. */
const MASKED = -1e9;

export class Attention extends Module {
  readonly kind: AttentionKind;
  private readonly linearIn: Linear | null = null;
  private readonly key: Linear | null = null;
  private readonly query: Linear | null = null;
  private readonly v: Linear | null = null;

  constructor(readonly config: AttentionConfig, opts?: ModuleOptions) {
    super(opts);
    if (!ATTENTION_KINDS.includes(config.kind)) throw new Error(`Attention: expected kind one of ${ATTENTION_KINDS.join(', ')}, got ${JSON.stringify(config.kind)}`);
    this.kind = config.kind;
    const Q = config.querySize, K = config.keySize, A = config.attnSize ?? Q;
    if (this.kind === 'general') {
      this.linearIn = this.addModule('linear_in', new Linear({ inFeatures: K, outFeatures: Q, bias: false }, opts));
    } else {
      this.key = this.addModule('key', new Linear({ inFeatures: K, outFeatures: A, bias: false }, opts));
      this.query = this.addModule('query', new Linear({ inFeatures: Q, outFeatures: A, bias: false }, opts));
      this.v = this.addModule('v', new Linear({ inFeatures: A, outFeatures: 1, bias: false }, opts));
    }
  }

  /** keys [B, S, K] with each sequence's length -> the memory step() attends over. */
  prepare(keys: Tensor, lengths: readonly number[]): AttentionMemory {
    const [B, S] = keys.shape;
    if (lengths.length !== B) throw new Error(`Attention.prepare: expected ${B} lengths (one per sequence), got ${lengths.length}`);
    const bias = new Float64Array(B * S);
    for (let b = 0; b < B; b++) {
      const n = lengths[b];
      if (!Number.isInteger(n) || n < 1 || n > S) throw new Error(`Attention.prepare: length ${n} of sequence ${b} is not in [1, ${S}]`);
      bias.fill(MASKED, b * S + n, (b + 1) * S);
    }
    const maskBias = new Tensor(keys.backend.upload(keys.dtype, bias), [B, 1, S]);
    const proj = this.kind === 'general' ? this.linearIn!.forward(keys) : this.key!.forward(keys);
    return { keys, proj, maskBias, lengths };
  }

  /** One decoder step: query [B, Q] -> context [B, K] and the weights [B, S] (zero past each length). */
  step(query: Tensor, m: AttentionMemory): { context: Tensor; weights: Tensor } {
    const [B, S, K] = m.keys.shape;
    let scores: Tensor; // [B, 1, S]
    if (this.kind === 'general') {
      scores = matmul(reshape(query, [B, 1, query.shape[1]]), m.proj, false, true);
    } else {
      const A = m.proj.shape[2];
      const e = tanh(add(m.proj, reshape(this.query!.forward(query), [B, 1, A]))); // [B, S, A]
      scores = reshape(this.v!.forward(e), [B, 1, S]);
    }
    const a = softmax(add(scores, m.maskBias), -1);        // [B, 1, S]
    const context = reshape(matmul(a, m.keys), [B, K]);     // [B, 1, S] x [B, S, K]
    return { context, weights: reshape(a, [B, S]) };
  }
}

/** The memory of the rows `rows` (i32 [N]) of a batch, in that order (beam search: a row per hypothesis). */
export function selectMemory(m: AttentionMemory, rows: Tensor, lengths: readonly number[]): AttentionMemory {
  return { keys: indexSelect(m.keys, rows), proj: indexSelect(m.proj, rows), maskBias: indexSelect(m.maskBias, rows), lengths };
}
