import { slstm, checkForgetGate, type ForgetGate, type SlstmResult, type SlstmState } from '../ops/slstm.js';
import { checkOptions } from '../tensor/check.js';
import { fmt } from '../tensor/shape.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { checkLayers, checkParameterCount } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';

export interface SLSTMConfig {
  inputSize: number;
  hiddenSize: number;
  /** Heads of the block-diagonal recurrence (hiddenSize must be divisible by it). Default 1. */
  numHeads?: number;
  /** 'exp' (default) or 'sigmoid'. */
  forgetGate?: ForgetGate;
}

/** Throw unless v is a positive integer. */
export function positiveInt(where: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${where}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Overwrite a parameter's values (initialisation beyond uniform draws). */
export function setValues(p: Parameter, values: ArrayLike<number>): void {
  const fresh = p.backend.upload(p.dtype, values);
  p.backend.copyStrided([p.size], fresh, 0, [1], p.storage, 0, [1], false);
}

/** Forget-gate bias init of the official xLSTM code: linspace(lo, hi) over units (long memory at start). */
export function linspace(lo: number, hi: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? lo : lo + (hi - lo) * i / (n - 1);
  return out;
}

/**
 * xLSTM's sLSTM layer (Beck et al. 2024): exponential input gate, exp or sigmoid forget gate,
 * normalizer and stabilizer states, block-diagonal (per head) recurrence. The cell only; see
 * xlstm.ts for the residual block. Parameters (names as in EXTENDED.md):
 *   weight_ih [4H, I], weight_hh [4, NH, DH, DH], bias [4H]   (gate order i, f, z, o)
 * Init: weights uniform(±1/sqrt(fan-in)), bias 0 except the forget gate's, linspace(3, 6).
 * forward(x [T, B, I]) -> { y [T, B, H], hN, cN, nN, mN [B, H] } (states start at 0, m_0 = -inf).
 */
export class SLSTM extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly forgetGate: ForgetGate;
  readonly weight_ih: Parameter;
  readonly weight_hh: Parameter;
  readonly bias: Parameter;

  constructor(cfg: SLSTMConfig, opts: ModuleOptions = {}) {
    super(opts);
    checkOptions('SLSTM', cfg, ['inputSize', 'hiddenSize', 'numHeads', 'forgetGate']);
    this.inputSize = positiveInt('SLSTM', 'inputSize', cfg.inputSize);
    this.hiddenSize = positiveInt('SLSTM', 'hiddenSize', cfg.hiddenSize);
    this.numHeads = positiveInt('SLSTM', 'numHeads', cfg.numHeads ?? 1);
    this.forgetGate = checkForgetGate('SLSTM', cfg.forgetGate ?? 'exp');
    const H = this.hiddenSize, NH = this.numHeads;
    if (H % NH !== 0) throw new Error(`SLSTM: hiddenSize ${H} must be divisible by numHeads ${NH}`);
    checkParameterCount('SLSTM', 4 * H * (this.inputSize + H / NH + 1));
    const DH = H / NH;
    this.weight_ih = this.addParameter('weight_ih', [4 * H, this.inputSize], 1 / Math.sqrt(this.inputSize));
    this.weight_hh = this.addParameter('weight_hh', [4, NH, DH, DH], 1 / Math.sqrt(DH));
    this.bias = this.addParameter('bias', [4 * H], 0);
    const b = new Float64Array(4 * H);
    b.set(linspace(3, 6, H), H);
    setValues(this.bias, b);
  }

  /** `initial`: continue from a previous call's final state ({ h: hN, c: cN, n: nN, m: mN }). */
  forward(x: Tensor, initial: SlstmState | null = null): SlstmResult {
    if (x.rank !== 3 || x.shape[2] !== this.inputSize) {
      throw new Error(`SLSTM: expected input of shape [T, B, ${this.inputSize}], got ${fmt(x.shape)}`);
    }
    return slstm(x, this.weight_ih, this.weight_hh, this.bias, { numHeads: this.numHeads, forgetGate: this.forgetGate }, initial);
  }
}
