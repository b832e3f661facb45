import { add, mul, scale, sigmoid } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { checkMlstmForm, mlstm, type MlstmForm, type MlstmState } from '../ops/mlstm.js';
import { checkForgetGate, type ForgetGate } from '../ops/slstm.js';
import { checkOptions } from '../tensor/check.js';
import { fmt } from '../tensor/shape.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { checkLayers, checkParameterCount } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';
import { linspace, positiveInt, setValues } from './slstm.js';

export interface MLSTMConfig {
  inputSize: number;
  hiddenSize: number;
  /** Heads (hiddenSize must be divisible by it). Default 1. */
  numHeads?: number;
  /** 'sigmoid' (default, as the official code) or 'exp'. */
  forgetGate?: ForgetGate;
  /** How the cell is computed (default 'recurrent'); all three give the same numbers. */
  form?: MlstmForm;
  /** Steps per chunk for form 'chunkwise' (default 64). */
  chunkSize?: number;
}

export interface MLSTMResult {
  y: Tensor;   // [T, B, H]
  CN: Tensor;  // [B, NH, DH, DH]
  nN: Tensor;  // [B, NH, DH]
  mN: Tensor;  // [B, NH]
}

/**
 * xLSTM's mLSTM layer (Beck et al. 2024): matrix memory, covariance update, exp input gate,
 * one scalar input/forget gate per head, gates from x_t only. The cell only (see xlstm.ts for the
 * block). Parameters (names as in EXTENDED.md):
 *   weight_q, weight_k, weight_v, weight_o [H, I] and bias_q, bias_k, bias_v, bias_o [H]
 *   weight_i, weight_f [NH, I] and bias_i, bias_f [NH]
 *   q = x W_q^T + b_q;  k = (x W_k^T)/sqrt(DH) + b_k;  v = x W_v^T + b_v;  o = σ(x W_o^T + b_o)
 *   y = o ⊙ mlstm(q, k, v, ĩ, f̃)
 * `form` picks the recurrent, parallel or chunkwise computation (default 'recurrent'); all
 * three compute the same function, final states included.
 */
export class MLSTM extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly forgetGate: ForgetGate;
  form: MlstmForm;
  chunkSize: number;
  readonly weight_q: Parameter; readonly bias_q: Parameter;
  readonly weight_k: Parameter; readonly bias_k: Parameter;
  readonly weight_v: Parameter; readonly bias_v: Parameter;
  readonly weight_i: Parameter; readonly bias_i: Parameter;
  readonly weight_f: Parameter; readonly bias_f: Parameter;
  readonly weight_o: Parameter; readonly bias_o: Parameter;

  constructor(cfg: MLSTMConfig, opts: ModuleOptions = {}) {
    super(opts);
    checkOptions('MLSTM', cfg, ['inputSize', 'hiddenSize', 'numHeads', 'forgetGate', 'form', 'chunkSize']);
    this.inputSize = positiveInt('MLSTM', 'inputSize', cfg.inputSize);
    this.hiddenSize = positiveInt('MLSTM', 'hiddenSize', cfg.hiddenSize);
    this.numHeads = positiveInt('MLSTM', 'numHeads', cfg.numHeads ?? 1);
    this.forgetGate = checkForgetGate('MLSTM', cfg.forgetGate ?? 'sigmoid');
    this.form = cfg.form ?? 'recurrent';
    checkMlstmForm('MLSTM', this.form, cfg.chunkSize);
    this.chunkSize = cfg.chunkSize ?? 64;
    const H = this.hiddenSize, NH = this.numHeads, I = this.inputSize;
    if (H % NH !== 0) throw new Error(`MLSTM: hiddenSize ${H} must be divisible by numHeads ${NH}`);
    checkParameterCount('MLSTM', (4 * H + 2 * NH) * (I + 1));
    const bound = 1 / Math.sqrt(I);
    this.weight_q = this.addParameter('weight_q', [H, I], bound);
    this.bias_q = this.addParameter('bias_q', [H], bound);
    this.weight_k = this.addParameter('weight_k', [H, I], bound);
    this.bias_k = this.addParameter('bias_k', [H], bound);
    this.weight_v = this.addParameter('weight_v', [H, I], bound);
    this.bias_v = this.addParameter('bias_v', [H], bound);
    this.weight_i = this.addParameter('weight_i', [NH, I], bound);
    this.bias_i = this.addParameter('bias_i', [NH], 0);
    this.weight_f = this.addParameter('weight_f', [NH, I], bound);
    this.bias_f = this.addParameter('bias_f', [NH], 0);
    this.weight_o = this.addParameter('weight_o', [H, I], bound);
    this.bias_o = this.addParameter('bias_o', [H], bound);
    setValues(this.bias_f, linspace(3, 6, NH)); // official init: forget gates start open
  }

  /** `initial`: continue from a previous call's final state ({ C: CN, n: nN, m: mN }). */
  forward(x: Tensor, initial: MlstmState | null = null): MLSTMResult {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(`MLSTM: expected input of shape [T, B, ${this.inputSize}], got ${fmt(x.shape)}`);
    }
    const DH = this.hiddenSize / this.numHeads;
    const q = linear(x, this.weight_q, this.bias_q);
    const k = add(scale(linear(x, this.weight_k, null), 1 / Math.sqrt(DH)), this.bias_k);
    const v = linear(x, this.weight_v, this.bias_v);
    const ig = linear(x, this.weight_i, this.bias_i);
    const fg = linear(x, this.weight_f, this.bias_f);
    const o = sigmoid(linear(x, this.weight_o, this.bias_o));
    const { h, CN, nN, mN } = mlstm(q, k, v, ig, fg, {
      numHeads: this.numHeads, forgetGate: this.forgetGate, form: this.form, chunkSize: this.chunkSize,
    }, initial);
    return { y: mul(o, h), CN, nN, mN };
  }
}
