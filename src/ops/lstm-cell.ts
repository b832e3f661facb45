import type { Backend, Storage } from '../backend/backend.js';
import type { LstmCellOptions } from '../backend/backend.js';
import { lstmCellLayout } from '../backend/lstm-cell.js';
import type { DType } from '../backend/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Helpers for the ops that drive the generalized LSTM cell kernel (peephole LSTM, Greff's
 * variants, ConvLSTM): packing the peephole vectors for the kernel and reducing their gradients.
 */

/** The three peephole vectors (absent ones: null) packed as one [3H] buffer (w_ci, w_cf, w_co) for the kernel. */
export function packPeepholes(be: Backend, dt: DType, H: number, ci: Tensor | null, cf: Tensor | null, co: Tensor | null): Storage {
  const p = be.alloc(dt, 3 * H);
  [ci, cf, co].forEach((w, k) => { if (w) be.copyStrided([H], w.storage, 0, [1], p, k * H, [1], false); });
  return p;
}

/**
 * Peephole gradients from the pre-activation gradients of all steps:
 *   dw_ci = sum_rows dA_i ⊙ c_{t-1},  dw_cf = sum_rows dA_f ⊙ c_{t-1},  dw_co = sum_rows dA_o ⊙ c_t
 * dG [rows, G*H] (layout of `cell`), Cp, C [rows, H] contiguous from offset 0 (rows = T*B).
 * Returns one [H] storage per gate that exists (null for an absent gate).
 */
export function peepholeGrads(be: Backend, dt: DType, rows: number, H: number, cell: LstmCellOptions,
  dG: Storage, Cp: Storage, C: Storage): [Storage | null, Storage | null, Storage | null] {
  const L = lstmCellLayout(cell), GH = L.G * H;
  const blk = be.alloc(dt, rows * H), prod = be.alloc(dt, rows * H);
  const one = (block: number, state: Storage): Storage | null => {
    if (block < 0) return null;
    be.copyStrided([rows, H], dG, block * H, [GH, 1], blk, 0, [H, 1], false);        // [rows, H] dA of the gate
    be.binary('mul', [rows, H], blk, 0, [H, 1], state, 0, [H, 1], prod, 0);                  // dA ⊙ c
    const out = be.alloc(dt, H);
    be.copyStrided([rows, H], prod, 0, [H, 1], out, 0, [0, 1], true);               // sum over rows
    return out;
  };
  return [one(L.i, Cp), one(L.f, Cp), one(L.o, C)];
}

/**
 * Which LSTM cell a recurrent layer runs: the flags of LstmCellOptions without the storages, plus
 * whether peephole vectors and the full gate recurrence (weight_gr) exist. One fused op and one
 * pair of kernels serve all of them (src/ops/lstm.ts); `undefined` is the standard nn.LSTM cell.
 */
export interface LstmCellSpec {
  readonly inputGate: boolean;
  readonly forgetGate: 'gate' | 'none' | 'coupled';
  readonly outputGate: boolean;
  readonly inputActivation: boolean;
  readonly outputActivation: boolean;
  readonly peepholes: boolean;
  /** FGR: i, f, o also receive [i, f, o]_{t-1} through weight_gr [3H, 3H] (zero at the first step). */
  readonly gateRecurrence: boolean;
}

/** Greff et al. 2015's variants (each changes one thing from V), plus the 1997 block. */
export type LstmVariant = 'V' | 'NIG' | 'NFG' | 'NOG' | 'NIAF' | 'NOAF' | 'NP' | 'CIFG' | 'FGR' | 'LSTM1997';

const V: LstmCellSpec = {
  inputGate: true, forgetGate: 'gate', outputGate: true, inputActivation: true, outputActivation: true,
  peepholes: true, gateRecurrence: false,
};

export const LSTM_VARIANTS: Readonly<Record<LstmVariant, LstmCellSpec>> = {
  V,                                                       // peephole LSTM with forget gate
  NIG: { ...V, inputGate: false },                         // i = 1
  NFG: { ...V, forgetGate: 'none' },                       // f = 1
  NOG: { ...V, outputGate: false },                        // o = 1
  NIAF: { ...V, inputActivation: false },                  // g = a_g
  NOAF: { ...V, outputActivation: false },                 // h = o c
  NP: { ...V, peepholes: false },                          // = nn.LSTM
  CIFG: { ...V, forgetGate: 'coupled' },                   // f = 1 - i
  FGR: { ...V, gateRecurrence: true },                     // full gate recurrence
  LSTM1997: { ...V, forgetGate: 'none', peepholes: false }, // NFG + NP
};

export function isLstmVariant(v: unknown): v is LstmVariant {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(LSTM_VARIANTS, v);
}

/** True for the plain nn.LSTM cell (kernels take their fast path; no extra parameters). */
export function isStandardSpec(s: LstmCellSpec | undefined): boolean {
  return !s || (s.inputGate && s.forgetGate === 'gate' && s.outputGate && s.inputActivation && s.outputActivation
    && !s.peepholes && !s.gateRecurrence);
}

/** Reject specs that make no sense, naming why. */
export function checkCellSpec(what: string, s: LstmCellSpec): void {
  if (s.forgetGate === 'coupled' && !s.inputGate) {
    throw new Error(`${what}: a coupled forget gate (f = 1 - i, CIFG) needs the input gate, but the input gate is removed`);
  }
  if (s.gateRecurrence && !(s.inputGate && s.forgetGate === 'gate' && s.outputGate)) {
    throw new Error(`${what}: full gate recurrence (FGR) needs all three gates i, f, o`);
  }
}

/** The gate blocks stacked in the weights, in order (EXTENDED.md `gateOrder`). */
export function gateOrder(s: LstmCellSpec | undefined): string[] {
  if (!s) return ['i', 'f', 'g', 'o'];
  return [s.inputGate ? 'i' : '', s.forgetGate === 'gate' ? 'f' : '', 'g', s.outputGate ? 'o' : ''].filter((x) => x);
}

/** The peephole vectors that exist (EXTENDED.md `peepholes`): one per present gate. */
export function peepholeNames(s: LstmCellSpec | undefined): string[] {
  if (!s || !s.peepholes) return [];
  return [s.inputGate ? 'ci' : '', s.forgetGate === 'gate' ? 'cf' : '', s.outputGate ? 'co' : ''].filter((x) => x);
}

/** The kernel options for a spec (undefined for the standard cell: the fast path). */
export function cellOptions(s: LstmCellSpec | undefined, peepholes: Storage | null, backward: boolean): LstmCellOptions | undefined {
  if (!s || isStandardSpec(s)) return undefined;
  return {
    inputGate: s.inputGate, forgetGate: s.forgetGate, outputGate: s.outputGate,
    inputActivation: s.inputActivation, outputActivation: s.outputActivation,
    peepholes: s.peepholes ? peepholes : null, peepOff: 0, gateRecurrence: backward && s.gateRecurrence,
  };
}

/*
 * Full gate recurrence (FGR). Rows are 4H gate vectors (i, f, g, o); the recurrence couples the
 * blocks {i, f} (columns 0..2H) and o (columns 3H..4H), so each product is done as four GEMMs on
 * sub-blocks of weight_gr [3H, 3H] (row block p = target gate, column block q = source gate,
 * both in order i, f, o), with no copies.
 */

/** gates[:, i f o] += act[:, i f o] W_gr^T for `rows` rows (act: the previous step's activations). */
export function gateRecurrenceForward(be: Backend, rows: number, H: number, act: Storage, aOff: number,
  wGr: Storage, gates: Storage, gOff: number): void {
  if (rows === 0) return;
  const GH = 4 * H, L = 3 * H, O = 3 * H, H2 = 2 * H;
  be.gemm(false, true, rows, H2, H2, 1, act, aOff, GH, wGr, 0, L, 1, gates, gOff, GH);                // {i,f} <- {i,f}
  be.gemm(false, true, rows, H2, H, 1, act, aOff + O, GH, wGr, H2, L, 1, gates, gOff, GH);            // {i,f} <- o
  be.gemm(false, true, rows, H, H2, 1, act, aOff, GH, wGr, H2 * L, L, 1, gates, gOff + O, GH);        // o <- {i,f}
  be.gemm(false, true, rows, H, H, 1, act, aOff + O, GH, wGr, H2 * L + H2, L, 1, gates, gOff + O, GH); // o <- o
}

/** dAct[:, i f o] = dA[:, i f o] W_gr for `rows` rows: the gradient reaching the previous step's activations (overwrites). */
export function gateRecurrenceBackward(be: Backend, rows: number, H: number, dA: Storage, dOff: number,
  wGr: Storage, dAct: Storage, pOff: number): void {
  if (rows === 0) return;
  const GH = 4 * H, L = 3 * H, O = 3 * H, H2 = 2 * H;
  be.gemm(false, false, rows, H2, H2, 1, dA, dOff, GH, wGr, 0, L, 0, dAct, pOff, GH);
  be.gemm(false, false, rows, H2, H, 1, dA, dOff + O, GH, wGr, H2 * L, L, 1, dAct, pOff, GH);
  be.gemm(false, false, rows, H, H2, 1, dA, dOff, GH, wGr, H2, L, 0, dAct, pOff + O, GH);
  be.gemm(false, false, rows, H, H, 1, dA, dOff + O, GH, wGr, H2 * L + H2, L, 1, dAct, pOff + O, GH);
}

/** dW_gr [3H, 3H] = sum over R rows of dA[r, i f o]^T act[r, i f o] (row r of dA pairs with row r of act). */
export function gateRecurrenceWeightGrad(be: Backend, R: number, H: number, dA: Storage, dOff: number,
  act: Storage, aOff: number, dW: Storage): void {
  const GH = 4 * H, L = 3 * H, O = 3 * H, H2 = 2 * H;
  be.gemm(true, false, H2, H2, R, 1, dA, dOff, GH, act, aOff, GH, 0, dW, 0, L);
  be.gemm(true, false, H2, H, R, 1, dA, dOff, GH, act, aOff + O, GH, 0, dW, H2, L);
  be.gemm(true, false, H, H2, R, 1, dA, dOff + O, GH, act, aOff, GH, 0, dW, H2 * L, L);
  be.gemm(true, false, H, H, R, 1, dA, dOff + O, GH, act, aOff + O, GH, 0, dW, H2 * L + H2, L);
}

/**
 * The cell an LSTM module asks for with its `variant` and `peepholes` options (undefined: the
 * standard cell). `peepholes: true` alone is the peephole LSTM (= variant V). Contradictions and
 * unsupported combinations are rejected with the reason.
 */
export function resolveLstmCell(what: string, variant: unknown, peepholes: unknown, projSize: number): LstmCellSpec | undefined {
  if (peepholes !== undefined && typeof peepholes !== 'boolean') throw new Error(`${what}.peepholes: expected true or false, got ${JSON.stringify(peepholes)}`);
  if (variant === undefined) return peepholes ? LSTM_VARIANTS.V : undefined;
  if (!isLstmVariant(variant)) {
    throw new Error(`${what}.variant: expected one of ${Object.keys(LSTM_VARIANTS).join(', ')}, got ${JSON.stringify(variant)}`);
  }
  const spec = LSTM_VARIANTS[variant];
  if (peepholes !== undefined && peepholes !== spec.peepholes) {
    throw new Error(`${what}: variant ${variant} ${spec.peepholes ? 'has' : 'has no'} peepholes, but peepholes: ${peepholes} was given (leave peepholes out with a variant)`);
  }
  if (projSize > 0 && variant !== 'NP') {
    throw new Error(`${what}: variant ${variant} cannot be combined with projSize (${projSize}); projections are supported for the standard cell and plain peepholes only`);
  }
  checkCellSpec(`${what} variant ${variant}`, spec);
  return isStandardSpec(spec) ? undefined : spec;
}
