import type { Backend, Storage } from '../backend/backend.js';
import { lstmCellLayout, type LstmCellOptions } from '../backend/lstm-cell.js';
import type { DType } from '../tensor/dtype.js';
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
    be.binary('mul', [rows, H], blk, [H, 1], state, [H, 1], prod);                  // dA ⊙ c
    const out = be.alloc(dt, H);
    be.copyStrided([rows, H], prod, 0, [H, 1], out, 0, [0, 1], true);               // sum over rows
    return out;
  };
  return [one(L.i, Cp), one(L.f, Cp), one(L.o, C)];
}
