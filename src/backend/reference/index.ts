import { newArray, type DType, type TypedArray } from '../dtype.js';
import type { Backend, BinaryOp, ReduceOp, Storage, UnaryOp } from '../backend.js';
import { trackStorage } from '../scope.js';
import { ctcRef } from './ctc.js';
import { binaryFn, copyStridedRef, reduceRef, unaryDerivative, unaryFn, walkStrided } from './elementwise.js';
import { gemmRef } from './gemm.js';
import { gruCellBackwardRef, gruCellForwardRef } from './gru.js';
import { lstmCellBackwardRef, lstmCellForwardRef } from './lstm.js';
import { slstmCellBackwardRef, slstmCellForwardRef } from './slstm.js';
import { mlstmChunkwiseBackwardRef, mlstmChunkwiseForwardRef, mlstmRecurrentBackwardRef, mlstmRecurrentForwardRef } from './mlstm.js';
import { groupNormBackwardRef, groupNormForwardRef } from './norm.js';
import { activationBackwardRef, activationForwardRef } from './activation.js';
import { causalConv1dBackwardRef, causalConv1dForwardRef } from './conv1d.js';
import type { ActivationOp } from '../backend.js';
import { lstmCellBackwardGeneralRef, lstmCellForwardGeneralRef } from './lstm.js';
import type { LstmCellOptions } from '../backend.js';
import { col2imRef, im2colRef } from './conv.js';

/** Storage of the CPU backends: a typed array the kernels index directly. */
export class CpuStorage implements Storage {
  constructor(readonly backend: Backend, readonly dtype: DType, readonly array: TypedArray) {}
  get length(): number { return this.array.length; }
}

/** The typed array behind a CPU storage (any backend whose storage extends CpuStorage). */
export function arr(s: Storage): TypedArray {
  if (!(s instanceof CpuStorage)) throw new Error(`backend ${s.backend.name}: storage is not CPU memory`);
  return s.array;
}

/**
 * The reference core: the 14 required kernels of src/backend/backend.ts in plain TypeScript over
 * typed arrays (f32 and f64), plus the CPU capability readSync. Registered alone it is the
 * `composed` backend (src/backend/composed.ts): every optional kernel then runs as its composed
 * fallback, so it is the executable spec of the core.
 */
export class ReferenceCore implements Backend {
  readonly name: string = 'reference-core';
  readonly dtypes: readonly DType[] = ['f32', 'f64'];

  alloc(dtype: DType, length: number): Storage {
    if (!Number.isInteger(length) || length < 0) throw new Error(`alloc: expected a non-negative integer length, got ${length}`);
    const s = new CpuStorage(this, dtype, newArray(dtype, length));
    trackStorage(s);
    return s;
  }
  upload(dtype: DType, data: ArrayLike<number>): Storage {
    const s = this.alloc(dtype, data.length) as CpuStorage;
    s.array.set(data);
    return s;
  }
  readSync(s: Storage): TypedArray { return arr(s).slice(); }
  read(s: Storage): Promise<TypedArray> { return Promise.resolve(this.readSync(s)); }
  dispose(_s: Storage): void { /* garbage collected */ }

  fill(s: Storage, offset: number, length: number, value: number): void {
    arr(s).fill(value, offset, offset + length);
  }
  copyStrided(shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[], accumulate: boolean): void {
    copyStridedRef(shape, arr(src), sOff, sStr, arr(dst), dOff, dStr, accumulate);
  }
  unary(op: UnaryOp, x: Storage, xOff: number, out: Storage, outOff: number, n: number): void {
    const f = unaryFn(op), xa = arr(x), oa = arr(out);
    for (let i = 0; i < n; i++) oa[outOff + i] = f(xa[xOff + i]);
  }
  unaryBackward(op: UnaryOp, x: Storage, y: Storage, dy: Storage, dx: Storage, n: number, accumulate: boolean): void {
    const d = unaryDerivative(op), xa = arr(x), ya = arr(y), dya = arr(dy), dxa = arr(dx);
    for (let i = 0; i < n; i++) {
      const g = dya[i] === 0 ? 0 : dya[i] * d(xa[i], ya[i]);
      dxa[i] = accumulate ? dxa[i] + g : g;
    }
  }
  binary(op: BinaryOp, shape: readonly number[], a: Storage, aOff: number, aStr: readonly number[],
    b: Storage, bOff: number, bStr: readonly number[], out: Storage, outOff: number): void {
    const f = binaryFn(op), aa = arr(a), ba = arr(b), oa = arr(out);
    let k = outOff;
    walkStrided(shape, aOff, aStr, bOff, bStr, (ai, bi) => { oa[k++] = f(aa[ai], ba[bi]); });
  }
  affine(x: Storage, xOff: number, out: Storage, outOff: number, n: number, alpha: number, beta: number, accumulate: boolean): void {
    const xa = arr(x), oa = arr(out);
    if (accumulate) for (let i = 0; i < n; i++) oa[outOff + i] += alpha * xa[xOff + i] + beta;
    else for (let i = 0; i < n; i++) oa[outOff + i] = alpha * xa[xOff + i] + beta;
  }
  reduce(op: ReduceOp, shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[]): void {
    reduceRef(op, shape, arr(src), sOff, sStr, arr(dst), dOff, dStr);
  }
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Storage, aOff: number, lda: number, b: Storage, bOff: number, ldb: number,
    beta: number, c: Storage, cOff: number, ldc: number): void {
    gemmRef(transA, transB, m, n, k, alpha, arr(a), aOff, lda, arr(b), bOff, ldb, beta, arr(c), cOff, ldc);
  }
  gatherRows(src: Storage, sOff: number, idx: Storage, n: number, rowLen: number, dst: Storage, dOff: number): void {
    const sa = arr(src), ia = arr(idx), da = arr(dst);
    for (let r = 0; r < n; r++) {
      const s0 = sOff + ia[r] * rowLen, d0 = dOff + r * rowLen;
      for (let j = 0; j < rowLen; j++) da[d0 + j] = sa[s0 + j];
    }
  }
  scatterAddRows(src: Storage, sOff: number, idx: Storage, n: number, rowLen: number, dst: Storage, dOff: number): void {
    const sa = arr(src), ia = arr(idx), da = arr(dst);
    for (let r = 0; r < n; r++) {
      const s0 = sOff + r * rowLen, d0 = dOff + ia[r] * rowLen;
      for (let j = 0; j < rowLen; j++) da[d0 + j] += sa[s0 + j];
    }
  }
}

/**
 * The oracle backend: the reference core plus every optional kernel in plain TypeScript.
 * Obviously correct first, fast second. CPU backends (wasm) extend it and replace hot kernels.
 */
export class ReferenceBackend extends ReferenceCore {
  override readonly name: string = 'reference';

  adamStep(p: Storage, g: Storage, m: Storage, v: Storage, vmax: Storage | null, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void {
    const P = arr(p), G = arr(g), M = arr(m), V = arr(v), X = vmax ? arr(vmax) : null;
    const tiny = p.dtype === 'f64' ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
    const cstep = -lr / (1 - beta1 ** step), isb2 = 1 / Math.sqrt(1 - beta2 ** step);
    for (let i = 0; i < n; i++) {
      let pi = P[i], gi = G[i];
      if (decoupled) pi += -lr * weightDecay * pi;
      else gi += weightDecay * pi;
      let mi = beta1 * M[i] + (1 - beta1) * gi, vi = beta2 * V[i] + (1 - beta2) * gi * gi;
      if (Math.abs(mi) < tiny) mi = 0;
      if (vi < tiny) vi = 0;
      M[i] = mi; V[i] = vi;
      if (X) { vi = X[i] >= vi ? X[i] : vi; X[i] = vi; }
      P[i] = pi + cstep * (mi / (Math.sqrt(vi) * isb2 + eps));
    }
  }
  flushSubnormal(s: Storage, n: number): void {
    const a = arr(s), tiny = s.dtype === 'f64' ? 2.2250738585072014e-308 : 1.1754943508222875e-38;
    for (let i = 0; i < n; i++) if (Math.abs(a[i]) < tiny) a[i] = 0;
  }
  anyNonFinite(x: Storage, xOff: number, n: number, out: Storage, outOff: number): void {
    const a = arr(x);
    let bad = 0;
    for (let i = 0; i < n; i++) if (!Number.isFinite(a[xOff + i])) { bad = 1; break; }
    arr(out)[outOff] = bad;
  }
  copy2d(rows: number, cols: number, src: Storage, sOff: number, ldSrc: number,
    dst: Storage, dOff: number, ldDst: number, accumulate: boolean): void {
    const sa = arr(src), da = arr(dst);
    for (let r = 0; r < rows; r++) {
      const s0 = sOff + r * ldSrc, d0 = dOff + r * ldDst;
      if (accumulate) for (let j = 0; j < cols; j++) da[d0 + j] += sa[s0 + j];
      else for (let j = 0; j < cols; j++) da[d0 + j] = sa[s0 + j];
    }
  }
  softmax(x: Storage, out: Storage, rows: number, cols: number, log: boolean): void {
    const xa = arr(x), oa = arr(out);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (xa[o + j] > mx) mx = xa[o + j];
      if (mx === -Infinity) mx = 0; // a row of -inf: keep NaN out of the shift
      let s = 0;
      for (let j = 0; j < cols; j++) s += Math.exp(xa[o + j] - mx);
      if (log) { const ls = Math.log(s) + mx; for (let j = 0; j < cols; j++) oa[o + j] = xa[o + j] - ls; }
      else for (let j = 0; j < cols; j++) oa[o + j] = Math.exp(xa[o + j] - mx) / s;
    }
  }
  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, cols: number, log: boolean, accumulate: boolean): void {
    const ya = arr(y), dya = arr(dy), dxa = arr(dx);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      if (log) {
        for (let j = 0; j < cols; j++) s += dya[o + j];
        for (let j = 0; j < cols; j++) {
          const g = dya[o + j] - Math.exp(ya[o + j]) * s;
          dxa[o + j] = accumulate ? dxa[o + j] + g : g;
        }
      } else {
        for (let j = 0; j < cols; j++) s += dya[o + j] * ya[o + j];
        for (let j = 0; j < cols; j++) {
          const g = ya[o + j] * (dya[o + j] - s);
          dxa[o + j] = accumulate ? dxa[o + j] + g : g;
        }
      }
    }
  }
  lstmCellForward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number, cell?: LstmCellOptions): void {
    if (cell) return lstmCellForwardGeneralRef(rows, H, arr(gates), gOff, arr(cPrev), cpOff, arr(cOut), cOff, arr(hOut), hOff, ldh,
      cell, cell.peepholes ? arr(cell.peepholes) : null);
    lstmCellForwardRef(rows, H, arr(gates), gOff, arr(cPrev), cpOff, arr(cOut), cOff, arr(hOut), hOff, ldh);
  }
  lstmCellBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    c: Storage, cOff: number, dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number,
    dGates: Storage, dgOff: number, cell?: LstmCellOptions): void {
    if (cell) return lstmCellBackwardGeneralRef(rows, H, arr(gates), gOff, arr(cPrev), cpOff, arr(c), cOff, arr(dh), dhOff, ldh,
      arr(dc), dcOff, arr(dGates), dgOff, cell, cell.peepholes ? arr(cell.peepholes) : null);
    lstmCellBackwardRef(rows, H, arr(gates), gOff, arr(cPrev), cpOff, arr(c), cOff, arr(dh), dhOff, ldh,
      arr(dc), dcOff, arr(dGates), dgOff);
  }
  gruCellForward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    bhh: Storage | null, hPrev: Storage, hpOff: number, ldhp: number, hOut: Storage, hOff: number, ldh: number): void {
    gruCellForwardRef(rows, H, arr(gx), gxOff, arr(gh), ghOff, bhh ? arr(bhh) : null, arr(hPrev), hpOff, ldhp,
      arr(hOut), hOff, ldh);
  }
  gruCellBackward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    hPrev: Storage, hpOff: number, ldhp: number, dh: Storage, dhOff: number, ldh: number,
    dGx: Storage, dgxOff: number, dGh: Storage, dghOff: number, dhPrev: Storage, dhpOff: number): void {
    gruCellBackwardRef(rows, H, arr(gx), gxOff, arr(gh), ghOff, arr(hPrev), hpOff, ldhp, arr(dh), dhOff, ldh,
      arr(dGx), dgxOff, arr(dGh), dghOff, arr(dhPrev), dhpOff);
  }
  im2col(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
    x: Storage, xOff: number, cols: Storage, colOff: number): void {
    im2colRef(n, C, Hgt, Wid, k, pad, arr(x), xOff, arr(cols), colOff);
  }
  col2im(n: number, C: number, Hgt: number, Wid: number, k: number, pad: number,
    cols: Storage, colOff: number, dx: Storage, dxOff: number): void {
    col2imRef(n, C, Hgt, Wid, k, pad, arr(cols), colOff, arr(dx), dxOff);
  }
  ctc(logProbs: Storage, T: number, N: number, C: number, targets: Storage, inputLengths: Storage,
    targetLengths: Storage, blank: number, loss: Storage, grad: Storage): void {
    ctcRef(arr(logProbs), T, N, C, arr(targets), arr(inputLengths), arr(targetLengths), blank, arr(loss), arr(grad));
  }
  slstmCellForward(rows: number, H: number, expForget: boolean, first: boolean, pre: Storage, pOff: number,
    c: Storage, n: Storage, m: Storage, prevOff: number, curOff: number, h: Storage, hOff: number, ldh: number): void {
    slstmCellForwardRef(rows, H, expForget, first, arr(pre), pOff, arr(c), arr(n), arr(m), prevOff, curOff, arr(h), hOff, ldh);
  }
  slstmCellBackward(rows: number, H: number, expForget: boolean, first: boolean, pre: Storage, pOff: number,
    c: Storage, n: Storage, m: Storage, prevOff: number, curOff: number, dy: Storage, dyOff: number, ldy: number,
    dhRec: Storage, dc: Storage, dn: Storage, dm: Storage, dPre: Storage, dpOff: number): void {
    slstmCellBackwardRef(rows, H, expForget, first, arr(pre), pOff, arr(c), arr(n), arr(m), prevOff, curOff,
      arr(dy), dyOff, ldy, arr(dhRec), arr(dc), arr(dn), arr(dm), arr(dPre), dpOff);
  }
  mlstmForward(T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
    q: Storage, k: Storage, v: Storage, ig: Storage, fg: Storage, h: Storage, C: Storage, n: Storage, m: Storage,
    C0: Storage | null = null, n0: Storage | null = null, m0: Storage | null = null): void {
    const init = C0 && n0 && m0 ? { C: arr(C0), n: arr(n0), m: arr(m0) } : null;
    if (chunk > 0) mlstmChunkwiseForwardRef(T, B, NH, DH, chunk, expForget, arr(q), arr(k), arr(v), arr(ig), arr(fg), arr(h), arr(C), arr(n), arr(m), init);
    else mlstmRecurrentForwardRef(T, B, NH, DH, expForget, arr(q), arr(k), arr(v), arr(ig), arr(fg), arr(h), arr(C), arr(n), arr(m), init);
  }
  mlstmBackward(T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
    q: Storage, k: Storage, v: Storage, ig: Storage, fg: Storage, C: Storage, n: Storage, m: Storage,
    dh: Storage, dCn: Storage, dnn: Storage, dmn: Storage,
    dq: Storage, dk: Storage, dv: Storage, dig: Storage, dfg: Storage,
    C0: Storage | null = null, n0: Storage | null = null, m0: Storage | null = null,
    dC0: Storage | null = null, dn0: Storage | null = null, dm0: Storage | null = null): void {
    const init = C0 && n0 && m0 ? { C: arr(C0), n: arr(n0), m: arr(m0) } : null;
    const dInit = dC0 && dn0 && dm0 ? { C: arr(dC0), n: arr(dn0), m: arr(dm0) } : null;
    if (chunk > 0) mlstmChunkwiseBackwardRef(T, B, NH, DH, chunk, expForget, arr(q), arr(k), arr(v), arr(ig), arr(fg), arr(C), arr(n), arr(m),
      arr(dh), arr(dCn), arr(dnn), arr(dmn), arr(dq), arr(dk), arr(dv), arr(dig), arr(dfg), init, dInit);
    else mlstmRecurrentBackwardRef(T, B, NH, DH, expForget, arr(q), arr(k), arr(v), arr(ig), arr(fg), arr(C), arr(n), arr(m),
      arr(dh), arr(dCn), arr(dnn), arr(dmn), arr(dq), arr(dk), arr(dv), arr(dig), arr(dfg), init, dInit);
  }
  groupNormForward(rows: number, C: number, G: number, eps: number, x: Storage, w: Storage | null, b: Storage | null,
    y: Storage, mean: Storage, rstd: Storage): void {
    groupNormForwardRef(rows, C, G, eps, arr(x), w ? arr(w) : null, b ? arr(b) : null, arr(y), arr(mean), arr(rstd));
  }
  groupNormBackward(rows: number, C: number, G: number, x: Storage, w: Storage | null, mean: Storage, rstd: Storage,
    dy: Storage, dx: Storage | null, dw: Storage | null, db: Storage | null): void {
    groupNormBackwardRef(rows, C, G, arr(x), w ? arr(w) : null, arr(mean), arr(rstd), arr(dy),
      dx ? arr(dx) : null, dw ? arr(dw) : null, db ? arr(db) : null);
  }
  activationForward(op: ActivationOp, x: Storage, y: Storage, n: number): void {
    activationForwardRef(op, arr(x), arr(y), n);
  }
  activationBackward(op: ActivationOp, x: Storage, dy: Storage, dx: Storage, n: number): void {
    activationBackwardRef(op, arr(x), arr(dy), arr(dx), n);
  }
  causalConv1dForward(T: number, B: number, C: number, K: number, x: Storage, w: Storage, bias: Storage | null, y: Storage): void {
    causalConv1dForwardRef(T, B, C, K, arr(x), arr(w), bias ? arr(bias) : null, arr(y));
  }
  causalConv1dBackward(T: number, B: number, C: number, K: number, x: Storage, w: Storage, dy: Storage,
    dx: Storage | null, dw: Storage | null, db: Storage | null): void {
    causalConv1dBackwardRef(T, B, C, K, arr(x), arr(w), arr(dy), dx ? arr(dx) : null, dw ? arr(dw) : null, db ? arr(db) : null);
  }
}
