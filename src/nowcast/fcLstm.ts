import { LSTM } from '../nn/lstm.js';
import { Linear } from '../nn/linear.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { reshape } from '../ops/shape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { NowcastModel } from './model.js';

export interface FcLstmConfig {
  /** Channels and grid side of the patched frames: a frame is channels * grid² pixels. */
  channels: number;
  grid: number;
  hidden: number;
  layers: number;
  horizon: number;
}

/**
 * The fully connected baseline the ConvLSTM paper compares with (FC-LSTM, Srivastava et al.
 * 2015): each frame flattened to a vector; an encoder LSTM reads them, a forecaster LSTM starts
 * from its state and runs `horizon` steps without input (a constant zero input of size 1), and a
 * Linear maps its top h to one logit per pixel. The pixel order is the patch layout's, which a
 * fully connected model cannot tell from any other.
 * Parameters: encoder.* and forecaster.* (nn.LSTM names), head.weight [pixels, H], head.bias.
 */
export class FcLstm extends Module implements NowcastModel {
  readonly kind = 'fc-lstm' as const;
  readonly horizon: number;
  private readonly encoder: LSTM;
  private readonly forecaster: LSTM;
  private readonly head: Linear;

  constructor(readonly config: FcLstmConfig, opts?: ModuleOptions) {
    super(opts);
    const { channels, grid, hidden, layers } = config, pixels = channels * grid * grid;
    this.horizon = config.horizon;
    this.encoder = this.addModule('encoder', new LSTM({ inputSize: pixels, hiddenSize: hidden, numLayers: layers }, opts));
    this.forecaster = this.addModule('forecaster', new LSTM({ inputSize: 1, hiddenSize: hidden, numLayers: layers }, opts));
    this.head = this.addModule('head', new Linear({ inFeatures: hidden, outFeatures: pixels }, opts));
  }

  forward(x: Tensor): Tensor {
    const { channels: P, grid: G } = this.config, K = this.horizon;
    if (x.rank !== 5 || x.shape[2] !== P || x.shape[3] !== G || x.shape[4] !== G) throw new Error(`FcLstm: expected frames [T, B, ${P}, ${G}, ${G}], got ${fmt(x.shape)}`);
    const [T, B] = x.shape;
    const enc = this.encoder.forward(reshape(x, [T, B, P * G * G]));
    const zeros = new Tensor(this.backend.alloc(this.dtype, K * B), [K, B, 1]); // no input
    const y = this.forecaster.forward(zeros, { h0: enc.hN, c0: enc.cN }).y;  // [K, B, H]
    return reshape(this.head.forward(y), [K, B, P, G, G]);
  }
}

/** The parameter count of an FcLstm (what fcHiddenFor matches). */
export function fcLstmParameters(pixels: number, hidden: number, layers: number): number {
  const lstm = (I: number) => 4 * hidden * (I + hidden + 2) + (layers - 1) * 4 * hidden * (2 * hidden + 2);
  return lstm(pixels) + lstm(1) + pixels * (hidden + 1);
}

/** The hidden size that brings an FcLstm closest to `params` parameters (at least 1). */
export function fcHiddenFor(params: number, pixels: number, layers: number): number {
  let best = 1;
  for (let h = 1; h <= 4096; h++) {
    if (Math.abs(fcLstmParameters(pixels, h, layers) - params) < Math.abs(fcLstmParameters(pixels, best, layers) - params)) best = h;
  }
  return best;
}
