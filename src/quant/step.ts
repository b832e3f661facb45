import type { Backend, Storage } from '../backend/backend.js';
import type { QuantizedWeight } from './weight.js';

/**
 * A backend's fused quantized LSTM step, where it has one (the wasm backend: kernels/quant.c
 * qlstm_step_*): gates [rows, 4H] += hIn W_hh^T, then the standard cell into cOut and hOut, split
 * over the threads by hidden units with one synchronisation per step. With `input` (int8), gates
 * are first set to x W_ih^T + bias in the same call (a streaming step's input product). Returns
 * false, with nothing done, where it does not apply; the caller then runs the products and the cell itself.
 */
export type FusedStep = (rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, wHh: QuantizedWeight,
  gates: Storage, gOff: number, cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number,
  input?: FusedInput | null) => boolean;

/** x [rows, I] (row stride ldx, from xOff) W_ih^T + bias, fused into the step. */
export interface FusedInput { x: Storage; xOff: number; ldx: number; w: QuantizedWeight; bias: Storage | null }

/** The backend's fused step bound to it, or null when it has none (the step is then the product and the cell). */
export function fusedStep(be: Backend): FusedStep | null {
  const f = (be as Backend & { qlstmStep?: FusedStep }).qlstmStep;
  return typeof f === 'function' ? f.bind(be) : null;
}

/**
 * A backend's whole quantized LSTM recurrence, where it has one (the wasm backend: kernels/quant.c
 * qlstm_seq_i8, int8): for each step t (reverse: from T - 1 down), gates[t] [B, 4H] += h W_hh^T,
 * the standard cell, h and c [B, H] updated in place and h copied to y's rows t * B + b (row
 * stride ldy, from yOff). The batch rows split over the threads: one synchronisation per
 * sequence. Returns false, with nothing done, where it does not apply.
 */
export type FusedSequence = (T: number, B: number, H: number, reverse: boolean, wHh: QuantizedWeight, gates: Storage, gOff: number,
  h: Storage, hOff: number, c: Storage, cOff: number, y: Storage, yOff: number, ldy: number) => boolean;

/** The backend's fused recurrence bound to it, or null when it has none. */
export function fusedSequence(be: Backend): FusedSequence | null {
  const f = (be as Backend & { qlstmSeq?: FusedSequence }).qlstmSeq;
  return typeof f === 'function' ? f.bind(be) : null;
}
