import type { Kernels, Storage } from '../../backend/backend.js';
import type { DType } from '../../backend/dtype.js';
import { constant, copy2, free, inF64, scratch } from './util.js';

/**
 * Composed sLSTM and mLSTM fallbacks (the `xlstm` kernel set), built from core kernels only:
 * elementwise maps over whole [rows, H] (sLSTM) or [B*NH, ...] (mLSTM, every batch row and head of
 * one time step at once) blocks, broadcasts through zero strides, reductions, and strided
 * accumulating copies (copyStrided with accumulate adds in index order, so a sum can start from a
 * value, in the same order as the reference kernel). The time loop runs on the host; no value is
 * ever read back. Semantics: src/backend/reference/slstm.ts and mlstm.ts (the oracles), equations
 * in ../shared/fixtures/EXTENDED.md.
 *
 * The max of the stabilizer passes its gradient to the larger argument (a mask from `gt`), as the
 * reference's `if (a > it)`; masks only ever multiply finite values (no 0 * inf).
 */

// ---------------------------------------------------------------------------------------------
// sLSTM

/** Contiguous scratch copies of the four [rows, H] pre-activation blocks (ĩ, f̃, z̃, õ) of pre [rows, 4H]. */
function splitGates(k: Kernels, dt: DType, rows: number, H: number, pre: Storage, pOff: number): Storage[] {
  const R = rows * H;
  const out: Storage[] = [];
  for (let blk = 0; blk < 4; blk++) {
    const s = scratch(k, dt, R);
    copy2(k, rows, H, pre, pOff + blk * H, 4 * H, s, 0, H);
    out.push(s);
  }
  return out;
}

/** lf = f̃ (exp forget gate) or logsigmoid(f̃), into `out` (contiguous, R elements). */
function logForget(k: Kernels, expForget: boolean, f: Storage, fOff: number, out: Storage, oOff: number, R: number): void {
  if (expForget) k.affine(f, fOff, out, oOff, R, 1, 0, false);
  else k.unary('logsigmoid', f, fOff, out, oOff, R);
}

/** d lf / d f̃ as a factor (only for the sigmoid forget gate: σ(-f̃)), into `out`. */
function dLogForget(k: Kernels, f: Storage, fOff: number, out: Storage, oOff: number, R: number): void {
  k.unary('neg', f, fOff, out, oOff, R);
  k.unary('sigmoid', out, oOff, out, oOff, R);
}

/** Elementwise a op b over R contiguous elements (helper for the flat [rows, H] blocks). */
function bin(k: Kernels, op: 'add' | 'sub' | 'mul' | 'div' | 'max' | 'gt', R: number, a: Storage, aOff: number,
  b: Storage, bOff: number, out: Storage, oOff: number): void {
  k.binary(op, [R], a, aOff, [1], b, bOff, [1], out, oOff);
}

export function slstmCellForward(k: Kernels, rows: number, H: number, expForget: boolean, first: boolean,
  pre: Storage, pOff: number, c: Storage, n: Storage, m: Storage, prevOff: number, curOff: number,
  h: Storage, hOff: number, ldh: number): void {
  if (rows <= 0 || H <= 0) return;
  const dt = m.dtype, R = rows * H;
  const [it, ft, zt, ot] = splitGates(k, dt, rows, H, pre, pOff);
  const z = zt, o = ot;
  k.unary('tanh', zt, 0, z, 0, R);
  k.unary('sigmoid', ot, 0, o, 0, R);
  const cc = scratch(k, dt, R), nn = scratch(k, dt, R), mm = scratch(k, dt, R);
  if (first) {
    // m_0 = -inf: m = ĩ, c = tanh(z̃), n = 1 (the previous state is not read).
    k.affine(it, 0, mm, 0, R, 1, 0, false);
    k.affine(z, 0, cc, 0, R, 1, 0, false);
    k.fill(nn, 0, R, 1);
  } else {
    const a = scratch(k, dt, R), ip = scratch(k, dt, R), fp = scratch(k, dt, R), t = scratch(k, dt, R);
    logForget(k, expForget, ft, 0, a, 0, R);
    bin(k, 'add', R, a, 0, m, prevOff, a, 0);          // a = lf + m_prev
    bin(k, 'max', R, a, 0, it, 0, mm, 0);              // m = max(a, ĩ)
    bin(k, 'sub', R, it, 0, mm, 0, ip, 0);
    k.unary('exp', ip, 0, ip, 0, R);                   // i' = exp(ĩ - m)
    bin(k, 'sub', R, a, 0, mm, 0, fp, 0);
    k.unary('exp', fp, 0, fp, 0, R);                   // f' = exp(a - m)
    bin(k, 'mul', R, fp, 0, c, prevOff, cc, 0);
    bin(k, 'mul', R, ip, 0, z, 0, t, 0);
    bin(k, 'add', R, cc, 0, t, 0, cc, 0);              // c = f' c_prev + i' z
    bin(k, 'mul', R, fp, 0, n, prevOff, nn, 0);
    bin(k, 'add', R, nn, 0, ip, 0, nn, 0);             // n = f' n_prev + i'
    free(k, a, ip, fp, t);
  }
  // All of the previous state is read: the new one may now overwrite it (curOff === prevOff).
  k.affine(cc, 0, c, curOff, R, 1, 0, false);
  k.affine(nn, 0, n, curOff, R, 1, 0, false);
  k.affine(mm, 0, m, curOff, R, 1, 0, false);
  // h = σ(õ) c / n
  bin(k, 'mul', R, o, 0, cc, 0, cc, 0);
  bin(k, 'div', R, cc, 0, nn, 0, cc, 0);
  copy2(k, rows, H, cc, 0, H, h, hOff, ldh);
  free(k, it, ft, zt, ot, cc, nn, mm);
}

export function slstmCellBackward(k: Kernels, rows: number, H: number, expForget: boolean, first: boolean,
  pre: Storage, pOff: number, c: Storage, n: Storage, m: Storage, prevOff: number, curOff: number,
  dy: Storage, dyOff: number, ldy: number, dhRec: Storage, dc: Storage, dn: Storage, dm: Storage,
  dPre: Storage, dpOff: number): void {
  if (rows <= 0 || H <= 0) return;
  const dt = m.dtype, R = rows * H, G4 = 4 * H;
  const [it, ft, zt, ot] = splitGates(k, dt, rows, H, pre, pOff);
  const z = zt, o = ot;
  k.unary('tanh', zt, 0, z, 0, R);
  k.unary('sigmoid', ot, 0, o, 0, R);
  const dh = scratch(k, dt, R), dcT = scratch(k, dt, R), dnT = scratch(k, dt, R), t1 = scratch(k, dt, R), t2 = scratch(k, dt, R);
  // dh = dy (row stride ldy) + dhRec
  k.binary('add', [rows, H], dy, dyOff, [ldy, 1], dhRec, 0, [H, 1], dh, 0);
  // dcT = dc + dh o / n;  dnT = dn - dh o c / (n n)
  bin(k, 'mul', R, dh, 0, o, 0, t1, 0);              // t1 = dh o
  bin(k, 'div', R, t1, 0, n, curOff, dcT, 0);
  bin(k, 'add', R, dc, 0, dcT, 0, dcT, 0);
  bin(k, 'mul', R, t1, 0, c, curOff, t1, 0);         // dh o c
  bin(k, 'mul', R, n, curOff, n, curOff, t2, 0);     // n n
  bin(k, 'div', R, t1, 0, t2, 0, t1, 0);
  bin(k, 'sub', R, dn, 0, t1, 0, dnT, 0);
  // dõ = dh (c / n) o (1 - o)
  bin(k, 'div', R, c, curOff, n, curOff, t1, 0);
  bin(k, 'mul', R, dh, 0, t1, 0, t1, 0);
  bin(k, 'mul', R, t1, 0, o, 0, t1, 0);
  k.affine(o, 0, t2, 0, R, -1, 1, false);
  bin(k, 'mul', R, t1, 0, t2, 0, t1, 0);
  copy2(k, rows, H, t1, 0, H, dPre, dpOff + 3 * H, G4);
  // 1 - z^2 into zz
  const zz = scratch(k, dt, R);
  bin(k, 'mul', R, z, 0, z, 0, zz, 0);
  k.affine(zz, 0, zz, 0, R, -1, 1, false);
  if (first) {
    // m = ĩ, c = tanh(z̃), n = 1: only z̃ (through c) and ĩ (through m) matter.
    copy2(k, rows, H, dm, 0, H, dPre, dpOff, G4);
    const zero = constant(k, dt, 0);
    k.copyStrided([rows, H], zero, 0, [0, 0], dPre, dpOff + H, [G4, 1], false);
    bin(k, 'mul', R, dcT, 0, zz, 0, t1, 0);
    copy2(k, rows, H, t1, 0, H, dPre, dpOff + 2 * H, G4);
    k.fill(dc, 0, R, 0); k.fill(dn, 0, R, 0); k.fill(dm, 0, R, 0);
    free(k, zero);
  } else {
    const a = scratch(k, dt, R), ip = scratch(k, dt, R), fp = scratch(k, dt, R);
    const dfp = scratch(k, dt, R), dip = scratch(k, dt, R), dIt = scratch(k, dt, R), dA = scratch(k, dt, R), sel = scratch(k, dt, R);
    logForget(k, expForget, ft, 0, a, 0, R);
    bin(k, 'add', R, a, 0, m, prevOff, a, 0);          // a = lf + m_prev
    bin(k, 'sub', R, it, 0, m, curOff, ip, 0);
    k.unary('exp', ip, 0, ip, 0, R);
    bin(k, 'sub', R, a, 0, m, curOff, fp, 0);
    k.unary('exp', fp, 0, fp, 0, R);
    // df' = dcT c_prev + dnT n_prev;  di' = dcT z + dnT
    bin(k, 'mul', R, dcT, 0, c, prevOff, dfp, 0);
    bin(k, 'mul', R, dnT, 0, n, prevOff, t1, 0);
    bin(k, 'add', R, dfp, 0, t1, 0, dfp, 0);
    bin(k, 'mul', R, dcT, 0, z, 0, dip, 0);
    bin(k, 'add', R, dip, 0, dnT, 0, dip, 0);
    // dz̃ = dcT i' (1 - z^2)
    bin(k, 'mul', R, dcT, 0, ip, 0, t1, 0);
    bin(k, 'mul', R, t1, 0, zz, 0, t1, 0);
    copy2(k, rows, H, t1, 0, H, dPre, dpOff + 2 * H, G4);
    // dIt = di' i', dA = df' f', dM = dm - di' i' - df' f'; the max routes dM to the larger argument.
    bin(k, 'mul', R, dip, 0, ip, 0, dIt, 0);
    bin(k, 'mul', R, dfp, 0, fp, 0, dA, 0);
    bin(k, 'sub', R, dm, 0, dIt, 0, t1, 0);
    bin(k, 'sub', R, t1, 0, dA, 0, t1, 0);             // t1 = dM
    bin(k, 'gt', R, a, 0, it, 0, sel, 0);
    bin(k, 'mul', R, sel, 0, t1, 0, t2, 0);
    bin(k, 'add', R, dA, 0, t2, 0, dA, 0);
    k.affine(sel, 0, sel, 0, R, -1, 1, false);         // 1 - sel
    bin(k, 'mul', R, sel, 0, t1, 0, t2, 0);
    bin(k, 'add', R, dIt, 0, t2, 0, dIt, 0);
    copy2(k, rows, H, dIt, 0, H, dPre, dpOff, G4);
    if (expForget) copy2(k, rows, H, dA, 0, H, dPre, dpOff + H, G4);
    else {
      dLogForget(k, ft, 0, t2, 0, R);
      bin(k, 'mul', R, dA, 0, t2, 0, t2, 0);
      copy2(k, rows, H, t2, 0, H, dPre, dpOff + H, G4);
    }
    // To step t-1: dc = dcT f', dn = dnT f', dm = dA (a = lf + m_prev).
    bin(k, 'mul', R, dcT, 0, fp, 0, dc, 0);
    bin(k, 'mul', R, dnT, 0, fp, 0, dn, 0);
    k.affine(dA, 0, dm, 0, R, 1, 0, false);
    free(k, a, ip, fp, dfp, dip, dIt, dA, sel);
  }
  free(k, it, ft, zt, ot, dh, dcT, dnT, t1, t2, zz);
}

// ---------------------------------------------------------------------------------------------
// mLSTM
//
// Every time step is computed for all G = B*NH (batch row, head) pairs at once: q_t, k_t, v_t,
// h_t are [G, DH] blocks (contiguous at t*B*H), the gates [G] (at t*G), a state slot C [G, DH, DH],
// n [G, DH], m [G]. The chunkwise form computes the same function as the recurrent one (the
// reference's parallel evaluation inside a chunk differs only in rounding): here it runs the
// recurrence step by step and stores the state after every chunk; its backward recomputes the
// per-step states of each chunk from the chunk's incoming state.

/** Gate quantities for every step, [T*G] each (scratch): the stabilizer chain and the step weights. */
interface MlstmGates {
  /** a_t = lf_t + m_{t-1} (-inf at the first step without an initial state). */
  a: Storage;
  /** m_t = max(a_t, ĩ_t). */
  m: Storage;
  /** i'_t = exp(ĩ_t - m_t), f'_t = exp(a_t - m_t). */
  ip: Storage; fp: Storage;
}

function mlstmGates(k: Kernels, dt: DType, T: number, G: number, expForget: boolean, ig: Storage, fg: Storage,
  m0: Storage | null): MlstmGates {
  const TG = T * G;
  const a = scratch(k, dt, TG), m = scratch(k, dt, TG), ip = scratch(k, dt, TG), fp = scratch(k, dt, TG);
  logForget(k, expForget, fg, 0, a, 0, TG);
  for (let t = 0; t < T; t++) {
    const o = t * G;
    if (t > 0) k.binary('add', [G], a, o, [1], m, o - G, [1], a, o);
    else if (m0) k.binary('add', [G], a, 0, [1], m0, 0, [1], a, 0);
    else k.fill(a, 0, G, -Infinity);                 // m_0 = -inf: m_1 = ĩ_1
    k.binary('max', [G], a, o, [1], ig, o, [1], m, o);
  }
  k.binary('sub', [TG], ig, 0, [1], m, 0, [1], ip, 0);
  k.unary('exp', ip, 0, ip, 0, TG);
  k.binary('sub', [TG], a, 0, [1], m, 0, [1], fp, 0);
  k.unary('exp', fp, 0, fp, 0, TG);                 // exp(-inf) = 0 at a first step
  return { a, m, ip, fp };
}

/** Scratch shared by the step helpers. */
interface StepScratch { gd: Storage; gdd: Storage; g1: Storage; g2: Storage; g3: Storage; gd2: Storage; gd3: Storage }

function stepScratch(k: Kernels, dt: DType, G: number, DH: number): StepScratch {
  return {
    gd: scratch(k, dt, G * DH), gd2: scratch(k, dt, G * DH), gd3: scratch(k, dt, G * DH), gdd: scratch(k, dt, G * DH * DH),
    g1: scratch(k, dt, G), g2: scratch(k, dt, G), g3: scratch(k, dt, G),
  };
}
function freeStep(k: Kernels, s: StepScratch): void { free(k, s.gd, s.gd2, s.gd3, s.gdd, s.g1, s.g2, s.g3); }

/** A state: C [G, DH, DH] at cOff and n [G, DH] at nOff (null: the zero state of a first step). */
interface State { C: Storage; cOff: number; n: Storage; nOff: number }

/**
 * One recurrent state update for step t (every (b, head)): C = f' C_prev + (i' v) k^T,
 * n = f' n_prev + i' k, into `out` (which may be `prev` itself, the same view).
 */
function stateStep(k: Kernels, s: StepScratch, gates: MlstmGates, G: number, DH: number, H: number, B: number, t: number,
  kk: Storage, v: Storage, prev: State | null, out: State): void {
  const DD = DH * DH, u = t * B * H, g = t * G;
  // ipv = i' v
  k.binary('mul', [G, DH], gates.ip, g, [1, 0], v, u, [DH, 1], s.gd, 0);
  if (prev) {
    k.binary('mul', [G, DD], gates.fp, g, [1, 0], prev.C, prev.cOff, [DD, 1], out.C, out.cOff);
    k.binary('mul', [G, DH, DH], s.gd, 0, [DH, 1, 0], kk, u, [DH, 0, 1], s.gdd, 0);
    k.binary('add', [G * DD], out.C, out.cOff, [1], s.gdd, 0, [1], out.C, out.cOff);
    k.binary('mul', [G, DH], gates.fp, g, [1, 0], prev.n, prev.nOff, [DH, 1], out.n, out.nOff);
    k.binary('mul', [G, DH], gates.ip, g, [1, 0], kk, u, [DH, 1], s.gd, 0);
    k.binary('add', [G * DH], out.n, out.nOff, [1], s.gd, 0, [1], out.n, out.nOff);
  } else {
    // First step from the zero state: C = (i' v) k^T, n = i' k (i' = 1 there).
    k.binary('mul', [G, DH, DH], s.gd, 0, [DH, 1, 0], kk, u, [DH, 0, 1], out.C, out.cOff);
    k.binary('mul', [G, DH], gates.ip, g, [1, 0], kk, u, [DH, 1], out.n, out.nOff);
  }
}

/**
 * The output's pieces at step t from the state `st` (C_t, n_t): num = C_t q_t into s.gd2 [G, DH],
 * nq = n_t·q_t into s.g1, den = max(|nq|, exp(-m_t)) into s.g2, exp(-m_t) into s.g3.
 */
function outputParts(k: Kernels, s: StepScratch, gates: MlstmGates, G: number, DH: number, H: number, B: number, t: number,
  q: Storage, st: State): void {
  const DD = DH * DH, u = t * B * H, g = t * G;
  k.binary('mul', [G, DH, DH], st.C, st.cOff, [DD, DH, 1], q, u, [DH, 0, 1], s.gdd, 0);
  k.reduce('sum', [G, DH, DH], s.gdd, 0, [DD, DH, 1], s.gd2, 0, [DH, 1, 0]);
  k.binary('mul', [G, DH], st.n, st.nOff, [DH, 1], q, u, [DH, 1], s.gd, 0);
  k.reduce('sum', [G, DH], s.gd, 0, [DH, 1], s.g1, 0, [1, 0]);
  k.unary('neg', gates.m, g, s.g3, 0, G);
  k.unary('exp', s.g3, 0, s.g3, 0, G);
  k.unary('abs', s.g1, 0, s.g2, 0, G);
  k.binary('max', [G], s.g2, 0, [1], s.g3, 0, [1], s.g2, 0);
}

export function mlstmForward(k: Kernels, T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
  q: Storage, kk: Storage, v: Storage, ig: Storage, fg: Storage, h: Storage, C: Storage, n: Storage, m: Storage,
  C0: Storage | null = null, n0: Storage | null = null, m0: Storage | null = null): void {
  // f32 on a backend with f64: computed in f64, as the reference does inside.
  inF64(k, [q, kk, v, ig, fg, h, C, n, m, C0, n0, m0], [5, 6, 7, 8], (x) => mlstmForwardIn(k, T, B, NH, DH, chunk, expForget,
    x[0]!, x[1]!, x[2]!, x[3]!, x[4]!, x[5]!, x[6]!, x[7]!, x[8]!, x[9], x[10], x[11]));
}

function mlstmForwardIn(k: Kernels, T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
  q: Storage, kk: Storage, v: Storage, ig: Storage, fg: Storage, h: Storage, C: Storage, n: Storage, m: Storage,
  C0: Storage | null, n0: Storage | null, m0: Storage | null): void {
  if (T <= 0 || B <= 0 || NH <= 0 || DH <= 0) return;
  const dt = h.dtype, G = B * NH, H = NH * DH, DD = DH * DH;
  const init = C0 && n0 && m0 ? { C: C0, n: n0, m: m0 } : null;
  const gates = mlstmGates(k, dt, T, G, expForget, ig, fg, init ? init.m : null);
  const s = stepScratch(k, dt, G, DH);
  // Chunkwise: a running state (carried in place), copied out after every chunk.
  const run = chunk > 0 ? { C: scratch(k, dt, G * DD), n: scratch(k, dt, G * DH) } : null;
  let prev: State | null = init ? { C: init.C, cOff: 0, n: init.n, nOff: 0 } : null;
  for (let t = 0; t < T; t++) {
    const out: State = run ? { C: run.C, cOff: 0, n: run.n, nOff: 0 } : { C, cOff: t * G * DD, n, nOff: t * G * DH };
    stateStep(k, s, gates, G, DH, H, B, t, kk, v, prev, out);
    outputParts(k, s, gates, G, DH, H, B, t, q, out);
    k.binary('div', [G, DH], s.gd2, 0, [DH, 1], s.g2, 0, [1, 0], h, t * B * H);   // h = C q / den
    if (run && ((t + 1) % chunk === 0 || t === T - 1)) {
      const c = Math.floor(t / chunk);
      k.affine(run.C, 0, C, c * G * DD, G * DD, 1, 0, false);
      k.affine(run.n, 0, n, c * G * DH, G * DH, 1, 0, false);
      k.affine(gates.m, t * G, m, c * G, G, 1, 0, false);
    }
    prev = out;
  }
  if (!run) k.affine(gates.m, 0, m, 0, T * G, 1, 0, false);
  freeStep(k, s);
  free(k, gates.a, gates.m, gates.ip, gates.fp, run?.C, run?.n);
}

export function mlstmBackward(k: Kernels, T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
  q: Storage, kk: Storage, v: Storage, ig: Storage, fg: Storage, C: Storage, n: Storage, _m: Storage,
  dh: Storage, dCn: Storage, dnn: Storage, dmn: Storage,
  dq: Storage, dk: Storage, dv: Storage, dig: Storage, dfg: Storage,
  C0: Storage | null = null, n0: Storage | null = null, m0: Storage | null = null,
  dC0: Storage | null = null, dn0: Storage | null = null, dm0: Storage | null = null): void {
  inF64(k, [q, kk, v, ig, fg, C, n, _m, dh, dCn, dnn, dmn, dq, dk, dv, dig, dfg, C0, n0, m0, dC0, dn0, dm0],
    [12, 13, 14, 15, 16, 20, 21, 22], (x) => mlstmBackwardIn(k, T, B, NH, DH, chunk, expForget, x[0]!, x[1]!, x[2]!, x[3]!, x[4]!,
      x[5]!, x[6]!, x[7]!, x[8]!, x[9]!, x[10]!, x[11]!, x[12]!, x[13]!, x[14]!, x[15]!, x[16]!, x[17], x[18], x[19], x[20], x[21], x[22]));
}

function mlstmBackwardIn(k: Kernels, T: number, B: number, NH: number, DH: number, chunk: number, expForget: boolean,
  q: Storage, kk: Storage, v: Storage, ig: Storage, fg: Storage, C: Storage, n: Storage, _m: Storage,
  dh: Storage, dCn: Storage, dnn: Storage, dmn: Storage,
  dq: Storage, dk: Storage, dv: Storage, dig: Storage, dfg: Storage,
  C0: Storage | null, n0: Storage | null, m0: Storage | null,
  dC0: Storage | null, dn0: Storage | null, dm0: Storage | null): void {
  if (T <= 0 || B <= 0 || NH <= 0 || DH <= 0) return;
  const dt = dq.dtype, G = B * NH, H = NH * DH, DD = DH * DH;
  const init = C0 && n0 && m0 ? { C: C0, n: n0, m: m0 } : null;
  const dInit = dC0 && dn0 && dm0 ? { C: dC0, n: dn0, m: dm0 } : null;
  // The stabilizer chain is recomputed from the gates (as the reference does), not read back from m.
  const gates = mlstmGates(k, dt, T, G, expForget, ig, fg, init ? init.m : null);
  const s = stepScratch(k, dt, G, DH);
  const dlf = expForget ? null : scratch(k, dt, T * G);
  if (dlf) dLogForget(k, fg, 0, dlf, 0, T * G);
  // Running dL/d(state_t).
  const dC = scratch(k, dt, G * DD), dn = scratch(k, dt, G * DH), dm = scratch(k, dt, G);
  k.affine(dCn, 0, dC, 0, G * DD, 1, 0, false);
  k.affine(dnn, 0, dn, 0, G * DH, 1, 0, false);
  k.affine(dmn, 0, dm, 0, G, 1, 0, false);
  const dnum = scratch(k, dt, G * DH), dhh = scratch(k, dt, G), dnq = scratch(k, dt, G), dM = scratch(k, dt, G);
  const use = scratch(k, dt, G), x1 = scratch(k, dt, G), x2 = scratch(k, dt, G), zero = constant(k, dt, 0);
  const dip = scratch(k, dt, G), dfp = scratch(k, dt, G), dIt = scratch(k, dt, G), dA = scratch(k, dt, G), sel = scratch(k, dt, G);

  /** The backward of step t, with this step's state `cur` and the previous one (null: zero state). */
  const step = (t: number, cur: State, prev: State | null): void => {
    const u = t * B * H, g = t * G;
    outputParts(k, s, gates, G, DH, H, B, t, q, cur);  // num in gd2, nq in g1, den in g2, exp(-m) in g3
    // use = |nq| > exp(-m) (the denominator is |nq|)
    k.unary('abs', s.g1, 0, use, 0, G);
    k.binary('gt', [G], use, 0, [1], s.g3, 0, [1], use, 0);
    // dhh = sum_a dh_a num_a / den;  dnum = dh / den;  dden = -dhh / den
    k.binary('mul', [G, DH], dh, u, [DH, 1], s.gd2, 0, [DH, 1], s.gd, 0);
    k.binary('div', [G, DH], s.gd, 0, [DH, 1], s.g2, 0, [1, 0], s.gd, 0);
    k.reduce('sum', [G, DH], s.gd, 0, [DH, 1], dhh, 0, [1, 0]);
    k.binary('div', [G, DH], dh, u, [DH, 1], s.g2, 0, [1, 0], dnum, 0);
    k.unary('neg', dhh, 0, dnq, 0, G);
    k.binary('div', [G], dnq, 0, [1], s.g2, 0, [1], dnq, 0);       // dden
    // dnq = use ? sign(nq) dden : 0;  dM = dm + (use ? 0 : dhh)
    k.binary('ge', [G], s.g1, 0, [1], zero, 0, [0], x1, 0);
    k.affine(x1, 0, x1, 0, G, 2, -1, false);                      // sign, +1 at 0
    k.binary('mul', [G], dnq, 0, [1], x1, 0, [1], dnq, 0);
    k.binary('mul', [G], dnq, 0, [1], use, 0, [1], dnq, 0);
    k.affine(use, 0, x1, 0, G, -1, 1, false);
    k.binary('mul', [G], dhh, 0, [1], x1, 0, [1], x1, 0);
    k.binary('add', [G], dm, 0, [1], x1, 0, [1], dM, 0);
    // dC += dnum q^T
    k.binary('mul', [G, DH, DH], dnum, 0, [DH, 1, 0], q, u, [DH, 0, 1], s.gdd, 0);
    k.binary('add', [G * DD], dC, 0, [1], s.gdd, 0, [1], dC, 0);
    // dq = dnq n + C^T dnum (summed over a in order)
    k.binary('mul', [G, DH], dnq, 0, [1, 0], cur.n, cur.nOff, [DH, 1], dq, u);
    k.binary('mul', [G, DH, DH], cur.C, cur.cOff, [DD, DH, 1], dnum, 0, [DH, 1, 0], s.gdd, 0);
    k.copyStrided([G, DH, DH], s.gdd, 0, [DD, DH, 1], dq, u, [DH, 0, 1], true);
    // dn += dnq q
    k.binary('mul', [G, DH], dnq, 0, [1, 0], q, u, [DH, 1], s.gd, 0);
    k.binary('add', [G * DH], dn, 0, [1], s.gd, 0, [1], dn, 0);
    // dCk = dC k (over j);  dv = i' dCk;  di' = v·dCk + dn·k
    k.binary('mul', [G, DH, DH], dC, 0, [DD, DH, 1], kk, u, [DH, 0, 1], s.gdd, 0);
    k.reduce('sum', [G, DH, DH], s.gdd, 0, [DD, DH, 1], s.gd3, 0, [DH, 1, 0]);
    k.binary('mul', [G, DH], gates.ip, g, [1, 0], s.gd3, 0, [DH, 1], dv, u);
    k.binary('mul', [G, DH], v, u, [DH, 1], s.gd3, 0, [DH, 1], s.gd, 0);
    k.reduce('sum', [G, DH], s.gd, 0, [DH, 1], dip, 0, [1, 0]);
    k.binary('mul', [G, DH], dn, 0, [DH, 1], kk, u, [DH, 1], s.gd, 0);
    k.copyStrided([G, DH], s.gd, 0, [DH, 1], dip, 0, [1, 0], true);
    // dk = i' (dn + dC^T v) (summed over a in order)
    k.affine(dn, 0, s.gd3, 0, G * DH, 1, 0, false);
    k.binary('mul', [G, DH, DH], dC, 0, [DD, DH, 1], v, u, [DH, 1, 0], s.gdd, 0);
    k.copyStrided([G, DH, DH], s.gdd, 0, [DD, DH, 1], s.gd3, 0, [DH, 0, 1], true);
    k.binary('mul', [G, DH], gates.ip, g, [1, 0], s.gd3, 0, [DH, 1], dk, u);
    if (!prev) {
      // m = ĩ and i' = 1 identically: ĩ acts only through m; the zero initial state gets nothing.
      k.affine(dM, 0, dig, g, G, 1, 0, false);
      k.fill(dfg, g, G, 0);
      return;
    }
    // df' = <dC, C_prev> + dn·n_prev
    k.binary('mul', [G * DD], dC, 0, [1], prev.C, prev.cOff, [1], s.gdd, 0);
    k.reduce('sum', [G, DD], s.gdd, 0, [DD, 1], dfp, 0, [1, 0]);
    k.binary('mul', [G * DH], dn, 0, [1], prev.n, prev.nOff, [1], s.gd, 0);
    k.copyStrided([G, DH], s.gd, 0, [DH, 1], dfp, 0, [1, 0], true);
    // dIt = di' i', dA = df' f', dMt = dM - di' i' - df' f' to the larger argument of the max.
    k.binary('mul', [G], dip, 0, [1], gates.ip, g, [1], dIt, 0);
    k.binary('mul', [G], dfp, 0, [1], gates.fp, g, [1], dA, 0);
    k.binary('sub', [G], dM, 0, [1], dIt, 0, [1], x1, 0);
    k.binary('sub', [G], x1, 0, [1], dA, 0, [1], x1, 0);
    k.binary('gt', [G], gates.a, g, [1], ig, g, [1], sel, 0);
    k.binary('mul', [G], sel, 0, [1], x1, 0, [1], x2, 0);
    k.binary('add', [G], dA, 0, [1], x2, 0, [1], dA, 0);
    k.affine(sel, 0, sel, 0, G, -1, 1, false);
    k.binary('mul', [G], sel, 0, [1], x1, 0, [1], x2, 0);
    k.binary('add', [G], dIt, 0, [1], x2, 0, [1], dig, g);
    if (dlf) k.binary('mul', [G], dA, 0, [1], dlf, g, [1], dfg, g);
    else k.affine(dA, 0, dfg, g, G, 1, 0, false);
    // To step t-1: dC *= f', dn *= f', dm = dA.
    k.binary('mul', [G, DD], dC, 0, [DD, 1], gates.fp, g, [1, 0], dC, 0);
    k.binary('mul', [G, DH], dn, 0, [DH, 1], gates.fp, g, [1, 0], dn, 0);
    k.affine(dA, 0, dm, 0, G, 1, 0, false);
  };

  const initState: State | null = init ? { C: init.C, cOff: 0, n: init.n, nOff: 0 } : null;
  if (chunk <= 0) {
    for (let t = T - 1; t >= 0; t--) {
      const cur: State = { C, cOff: t * G * DD, n, nOff: t * G * DH };
      const prev: State | null = t > 0 ? { C, cOff: (t - 1) * G * DD, n, nOff: (t - 1) * G * DH } : initState;
      step(t, cur, prev);
    }
  } else {
    // Per chunk (last first): recompute the chunk's per-step states from its incoming state.
    const L = Math.min(chunk, T), NC = Math.ceil(T / chunk);
    const Cs = scratch(k, dt, L * G * DD), ns = scratch(k, dt, L * G * DH);
    for (let c = NC - 1; c >= 0; c--) {
      const t0 = c * chunk, Lc = Math.min(chunk, T - t0);
      const incoming: State | null = c > 0 ? { C, cOff: (c - 1) * G * DD, n, nOff: (c - 1) * G * DH } : initState;
      const slot = (i: number): State => ({ C: Cs, cOff: i * G * DD, n: ns, nOff: i * G * DH });
      for (let i = 0; i < Lc; i++) stateStep(k, s, gates, G, DH, H, B, t0 + i, kk, v, i > 0 ? slot(i - 1) : incoming, slot(i));
      for (let i = Lc - 1; i >= 0; i--) step(t0 + i, slot(i), i > 0 ? slot(i - 1) : incoming);
    }
    free(k, Cs, ns);
  }
  if (init && dInit) {
    k.affine(dC, 0, dInit.C, 0, G * DD, 1, 0, false);
    k.affine(dn, 0, dInit.n, 0, G * DH, 1, 0, false);
    k.affine(dm, 0, dInit.m, 0, G, 1, 0, false);
  }
  freeStep(k, s);
  free(k, gates.a, gates.m, gates.ip, gates.fp, dlf, dC, dn, dm, dnum, dhh, dnq, dM, use, x1, x2, zero, dip, dfp, dIt, dA, sel);
}
