import { dropout } from '../ops/dropout.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module, type ModuleOptions } from './module.js';

/** torch.nn.Dropout: inverted dropout while training, identity in eval(). */
export class Dropout extends Module {
  constructor(readonly p = 0.5, opts?: ModuleOptions) {
    super(opts);
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: expected probability p in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor { return dropout(x, this.p, this.rng, this.training); }
}
