import type { TypedArray } from '../../tensor/dtype.js';
import { sigmoid } from './elementwise.js';

/**
 * Fused LSTM step (nn.LSTM semantics), forward next to backward.
 *   gates [rows, 4H]: pre-activations (i, f, g, o) in, activations out
 *   c = f * cPrev + i * g ;  h = o * tanh(c)
 */
export function lstmCellForwardRef(rows: number, H: number, gates: TypedArray, gOff: number,
  cPrev: TypedArray, cpOff: number, cOut: TypedArray, cOff: number, hOut: TypedArray, hOff: number, ldh: number): void {
  const G = 4 * H;
  for (let b = 0; b < rows; b++) {
    const g0 = gOff + b * G, cp = cpOff + b * H, co = cOff + b * H, ho = hOff + b * ldh;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(gates[g0 + j]);
      const f = sigmoid(gates[g0 + H + j]);
      const g = Math.tanh(gates[g0 + 2 * H + j]);
      const o = sigmoid(gates[g0 + 3 * H + j]);
      gates[g0 + j] = i; gates[g0 + H + j] = f; gates[g0 + 2 * H + j] = g; gates[g0 + 3 * H + j] = o;
      const c = f * cPrev[cp + j] + i * g;
      cOut[co + j] = c;
      hOut[ho + j] = o * Math.tanh(c);
    }
  }
}

/**
 * dh: dL/dh_t; dc: dL/dc_t in, dL/dc_{t-1} out; dGates [rows, 4H]: pre-activation gradients.
 */
export function lstmCellBackwardRef(rows: number, H: number, gates: TypedArray, gOff: number,
  cPrev: TypedArray, cpOff: number, c: TypedArray, cOff: number, dh: TypedArray, dhOff: number, ldh: number,
  dc: TypedArray, dcOff: number, dGates: TypedArray, dgOff: number): void {
  const G = 4 * H;
  for (let b = 0; b < rows; b++) {
    const g0 = gOff + b * G, d0 = dgOff + b * G, cp = cpOff + b * H, cc = cOff + b * H;
    const hh = dhOff + b * ldh, dd = dcOff + b * H;
    for (let j = 0; j < H; j++) {
      const i = gates[g0 + j], f = gates[g0 + H + j], g = gates[g0 + 2 * H + j], o = gates[g0 + 3 * H + j];
      const tc = Math.tanh(c[cc + j]);
      const dhj = dh[hh + j];
      const dcj = dc[dd + j] + dhj * o * (1 - tc * tc);
      dGates[d0 + j] = dcj * g * i * (1 - i);
      dGates[d0 + H + j] = dcj * cPrev[cp + j] * f * (1 - f);
      dGates[d0 + 2 * H + j] = dcj * i * (1 - g * g);
      dGates[d0 + 3 * H + j] = dhj * tc * o * (1 - o);
      dc[dd + j] = dcj * f;
    }
  }
}
