import { dropout } from '../ops/dropout.js';
import { lstmLayer, type LstmWeights } from '../ops/lstm.js';
import { gateOrder, peepholeNames, resolveLstmCell, type LstmCellSpec, type LstmVariant } from '../ops/lstm-cell.js';
import { concat, permute } from '../ops/shape.js';
import { checkOptions } from '../tensor/check.js';
import type { Tensor } from '../tensor/tensor.js';
import { LSTMStream } from './lstmStream.js';
import type { ModuleOptions } from './module.js';
import { BatchOrder, RecurrentBase, type RecurrentConfig } from './rnn.js';

export interface LSTMConfig extends RecurrentConfig {
  /** LSTMP: project h to this size (0: no projection). */
  projSize?: number;
  /**
   * Peephole connections (Gers et al. 2002): weight_ci/cf/co{suffix} [H]; i and f see c_{t-1},
   * o sees c_t. Alone it is Greff's vanilla V; with a variant it must agree with the variant.
   */
  peepholes?: boolean;
  /**
   * One of Greff et al.'s variants (V, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR) or LSTM1997, as
   * options of the same fused cell (src/ops/lstm-cell.ts). Weights stack only the gates that
   * exist, in order (i, f, g, o); FGR adds weight_gr{suffix} [3H, 3H]. Not with projSize.
   */
  variant?: LstmVariant;
}

export interface LSTMForwardOptions {
  h0?: Tensor | null; // [L*D, B, Hout]
  c0?: Tensor | null; // [L*D, B, H]
  /** Per-sequence lengths (packed-sequence semantics); any order. */
  lengths?: ArrayLike<number> | null;
}

export interface LSTMOutput {
  y: Tensor;  // [T, B, D*Hout] (or [B, T, D*Hout] with batchFirst); zero past each length
  hN: Tensor; // [L*D, B, Hout] at each sequence's last valid step
  cN: Tensor; // [L*D, B, H]
}

/**
 * torch.nn.LSTM, exactly: options, parameter names and layouts (gate rows i, f, g, o),
 * initialisation uniform(-1/sqrt(H), 1/sqrt(H)), packed variable-length semantics.
 * Each layer runs as one fused op over the whole sequence (src/ops/lstm.ts).
 */
export class LSTM extends RecurrentBase {
  readonly projSize: number;
  /** The cell (undefined: standard nn.LSTM); see ops/lstm-cell.ts. */
  readonly cell: LstmCellSpec | undefined;
  /** [layer][direction]; read by LSTMStream (src/nn/lstmStream.ts, over ops/step.ts). */
  readonly weights: LstmWeights[][] = [];

  constructor(config: LSTMConfig, opts?: ModuleOptions) {
    super('LSTM', config, ['projSize', 'peepholes', 'variant'], opts);
    const P = config.projSize ?? 0;
    if (!Number.isInteger(P) || P < 0) throw new Error(`LSTM.projSize: expected a non-negative integer, got ${JSON.stringify(config.projSize)}`);
    if (P >= this.hiddenSize && P > 0) throw new Error(`LSTM.projSize: expected projSize < hiddenSize (${this.hiddenSize}), got ${P}`);
    this.projSize = P;
    const cell = this.cell = resolveLstmCell('LSTM', config.variant, config.peepholes, P);
    const NG = gateOrder(cell).length, peeps = peepholeNames(cell); // gate blocks; peephole vectors
    const H = this.hiddenSize, Hout = P || H, D = this.numDirections;
    const bound = 1 / Math.sqrt(H);
    this.checkSize((I) => NG * H * (I + Hout + 2) + P * H + peeps.length * H + (cell?.gateRecurrence ? 9 * H * H : 0), Hout * D);
    for (let l = 0; l < this.numLayers; l++) {
      const I = l === 0 ? this.inputSize : Hout * D;
      const dirs: LstmWeights[] = [];
      for (let d = 0; d < D; d++) {
        const s = this.suffix(l, d);
        dirs.push({
          wIh: this.addParameter(`weight_ih${s}`, [NG * H, I], bound),
          wHh: this.addParameter(`weight_hh${s}`, [NG * H, Hout], bound),
          bIh: this.bias ? this.addParameter(`bias_ih${s}`, [NG * H], bound) : null,
          bHh: this.bias ? this.addParameter(`bias_hh${s}`, [NG * H], bound) : null,
          wHr: P ? this.addParameter(`weight_hr${s}`, [P, H], bound) : null,
          wci: peeps.includes('ci') ? this.addParameter(`weight_ci${s}`, [H], bound) : null,
          wcf: peeps.includes('cf') ? this.addParameter(`weight_cf${s}`, [H], bound) : null,
          wco: peeps.includes('co') ? this.addParameter(`weight_co${s}`, [H], bound) : null,
          wGr: cell?.gateRecurrence ? this.addParameter(`weight_gr${s}`, [3 * H, 3 * H], bound) : null,
        });
      }
      this.weights.push(dirs);
    }
  }

  /** Streaming inference, one step per call with nothing allocated per step (see LSTMStream). */
  stream(batch = 1): LSTMStream { return new LSTMStream(this, batch); }

  /** Size of each direction's output h. */
  get outputSize(): number { return this.projSize || this.hiddenSize; }

  forward(input: Tensor, opts: LSTMForwardOptions = {}): LSTMOutput {
    checkOptions('LSTM.forward', opts, ['h0', 'c0', 'lengths']);
    let x = this.timeMajor(input);
    const [T, B] = x.shape;
    const D = this.numDirections, H = this.hiddenSize, Hout = this.outputSize;
    const order = new BatchOrder(opts.lengths, T, B, x);
    const lengths = opts.lengths ? order.sorted : null;
    const h0 = order.toSorted(this.initialState('h0', opts.h0, B, Hout));
    const c0 = order.toSorted(this.initialState('c0', opts.c0, B, H));
    x = order.toSorted(x);
    const hs: Tensor[] = [], cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0) x = dropout(x, this.dropoutP, this.rng, this.training);
      const r = lstmLayer(x, this.layerSlice(h0, l), this.layerSlice(c0, l), this.weights[l], lengths, this.cell);
      x = r.y; hs.push(r.hN); cs.push(r.cN);
    }
    let y = order.toOriginal(x);
    if (this.batchFirst) y = permute(y, [1, 0, 2]);
    const hN = order.toOriginal(hs.length === 1 ? hs[0] : concat(hs, 0));
    const cN = order.toOriginal(cs.length === 1 ? cs[0] : concat(cs, 0));
    return { y, hN, cN };
  }
}
