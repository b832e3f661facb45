import { ConvLSTM2d } from '../nn/convlstm.js';
import { Linear } from '../nn/linear.js';
import { Module, type ModuleOptions } from '../nn/module.js';
import { concat, permute, reshape } from '../ops/shape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * What the nowcasting task trains: frames in, pixel logits of the next `horizon` frames out, both
 * in the patch layout (patches.ts): x [Tin, B, patch², G, G] -> logits [K, B, patch², G, G].
 */
export interface NowcastModel extends Module {
  readonly kind: 'convlstm' | 'fc-lstm';
  readonly horizon: number;
  forward(x: Tensor): Tensor;
}

export interface EncoderForecasterConfig {
  /** Channels of the patched frames (patch²) and the grid side (frame size / patch). */
  channels: number;
  grid: number;
  /** Hidden channels of every ConvLSTM layer. */
  hidden: number;
  layers: number;
  /** Odd kernel of the input-to-state and state-to-state convolutions. */
  kernel: number;
  /** Frames predicted. */
  horizon: number;
}

/**
 * The encoder-forecaster of Shi et al. (2015), section 3.3: an encoder of stacked ConvLSTMs reads
 * the input frames; each forecaster layer starts from the state of the encoder layer at its depth
 * and runs for `horizon` steps without input (its first layer gets a constant zero channel, as
 * ConvLSTM2d needs an input: its input weights only ever multiply zeros), each higher layer reading
 * the h of the one below; the h of all forecaster layers, concatenated, go through a 1x1
 * convolution (a Linear over channels, `head`) to one logit per pixel of each patch.
 * Parameters: encoder.{l}.*, forecaster.{l}.* (ConvLSTM2d names), head.weight [patch², L*C], head.bias.
 */
export class EncoderForecaster extends Module implements NowcastModel {
  readonly kind = 'convlstm' as const;
  readonly horizon: number;
  private readonly encoder: ConvLSTM2d[] = [];
  private readonly forecaster: ConvLSTM2d[] = [];
  private readonly head: Linear;

  constructor(readonly config: EncoderForecasterConfig, opts?: ModuleOptions) {
    super(opts);
    const { channels, grid, hidden, layers, kernel } = config;
    this.horizon = config.horizon;
    for (let l = 0; l < layers; l++) {
      const base = { hiddenChannels: hidden, kernelSize: kernel, height: grid, width: grid };
      this.encoder.push(this.addModule(`encoder.${l}`, new ConvLSTM2d({ ...base, inputChannels: l === 0 ? channels : hidden }, opts)));
    }
    for (let l = 0; l < layers; l++) {
      const base = { hiddenChannels: hidden, kernelSize: kernel, height: grid, width: grid };
      this.forecaster.push(this.addModule(`forecaster.${l}`, new ConvLSTM2d({ ...base, inputChannels: l === 0 ? 1 : hidden }, opts)));
    }
    this.head = this.addModule('head', new Linear({ inFeatures: layers * hidden, outFeatures: channels }, opts));
  }

  forward(x: Tensor): Tensor {
    const { channels: P, grid: G } = this.config, K = this.horizon;
    if (x.rank !== 5 || x.shape[2] !== P || x.shape[3] !== G || x.shape[4] !== G) throw new Error(`EncoderForecaster: expected frames [T, B, ${P}, ${G}, ${G}], got ${fmt(x.shape)}`);
    const B = x.shape[1];
    const states: { h: Tensor; c: Tensor }[] = [];
    let seq = x;
    for (const layer of this.encoder) {
      const r = layer.forward(seq);
      seq = r.y; states.push({ h: r.hN, c: r.cN });
    }
    seq = new Tensor(this.backend.alloc(this.dtype, K * B * G * G), [K, B, 1, G, G]); // no input: zeros
    const outs: Tensor[] = [];
    this.forecaster.forEach((layer, l) => {
      seq = layer.forward(seq, { h0: states[l].h, c0: states[l].c }).y; // [K, B, C, G, G]
      outs.push(seq);
    });
    const all = outs.length === 1 ? outs[0] : concat(outs, 2);           // [K, B, L*C, G, G]
    const logits = this.head.forward(permute(all, [0, 1, 3, 4, 2]));     // [K, B, G, G, P]
    return reshape(permute(logits, [0, 1, 4, 2, 3]), [K, B, P, G, G]);
  }
}
