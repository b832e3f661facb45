import type { Storage } from './backend.js';

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

/** Where each gate block sits in the gate buffer (in units of H; -1 = absent), and G = the count. */
export interface LstmCellLayout { i: number; f: number; g: number; o: number; G: number }

export function lstmCellLayout(o: LstmCellOptions | undefined): LstmCellLayout {
  if (!o) return { i: 0, f: 1, g: 2, o: 3, G: 4 };
  let n = 0;
  const i = o.inputGate ? n++ : -1;
  const f = o.forgetGate === 'gate' ? n++ : -1;
  const g = n++;
  const out = o.outputGate ? n++ : -1;
  return { i, f, g, o: out, G: n };
}

/** True when the options describe exactly the standard cell (backends may take their fast path). */
export function isStandardLstmCell(o: LstmCellOptions | undefined): boolean {
  return !o || (o.inputGate && o.forgetGate === 'gate' && o.outputGate && o.inputActivation && o.outputActivation
    && o.peepholes === null && !o.gateRecurrence);
}
