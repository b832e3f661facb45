import type { Backend, Storage } from '../backend/backend.js';
import type { QuantizedWeight } from './weight.js';

/**
 * A backend's fused quantized LSTM step, where it has one (the wasm backend: kernels/quant.c
 * qlstm_step_*): gates [rows, 4H] += hIn W_hh^T, then the standard cell into cOut and hOut, split
 * over the threads by hidden units with one synchronisation per step. Returns false, with nothing
 * done, where it does not apply; the caller then runs the product and the cell itself.
 */
export type FusedStep = (rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, wHh: QuantizedWeight,
  gates: Storage, gOff: number, cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number) => boolean;

/** The backend's fused step bound to it, or null when it has none (the step is then the product and the cell). */
export function fusedStep(be: Backend): FusedStep | null {
  const f = (be as Backend & { qlstmStep?: FusedStep }).qlstmStep;
  return typeof f === 'function' ? f.bind(be) : null;
}
