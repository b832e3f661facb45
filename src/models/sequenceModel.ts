import { noGrad } from '../autograd/tape.js';
import { Embedding } from '../nn/embedding.js';
import { Linear } from '../nn/linear.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { indexSelect, permute, reshape, slice } from '../ops/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLayers, checkParameterCount, checkWidth } from '../io/limits.js';
import { describe } from '../io/errors.js';
import { cellFactories, makeCell, type RecurrentBlock } from './cells.js';
import { countParameters, parameterShapes } from './parameterShapes.js';

export type TaskKind = 'forecast' | 'classify' | 'charlm';

/**
 * Everything needed to rebuild a task model (saved as model.json "architecture").
 * forecast / classify: x [T, B, inputSize] -> rnn -> last hidden of the last layer (both
 *   directions) -> Linear -> [B, outputSize].
 * charlm: ids [T, B] -> Embedding(vocab, embeddingDim) -> rnn -> Linear -> logits [T*B, vocab].
 */
export interface Architecture {
  task: TaskKind;
  cell: string;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  dropout: number;
  outputSize: number;
  /** charlm only: vocabulary size (= outputSize) and embedding width (= inputSize). */
  vocabSize?: number;
}

const KEYS = ['task', 'cell', 'inputSize', 'hiddenSize', 'numLayers', 'bidirectional', 'dropout', 'outputSize', 'vocabSize'];

export function checkArchitecture(a: unknown, where = 'architecture'): Architecture {
  if (typeof a !== 'object' || a === null) throw new Error(`${where}: expected an object`);
  const o = a as Record<string, unknown>;
  const extra = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (extra.length) throw new Error(`${where}: unknown field(s) ${extra.join(', ')}`);
  if (!['forecast', 'classify', 'charlm'].includes(o.task as string)) throw new Error(`${where}.task: expected forecast, classify or charlm, got ${describe(o.task)}`);
  if (typeof o.cell !== 'string') throw new Error(`${where}.cell: expected a string, got ${describe(o.cell)}`);
  if (!cellFactories.has(o.cell)) throw new Error(`${where}.cell: unknown cell ${describe(o.cell)}: expected one of ${[...cellFactories.keys()].join(', ')}`);
  for (const k of ['inputSize', 'hiddenSize', 'numLayers', 'outputSize'] as const) {
    if (!Number.isInteger(o[k]) || (o[k] as number) < 1) throw new Error(`${where}.${k}: expected a positive integer, got ${describe(o[k])}`);
    if (k === 'numLayers') checkLayers(`${where}.${k}`, o[k] as number); else checkWidth(`${where}.${k}`, o[k] as number);
  }
  if (typeof o.bidirectional !== 'boolean') throw new Error(`${where}.bidirectional: expected true or false, got ${describe(o.bidirectional)}`);
  if (typeof o.dropout !== 'number' || !(o.dropout >= 0 && o.dropout < 1)) throw new Error(`${where}.dropout: expected a number in [0, 1), got ${describe(o.dropout)}`);
  if (o.task === 'charlm') {
    if (o.bidirectional) throw new Error(`${where}: a character language model predicts the next character and cannot be bidirectional`);
    if (!Number.isInteger(o.vocabSize) || o.vocabSize !== o.outputSize) throw new Error(`${where}.vocabSize: expected an integer equal to outputSize (${o.outputSize}), got ${describe(o.vocabSize)}`);
  } else if (o.vocabSize !== undefined) throw new Error(`${where}.vocabSize: only a charlm model has a vocabulary, got ${describe(o.vocabSize)}`);
  // The size of what the constructor would allocate, before it allocates it.
  const shapes = parameterShapes(o as unknown as Architecture);
  if (shapes) checkParameterCount(`${where}`, countParameters(shapes));
  return o as unknown as Architecture;
}

/** A model's recurrent core and head, built by a derived model instead of the float ones (src/quant). */
export interface ModelParts { rnn: RecurrentBlock; head: Module & { forward(x: Tensor): Tensor } }

export class SequenceModel extends Module {
  readonly arch: Architecture;
  readonly embed: Embedding | null;
  readonly rnn: RecurrentBlock;
  readonly head: Module & { forward(x: Tensor): Tensor };

  constructor(arch: Architecture, opts: ModuleOptions = {}, parts?: (arch: Architecture, opts: ModuleOptions) => ModelParts) {
    super(opts);
    this.arch = checkArchitecture(arch);
    const a = this.arch;
    this.embed = a.task === 'charlm' ? this.addModule('embed', new Embedding({ numEmbeddings: a.vocabSize!, embeddingDim: a.inputSize }, opts)) : null;
    const p = parts?.(a, opts);
    this.rnn = p?.rnn ?? makeCell(a.cell, { inputSize: a.inputSize, hiddenSize: a.hiddenSize, numLayers: a.numLayers, bidirectional: a.bidirectional, dropout: a.dropout }, opts);
    this.addModule('rnn', this.rnn.module);
    const feat = this.rnn.outputSize * (a.task === 'charlm' ? 1 : this.rnn.numDirections);
    this.head = this.addModule('head', p?.head ?? new Linear({ inFeatures: feat, outFeatures: a.outputSize }, opts));
  }

  /** Tensor on this model's backend. */
  input(values: ArrayLike<number>, shape: readonly number[], dtype: 'f32' | 'i32' = 'f32'): Tensor {
    return new Tensor(this.backend.upload(dtype === 'i32' ? 'i32' : this.dtype, values), shape);
  }

  /**
   * Sequence-to-one (forecast, classify): x [T, B, I], per-sequence lengths -> [B, outputSize].
   * With bptt < T (fixed-length sequences only), the first chunks run without gradient and their
   * final state, detached, starts the last chunk: truncated backpropagation through time.
   */
  forwardLast(x: Tensor, lengths?: readonly number[] | null, bptt = 0): Tensor {
    const T = x.shape[0];
    let state: Tensor[] | null = null;
    let start = 0;
    if (bptt > 0 && T > bptt) {
      if (lengths && lengths.some((l) => l !== T)) throw new Error('truncated BPTT over a sequence-to-one model needs equal-length sequences');
      start = T - bptt;
      // The last bptt steps get gradients; the steps before run in chunks of bptt without.
      noGrad(() => {
        for (let s = 0, e = 0; s < start; s = e) {
          e = Math.min(s + bptt, start);
          state = this.rnn.forward(slice(x, 0, s, e), state).state.map(detach);
        }
      });
      x = slice(x, 0, start, T);
      lengths = null;
    }
    const r = this.rnn.forward(x, state, lengths);
    return this.head.forward(this.summarize(r, lengths ?? null));
  }

  /** What a sequence-to-one head reads from a recurrent pass: [B, features]. */
  summarize(r: { y: Tensor; state: readonly Tensor[] }, lengths: readonly number[] | null): Tensor {
    if (this.rnn.summary !== 'output') return this.lastHidden(r.state[0]);
    // y [T, B, H] at each sequence's last valid step (row (len_b - 1) * B + b of y as [T*B, H]).
    const [T, B, H] = r.y.shape;
    const rows = Array.from({ length: B }, (_, b) => ((lengths ? lengths[b] : T) - 1) * B + b);
    return indexSelect(reshape(r.y, [T * B, H]), new Tensor(this.backend.upload('i32', rows), [B]));
  }

  /** hN [L*D, B, H] -> the last layer's directions side by side [B, D*H]. */
  lastHidden(hN: Tensor): Tensor {
    const D = this.rnn.numDirections, L = this.rnn.numLayers, B = hN.shape[1], H = hN.shape[2];
    const last = slice(hN, 0, (L - 1) * D, L * D); // [D, B, H]
    return D === 1 ? reshape(last, [B, H]) : reshape(permute(last, [1, 0, 2]), [B, D * H]);
  }

  /** charlm: ids [T, B] (i32) with a carried state -> logits [T*B, vocab] and the new state. */
  forwardLM(ids: Tensor, state: readonly Tensor[] | null): { logits: Tensor; state: Tensor[] } {
    const [T, B] = ids.shape;
    const e = this.embed!.forward(ids); // [T, B, E]
    const r = this.rnn.forward(e, state);
    const logits = this.head.forward(reshape(r.y, [T * B, this.rnn.outputSize]));
    return { logits, state: r.state };
  }
}

/** The same values with no history: gradients stop here (state carried between BPTT chunks). */
export function detach(t: Tensor): Tensor {
  return new Tensor(t.storage, t.shape);
}
