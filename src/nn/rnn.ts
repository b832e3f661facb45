import { noGrad } from '../autograd/tape.js';
import { indexSelect, permute, slice } from '../ops/shape.js';
import { checkLengths } from '../ops/recurrent.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import { checkFinite } from '../ops/checks.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLayers, checkParameterCount, checkWidth } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';

/** Options shared by the recurrent modules (torch.nn.LSTM / nn.GRU names, camelCase). */
export interface RecurrentConfig {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  bidirectional?: boolean;
  /** Dropout on each layer's outputs except the last (training only). */
  dropout?: number;
}

export const recurrentKeys = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'dropout'];

/**
 * What LSTM, GRU and their relatives share: option checking, PyTorch's parameter naming, and
 * the packed-sequence plumbing (sorting the batch by length, batch-first layout, restoring order).
 */
export abstract class RecurrentBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly numDirections: 1 | 2;
  readonly dropoutP: number;

  constructor(readonly kind: string, config: RecurrentConfig, extraKeys: readonly string[], opts?: ModuleOptions) {
    super(opts);
    if (typeof config !== 'object' || config === null) throw new Error(`${kind}: expected a config object`);
    checkOptions(kind, config, [...recurrentKeys, ...extraKeys]);
    this.inputSize = checkWidth(`${kind}.inputSize`, checkPositiveInt(`${kind}.inputSize`, config.inputSize));
    this.hiddenSize = checkWidth(`${kind}.hiddenSize`, checkPositiveInt(`${kind}.hiddenSize`, config.hiddenSize));
    this.numLayers = checkLayers(`${kind}.numLayers`, checkPositiveInt(`${kind}.numLayers`, config.numLayers ?? 1));
    for (const k of ['bias', 'batchFirst', 'bidirectional'] as const) {
      if (config[k] !== undefined && typeof config[k] !== 'boolean') throw new Error(`${kind}.${k}: expected true or false, got ${JSON.stringify(config[k])}`);
    }
    this.bias = config.bias ?? true;
    this.batchFirst = config.batchFirst ?? false;
    this.numDirections = config.bidirectional ? 2 : 1;
    this.dropoutP = config.dropout ?? 0;
    if (typeof this.dropoutP !== 'number' || !(this.dropoutP >= 0 && this.dropoutP < 1)) {
      throw new Error(`${kind}.dropout: expected a probability in [0, 1), got ${JSON.stringify(config.dropout)}`);
    }
  }

  /** Refuse a stack whose parameters (perLayer(input width of layer l) values per direction) exceed LIMITS. */
  protected checkSize(perLayer: (inputWidth: number) => number, upperInput: number): void {
    const D = this.numDirections;
    checkParameterCount(this.kind, D * (perLayer(this.inputSize) + (this.numLayers - 1) * perLayer(upperInput)));
  }

  /** PyTorch's suffix for layer l, direction d: `_l0`, `_l0_reverse`. */
  protected suffix(l: number, d: number): string { return `_l${l}${d === 1 ? '_reverse' : ''}`; }

  /** Layer l's rows [D, B, size] of a state [L*D, B, size] (the state itself for one layer: no copy). */
  protected layerSlice(s: Tensor, l: number): Tensor {
    const D = this.numDirections;
    return this.numLayers === 1 ? s : slice(s, 0, l * D, (l + 1) * D);
  }

  /** x as [T, B, I], validated. */
  protected timeMajor(x: Tensor): Tensor {
    if (x.rank !== 3) {
      throw new Error(`${this.kind}: expected input of shape ${this.batchFirst ? '[B, T, I]' : '[T, B, I]'} (rank 3), got ${fmt(x.shape)}`);
    }
    const I = x.shape[2];
    if (I !== this.inputSize) throw new Error(`${this.kind}: expected input size ${this.inputSize} in the last dimension, got ${fmt(x.shape)}`);
    if (x.backend !== this.backend || x.dtype !== this.dtype) {
      throw new Error(`${this.kind}: input is ${x.dtype} on ${x.backend.name}, the module is ${this.dtype} on ${this.backend.name}`);
    }
    checkFinite(`${this.kind} input`, x);
    return this.batchFirst ? permute(x, [1, 0, 2]) : x;
  }

  /** A state argument [L*D, B, size], or zeros. */
  protected initialState(name: string, s: Tensor | null | undefined, B: number, size: number): Tensor {
    const want = [this.numLayers * this.numDirections, B, size];
    if (!s) return new Tensor(this.backend.alloc(this.dtype, want[0] * B * size), want);
    if (s.rank !== 3 || s.shape.some((d, i) => d !== want[i])) throw new Error(`${this.kind}: expected ${name} of shape ${fmt(want)}, got ${fmt(s.shape)}`);
    checkFinite(`${this.kind} ${name}`, s);
    return s;
  }
}

/**
 * Sorting of a batch by decreasing length (pack_padded_sequence with enforce_sorted=False).
 * order[i] = original index of the i-th longest sequence; stable, so equal lengths keep order.
 */
export class BatchOrder {
  readonly sorted: Int32Array;       // lengths in decreasing order
  private readonly order: Tensor | null;   // i32 [B]: sorted position -> original row
  private readonly inverse: Tensor | null; // i32 [B]: original row -> sorted position

  constructor(lengths: ArrayLike<number> | null | undefined, T: number, B: number, like: Tensor) {
    if (!lengths) { this.sorted = new Int32Array(B).fill(T); this.order = this.inverse = null; return; }
    checkLengths(lengths, T, B);
    const idx = Array.from({ length: B }, (_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
    this.sorted = Int32Array.from(idx, (i) => lengths[i]);
    const identity = idx.every((v, i) => v === i);
    if (identity) { this.order = this.inverse = null; return; }
    const inv = new Int32Array(B);
    idx.forEach((orig, pos) => { inv[orig] = pos; });
    this.order = noGrad(() => new Tensor(like.backend.upload('i32', idx), [B]));
    this.inverse = noGrad(() => new Tensor(like.backend.upload('i32', inv), [B]));
  }

  /** Rows of axis 1 ([T, B, ...] or [L*D, B, ...]) into sorted order. */
  toSorted(t: Tensor): Tensor { return this.order ? selectAxis1(t, this.order) : t; }
  /** Back to the caller's order. */
  toOriginal(t: Tensor): Tensor { return this.inverse ? selectAxis1(t, this.inverse) : t; }
}

function selectAxis1(t: Tensor, idx: Tensor): Tensor {
  const dims = [1, 0, ...t.shape.slice(2).map((_, i) => i + 2)];
  return permute(indexSelect(permute(t, dims), idx), dims);
}
