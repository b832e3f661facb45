import { groupNorm } from '../ops/norm.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { Module, type ModuleOptions } from './module.js';

export interface LayerNormConfig { normalizedShape: number; eps?: number; bias?: boolean }

/** torch.nn.LayerNorm over the last dimension: weight [C] (init 1), bias [C] (init 0, optional). */
export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly eps: number;
  constructor(readonly config: LayerNormConfig, opts?: ModuleOptions) {
    super(opts);
    checkOptions('LayerNorm', config, ['normalizedShape', 'eps', 'bias']);
    const C = checkPositiveInt('LayerNorm.normalizedShape', config.normalizedShape);
    this.eps = config.eps ?? 1e-5;
    this.weight = this.addParameterValues('weight', [C], new Float64Array(C).fill(1));
    this.bias = config.bias === false ? null : this.addParameterValues('bias', [C], new Float64Array(C));
  }
  forward(x: Tensor): Tensor { return groupNorm(x, 1, this.weight, this.bias, this.eps); }
}

export interface GroupNormConfig { numGroups: number; numChannels: number; eps?: number; bias?: boolean }

/**
 * Normalization of each group of numChannels/numGroups consecutive features of the last
 * dimension (the xLSTM blocks' multi-head norm, one group per head): weight [C] (init 1), bias
 * [C] (init 0; absent with bias: false, as in the official xLSTM blocks).
 */
export class GroupNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly eps: number;
  readonly numGroups: number;
  constructor(readonly config: GroupNormConfig, opts?: ModuleOptions) {
    super(opts);
    checkOptions('GroupNorm', config, ['numGroups', 'numChannels', 'eps', 'bias']);
    const C = checkPositiveInt('GroupNorm.numChannels', config.numChannels);
    this.numGroups = checkPositiveInt('GroupNorm.numGroups', config.numGroups);
    if (C % this.numGroups !== 0) throw new Error(`GroupNorm: numChannels ${C} must be divisible by numGroups ${this.numGroups}`);
    this.eps = config.eps ?? 1e-5;
    this.weight = this.addParameterValues('weight', [C], new Float64Array(C).fill(1));
    this.bias = config.bias === false ? null : this.addParameterValues('bias', [C], new Float64Array(C));
  }
  forward(x: Tensor): Tensor { return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps); }
}
