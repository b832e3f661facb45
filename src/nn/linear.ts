import { linear } from '../ops/matmul.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { checkParameterCount } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';

export interface LinearConfig { inFeatures: number; outFeatures: number; bias?: boolean }

/** torch.nn.Linear: y = x W^T + b, W [out, in], init uniform(-1/sqrt(in), 1/sqrt(in)). */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(readonly config: LinearConfig, opts?: ModuleOptions) {
    super(opts);
    checkOptions('Linear', config, ['inFeatures', 'outFeatures', 'bias']);
    const I = checkPositiveInt('Linear.inFeatures', config.inFeatures);
    const O = checkPositiveInt('Linear.outFeatures', config.outFeatures);
    checkParameterCount('Linear', O * I + O);
    const bound = 1 / Math.sqrt(I);
    this.weight = this.addParameter('weight', [O, I], bound);
    this.bias = config.bias === false ? null : this.addParameter('bias', [O], bound);
  }
  forward(x: Tensor): Tensor { return linear(x, this.weight, this.bias); }
}
