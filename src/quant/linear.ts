import { Module, type ModuleOptions } from '../nn/module.js';
import type { Parameter } from '../tensor/tensor.js';
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { INFERENCE_ONLY, type HasQuantized, type WeightSource } from './source.js';
import type { QuantizedWeight } from './weight.js';

/** nn.Linear with its weight [out, in] quantized: y = x W^T + b, inference only. */
export class QuantLinear extends Module implements HasQuantized {
  readonly weight: QuantizedWeight;
  readonly bias: Parameter | null;
  readonly quantized = new Map<string, QuantizedWeight>();

  constructor(readonly inFeatures: number, readonly outFeatures: number, hasBias: boolean, src: WeightSource, opts?: ModuleOptions) {
    super(opts);
    this.weight = src.quant('weight', outFeatures, inFeatures);
    this.quantized.set('weight', this.weight);
    this.bias = hasBias ? this.addParameterValues('bias', [outFeatures], src.float('bias', [outFeatures])) : null;
    this.training = false;
  }

  override train(on = true): this {
    if (on) throw new Error(`QuantLinear: ${INFERENCE_ONLY}`);
    return super.train(false);
  }

  /** x [..., in] -> [..., out]. */
  forward(x: Tensor): Tensor {
    const I = this.inFeatures, O = this.outFeatures;
    if (x.rank < 1 || x.shape[x.rank - 1] !== I) throw new Error(`QuantLinear: expected input [..., ${I}], got ${fmt(x.shape)}`);
    if (x.backend !== this.backend || x.dtype !== 'f32') throw new Error(`QuantLinear: expected f32 input on ${this.backend.name}, got ${x.dtype} on ${x.backend.name}`);
    const rows = x.size / I;
    const y = new Tensor(this.backend.alloc('f32', rows * O), [...x.shape.slice(0, -1), O]);
    this.weight.apply(rows, x.storage, 0, I, this.bias?.storage ?? null, y.storage, 0, O, false);
    return y;
  }
}
