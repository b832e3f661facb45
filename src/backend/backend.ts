import type { DType, TypedArray } from './dtype.js';

/**
 * Backend-owned memory. A tensor holds one of these; only its backend looks inside.
 * CPU backends (reference, wasm) expose `array`, a typed array over the bytes (for wasm: a view
 * into the module's linear memory), so every reference kernel also runs on wasm storage.
 */
export interface Storage {
  readonly backend: Backend;
  readonly dtype: DType;
  readonly length: number;
}

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'square'
  | 'sigmoid' | 'tanh' | 'relu' | 'softplus' | 'logsigmoid';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min'
  | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge'; // comparisons give 1 or 0

/** A right GEMM operand op(B)[k, n] prepared by Backend.prepareB (its arguments as given). */
export interface PreparedB {
  readonly transB: boolean;
  readonly k: number;
  readonly n: number;
  readonly b: Storage;
  readonly bOff: number;
  readonly ldb: number;
}

/** Activations with a fused kernel (the xLSTM blocks'). */
export type ActivationOp = 'gelu' | 'silu';

/**
 * THE BACKEND CONTRACT (read this before writing a device).
 *
 * A backend owns memory and runs kernels; everything above it (ops, autograd, nn) is written
 * against this file only. It has two parts:
 *
 * - `Backend`, the CORE: 14 required methods every device implements (storage, copies and strided
 *   views, elementwise maps, reductions, GEMM, row gathers). A device whose core is right runs
 *   every model Carousel has: `composed` is exactly the reference core, registered as a backend,
 *   and passes every fixture and test through the fallbacks alone.
 * - `OptionalKernels`, grouped in KERNEL_SETS (recurrent cells and fused steps, softmax, xLSTM,
 *   convolution, CTC, optimizer updates, checks): a backend implements any of them as methods of
 *   the same name. Each has ONE composed fallback in src/ops/composed/, built from core kernels,
 *   used wherever a backend lacks it (`kernels(backend)` in src/ops/kernels.ts picks). What runs
 *   natively is listed by `kernelListing(backend)` and `carousel info --backends`.
 *
 * Addressing, the rules a GPU backend relies on:
 * - A kernel addresses a sub-buffer as (storage, element offset), offsets and leading dimensions
 *   (or strides) in elements, passed as plain arguments. A GPU backend passes them to its shaders
 *   as uniform/push-constant values, never as buffer binding offsets (those must be aligned to
 *   256 bytes; an element offset is not).
 * - Outputs never alias inputs unless the kernel's comment says it may (cells updating c in place,
 *   `affine` and `unary` with x === out at the same offset). Inputs may alias each other.
 * - Kernels return nothing (or a prepared handle): no kernel reads a value back to the host. The
 *   only host reads are `read` (asynchronous, every backend) and `readSync` (an optional
 *   capability of CPU backends, for `Tensor.dataSync()`).
 * - Calls are ordered: a kernel sees the results of every call made before it on that backend.
 * - Floating-point kernels run in the dtypes `dtypes` lists; index inputs are i32. Row-major.
 */
export interface Backend extends Partial<OptionalKernels> {
  readonly name: string;
  /** dtypes this backend computes in (i32 is always accepted for index tensors). */
  readonly dtypes: readonly DType[];

  // ---- storage ----
  /** A new zero-filled storage of `length` elements. */
  alloc(dtype: DType, length: number): Storage;
  /** A new storage holding a copy of `data`. */
  upload(dtype: DType, data: ArrayLike<number>): Storage;
  /** A copy of the contents, on the host: the one way every backend gives values back. */
  read(s: Storage): Promise<TypedArray>;
  /** Return the memory now (use after dispose is an error where the backend can tell). */
  dispose(s: Storage): void;
  /** Optional capability of CPU backends: `read` without waiting (Tensor.dataSync, item). */
  readSync?(s: Storage): TypedArray;

  // ---- copies and views ----
  /** s[offset, offset + length) = value. */
  fill(s: Storage, offset: number, length: number, value: number): void;
  /**
   * dst[dOff + sum_i idx_i*dStr_i] (+)= src[sOff + sum_i idx_i*sStr_i] for every index of `shape`.
   * With zero strides in dst and accumulate=true this is a sum-reduction (in row-major index
   * order); with zero strides in src, a broadcast. Slicing, concatenation and transposition are
   * all this kernel. src and dst must not overlap.
   */
  copyStrided(shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[], accumulate: boolean): void;

  // ---- elementwise ----
  /** out[outOff + i] = f(x[xOff + i]) for i < n (x === out at the same offset is allowed). */
  unary(op: UnaryOp, x: Storage, xOff: number, out: Storage, outOff: number, n: number): void;
  /**
   * dx[i] (+)= dy[i] * f'(x[i]) for i < n, contiguous from offset 0; y = f(x) is given because
   * some derivatives are cheaper from it. A zero dy gives a zero gradient (no NaN from f').
   */
  unaryBackward(op: UnaryOp, x: Storage, y: Storage, dy: Storage, dx: Storage, n: number, accumulate: boolean): void;
  /**
   * out (contiguous, of `shape`, at outOff) = a op b, each read through its own offset and
   * (broadcast, possibly zero) strides. Comparisons give 1 or 0. out may be a or b only when read
   * through the same contiguous view.
   */
  binary(op: BinaryOp, shape: readonly number[], a: Storage, aOff: number, aStr: readonly number[],
    b: Storage, bOff: number, bStr: readonly number[], out: Storage, outOff: number): void;
  /** out[outOff + i] (+)= alpha * x[xOff + i] + beta for i < n (x === out allowed). */
  affine(x: Storage, xOff: number, out: Storage, outOff: number, n: number, alpha: number, beta: number, accumulate: boolean): void;
  /**
   * dst[dOff + sum_i idx_i*dStr_i] = op over every index of `shape` that lands there of
   * src[sOff + sum_i idx_i*sStr_i] (dst's zero strides are the reduced axes). Overwrites; 'max'
   * and 'min' propagate NaN; a 'sum' adds in row-major index order (deterministic).
   */
  reduce(op: ReduceOp, shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[]): void;

  // ---- matrix product ----
  /**
   * C[m,n] = alpha * op(A)[m,k] op(B)[k,n] + beta * C, row-major, with leading dimensions.
   * op(A) = A^T when transA (A stored [k,m]); likewise for B. beta = 0 ignores C's old values.
   */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Storage, aOff: number, lda: number, b: Storage, bOff: number, ldb: number,
    beta: number, c: Storage, cOff: number, ldc: number): void;

  // ---- indexing ----
  /**
   * dst[dOff + r*rowLen + j] = src[sOff + idx[r]*rowLen + j] for r < n, j < rowLen (idx i32).
   * Indices are validated before the call (src/ops/checks.ts); for an index outside the source a
   * backend may write anything to that row, but never crash or write outside it.
   */
  gatherRows(src: Storage, sOff: number, idx: Storage, n: number, rowLen: number, dst: Storage, dOff: number): void;
  /** dst[dOff + idx[r]*rowLen + j] += src[sOff + r*rowLen + j] for r < n, in order of r (deterministic). */
  scatterAddRows(src: Storage, sOff: number, idx: Storage, n: number, rowLen: number, dst: Storage, dOff: number): void;
}

/** Reductions of the core's `reduce`. */
export type ReduceOp = 'sum' | 'max' | 'min';

/**
 * Kernels a backend may implement (as methods of these names) for speed; each has a composed
 * fallback in src/ops/composed/ built from the core.
 */
export interface OptionalKernels {
  /**
   * dst[dOff + r*ldDst + j] (+)= src[sOff + r*ldSrc + j] for r < rows, j < cols: a block of rows.
   * The common case of copyStrided, with plain numbers so a time loop can call it without allocating.
   */
  copy2d(rows: number, cols: number, src: Storage, sOff: number, ldSrc: number,
    dst: Storage, dOff: number, ldDst: number, accumulate: boolean): void;

  /**
   * One Adam (decoupled: AdamW) step over n values in place, as torch.optim.Adam's single-tensor
   * path at step `step` (>= 1): p, m (exp_avg), v (exp_avg_sq) and, for AMSGrad, vmax
   * (max_exp_avg_sq, else null) are updated; g is read. m, v and vmax below the smallest normal
   * value of the dtype are flushed to 0 (subnormal arithmetic is very slow on x86; their effect on
   * p is far below its resolution).
   */
  adamStep(p: Storage, g: Storage, m: Storage, v: Storage, vmax: Storage | null, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void;

  /**
   * Set the values of s[0, n) whose magnitude is below the smallest normal value of the dtype to 0
   * (optimizer state decaying towards 0: see adamStep).
   */
  flushSubnormal(s: Storage, n: number): void;

  /**
   * out[outOff] = 1 if any of x[xOff, xOff + n) is NaN or infinite, else 0 (input validation on the
   * device: src/ops/checks.ts reads the flag where reads are free and defers it elsewhere).
   */
  anyNonFinite(x: Storage, xOff: number, n: number, out: Storage, outOff: number): void;

  /**
   * op(B)[k, n] prepared for many gemmPrepared calls against it (a recurrent weight over the steps
   * of a sequence): a backend may pack it once (wasm does, so a step packs only its few rows of A).
   * B must not change while prepared; release the result with releasePrepared. `maxRows`: the most
   * rows of A the coming GEMMs have (a backend skips packing where so few rows gain nothing).
   */
  prepareB(transB: boolean, k: number, n: number, b: Storage, bOff: number, ldb: number, maxRows?: number): PreparedB;
  /** C[m, n] = alpha * A[m, k] op(B)[k, n] + beta * C, op(B) from prepareB (A untransposed). */
  gemmPrepared(m: number, alpha: number, a: Storage, aOff: number, lda: number, p: PreparedB,
    beta: number, c: Storage, cOff: number, ldc: number): void;
  releasePrepared(p: PreparedB): void;

  /**
   * out[i, :] = x1[i, :] W1^T + x2[i, :] W2^T (+ b1) (+ b2) for rows i < m, in one pass: a
   * recurrent step's gate pre-activations (W1 [n, k1] and W2 [n, k2] contiguous, as PyTorch stores
   * W_ih and W_hh; b1, b2 [n] or null; k2 = 0 drops the second product).
   */
  linear2(m: number, n: number, k1: number, x1: Storage, x1Off: number, ldx1: number, w1: Storage,
    k2: number, x2: Storage | null, x2Off: number, ldx2: number, w2: Storage | null,
    b1: Storage | null, b2: Storage | null, out: Storage, outOff: number, ldo: number): void;

  /** Row-wise softmax (or log-softmax) of a [rows, cols] matrix. */
  softmax(x: Storage, out: Storage, rows: number, cols: number, log: boolean): void;
  /** dx (+)= softmax backward from y = softmax(x) (or logSoftmax when log). */
  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, cols: number, log: boolean, accumulate: boolean): void;

  /**
   * LSTM pointwise step for `rows` batch rows (all gates, cell and hidden update fused).
   * `cell` (optional, last): peepholes / Greff variants, see LstmCellOptions below; the
   * gate buffer is then [rows, G*H] with only the present blocks. Omitted: the standard cell.
   * gates [rows, 4H] at gOff: pre-activations (i, f, g, o) in, activations out (kept for backward).
   * cPrev [rows, H], cOut [rows, H] contiguous; hOut = o * tanh(c) written with row stride ldh.
   * cOut may be the very same block as cPrev (inference updates the state in place).
   */
  lstmCellForward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number, cell?: LstmCellOptions): void;
  /**
   * One standard LSTM time step: gates [rows, 4H] at gOff (holding x W_ih^T + biases) += h W_hh^T
   * with hIn [rows, K] (row stride ldhIn) and wHh from prepareB(true, K, 4H, W_hh), then
   * lstmCellForward. hOut must not overlap hIn. A backend may fuse the two (wasm splits the hidden
   * units over its threads, each computing and consuming its own gate columns).
   */
  lstmStep(rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, wHh: PreparedB, gates: Storage, gOff: number,
    cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number): void;
  /**
   * One standard LSTM backward time step: lstmCellBackward with dh [rows, H] (row stride ldh)
   * holding dL/dh_t, then dh = dGates W_hh (dL/dh_{t-1}) with wHh from prepareB(false, 4H, H, W_hh).
   * A backend may fuse the two (wasm splits the rows over its threads, each consuming its own).
   */
  lstmStepBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number, c: Storage, cOff: number,
    dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number, dGates: Storage, dgOff: number, wHh: PreparedB): void;
  /**
   * Backward of lstmCellForward. dh [rows, H] (row stride ldh) is dL/dh_t; dc [rows, H] is dL/dc_t
   * from the future on entry and dL/dc_{t-1} on exit; dGates [rows, 4H] gets the pre-activation grads.
   */
  lstmCellBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    c: Storage, cOff: number, dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number,
    dGates: Storage, dgOff: number, cell?: LstmCellOptions): void;

  /**
   * GRU pointwise step (PyTorch's nn.GRU). gx [rows, 3H]: x W_ih^T + b_ih, overwritten with the
   * activations (r, z, n). gh [rows, 3H]: h W_hh^T (b_hh added here, in place, and kept).
   * hPrev rows with stride ldhp; hOut rows with stride ldh.
   */
  gruCellForward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    bhh: Storage | null, hPrev: Storage, hpOff: number, ldhp: number, hOut: Storage, hOff: number, ldh: number): void;
  /**
   * Backward of gruCellForward. dh [rows, H] (stride ldh) is dL/dh_t; writes dGx, dGh [rows, 3H]
   * (pre-activation grads of the input and hidden projections) and dhPrev [rows, H] = dL/dh_t * z
   * (the direct path; the caller adds dGh W_hh).
   */
  gruCellBackward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    hPrev: Storage, hpOff: number, ldhp: number, dh: Storage, dhOff: number, ldh: number,
    dGx: Storage, dgxOff: number, dGh: Storage, dghOff: number, dhPrev: Storage, dhpOff: number): void;

  /**
   * im2col for n images x [n, C, Hgt, Wid] at xOff, for a stride-1 cross-correlation (torch
   * conv2d) with a k x k kernel and zero padding `pad`: cols [C*k*k, n*P] at colOff, with
   * Ho = Hgt + 2 pad - k + 1 (Wo likewise), P = Ho*Wo and
   *   cols[(c*k + u)*k + v, b*P + r*Wo + s] = x[b, c, r + u - pad, s + v - pad]  (0 outside the image).
   * A convolution of the whole batch is then ONE GEMM: W [O, C*k*k] x cols -> [O, n*P].
   */
  im2col(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
    x: Storage, xOff: number, cols: Storage, colOff: number): void;
  /** The adjoint of im2col: dx [n, C, Hgt, Wid] at dxOff += the columns scattered back (accumulates). */
  col2im(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
    cols: Storage, colOff: number, dx: Storage, dxOff: number): void;

  /**
   * CTC negative log likelihood per sample and its gradient w.r.t. log_probs, with the semantics
   * of PyTorch's ctc_loss (reduction none). logProbs [T, N, C]; targets concatenated (i32);
   * inputLengths, targetLengths [N] (i32). Writes loss [N] and grad [T, N, C] (d loss_n / d logProbs).
   */
  ctc(logProbs: Storage, T: number, N: number, C: number, targets: Storage, inputLengths: Storage,
    targetLengths: Storage, blank: number, loss: Storage, grad: Storage): void;

  /**
   * sLSTM pointwise step, stabilized (EXTENDED.md), for `rows` batch rows of H units.
   * pre [rows, 4H] at pOff: pre-activations (ĩ, f̃, z̃, õ) including the recurrent term (read only).
   * c, n, m: state buffers; the previous step's [rows, H] block at prevOff (not read when `first`:
   * m_0 = -inf), this step's written at curOff. h [rows, H] written at hOff, row stride ldh.
   */
  slstmCellForward(rows: number, H: number, expForget: boolean, first: boolean, pre: Storage, pOff: number,
    c: Storage, n: Storage, m: Storage, prevOff: number, curOff: number, h: Storage, hOff: number, ldh: number): void;
  /**
   * Backward of slstmCellForward. dL/dh_t = dy[dyOff + b*ldy + j] + dhRec[b*H + j]. dc, dn, dm
   * [rows, H]: dL/d(state_t) from later steps on entry, dL/d(state_{t-1}) on exit. dPre [rows, 4H]
   * at dpOff: dL/d(ĩ, f̃, z̃, õ), overwritten.
   */
  slstmCellBackward(rows: number, H: number, expForget: boolean, first: boolean, pre: Storage, pOff: number,
    c: Storage, n: Storage, m: Storage, prevOff: number, curOff: number, dy: Storage, dyOff: number, ldy: number,
    dhRec: Storage, dc: Storage, dn: Storage, dm: Storage, dPre: Storage, dpOff: number): void;

  /**
   * mLSTM over a whole sequence, stabilized (EXTENDED.md; layouts in reference/mlstm.ts):
   * q, k, v, h [T, B, NH*DH], ig (ĩ), fg (f̃) [T, B, NH]. `chunk` 0: the recurrent form, states
   * C [T, B, NH, DH, DH], n [T, B, NH, DH], m [T, B, NH] after every step; `chunk` L > 0: the
   * chunkwise form (parallel when L >= T), the same states after every chunk (ceil(T/L) slots).
   * The last slot is the final state. Optional initial state C0 [B, NH, DH, DH], n0 [B, NH, DH],
   * m0 [B, NH] (all or none; none: C_0 = n_0 = 0, m_0 = -inf).
   */
  mlstmForward(T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
    q: Storage, k: Storage, v: Storage, ig: Storage, fg: Storage, h: Storage, C: Storage, n: Storage, m: Storage,
    C0?: Storage | null, n0?: Storage | null, m0?: Storage | null): void;
  /**
   * Backward of mlstmForward (same `chunk`, same saved states, same initial state). dh [T, B, H];
   * dCn, dnn, dmn: the gradients of the final states. Overwrites dq, dk, dv [T, B, H], dig, dfg
   * [T, B, NH], and (with an initial state, when given) dC0, dn0, dm0.
   */
  mlstmBackward(T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
    q: Storage, k: Storage, v: Storage, ig: Storage, fg: Storage, C: Storage, n: Storage, m: Storage,
    dh: Storage, dCn: Storage, dnn: Storage, dmn: Storage,
    dq: Storage, dk: Storage, dv: Storage, dig: Storage, dfg: Storage,
    C0?: Storage | null, n0?: Storage | null, m0?: Storage | null,
    dC0?: Storage | null, dn0?: Storage | null, dm0?: Storage | null): void;

  /**
   * Group normalization over the last dimension (layer norm: G = 1): x, y [rows, C], groups of
   * C/G consecutive features, y = (x - mean) rstd w + b (w, b [C] or null), biased variance.
   * Saves mean, rstd [rows, G].
   */
  groupNormForward(rows: number, C: number, G: number, eps: number, x: Storage, w: Storage | null, b: Storage | null,
    y: Storage, mean: Storage, rstd: Storage): void;
  /** Backward of groupNormForward; overwrites dx [rows, C], dw [C], db [C] (null: not wanted). */
  groupNormBackward(rows: number, C: number, G: number, x: Storage, w: Storage | null, mean: Storage, rstd: Storage,
    dy: Storage, dx: Storage | null, dw: Storage | null, db: Storage | null): void;
  /** y = f(x) for n contiguous elements: 'gelu' (tanh form) or 'silu' (x σ(x)). */
  activationForward(op: ActivationOp, x: Storage, y: Storage, n: number): void;
  /** dx = dy f'(x) (overwritten). */
  activationBackward(op: ActivationOp, x: Storage, dy: Storage, dx: Storage, n: number): void;
  /**
   * Depthwise causal convolution over time: x, y [T, B, C], w [C, K], bias [C] or null;
   * y[t, b, c] = bias[c] + sum_{j < K} w[c, j] x[t - K + 1 + j, b, c] (zero before t = 0).
   */
  causalConv1dForward(T: number, B: number, C: number, K: number, x: Storage, w: Storage, bias: Storage | null, y: Storage): void;
  /** Backward of causalConv1dForward; overwrites dx, dw, db (null: not wanted). */
  causalConv1dBackward(T: number, B: number, C: number, K: number, x: Storage, w: Storage, dy: Storage,
    dx: Storage | null, dw: Storage | null, db: Storage | null): void;

  /**
   * Quantized inference (src/quant/scheme.ts defines every operation): out[i, :] (+)= x_i Wq^T
   * (+ bias) for rows i < m of x [m, k] (row stride ldx), out [m, n] (row stride ldo), with int8
   * weights Wq [n, k] (four to an element of the i32 storage w, row-major, from element 0) and
   * their per-row f32 scales [n]. x is quantized per row to int8 and the products summed in int32:
   * every backend gives the same bits.
   */
  qgemmInt8(m: number, n: number, k: number, x: Storage, xOff: number, ldx: number, w: Storage, scales: Storage,
    bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void;
  /** As qgemmInt8 with 16-bit float weights (bf16 or f16 bits, two to an i32 element) widened to f32; x stays f32. */
  qgemm16(format: 'bf16' | 'f16', m: number, n: number, k: number, x: Storage, xOff: number, ldx: number, w: Storage,
    bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void;
}

/**
 * The optional kernels in sets, as `carousel info --backends` lists them. A backend that
 * implements a set implements all of its kernels, so a fused path never mixes native and composed.
 */
export const KERNEL_SETS = {
  copy: ['copy2d'],
  softmax: ['softmax', 'softmaxBackward'],
  lstm: ['lstmCellForward', 'lstmCellBackward', 'lstmStep', 'lstmStepBackward'],
  gru: ['gruCellForward', 'gruCellBackward'],
  packing: ['prepareB', 'gemmPrepared', 'releasePrepared', 'linear2'],
  xlstm: ['slstmCellForward', 'slstmCellBackward', 'mlstmForward', 'mlstmBackward'],
  norm: ['groupNormForward', 'groupNormBackward', 'activationForward', 'activationBackward', 'causalConv1dForward', 'causalConv1dBackward'],
  conv: ['im2col', 'col2im'],
  ctc: ['ctc'],
  optim: ['adamStep', 'flushSubnormal'],
  check: ['anyNonFinite'],
  quant: ['qgemmInt8', 'qgemm16'],
} as const satisfies Record<string, readonly (keyof OptionalKernels)[]>;

export type KernelSet = keyof typeof KERNEL_SETS;
export type OptionalKernelName = keyof OptionalKernels;

/** A backend with every optional kernel present: what `kernels(backend)` returns. */
export type Kernels = Backend & OptionalKernels;

/**
 * Options of the generalized fused LSTM cell kernel (`Backend.lstmCellForward/Backward`):
 * peepholes (Gers et al. 2002) and the variants of Greff et al. 2015. Passing no options means
 * the standard nn.LSTM cell (gates [rows, 4H] in order i, f, g, o), which stays the fast path.
 *
 * The gate buffer holds only the blocks that exist, in the order (i, f, g, o) with the missing
 * ones skipped (`lstmCellLayout`); a missing gate is the constant 1 (CIFG: f = 1 - i).
 *   i = σ(a_i + w_ci ⊙ c_{t-1})    f = σ(a_f + w_cf ⊙ c_{t-1})    g = tanh(a_g) (or a_g)
 *   c = f ⊙ c_{t-1} + i ⊙ g        o = σ(a_o + w_co ⊙ c)          h = o ⊙ tanh(c) (or o ⊙ c)
 * Full gate recurrence (FGR) is not in the kernel's forward: the caller adds the previous step's
 * gate activations times weight_gr to the pre-activations before the call; in backward the
 * kernel adds the gradient that flowed back into this step's activations (`gateRecurrence`).
 */
export interface LstmCellOptions {
  /** false: no input-gate block, i = 1 (NIG). */
  readonly inputGate: boolean;
  /** 'gate': σ forget gate; 'none': no block, f = 1 (NFG, LSTM1997); 'coupled': no block, f = 1 - i (CIFG). */
  readonly forgetGate: 'gate' | 'none' | 'coupled';
  /** false: no output-gate block, o = 1 (NOG). */
  readonly outputGate: boolean;
  /** false: g = a_g, no tanh on the block input (NIAF). */
  readonly inputActivation: boolean;
  /** false: h = o ⊙ c, no tanh on the cell output (NOAF). */
  readonly outputActivation: boolean;
  /**
   * Peephole vectors [3H] = (w_ci, w_cf, w_co) starting at `peepOff`, shared by all rows, or
   * null for none. The slots of absent gates are never read.
   */
  readonly peepholes: Storage | null;
  readonly peepOff: number;
  /**
   * Backward only. true: on entry dGates holds, at the i, f and o blocks, dL/d(activation) of
   * those gates that came from the next step's gate recurrence; the kernel adds it to the
   * local gradient before writing the pre-activation gradients (FGR). false: dGates is
   * write-only, as for the standard cell.
   */
  readonly gateRecurrence: boolean;
}
