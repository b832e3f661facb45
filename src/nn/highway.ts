import { add, mul, relu, sigmoid, sub, tanh } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { fmt } from '../tensor/shape.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { checkLayers, checkParameterCount } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';

export type HighwayActivation = 'tanh' | 'relu';

export interface HighwayConfig {
  /** Feature size D (input and output of every layer). */
  size: number;
  /** Number of stacked highway layers (default 1). */
  numLayers?: number;
  /** Non-linearity of the transform H (default 'tanh'). */
  activation?: HighwayActivation;
  /**
   * Initial value of every transform-gate bias b_T (default -1). Srivastava et al. start with a
   * negative bias so that the layers begin by carrying their input through (T ≈ 0.27).
   */
  transformBias?: number;
}

/**
 * Highway layers (Srivastava, Greff & Schmidhuber 2015), any depth:
 *   T = σ(x W_T^T + b_T)                       transform gate (carry gate is 1 - T)
 *   x = act(x W_H^T + b_H) ⊙ T + x ⊙ (1 - T)    computed as x + T ⊙ (act(...) - x)
 * Parameters per layer l: weight_H_l{l} [D, D], bias_H_l{l} [D], weight_T_l{l} [D, D], bias_T_l{l} [D].
 * Input [..., D] (any leading dimensions), output the same shape.
 */
export class Highway extends Module {
  readonly size: number;
  readonly numLayers: number;
  readonly activation: HighwayActivation;
  private readonly layers: { wH: Parameter; bH: Parameter; wT: Parameter; bT: Parameter }[] = [];

  constructor(cfg: HighwayConfig, opts: ModuleOptions = {}) {
    super(opts);
    const { size, numLayers = 1, activation = 'tanh', transformBias = -1 } = cfg;
    if (!Number.isInteger(size) || size < 1) throw new Error(`Highway: expected size to be a positive integer, got ${size}`);
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new Error(`Highway: expected numLayers to be a positive integer, got ${numLayers}`);
    if (activation !== 'tanh' && activation !== 'relu') throw new Error(`Highway: expected activation 'tanh' or 'relu', got '${String(activation)}'`);
    if (!Number.isFinite(transformBias)) throw new Error(`Highway: expected transformBias to be a finite number, got ${transformBias}`);
    checkLayers('Highway.numLayers', numLayers);
    checkParameterCount('Highway', numLayers * 2 * size * (size + 1));
    this.size = size; this.numLayers = numLayers; this.activation = activation;
    const bound = 1 / Math.sqrt(size); // nn.Linear's default
    for (let l = 0; l < numLayers; l++) {
      const wH = this.addParameter(`weight_H_l${l}`, [size, size], bound);
      const bH = this.addParameter(`bias_H_l${l}`, [size], bound);
      const wT = this.addParameter(`weight_T_l${l}`, [size, size], bound);
      const bT = this.addParameter(`bias_T_l${l}`, [size], bound);
      this.backend.fill(bT.storage, 0, size, transformBias);
      this.layers.push({ wH, bH, wT, bT });
    }
  }

  forward(x: Tensor): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.size) {
      throw new Error(`Highway: expected input [..., ${this.size}], got ${fmt(x.shape)}`);
    }
    const act = this.activation === 'tanh' ? tanh : relu;
    let h = x;
    for (const { wH, bH, wT, bT } of this.layers) {
      const t = sigmoid(linear(h, wT, bT));   // [..., D] transform gate
      const z = act(linear(h, wH, bH));       // [..., D] candidate
      h = add(h, mul(t, sub(z, h)));          // T ⊙ z + (1 - T) ⊙ h
    }
    return h;
  }
}
