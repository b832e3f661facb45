import { silu, gelu } from '../ops/activation.js';
import { add, mul, scale } from '../ops/elementwise.js';
import { causalConv1d } from '../ops/conv1d.js';
import { mlstm, checkMlstmForm, type MlstmForm } from '../ops/mlstm.js';
import { slice, concat } from '../ops/shape.js';
import { checkForgetGate, slstmRecurrence, type ForgetGate } from '../ops/slstm.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import { fmt } from '../tensor/shape.js';
import { Tensor, type Parameter } from '../tensor/tensor.js';
import { CausalConv1d } from './conv1d.js';
import { Embedding } from './embedding.js';
import { Linear } from './linear.js';
import { checkLayers, checkParameterCount, checkWidth } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';
import { GroupNorm, LayerNorm } from './norm.js';
import { linspace, setValues } from './slstm.js';

/**
 * The residual blocks of xLSTM (Beck et al. 2024, section 2.4 and appendix; layout of the
 * official NX-AI code, simplified where noted) and a stack of them. All sequences are
 * time-major [T, B, D]. Parameter names are PyTorch-style paths (`blocks.0.proj_up.weight`).
 *
 * Simplifications relative to the official code (documented, deliberate):
 * - q/k/v and the sLSTM gate projections are full Linear layers, not block-diagonal
 *   "headwise" ones;
 * - GELU is the tanh form; no dropout; the FFN width is ceil(4/3 D) (not rounded up to 64).
 *
 * State: `forward` starts every sequence from the initial state; `forwardWithState(x, state)`
 * continues from the state a previous call returned (each block's causal-conv prefix and cell
 * state), so a long sequence can be fed in pieces (truncated BPTT) or generated step by step.
 */

function checkHeads(where: string, width: number, heads: number): void {
  if (width % heads !== 0) throw new Error(`${where}: the width ${width} must be divisible by numHeads ${heads}`);
}

function checkTokens(where: string, x: Tensor, D: number): void {
  if (x.rank !== 3 || x.shape[2] !== D) throw new Error(`${where}: expected input of shape [T, B, ${D}], got ${fmt(x.shape)}`);
}

/**
 * The causal convolution continuing from the last K-1 inputs of the previous piece (`prefix`
 * [K-1, B, C]; null: zeros, i.e. the start of a sequence). Returns y [T, B, C] and the new prefix.
 */
function convWithPrefix(conv: CausalConv1d, x: Tensor, prefix: Tensor | null): { y: Tensor; prefix: Tensor | null } {
  const K = conv.weight.shape[2], T = x.shape[0];
  if (K === 1) return { y: conv.forward(x), prefix: null };
  if (!prefix) {
    const y = conv.forward(x);
    // The new prefix: the last K-1 inputs (zeros before the start when T < K-1).
    const padded = T >= K - 1 ? x : concat([zeroRows(x, K - 1 - T), x], 0);
    return { y, prefix: slice(padded, 0, padded.shape[0] - (K - 1), padded.shape[0]) };
  }
  const xin = concat([prefix, x], 0);                                   // [K-1+T, B, C]
  const y = slice(causalConv1d(xin, conv.weight, conv.bias), 0, K - 1, K - 1 + T);
  return { y, prefix: slice(xin, 0, T, T + K - 1) };
}

/** Zeros of shape [rows, B, C] like x [T, B, C]. */
function zeroRows(x: Tensor, rows: number): Tensor {
  return new Tensor(x.backend.alloc(x.dtype, rows * x.shape[1] * x.shape[2]), [rows, x.shape[1], x.shape[2]]);
}

/** A block's recurrent state as a flat list of tensors (conv prefix if any, then the cell's state). */
export type BlockState = Tensor[];

function takeState(where: string, state: readonly Tensor[] | null, count: number): readonly Tensor[] | null {
  if (!state) return null;
  if (state.length !== count) throw new Error(`${where}: expected a state of ${count} tensors (as returned by forwardWithState), got ${state.length}`);
  return state;
}

export interface MLSTMBlockConfig {
  embeddingDim: number;
  /** Heads of the mLSTM (must divide projFactor * embeddingDim). Default 4. */
  numHeads?: number;
  /** Up-projection factor of the inner width. Default 2. */
  projFactor?: number;
  /** Causal convolution kernel size. Default 4. */
  convKernel?: number;
  /** mLSTM forget gate, default 'sigmoid' (as the official code). */
  forgetGate?: ForgetGate;
  /** mLSTM computation: 'recurrent', 'parallel' (default) or 'chunkwise'. */
  form?: MlstmForm;
  chunkSize?: number;
}

/**
 * Pre-LayerNorm residual mLSTM block (the paper's Figure 10):
 *   x_n = LN(x);  [x_m, z] = proj_up(x_n);  x_c = silu(conv1d(x_m))
 *   q = q_proj(x_c), k = k_proj(x_c)/sqrt(DH), v = v_proj(x_m);  ĩ, f̃ = igate/fgate([q, k, v])
 *   h = GroupNorm_heads(mLSTM(q, k, v, ĩ, f̃)) + learnable_skip ⊙ x_c
 *   y = x + proj_down(h ⊙ silu(z))
 */
export class MLSTMBlock extends Module {
  readonly D: number; readonly inner: number; readonly numHeads: number;
  readonly forgetGate: ForgetGate; form: MlstmForm; chunkSize: number;
  readonly norm: LayerNorm; readonly proj_up: Linear; readonly conv1d: CausalConv1d;
  readonly q_proj: Linear; readonly k_proj: Linear; readonly v_proj: Linear;
  readonly igate: Linear; readonly fgate: Linear; readonly outnorm: GroupNorm;
  readonly learnable_skip: Parameter; readonly proj_down: Linear;

  constructor(readonly config: MLSTMBlockConfig, opts: ModuleOptions = {}) {
    super(opts);
    checkOptions('MLSTMBlock', config, ['embeddingDim', 'numHeads', 'projFactor', 'convKernel', 'forgetGate', 'form', 'chunkSize']);
    const D = this.D = checkPositiveInt('MLSTMBlock.embeddingDim', config.embeddingDim);
    const pf = config.projFactor ?? 2;
    if (!(pf > 0) || !Number.isInteger(pf * D)) throw new Error(`MLSTMBlock: projFactor * embeddingDim must be a positive integer, got ${pf} * ${D}`);
    const inner = this.inner = pf * D;
    this.numHeads = checkPositiveInt('MLSTMBlock.numHeads', config.numHeads ?? 4);
    checkHeads('MLSTMBlock', inner, this.numHeads);
    this.forgetGate = checkForgetGate('MLSTMBlock', config.forgetGate ?? 'sigmoid');
    this.form = config.form ?? 'parallel';
    checkMlstmForm('MLSTMBlock', this.form, config.chunkSize);
    this.chunkSize = config.chunkSize ?? 64;
    const K = checkPositiveInt('MLSTMBlock.convKernel', config.convKernel ?? 4);
    const o = { dtype: this.dtype, backend: this.backend, rng: this.rng };
    this.norm = this.addModule('norm', new LayerNorm({ normalizedShape: D }, o));
    this.proj_up = this.addModule('proj_up', new Linear({ inFeatures: D, outFeatures: 2 * inner, bias: false }, o));
    this.conv1d = this.addModule('conv1d', new CausalConv1d({ channels: inner, kernelSize: K }, o));
    this.q_proj = this.addModule('q_proj', new Linear({ inFeatures: inner, outFeatures: inner, bias: false }, o));
    this.k_proj = this.addModule('k_proj', new Linear({ inFeatures: inner, outFeatures: inner, bias: false }, o));
    this.v_proj = this.addModule('v_proj', new Linear({ inFeatures: inner, outFeatures: inner, bias: false }, o));
    this.igate = this.addModule('igate', new Linear({ inFeatures: 3 * inner, outFeatures: this.numHeads }, o));
    this.fgate = this.addModule('fgate', new Linear({ inFeatures: 3 * inner, outFeatures: this.numHeads }, o));
    setValues(this.fgate.bias!, linspace(3, 6, this.numHeads)); // official init: forget gates open
    this.outnorm = this.addModule('outnorm', new GroupNorm({ numGroups: this.numHeads, numChannels: inner, bias: false }, o));
    this.learnable_skip = this.addParameterValues('learnable_skip', [inner], new Float64Array(inner).fill(1));
    this.proj_down = this.addModule('proj_down', new Linear({ inFeatures: inner, outFeatures: D, bias: false }, o));
  }

  forward(x: Tensor): Tensor { return this.forwardWithState(x, null).y; }

  /** Number of tensors in this block's state: conv prefix (kernel > 1), C, n, m. */
  get stateSize(): number { return (this.conv1d.weight.shape[2] > 1 ? 1 : 0) + 3; }

  /**
   * Continue from a state returned by a previous call (null: the start of a sequence). The state
   * is [conv prefix [K-1, B, inner] (if K > 1), C [B, NH, DH, DH], n [B, NH, DH], m [B, NH]].
   */
  forwardWithState(x: Tensor, state: readonly Tensor[] | null): { y: Tensor; state: BlockState } {
    checkTokens('MLSTMBlock', x, this.D);
    const st = takeState('MLSTMBlock', state, this.stateSize);
    const hasConvState = this.stateSize === 4;
    const inner = this.inner, DH = inner / this.numHeads;
    const up = this.proj_up.forward(this.norm.forward(x));        // [T, B, 2 inner]
    const xm = slice(up, 2, 0, inner), z = slice(up, 2, inner, 2 * inner);
    const conv = convWithPrefix(this.conv1d, xm, st && hasConvState ? st[0] : null);
    const xc = silu(conv.y);
    const q = this.q_proj.forward(xc), kr = this.k_proj.forward(xc), v = this.v_proj.forward(xm);
    const qkv = concat([q, kr, v], 2);                            // [T, B, 3 inner]
    const cs = st ? st.slice(hasConvState ? 1 : 0) : null;
    const r = mlstm(q, scale(kr, 1 / Math.sqrt(DH)), v, this.igate.forward(qkv), this.fgate.forward(qkv), {
      numHeads: this.numHeads, forgetGate: this.forgetGate, form: this.form, chunkSize: this.chunkSize,
    }, cs ? { C: cs[0], n: cs[1], m: cs[2] } : null);
    const hs = add(this.outnorm.forward(r.h), mul(xc, this.learnable_skip));
    const y = add(x, this.proj_down.forward(mul(hs, silu(z))));
    return { y, state: [...(conv.prefix ? [conv.prefix] : []), r.CN, r.nN, r.mN] };
  }
}

export interface SLSTMBlockConfig {
  embeddingDim: number;
  /** Heads of the block-diagonal recurrence (must divide embeddingDim). Default 4. */
  numHeads?: number;
  /** Causal convolution kernel size feeding the input and forget gates; 0: no convolution. Default 4. */
  convKernel?: number;
  /** sLSTM forget gate, default 'sigmoid'. */
  forgetGate?: ForgetGate;
  /** Feed-forward up-projection factor. Default 4/3. */
  ffnFactor?: number;
}

/** The sLSTM recurrence's own parameters: weight_hh [4, NH, DH, DH] and bias [4D] (gates i, f, z, o). */
class SLSTMCellParams extends Module {
  readonly weight_hh: Parameter;
  readonly bias: Parameter;
  constructor(D: number, NH: number, opts: ModuleOptions) {
    super(opts);
    const DH = D / NH;
    this.weight_hh = this.addParameter('weight_hh', [4, NH, DH, DH], 1 / Math.sqrt(DH));
    const b = new Float64Array(4 * D);
    b.set(linspace(3, 6, D), D);
    this.bias = this.addParameterValues('bias', [4 * D], b);
  }
}

/**
 * Pre-LayerNorm residual sLSTM block with a gated feed-forward (the paper's Figure 9):
 *   x_n = LN(x);  x_c = silu(conv1d(x_n)) (or x_n without conv)
 *   h = sLSTM(i, f from x_c; z, o from x_n);  x_1 = x + GroupNorm_heads(h)
 *   y = x_1 + ffn_down(gelu(g) ⊙ u),  [g, u] = ffn_up(LN(x_1)),  width ceil(4/3 D)
 */
export class SLSTMBlock extends Module {
  readonly D: number; readonly numHeads: number; readonly forgetGate: ForgetGate; readonly ff: number;
  readonly norm: LayerNorm; readonly conv1d: CausalConv1d | null;
  readonly igate: Linear; readonly fgate: Linear; readonly zgate: Linear; readonly ogate: Linear;
  readonly cell: SLSTMCellParams; readonly group_norm: GroupNorm;
  readonly ffn_norm: LayerNorm; readonly ffn_up: Linear; readonly ffn_down: Linear;

  constructor(readonly config: SLSTMBlockConfig, opts: ModuleOptions = {}) {
    super(opts);
    checkOptions('SLSTMBlock', config, ['embeddingDim', 'numHeads', 'convKernel', 'forgetGate', 'ffnFactor']);
    const D = this.D = checkPositiveInt('SLSTMBlock.embeddingDim', config.embeddingDim);
    this.numHeads = checkPositiveInt('SLSTMBlock.numHeads', config.numHeads ?? 4);
    checkHeads('SLSTMBlock', D, this.numHeads);
    this.forgetGate = checkForgetGate('SLSTMBlock', config.forgetGate ?? 'sigmoid');
    const K = config.convKernel ?? 4;
    if (!Number.isInteger(K) || K < 0) throw new Error(`SLSTMBlock: convKernel must be a non-negative integer (0: no convolution), got ${K}`);
    const f = config.ffnFactor ?? 4 / 3;
    if (!(f > 0)) throw new Error(`SLSTMBlock: ffnFactor must be positive, got ${f}`);
    const ff = this.ff = Math.ceil(f * D - 1e-9);
    const o = { dtype: this.dtype, backend: this.backend, rng: this.rng };
    this.norm = this.addModule('norm', new LayerNorm({ normalizedShape: D }, o));
    this.conv1d = K > 0 ? this.addModule('conv1d', new CausalConv1d({ channels: D, kernelSize: K }, o)) : null;
    const gate = (name: string) => this.addModule(name, new Linear({ inFeatures: D, outFeatures: D, bias: false }, o));
    this.igate = gate('igate'); this.fgate = gate('fgate'); this.zgate = gate('zgate'); this.ogate = gate('ogate');
    this.cell = this.addModule('cell', new SLSTMCellParams(D, this.numHeads, o));
    this.group_norm = this.addModule('group_norm', new GroupNorm({ numGroups: this.numHeads, numChannels: D, bias: false }, o));
    this.ffn_norm = this.addModule('ffn_norm', new LayerNorm({ normalizedShape: D }, o));
    this.ffn_up = this.addModule('ffn_up', new Linear({ inFeatures: D, outFeatures: 2 * ff, bias: false }, o));
    this.ffn_down = this.addModule('ffn_down', new Linear({ inFeatures: ff, outFeatures: D, bias: false }, o));
  }

  forward(x: Tensor): Tensor { return this.forwardWithState(x, null).y; }

  /** Number of tensors in this block's state: conv prefix (kernel > 1), h, c, n, m. */
  get stateSize(): number { return (this.conv1d && this.conv1d.weight.shape[2] > 1 ? 1 : 0) + 4; }

  /**
   * Continue from a state returned by a previous call (null: the start of a sequence). The state
   * is [conv prefix [K-1, B, D] (if a conv with K > 1), h, c, n, m (each [B, D])].
   */
  forwardWithState(x: Tensor, state: readonly Tensor[] | null): { y: Tensor; state: BlockState } {
    checkTokens('SLSTMBlock', x, this.D);
    const st = takeState('SLSTMBlock', state, this.stateSize);
    const hasConvState = this.stateSize === 5;
    const xn = this.norm.forward(x);
    let xc = xn, prefix: Tensor | null = null;
    if (this.conv1d) {
      const conv = convWithPrefix(this.conv1d, xn, st && hasConvState ? st[0] : null);
      xc = silu(conv.y); prefix = conv.prefix;
    }
    const pre = add(concat([this.igate.forward(xc), this.fgate.forward(xc), this.zgate.forward(xn), this.ogate.forward(xn)], 2), this.cell.bias);
    const cs = st ? st.slice(hasConvState ? 1 : 0) : null;
    const r = slstmRecurrence(pre, this.cell.weight_hh, { numHeads: this.numHeads, forgetGate: this.forgetGate },
      cs ? { h: cs[0], c: cs[1], n: cs[2], m: cs[3] } : null);
    const x1 = add(x, this.group_norm.forward(r.y));
    const u = this.ffn_up.forward(this.ffn_norm.forward(x1));
    const ff = this.ff;
    const y = add(x1, this.ffn_down.forward(mul(gelu(slice(u, 2, 0, ff)), slice(u, 2, ff, 2 * ff))));
    return { y, state: [...(prefix ? [prefix] : []), r.hN, r.cN, r.nN, r.mN] };
  }
}

export interface XLSTMStackConfig {
  /** With a vocabulary: Embedding in front and a Linear head behind (a character LM); forward takes ids. */
  vocabSize?: number;
  /**
   * Without a vocabulary: the width of the input features when it differs from embeddingDim (a
   * bias-free Linear `input_proj` maps them to embeddingDim first). Default embeddingDim.
   */
  inputSize?: number;
  embeddingDim: number;
  numBlocks: number;
  /** Indices of the blocks that are sLSTM blocks (the others are mLSTM blocks). Default none. */
  slstmAt?: number[];
  /** Heads of every block (default 4; must divide embeddingDim and the mLSTM inner width). */
  numHeads?: number;
  mlstm?: Omit<MLSTMBlockConfig, 'embeddingDim' | 'numHeads'>;
  slstm?: Omit<SLSTMBlockConfig, 'embeddingDim' | 'numHeads'>;
}

/**
 * A stack of xLSTM blocks ("xLSTM[a:b]": sLSTM blocks at the positions slstmAt, mLSTM blocks
 * elsewhere) with a final LayerNorm. With vocabSize: Embedding -> blocks -> LayerNorm -> Linear
 * head, forward(ids i32 [T, B]) -> logits [T, B, V]. Parameter names: embedding.weight,
 * blocks.{i}.…, post_blocks_norm.{weight,bias}, head.{weight,bias}.
 */
export class XLSTMStack extends Module {
  readonly embeddingDim: number;
  readonly vocabSize: number | null;
  readonly slstmAt: readonly number[];
  readonly embedding: Embedding | null;
  /** Width of feature inputs (no vocabulary). */
  readonly inputSize: number;
  readonly input_proj: Linear | null;
  readonly blocks: (MLSTMBlock | SLSTMBlock)[] = [];
  readonly post_blocks_norm: LayerNorm;
  readonly head: Linear | null;

  constructor(readonly config: XLSTMStackConfig, opts: ModuleOptions = {}) {
    super(opts);
    checkOptions('XLSTMStack', config, ['vocabSize', 'inputSize', 'embeddingDim', 'numBlocks', 'slstmAt', 'numHeads', 'mlstm', 'slstm']);
    const D = this.embeddingDim = checkPositiveInt('XLSTMStack.embeddingDim', config.embeddingDim);
    const N = checkLayers('XLSTMStack.numBlocks', checkPositiveInt('XLSTMStack.numBlocks', config.numBlocks));
    checkWidth('XLSTMStack.embeddingDim', D);
    const at = config.slstmAt ?? [];
    if (!Array.isArray(at)) throw new Error(`XLSTMStack: slstmAt must be an array of block indices, got ${JSON.stringify(at)}`);
    for (const i of at) {
      if (!Number.isInteger(i) || i < 0 || i >= N) throw new Error(`XLSTMStack: slstmAt entries must be block indices in [0, ${N - 1}], got ${JSON.stringify(i)}`);
    }
    if (new Set(at).size !== at.length) throw new Error(`XLSTMStack: slstmAt has repeated indices: ${JSON.stringify(at)}`);
    this.slstmAt = [...at].sort((a, b) => a - b);
    // A lower bound of the stack's size (the big matrices of each block), checked before any is made.
    const pf = typeof config.mlstm?.projFactor === 'number' ? config.mlstm.projFactor : 2;
    checkParameterCount('XLSTMStack', ((N - at.length) * (2 * pf + 3 * pf * pf) + at.length * 4) * D * D);
    const o = { dtype: this.dtype, backend: this.backend, rng: this.rng };
    this.vocabSize = config.vocabSize === undefined ? null : checkPositiveInt('XLSTMStack.vocabSize', config.vocabSize);
    this.embedding = this.vocabSize ? this.addModule('embedding', new Embedding({ numEmbeddings: this.vocabSize, embeddingDim: D }, o)) : null;
    this.inputSize = config.inputSize === undefined ? D : checkPositiveInt('XLSTMStack.inputSize', config.inputSize);
    if (this.vocabSize && config.inputSize !== undefined) throw new Error('XLSTMStack: inputSize is for feature inputs; with vocabSize the input is token ids');
    this.input_proj = this.inputSize !== D ? this.addModule('input_proj', new Linear({ inFeatures: this.inputSize, outFeatures: D, bias: false }, o)) : null;
    const heads = config.numHeads ?? 4;
    for (let i = 0; i < N; i++) {
      const b = this.slstmAt.includes(i)
        ? new SLSTMBlock({ ...config.slstm, embeddingDim: D, numHeads: heads }, o)
        : new MLSTMBlock({ ...config.mlstm, embeddingDim: D, numHeads: heads }, o);
      this.blocks.push(this.addModule(`blocks.${i}`, b));
    }
    this.post_blocks_norm = this.addModule('post_blocks_norm', new LayerNorm({ normalizedShape: D }, o));
    this.head = this.vocabSize ? this.addModule('head', new Linear({ inFeatures: D, outFeatures: this.vocabSize }, o)) : null;
  }

  /** Features through the blocks and the final norm: [T, B, inputSize] -> [T, B, D]. */
  forwardFeatures(x: Tensor): Tensor { return this.featuresWithState(x, null).y; }

  /**
   * ids i32 [T, B] -> logits [T, B, V] (with vocabSize); without a vocabulary, features
   * [T, B, inputSize] -> [T, B, D]. Every call starts from the initial state (see forwardWithState).
   */
  forward(input: Tensor): Tensor { return this.forwardWithState(input, null).output; }

  /** Length of the flat state list: the blocks' states in order. */
  get stateSize(): number { return this.blocks.reduce((s, b) => s + b.stateSize, 0); }

  /**
   * Like forward, continuing from `state` (null: the start of a sequence) and returning the state
   * after the last step, a flat list of tensors (each block's conv prefix and cell state, in
   * block order): a long sequence fed in pieces (truncated BPTT; detach the state between pieces
   * to cut the gradient) or generation one step at a time give the same numbers as one call.
   */
  forwardWithState(input: Tensor, state: readonly Tensor[] | null): { output: Tensor; state: Tensor[] } {
    if (!this.embedding || !this.head) { const r = this.featuresWithState(input, state); return { output: r.y, state: r.state }; }
    if (input.dtype !== 'i32' || input.rank !== 2) throw new Error(`XLSTMStack: expected token ids of shape [T, B] (i32), got ${fmt(input.shape)} ${input.dtype}`);
    const r = this.featuresWithState(this.embedding.forward(input), state);
    return { output: this.head.forward(r.y), state: r.state };
  }

  private featuresWithState(x: Tensor, state: readonly Tensor[] | null): { y: Tensor; state: Tensor[] } {
    checkTokens('XLSTMStack', x, this.embedding ? this.embeddingDim : this.inputSize);
    const st = takeState('XLSTMStack', state, this.stateSize);
    const out: Tensor[] = [];
    let h = this.input_proj ? this.input_proj.forward(x) : x, at = 0;
    for (const b of this.blocks) {
      const r = b.forwardWithState(h, st ? st.slice(at, at + b.stateSize) : null);
      at += b.stateSize;
      h = r.y;
      out.push(...r.state);
    }
    return { y: this.post_blocks_norm.forward(h), state: out };
  }
}

/**
 * The stack as a recurrent core for sequence models that embed and project themselves (the
 * trainer's `--cell xlstm`): features [T, B, inputSize] -> y [T, B, hiddenSize], with the state
 * carried between calls. numLayers blocks; sLSTM blocks at slstmAt (default: the odd positions,
 * a 1:1 ratio as the paper's xLSTM[1:1]); heads: 4, or the largest of 2, 1 dividing hiddenSize.
 * The returned object has the shape of the trainer's RecurrentBlock. Note that its state list
 * starts with the first block's conv prefix, not a hidden state: take the last step of y for
 * sequence-to-one heads.
 */
export function xlstmRecurrentCore(spec: { inputSize: number; hiddenSize: number; numLayers: number; slstmAt?: number[] },
  opts: ModuleOptions = {}) {
  const H = checkPositiveInt('xlstm core hiddenSize', spec.hiddenSize), L = checkPositiveInt('xlstm core numLayers', spec.numLayers);
  const numHeads = [4, 2, 1].find((h) => H % h === 0)!;
  const slstmAt = spec.slstmAt ?? Array.from({ length: L }, (_, i) => i).filter((i) => i % 2 === 1);
  const module = new XLSTMStack({ inputSize: spec.inputSize, embeddingDim: H, numBlocks: L, slstmAt, numHeads }, opts);
  return {
    module, outputSize: H, numDirections: 1, numLayers: L,
    forward(x: Tensor, state: readonly Tensor[] | null): { y: Tensor; state: Tensor[] } {
      const r = module.forwardWithState(x, state);
      return { y: r.output, state: r.state };
    },
  };
}
