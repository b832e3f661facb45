import { causalConv1d } from '../ops/conv1d.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { Module, type ModuleOptions } from './module.js';

export interface CausalConv1dConfig { channels: number; kernelSize: number; bias?: boolean }

/**
 * Depthwise causal convolution over time on [T, B, C] (y_t sees x_{t-K+1..t}), with PyTorch's
 * Conv1d(C, C, K, groups=C) parameters: weight [C, 1, K], bias [C]; init uniform(±1/sqrt(K)).
 */
export class CausalConv1d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  constructor(readonly config: CausalConv1dConfig, opts?: ModuleOptions) {
    super(opts);
    checkOptions('CausalConv1d', config, ['channels', 'kernelSize', 'bias']);
    const C = checkPositiveInt('CausalConv1d.channels', config.channels);
    const K = checkPositiveInt('CausalConv1d.kernelSize', config.kernelSize);
    this.weight = this.addParameter('weight', [C, 1, K], 1 / Math.sqrt(K));
    this.bias = config.bias === false ? null : this.addParameter('bias', [C], 1 / Math.sqrt(K));
  }
  forward(x: Tensor): Tensor { return causalConv1d(x, this.weight, this.bias); }
}
