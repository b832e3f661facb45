import type { TypedArray } from '../dtype.js';
import { sigmoid, softplus } from './elementwise.js';

/**
 * sLSTM pointwise step, stabilized (xLSTM, Beck et al. 2024; equations in
 * ../shared/fixtures/EXTENDED.md), forward next to backward. Per unit, with pre-activations
 * (ĩ, f̃, z̃, õ) that already include the block-diagonal recurrent term:
 *   lf = f̃ (exp forget gate) | logsigmoid(f̃) (sigmoid forget gate)
 *   m  = max(lf + m_prev, ĩ);  i' = exp(ĩ - m);  f' = exp(lf + m_prev - m)
 *   c  = f' c_prev + i' tanh(z̃);  n = f' n_prev + i';  h = σ(õ) c / n
 * First step (m_0 = -inf, c_0 = n_0 = 0): m = ĩ, c = tanh(z̃), n = 1 (previous state not read).
 *
 * Layout: pre [rows, 4H] at pOff, blocks (i, f, z, o). c, n, m are state buffers; the previous
 * step's [rows, H] block starts at prevOff, this step's at curOff. h [rows, H] row stride ldh.
 */
export function slstmCellForwardRef(rows: number, H: number, expForget: boolean, first: boolean,
  pre: TypedArray, pOff: number, c: TypedArray, n: TypedArray, m: TypedArray, prevOff: number, curOff: number,
  h: TypedArray, hOff: number, ldh: number): void {
  const G = 4 * H, r32 = m instanceof Float32Array;
  for (let b = 0; b < rows; b++) {
    const p0 = pOff + b * G, sp = prevOff + b * H, sc = curOff + b * H, ho = hOff + b * ldh;
    for (let j = 0; j < H; j++) {
      const it = pre[p0 + j], ft = pre[p0 + H + j], zt = pre[p0 + 2 * H + j], ot = pre[p0 + 3 * H + j];
      const z = Math.tanh(zt);
      let cc: number, nn: number, mm: number;
      if (first) { mm = it; cc = z; nn = 1; }
      else {
        const lf = expForget ? ft : -softplus(-ft);
        // a in the storage precision, so that m (= a or ĩ) is stored exactly and the largest
        // contribution keeps weight exactly 1 (f32 rounding goes into m, not into c and n); the
        // backward recomputes the same a.
        const a = r32 ? Math.fround(lf + m[sp + j]) : lf + m[sp + j];
        mm = a > it ? a : it;
        const ip = Math.exp(it - mm), fp = Math.exp(a - mm);
        cc = fp * c[sp + j] + ip * z;
        nn = fp * n[sp + j] + ip;
      }
      c[sc + j] = cc; n[sc + j] = nn; m[sc + j] = mm;
      h[ho + j] = sigmoid(ot) * cc / nn;
    }
  }
}

/**
 * Backward of slstmCellForwardRef (full derivatives, including every path through m; the max
 * passes its gradient to the larger argument).
 *   dh_t = dy[dyOff + b*ldy + j] + dhRec[b*H + j]   (output gradient + recurrent gradient)
 *   dc, dn, dm [rows, H]: dL/d(state_t) reaching it from later steps on entry (not through h_t),
 *                          dL/d(state_{t-1}) on exit (zero on the first step)
 *   dPre [rows, 4H] at dpOff: dL/d(ĩ, f̃, z̃, õ), overwritten.
 */
export function slstmCellBackwardRef(rows: number, H: number, expForget: boolean, first: boolean,
  pre: TypedArray, pOff: number, c: TypedArray, n: TypedArray, m: TypedArray, prevOff: number, curOff: number,
  dy: TypedArray, dyOff: number, ldy: number, dhRec: TypedArray,
  dc: TypedArray, dn: TypedArray, dm: TypedArray, dPre: TypedArray, dpOff: number): void {
  const G = 4 * H, r32 = m instanceof Float32Array;
  for (let b = 0; b < rows; b++) {
    const p0 = pOff + b * G, d0 = dpOff + b * G, sp = prevOff + b * H, sc = curOff + b * H, r = b * H;
    for (let j = 0; j < H; j++) {
      const it = pre[p0 + j], ft = pre[p0 + H + j], zt = pre[p0 + 2 * H + j], ot = pre[p0 + 3 * H + j];
      const z = Math.tanh(zt), o = sigmoid(ot);
      const cc = c[sc + j], nn = n[sc + j];
      const dh = dy[dyOff + b * ldy + j] + dhRec[r + j];
      // h = o c / n
      const dcT = dc[r + j] + dh * o / nn;
      const dnT = dn[r + j] - dh * o * cc / (nn * nn);
      dPre[d0 + 3 * H + j] = dh * (cc / nn) * o * (1 - o);
      if (first) {
        // m = ĩ, c = tanh(z̃), n = 1: only z̃ (through c) and ĩ (through m) matter.
        dPre[d0 + j] = dm[r + j];
        dPre[d0 + H + j] = 0;
        dPre[d0 + 2 * H + j] = dcT * (1 - z * z);
        dc[r + j] = 0; dn[r + j] = 0; dm[r + j] = 0;
        continue;
      }
      const lf = expForget ? ft : -softplus(-ft);
      const mp = m[sp + j], mm = m[sc + j];
      const a = r32 ? Math.fround(lf + mp) : lf + mp;
      const ip = Math.exp(it - mm), fp = Math.exp(a - mm);
      const dfp = dcT * c[sp + j] + dnT * n[sp + j];
      const dip = dcT * z + dnT;
      dPre[d0 + 2 * H + j] = dcT * ip * (1 - z * z);
      // i' = exp(ĩ - m), f' = exp(a - m): each passes d*value to its positive and negative argument.
      let dIt = dip * ip;
      let dA = dfp * fp;
      const dM = dm[r + j] - dip * ip - dfp * fp;
      if (a > it) dA += dM; else dIt += dM;
      dPre[d0 + j] = dIt;
      dPre[d0 + H + j] = expForget ? dA : dA * sigmoid(-ft);
      dc[r + j] = dcT * fp; dn[r + j] = dnT * fp; dm[r + j] = dA; // a = lf + m_prev
    }
  }
}
