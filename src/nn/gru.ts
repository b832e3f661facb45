import { dropout } from '../ops/dropout.js';
import { gruLayer, type GruWeights } from '../ops/gru.js';
import { concat, permute } from '../ops/shape.js';
import { checkOptions } from '../tensor/check.js';
import type { Tensor } from '../tensor/tensor.js';
import { GRUStream } from './lstmStream.js';
import type { ModuleOptions } from './module.js';
import { BatchOrder, RecurrentBase, type RecurrentConfig } from './rnn.js';

export type GRUConfig = RecurrentConfig;

export interface GRUForwardOptions {
  h0?: Tensor | null; // [L*D, B, H]
  lengths?: ArrayLike<number> | null;
}

export interface GRUOutput {
  y: Tensor;  // [T, B, D*H] (or [B, T, D*H] with batchFirst)
  hN: Tensor; // [L*D, B, H]
}

/**
 * torch.nn.GRU, exactly: parameter names and layouts (gate rows r, z, n), b_hn inside the
 * reset product, initialisation uniform(-1/sqrt(H), 1/sqrt(H)), packed variable lengths.
 */
export class GRU extends RecurrentBase {
  /** [layer][direction]; read by GRUStream (src/nn/lstmStream.ts). */
  readonly weights: GruWeights[][] = [];

  constructor(config: GRUConfig, opts?: ModuleOptions) {
    super('GRU', config, [], opts);
    const H = this.hiddenSize, D = this.numDirections;
    const bound = 1 / Math.sqrt(H);
    this.checkSize((I) => 3 * H * (I + H + 2), H * D);
    for (let l = 0; l < this.numLayers; l++) {
      const I = l === 0 ? this.inputSize : H * D;
      const dirs: GruWeights[] = [];
      for (let d = 0; d < D; d++) {
        const s = this.suffix(l, d);
        dirs.push({
          wIh: this.addParameter(`weight_ih${s}`, [3 * H, I], bound),
          wHh: this.addParameter(`weight_hh${s}`, [3 * H, H], bound),
          bIh: this.bias ? this.addParameter(`bias_ih${s}`, [3 * H], bound) : null,
          bHh: this.bias ? this.addParameter(`bias_hh${s}`, [3 * H], bound) : null,
        });
      }
      this.weights.push(dirs);
    }
  }

  /** Streaming inference, one step per call with nothing allocated per step (see GRUStream). */
  stream(batch = 1): GRUStream { return new GRUStream(this, batch); }

  get outputSize(): number { return this.hiddenSize; }

  forward(input: Tensor, opts: GRUForwardOptions = {}): GRUOutput {
    checkOptions('GRU.forward', opts, ['h0', 'lengths']);
    let x = this.timeMajor(input);
    const [T, B] = x.shape;
    const D = this.numDirections;
    const order = new BatchOrder(opts.lengths, T, B, x);
    const lengths = opts.lengths ? order.sorted : null;
    const h0 = order.toSorted(this.initialState('h0', opts.h0, B, this.hiddenSize));
    x = order.toSorted(x);
    const hs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      if (l > 0) x = dropout(x, this.dropoutP, this.rng, this.training);
      const r = gruLayer(x, this.layerSlice(h0, l), this.weights[l], lengths);
      x = r.y; hs.push(r.hN);
    }
    let y = order.toOriginal(x);
    if (this.batchFirst) y = permute(y, [1, 0, 2]);
    return { y, hN: order.toOriginal(hs.length === 1 ? hs[0] : concat(hs, 0)) };
  }
}

