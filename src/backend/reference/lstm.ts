import type { TypedArray } from '../dtype.js';
import { sigmoid } from './elementwise.js';
import type { LstmCellOptions } from '../backend.js';
import { lstmCellLayout } from '../lstm-cell.js';

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

/**
 * The generalized cell (peepholes, Greff et al.'s variants; see LstmCellOptions), forward.
 *   gates [rows, G*H]: pre-activations of the present blocks in, activations out
 * Slow-but-plain: one branchy loop; the standard cell above stays separate and fast.
 */
export function lstmCellForwardGeneralRef(rows: number, H: number, gates: TypedArray, gOff: number,
  cPrev: TypedArray, cpOff: number, cOut: TypedArray, cOff: number, hOut: TypedArray, hOff: number, ldh: number,
  o: LstmCellOptions, peep: TypedArray | null): void {
  const L = lstmCellLayout(o), G = L.G * H;
  const iB = L.i * H, fB = L.f * H, gB = L.g * H, oB = L.o * H, pO = o.peepOff;
  const coupled = o.forgetGate === 'coupled';
  for (let b = 0; b < rows; b++) {
    const g0 = gOff + b * G, cp = cpOff + b * H, co = cOff + b * H, ho = hOff + b * ldh;
    for (let j = 0; j < H; j++) {
      const cpj = cPrev[cp + j];
      let i = 1, f = 1, o_ = 1;
      if (L.i >= 0) { i = sigmoid(gates[g0 + iB + j] + (peep ? peep[pO + j] * cpj : 0)); gates[g0 + iB + j] = i; }
      if (L.f >= 0) { f = sigmoid(gates[g0 + fB + j] + (peep ? peep[pO + H + j] * cpj : 0)); gates[g0 + fB + j] = f; }
      else if (coupled) f = 1 - i;
      const a = gates[g0 + gB + j];
      const g = o.inputActivation ? Math.tanh(a) : a;
      gates[g0 + gB + j] = g;
      const c = f * cpj + i * g;
      if (L.o >= 0) { o_ = sigmoid(gates[g0 + oB + j] + (peep ? peep[pO + 2 * H + j] * c : 0)); gates[g0 + oB + j] = o_; }
      cOut[co + j] = c;
      hOut[ho + j] = o_ * (o.outputActivation ? Math.tanh(c) : c);
    }
  }
}

/**
 * Backward of lstmCellForwardGeneralRef. dh: dL/dh_t (row stride ldh); dc: dL/dc_t in,
 * dL/dc_{t-1} out; dGates [rows, G*H]: pre-activation grads out (with gateRecurrence, the
 * i/f/o blocks hold incoming activation grads on entry).
 */
export function lstmCellBackwardGeneralRef(rows: number, H: number, gates: TypedArray, gOff: number,
  cPrev: TypedArray, cpOff: number, c: TypedArray, cOff: number, dh: TypedArray, dhOff: number, ldh: number,
  dc: TypedArray, dcOff: number, dGates: TypedArray, dgOff: number, o: LstmCellOptions, peep: TypedArray | null): void {
  const L = lstmCellLayout(o), G = L.G * H;
  const iB = L.i * H, fB = L.f * H, gB = L.g * H, oB = L.o * H, pO = o.peepOff;
  const coupled = o.forgetGate === 'coupled', rec = o.gateRecurrence;
  for (let b = 0; b < rows; b++) {
    const g0 = gOff + b * G, d0 = dgOff + b * G, cp = cpOff + b * H, cc = cOff + b * H;
    const hh = dhOff + b * ldh, dd = dcOff + b * H;
    for (let j = 0; j < H; j++) {
      const i = L.i >= 0 ? gates[g0 + iB + j] : 1;
      const f = L.f >= 0 ? gates[g0 + fB + j] : (coupled ? 1 - i : 1);
      const g = gates[g0 + gB + j];
      const o_ = L.o >= 0 ? gates[g0 + oB + j] : 1;
      const cj = c[cc + j], cpj = cPrev[cp + j];
      const sc = o.outputActivation ? Math.tanh(cj) : cj;   // squashed cell output
      const dsc = o.outputActivation ? 1 - sc * sc : 1;     // its derivative
      const dhj = dh[hh + j];
      let dAo = 0;
      if (L.o >= 0) dAo = (dhj * sc + (rec ? dGates[d0 + oB + j] : 0)) * o_ * (1 - o_);
      // dL/dc_t: from the future, through h, and through the output peephole (o peeks at c_t).
      const dcj = dc[dd + j] + dhj * o_ * dsc + (peep && L.o >= 0 ? dAo * peep[pO + 2 * H + j] : 0);
      let dAi = 0, dAf = 0;
      if (L.i >= 0) {
        // c = f c_{t-1} + i g; with coupling f = 1 - i, so dc/di = g - c_{t-1}.
        const di = dcj * (coupled ? g - cpj : g) + (rec ? dGates[d0 + iB + j] : 0);
        dAi = di * i * (1 - i);
        dGates[d0 + iB + j] = dAi;
      }
      if (L.f >= 0) {
        dAf = (dcj * cpj + (rec ? dGates[d0 + fB + j] : 0)) * f * (1 - f);
        dGates[d0 + fB + j] = dAf;
      }
      const dg = dcj * i;
      dGates[d0 + gB + j] = o.inputActivation ? dg * (1 - g * g) : dg;
      if (L.o >= 0) dGates[d0 + oB + j] = dAo;
      let dcp = dcj * f;
      if (peep) dcp += (L.i >= 0 ? dAi * peep[pO + j] : 0) + (L.f >= 0 ? dAf * peep[pO + H + j] : 0);
      dc[dd + j] = dcp;
    }
  }
}
