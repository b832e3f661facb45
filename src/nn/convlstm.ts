import { convLstmLayer, type ConvLstmWeights } from '../ops/convlstm.js';
import { reshape, slice, stack } from '../ops/shape.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import { checkFinite } from '../ops/checks.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkLayers, checkParameterCount } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';

export interface ConvLSTM2dConfig {
  inputChannels: number;
  hiddenChannels: number;
  /** Odd kernel size k ('same' zero padding (k-1)/2 keeps the image size). */
  kernelSize: number;
  /** Image size: the Hadamard peepholes hold one weight per channel and position. */
  height: number;
  width: number;
  numLayers?: number;        // default 1
  /** true (default): y is h_t of every step [T, B, C, H, W]; false: only the last [B, C, H, W]. */
  returnSequences?: boolean;
  bias?: boolean;            // default true
  peepholes?: boolean;       // default true (Shi et al. 2015)
}

export interface ConvLSTM2dForwardOptions {
  h0?: Tensor | null; // [L, B, C, H, W], or [B, C, H, W] when numLayers = 1; zeros when absent
  c0?: Tensor | null;
}

export interface ConvLSTM2dOutput {
  y: Tensor;  // [T, B, C, H, W] (returnSequences) or [B, C, H, W]: the top layer's h
  hN: Tensor; // [L, B, C, H, W] each layer's state after the last step
  cN: Tensor; // [L, B, C, H, W]
}

/**
 * ConvLSTM (Shi et al. 2015) with Hadamard peepholes, stacked. Input x [T, B, Cin, H, W]
 * (time-major). Each layer is one fused op over the sequence (src/ops/convlstm.ts).
 *
 * Parameter names (EXTENDED.md): with one layer exactly `weight_ih` [4C, Cin, k, k],
 * `weight_hh` [4C, C, k, k], `bias` [4C], `weight_ci`, `weight_cf`, `weight_co` [C, H, W].
 * With numLayers > 1 every layer's names get nn.LSTM's suffix `_l{l}` (`weight_ih_l0`,
 * `weight_ih_l1`, ...); layer l > 0 takes the h sequence of layer l-1 (C channels) as input.
 * Initialisation: uniform(±1/sqrt((Cin_l + C) k^2)), the fan-in of the combined gate convolution.
 */
export class ConvLSTM2d extends Module {
  readonly inputChannels: number;
  readonly hiddenChannels: number;
  readonly kernelSize: number;
  readonly height: number;
  readonly width: number;
  readonly numLayers: number;
  readonly returnSequences: boolean;
  private readonly layers: ConvLstmWeights[] = [];

  constructor(cfg: ConvLSTM2dConfig, opts?: ModuleOptions) {
    super(opts);
    if (typeof cfg !== 'object' || cfg === null) throw new Error('ConvLSTM2d: expected a config object');
    checkOptions('ConvLSTM2d', cfg, ['inputChannels', 'hiddenChannels', 'kernelSize', 'height', 'width', 'numLayers', 'returnSequences', 'bias', 'peepholes']);
    this.inputChannels = checkPositiveInt('ConvLSTM2d.inputChannels', cfg.inputChannels);
    const C = this.hiddenChannels = checkPositiveInt('ConvLSTM2d.hiddenChannels', cfg.hiddenChannels);
    const k = this.kernelSize = checkPositiveInt('ConvLSTM2d.kernelSize', cfg.kernelSize);
    if (k % 2 !== 1) throw new Error(`ConvLSTM2d.kernelSize: expected an odd size ('same' padding (k-1)/2 needs one), got ${k}`);
    this.height = checkPositiveInt('ConvLSTM2d.height', cfg.height);
    this.width = checkPositiveInt('ConvLSTM2d.width', cfg.width);
    this.numLayers = checkPositiveInt('ConvLSTM2d.numLayers', cfg.numLayers ?? 1);
    for (const key of ['returnSequences', 'bias', 'peepholes'] as const) {
      if (cfg[key] !== undefined && typeof cfg[key] !== 'boolean') throw new Error(`ConvLSTM2d.${key}: expected true or false, got ${JSON.stringify(cfg[key])}`);
    }
    this.returnSequences = cfg.returnSequences ?? true;
    const bias = cfg.bias ?? true, peep = cfg.peepholes ?? true;
    checkLayers('ConvLSTM2d.numLayers', this.numLayers);
    const perLayer = (Cin: number) => 4 * C * (Cin + C) * k * k + 4 * C + (peep ? 3 * C * this.height * this.width : 0);
    checkParameterCount('ConvLSTM2d', perLayer(this.inputChannels) + (this.numLayers - 1) * perLayer(C));
    for (let l = 0; l < this.numLayers; l++) {
      const Cin = l === 0 ? this.inputChannels : C;
      const s = this.numLayers === 1 ? '' : `_l${l}`;
      const bound = 1 / Math.sqrt((Cin + C) * k * k);
      const hw = [C, this.height, this.width];
      this.layers.push({
        wIh: this.addParameter(`weight_ih${s}`, [4 * C, Cin, k, k], bound),
        wHh: this.addParameter(`weight_hh${s}`, [4 * C, C, k, k], bound),
        bias: bias ? this.addParameter(`bias${s}`, [4 * C], bound) : null,
        wci: peep ? this.addParameter(`weight_ci${s}`, hw, bound) : null,
        wcf: peep ? this.addParameter(`weight_cf${s}`, hw, bound) : null,
        wco: peep ? this.addParameter(`weight_co${s}`, hw, bound) : null,
      });
    }
  }

  forward(x: Tensor, opts: ConvLSTM2dForwardOptions = {}): ConvLSTM2dOutput {
    checkOptions('ConvLSTM2d.forward', opts, ['h0', 'c0']);
    const { inputChannels: Cin, hiddenChannels: C, height: Hg, width: Wd, numLayers: L } = this;
    if (x.rank !== 5 || x.shape[2] !== Cin || x.shape[3] !== Hg || x.shape[4] !== Wd) {
      throw new Error(`ConvLSTM2d: expected input [T, B, ${Cin}, ${Hg}, ${Wd}], got ${fmt(x.shape)}`);
    }
    if (x.backend !== this.backend || x.dtype !== this.dtype) {
      throw new Error(`ConvLSTM2d: input is ${x.dtype} on ${x.backend.name}, the module is ${this.dtype} on ${this.backend.name}`);
    }
    checkFinite('ConvLSTM2d input', x);
    const B = x.shape[1];
    const h0 = this.state('h0', opts.h0, B), c0 = this.state('c0', opts.c0, B);
    const one = [B, C, Hg, Wd];
    const hs: Tensor[] = [], cs: Tensor[] = [];
    let seq = x;
    for (let l = 0; l < L; l++) {
      const r = convLstmLayer(seq, reshape(slice(h0, 0, l, l + 1), one), reshape(slice(c0, 0, l, l + 1), one), this.layers[l]);
      seq = r.y; hs.push(r.hN); cs.push(r.cN);
    }
    const hN = stack(hs, 0), cN = stack(cs, 0);
    return { y: this.returnSequences ? seq : hs[L - 1], hN, cN };
  }

  /** An initial state as [L, B, C, H, W] (zeros when absent). */
  private state(name: string, s: Tensor | null | undefined, B: number): Tensor {
    const { hiddenChannels: C, height: Hg, width: Wd, numLayers: L } = this;
    const want = [L, B, C, Hg, Wd];
    if (!s) return new Tensor(this.backend.alloc(this.dtype, L * B * C * Hg * Wd), want);
    if (L === 1 && s.rank === 4 && fmt(s.shape) === fmt(want.slice(1))) s = reshape(s, want);
    if (fmt(s.shape) !== fmt(want)) {
      throw new Error(`ConvLSTM2d: expected ${name} of shape ${fmt(want)}${L === 1 ? ` or ${fmt(want.slice(1))}` : ''}, got ${fmt(s.shape)}`);
    }
    if (s.backend !== this.backend || s.dtype !== this.dtype) throw new Error(`ConvLSTM2d: ${name} is ${s.dtype} on ${s.backend.name}, the module is ${this.dtype} on ${this.backend.name}`);
    checkFinite(`ConvLSTM2d ${name}`, s);
    return s;
  }
}
