import type { TypedArray } from '../dtype.js';
import { sigmoid, softplus } from './elementwise.js';

/**
 * mLSTM (matrix memory) kernels, stabilized (xLSTM, Beck et al. 2024; equations in
 * ../shared/fixtures/EXTENDED.md), in two formulations that compute the same function:
 *
 * - recurrent: one step at a time, per batch row b and head k (state C [DH, DH], n [DH], m):
 *     lf = logsigmoid(f̃) | f̃;  m = max(lf + m_prev, ĩ);  f' = exp(lf + m_prev - m);  i' = exp(ĩ - m)
 *     C = f' C_prev + i' v k^T;  n = f' n_prev + i' k;  h = C q / max(|n·q|, exp(-m))
 *   with m_0 = -inf (first step: m = ĩ, C = v k^T, n = k).
 * - chunkwise: the sequence in chunks of L steps; inside a chunk, the attention-like (parallel)
 *   form with the chunk's incoming state as one more source; between chunks, the state
 *   recurrence. A single chunk of L = T with no incoming state IS the parallel form
 *     logD[t,s] = F_t - F_s + ĩ_s (s <= t),  m_t = max_s logD[t,s],  D = exp(logD - m_t),
 *     h_t = sum_s (q_t·k_s) D[t,s] v_s / max(|sum_s (q_t·k_s) D[t,s]|, exp(-m_t)).
 *
 * Layouts (H = NH*DH, head k owns units k*DH .. k*DH+DH-1):
 *   q, k, v, h [T, B, H];  ig (ĩ), fg (f̃) [T, B, NH]
 *   C [S, B, NH, DH, DH] (C[a][j]: row a = value index, column j = key index), n [S, B, NH, DH], m [S, B, NH]
 *   where S = T (recurrent: the state after every step) or S = number of chunks (chunkwise: the
 *   state after every chunk). The last slot is the final state (C_n, n_n, m_n).
 * Gradients are the full derivatives, including every path through m (max -> larger argument).
 *
 * Initial state: by default C_0 = 0, n_0 = 0, m_0 = -inf (the first step is special-cased:
 * m_1 = ĩ_1). An explicit initial state `init` (C0 [B, NH, DH, DH], n0 [B, NH, DH], m0 [B, NH],
 * e.g. the final state of the previous chunk of a long sequence) makes step 1 an ordinary step;
 * the backward then also writes dL/d(init) into `dInit` when given.
 *
 * Precision: the kernels compute in float64 whatever the storage. The stabilizer chain m depends
 * on the gates only, so both directions recompute it exactly (stabilizerChain) rather than read
 * back the rounded m they stored, and the recurrent forward carries its running state in float64
 * (the stored per-step states feed the backward only). In float32 the remaining error is that of
 * the stored inputs and states themselves.
 */

/** An explicit initial state (and, in the backward, where its gradient goes). */
export interface MlstmState { C: TypedArray; n: TypedArray; m: TypedArray }

function logForget(expForget: boolean, f: number): number { return expForget ? f : -softplus(-f); }
/** d lf / d f̃ */
function dLogForget(expForget: boolean, f: number): number { return expForget ? 1 : sigmoid(-f); }

/**
 * The stabilizer chain m_t = max(lf_t + m_{t-1}, ĩ_t) (m_1 = ĩ_1) in float64 for every step,
 * batch row and head: m depends on the gates only, so forward and backward both recompute it
 * exactly instead of reading back a rounded copy (the f32 output m_n is only a report).
 */
function stabilizerChain(T: number, B: number, NH: number, expForget: boolean, ig: TypedArray, fg: TypedArray,
  m0: TypedArray | null): Float64Array {
  const stM = B * NH, m = new Float64Array(T * stM);
  for (let g = 0; g < stM; g++) {
    const a = m0 ? logForget(expForget, fg[g]) + m0[g] : -Infinity;
    m[g] = a > ig[g] ? a : ig[g];
  }
  for (let g = stM; g < T * stM; g++) {
    const a = logForget(expForget, fg[g]) + m[g - stM];
    m[g] = a > ig[g] ? a : ig[g];
  }
  return m;
}

export function mlstmRecurrentForwardRef(T: number, B: number, NH: number, DH: number, expForget: boolean,
  q: TypedArray, k: TypedArray, v: TypedArray, ig: TypedArray, fg: TypedArray,
  h: TypedArray, C: TypedArray, n: TypedArray, m: TypedArray, init: MlstmState | null = null): void {
  const H = NH * DH, DD = DH * DH, stM = B * NH;
  const mc = stabilizerChain(T, B, NH, expForget, ig, fg, init ? init.m : null);
  // The running state in float64 (allocated once per call): the saved per-step copies in C, n
  // are for the backward only, so float32 storage never feeds back into the recursion.
  const Cr = new Float64Array(stM * DD), nr = new Float64Array(stM * DH);
  if (init) { Cr.set(init.C.subarray(0, stM * DD)); nr.set(init.n.subarray(0, stM * DH)); }
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let hd = 0; hd < NH; hd++) {
        const u = (t * B + b) * H + hd * DH;       // q, k, v, h
        const g = (t * B + b) * NH + hd;           // ig, fg, m
        const cs = g * DD, ns = g * DH;            // C, n (slot t)
        const rs = b * NH + hd, rc = rs * DD, rn = rs * DH; // running state
        const it = ig[g], mm = mc[g];
        let ip = 1, fp = 0;
        if (t > 0 || init) {
          const a = logForget(expForget, fg[g]) + (t > 0 ? mc[g - stM] : init!.m[rs]);
          ip = Math.exp(it - mm); fp = Math.exp(a - mm);
        }
        m[g] = mm;
        let nq = 0;
        for (let a = 0; a < DH; a++) {
          const ipv = ip * v[u + a];
          let s = 0;
          for (let j = 0; j < DH; j++) {
            const val = fp * Cr[rc + a * DH + j] + ipv * k[u + j];
            Cr[rc + a * DH + j] = val;
            C[cs + a * DH + j] = val;
            s += val * q[u + j];
          }
          h[u + a] = s; // numerator; divided below
        }
        for (let j = 0; j < DH; j++) {
          const val = fp * nr[rn + j] + ip * k[u + j];
          nr[rn + j] = val;
          n[ns + j] = val;
          nq += val * q[u + j];
        }
        const lo = Math.exp(-mm);
        const den = Math.abs(nq) > lo ? Math.abs(nq) : lo;
        for (let a = 0; a < DH; a++) h[u + a] /= den;
      }
    }
  }
}

/**
 * Backward of the recurrent form. dh [T, B, H] = dL/dh; dCn, dnn, dmn = dL/d(final states)
 * ([B, NH, DH, DH], [B, NH, DH], [B, NH]). Writes (overwrites) dq, dk, dv [T, B, H], dig, dfg [T, B, NH].
 */
export function mlstmRecurrentBackwardRef(T: number, B: number, NH: number, DH: number, expForget: boolean,
  q: TypedArray, k: TypedArray, v: TypedArray, ig: TypedArray, fg: TypedArray,
  C: TypedArray, n: TypedArray, m: TypedArray,
  dh: TypedArray, dCn: TypedArray, dnn: TypedArray, dmn: TypedArray,
  dq: TypedArray, dk: TypedArray, dv: TypedArray, dig: TypedArray, dfg: TypedArray,
  init: MlstmState | null = null, dInit: MlstmState | null = null): void {
  const H = NH * DH, DD = DH * DH, stC = B * NH * DD, stN = B * NH * DH, stM = B * NH;
  const mc = stabilizerChain(T, B, NH, expForget, ig, fg, init ? init.m : null);
  // Running dL/d(state_t), one block per (b, head), allocated once per call (never per step).
  const dC = Float64Array.from(dCn), dn = Float64Array.from(dnn), dm = Float64Array.from(dmn);
  const dnum = new Float64Array(DH);
  for (let t = T - 1; t >= 0; t--) {
    for (let b = 0; b < B; b++) {
      for (let hd = 0; hd < NH; hd++) {
        const u = (t * B + b) * H + hd * DH;
        const g = (t * B + b) * NH + hd;
        const cs = g * DD, ns = g * DH;
        const sC = (b * NH + hd) * DD, sN = (b * NH + hd) * DH, sM = b * NH + hd; // running-grad slots
        const it = ig[g], mm = mc[g];
        // Recompute the output's denominator and h.
        let nq = 0;
        for (let j = 0; j < DH; j++) nq += n[ns + j] * q[u + j];
        const lo = Math.exp(-mm);
        const useNq = Math.abs(nq) > lo;
        const den = useNq ? Math.abs(nq) : lo;
        // h = num / den, num = C q
        let dhh = 0;
        for (let a = 0; a < DH; a++) {
          let s = 0;
          for (let j = 0; j < DH; j++) s += C[cs + a * DH + j] * q[u + j];
          dhh += dh[u + a] * s / den;
          dnum[a] = dh[u + a] / den;
        }
        const dden = -dhh / den;
        let dmLocal = 0, dnq = 0;
        // den = exp(-m) branch: h = num e^m, dh/dm = h, so dL/dm = dh·h (= -dden * lo, without the
        // Infinity * 0 of very negative m, where exp(-m) overflows and h underflows to 0).
        if (useNq) dnq = nq >= 0 ? dden : -dden; else dmLocal = dhh;
        // dC_tot = dC + dnum q^T ; dn_tot = dn + dnq q ; dq = C^T dnum + dnq n
        for (let a = 0; a < DH; a++) {
          const da = dnum[a];
          for (let j = 0; j < DH; j++) dC[sC + a * DH + j] += da * q[u + j];
        }
        for (let j = 0; j < DH; j++) {
          let s = dnq * n[ns + j];
          for (let a = 0; a < DH; a++) s += C[cs + a * DH + j] * dnum[a];
          dq[u + j] = s;
          dn[sN + j] += dnq * q[u + j];
        }
        const special = t === 0 && !init; // m_0 = -inf: m = ĩ, C = v k^T, n = k
        // The previous state: step t-1's saved state, or the explicit initial state.
        const Cp = t > 0 ? C : init?.C, cpo = t > 0 ? cs - stC : sC;
        const np = t > 0 ? n : init?.n, npo = t > 0 ? ns - stN : sN;
        let ip = 1, fp = 0, a0 = 0;
        if (!special) {
          a0 = logForget(expForget, fg[g]) + (t > 0 ? mc[g - stM] : init!.m[sM]);
          ip = Math.exp(it - mm); fp = Math.exp(a0 - mm);
        }
        // di' = v^T dC k + dn·k ; dv = i' dC k ; dk = i' (dC^T v + dn) ; df' = <dC, C_prev> + dn·n_prev
        let dip = 0, dfp = 0;
        for (let a = 0; a < DH; a++) {
          let s = 0;
          for (let j = 0; j < DH; j++) s += dC[sC + a * DH + j] * k[u + j];
          dip += v[u + a] * s;
          dv[u + a] = ip * s;
        }
        for (let j = 0; j < DH; j++) {
          let s = dn[sN + j];
          for (let a = 0; a < DH; a++) s += dC[sC + a * DH + j] * v[u + a];
          dk[u + j] = ip * s;
          dip += dn[sN + j] * k[u + j];
        }
        const dM = dm[sM] + dmLocal;
        if (special) {
          // m = ĩ and i' = exp(ĩ - m) = 1 identically: ĩ only acts through m.
          dig[g] = dM;
          dfg[g] = 0;
          continue; // the fixed initial state: nothing to propagate
        }
        for (let x = 0; x < DD; x++) dfp += dC[sC + x] * Cp![cpo + x];
        for (let j = 0; j < DH; j++) dfp += dn[sN + j] * np![npo + j];
        let dIt = dip * ip, dA = dfp * fp;
        const dMt = dM - dip * ip - dfp * fp;
        if (a0 > it) dA += dMt; else dIt += dMt;
        dig[g] = dIt;
        dfg[g] = dA * dLogForget(expForget, fg[g]);
        // To step t-1: dC *= f', dn *= f', dm = dA (a = lf + m_prev).
        for (let x = 0; x < DD; x++) dC[sC + x] *= fp;
        for (let j = 0; j < DH; j++) dn[sN + j] *= fp;
        dm[sM] = dA;
      }
    }
  }
  // After step 1 the running gradients are those of the initial state.
  if (init && dInit) { dInit.C.set(dC); dInit.n.set(dn); dInit.m.set(dm); }
}

/** Scratch buffers for one (batch row, head, chunk) of the chunkwise kernels, allocated once per call. */
class ChunkScratch {
  readonly bc: Float64Array;   // [L] local cumulative log forget
  readonly M: Float64Array;    // [L] row stabilizer m_t
  readonly e: Float64Array;    // [L] weight of the incoming state exp(bc + m_prev - m_t)
  readonly arg: Int32Array;    // [L] argmax of row t (-1: the incoming state)
  readonly D: Float64Array;    // [L, L] exp(logD - m_t) (lower triangle)
  readonly A: Float64Array;    // [L, L] q_t · k_s
  readonly r: Float64Array;    // [L] sum_s S[t,s] + e_t n_prev·q_t
  readonly den: Float64Array;  // [L]
  readonly h: Float64Array;    // [L, DH] outputs of the chunk
  readonly u: Float64Array;    // [L, DH] C_prev q_t
  readonly w: Float64Array;    // [L] n_prev · q_t
  readonly dD: Float64Array;   // [L, L]
  readonly dM: Float64Array;   // [L]
  readonly de: Float64Array;   // [L]
  readonly dbc: Float64Array;  // [L]
  readonly dC: Float64Array;   // [DH, DH] running dL/dC at the chunk's end
  readonly dn: Float64Array;   // [DH]
  readonly dCp: Float64Array;  // [DH, DH] dL/dC_prev being accumulated
  readonly dnp: Float64Array;  // [DH]
  readonly tmp: Float64Array;  // [DH]
  constructor(L: number, DH: number) {
    this.bc = new Float64Array(L); this.M = new Float64Array(L); this.e = new Float64Array(L);
    this.arg = new Int32Array(L); this.D = new Float64Array(L * L); this.A = new Float64Array(L * L);
    this.r = new Float64Array(L); this.den = new Float64Array(L); this.h = new Float64Array(L * DH);
    this.u = new Float64Array(L * DH); this.w = new Float64Array(L);
    this.dD = new Float64Array(L * L); this.dM = new Float64Array(L); this.de = new Float64Array(L);
    this.dbc = new Float64Array(L);
    this.dC = new Float64Array(DH * DH); this.dn = new Float64Array(DH);
    this.dCp = new Float64Array(DH * DH); this.dnp = new Float64Array(DH); this.tmp = new Float64Array(DH);
  }
}

/**
 * Forward of one chunk for one (b, head): steps t0 .. t0+Lc-1, incoming state at (Cp, np, mp)
 * (absent on the first chunk). Fills the scratch (bc, M, e, arg, D, A, r, den, u, w, h).
 */
function chunkForward(sc: ChunkScratch, L: number, Lc: number, t0: number, B: number, NH: number, DH: number,
  b: number, hd: number, expForget: boolean, q: TypedArray, k: TypedArray, v: TypedArray, ig: TypedArray, fg: TypedArray,
  hasPrev: boolean, Cprev: TypedArray, cpOff: number, nprev: TypedArray, npOff: number, mp: number): void {
  const H = NH * DH;
  const { bc, M, e, arg, D, A, r, den, u, w, h } = sc;
  let cum = 0;
  for (let tt = 0; tt < Lc; tt++) { cum += logForget(expForget, fg[((t0 + tt) * B + b) * NH + hd]); bc[tt] = cum; }
  for (let tt = 0; tt < Lc; tt++) {
    const uq = ((t0 + tt) * B + b) * H + hd * DH;
    // Row stabilizer: the largest log-weight among the incoming state and the chunk's sources.
    let best = hasPrev ? bc[tt] + mp : -Infinity, bi = -1;
    for (let s = 0; s <= tt; s++) {
      const ld = bc[tt] - bc[s] + ig[((t0 + s) * B + b) * NH + hd];
      D[tt * L + s] = ld;
      if (ld > best || bi === -1 && !hasPrev && s === 0) { best = ld; bi = s; }
    }
    M[tt] = best; arg[tt] = bi;
    const et = hasPrev ? Math.exp(bc[tt] + mp - best) : 0;
    e[tt] = et;
    let rt = 0;
    for (let a = 0; a < DH; a++) h[tt * DH + a] = 0;
    for (let s = 0; s <= tt; s++) {
      const d = Math.exp(D[tt * L + s] - best);
      D[tt * L + s] = d;
      const us = ((t0 + s) * B + b) * H + hd * DH;
      let dot = 0;
      for (let j = 0; j < DH; j++) dot += q[uq + j] * k[us + j];
      A[tt * L + s] = dot;
      const sv = dot * d;
      rt += sv;
      for (let a = 0; a < DH; a++) h[tt * DH + a] += sv * v[us + a];
    }
    if (hasPrev) {
      let wq = 0;
      for (let j = 0; j < DH; j++) wq += nprev[npOff + j] * q[uq + j];
      w[tt] = wq;
      rt += et * wq;
      for (let a = 0; a < DH; a++) {
        let s = 0;
        for (let j = 0; j < DH; j++) s += Cprev[cpOff + a * DH + j] * q[uq + j];
        u[tt * DH + a] = s;
        h[tt * DH + a] += et * s;
      }
    }
    r[tt] = rt;
    const lo = Math.exp(-best);
    const dn = Math.abs(rt) > lo ? Math.abs(rt) : lo;
    den[tt] = dn;
    for (let a = 0; a < DH; a++) h[tt * DH + a] /= dn;
  }
}

/** Number of chunks of size L covering T steps. */
export function numChunks(T: number, L: number): number { return Math.ceil(T / L); }

/**
 * Chunkwise forward (parallel form when L >= T). Writes h [T, B, H] and the state after every
 * chunk: C [NC, B, NH, DH, DH], n [NC, B, NH, DH], m [NC, B, NH].
 */
export function mlstmChunkwiseForwardRef(T: number, B: number, NH: number, DH: number, L: number, expForget: boolean,
  q: TypedArray, k: TypedArray, v: TypedArray, ig: TypedArray, fg: TypedArray,
  h: TypedArray, C: TypedArray, n: TypedArray, m: TypedArray, init: MlstmState | null = null): void {
  const H = NH * DH, DD = DH * DH, NC = numChunks(T, L);
  const sc = new ChunkScratch(L, DH);
  // The incoming stabilizer of each chunk, exactly (float64), not its rounded stored copy.
  const mc = stabilizerChain(T, B, NH, expForget, ig, fg, init ? init.m : null);
  for (let b = 0; b < B; b++) {
    for (let hd = 0; hd < NH; hd++) {
      for (let c = 0; c < NC; c++) {
        const t0 = c * L, Lc = Math.min(L, T - t0);
        const slot = (c * B + b) * NH + hd, prev = slot - B * NH;
        const hasPrev = c > 0 || init !== null;
        // The incoming state: the previous chunk's, or the explicit initial state.
        const Cp = c > 0 ? C : init?.C ?? C, cpOff = c > 0 ? prev * DD : (b * NH + hd) * DD;
        const np = c > 0 ? n : init?.n ?? n, npOff = c > 0 ? prev * DH : (b * NH + hd) * DH;
        const mp = c > 0 ? mc[((t0 - 1) * B + b) * NH + hd] : init ? init.m[b * NH + hd] : 0;
        chunkForward(sc, L, Lc, t0, B, NH, DH, b, hd, expForget, q, k, v, ig, fg, hasPrev, Cp, cpOff, np, npOff, mp);
        for (let tt = 0; tt < Lc; tt++) {
          const uo = ((t0 + tt) * B + b) * H + hd * DH;
          for (let a = 0; a < DH; a++) h[uo + a] = sc.h[tt * DH + a];
        }
        // State at the chunk's end: the last row's weights.
        const tl = Lc - 1, el = sc.e[tl];
        m[slot] = sc.M[tl];
        for (let x = 0; x < DD; x++) C[slot * DD + x] = hasPrev ? el * Cp[cpOff + x] : 0;
        for (let j = 0; j < DH; j++) n[slot * DH + j] = hasPrev ? el * np[npOff + j] : 0;
        for (let s = 0; s <= tl; s++) {
          const d = sc.D[tl * L + s];
          const us = ((t0 + s) * B + b) * H + hd * DH;
          for (let a = 0; a < DH; a++) {
            const dv = d * v[us + a];
            for (let j = 0; j < DH; j++) C[slot * DD + a * DH + j] += dv * k[us + j];
          }
          for (let j = 0; j < DH; j++) n[slot * DH + j] += d * k[us + j];
        }
      }
    }
  }
}

/**
 * Backward of the chunkwise form, chunk by chunk in reverse, recomputing each chunk's forward
 * from its incoming state. Arguments as mlstmRecurrentBackwardRef, with the chunk states.
 */
export function mlstmChunkwiseBackwardRef(T: number, B: number, NH: number, DH: number, L: number, expForget: boolean,
  q: TypedArray, k: TypedArray, v: TypedArray, ig: TypedArray, fg: TypedArray,
  C: TypedArray, n: TypedArray, m: TypedArray,
  dh: TypedArray, dCn: TypedArray, dnn: TypedArray, dmn: TypedArray,
  dq: TypedArray, dk: TypedArray, dv: TypedArray, dig: TypedArray, dfg: TypedArray,
  init: MlstmState | null = null, dInit: MlstmState | null = null): void {
  const H = NH * DH, DD = DH * DH, NC = numChunks(T, L);
  const sc = new ChunkScratch(L, DH);
  // The incoming stabilizer of each chunk, exactly (float64), not its rounded stored copy.
  const mc = stabilizerChain(T, B, NH, expForget, ig, fg, init ? init.m : null);
  const { bc, M, e, arg, D, A, r, den, u, w, dD, dM, de, dbc, dC, dn, dCp, dnp, tmp } = sc;
  dq.fill(0); dk.fill(0); dv.fill(0); dig.fill(0); dfg.fill(0);
  for (let b = 0; b < B; b++) {
    for (let hd = 0; hd < NH; hd++) {
      const fs = b * NH + hd;
      for (let x = 0; x < DD; x++) dC[x] = dCn[fs * DD + x];
      for (let j = 0; j < DH; j++) dn[j] = dnn[fs * DH + j];
      let dm = dmn[fs];
      for (let c = NC - 1; c >= 0; c--) {
        const t0 = c * L, Lc = Math.min(L, T - t0);
        const slot = (c * B + b) * NH + hd, prev = slot - B * NH;
        const hasPrev = c > 0 || init !== null;
        const Cp = c > 0 ? C : init?.C ?? C, cpOff = c > 0 ? prev * DD : fs * DD;
        const np = c > 0 ? n : init?.n ?? n, npOff = c > 0 ? prev * DH : fs * DH;
        const mp = c > 0 ? mc[((t0 - 1) * B + b) * NH + hd] : init ? init.m[fs] : 0;
        chunkForward(sc, L, Lc, t0, B, NH, DH, b, hd, expForget, q, k, v, ig, fg, hasPrev, Cp, cpOff, np, npOff, mp);
        dD.fill(0); dM.fill(0); de.fill(0); dbc.fill(0); dCp.fill(0); dnp.fill(0);
        let dmp = 0;
        // The chunk's end state: C_new = e_L C_prev + sum_s D[L,s] v_s k_s^T, n_new likewise, m_new = M_L.
        const tl = Lc - 1;
        if (hasPrev) {
          let s = 0;
          for (let x = 0; x < DD; x++) { s += dC[x] * Cp[cpOff + x]; dCp[x] += e[tl] * dC[x]; }
          for (let j = 0; j < DH; j++) { s += dn[j] * np[npOff + j]; dnp[j] += e[tl] * dn[j]; }
          de[tl] += s;
        }
        for (let s = 0; s <= tl; s++) {
          const us = ((t0 + s) * B + b) * H + hd * DH;
          const d = D[tl * L + s];
          // tmp = dC k_s ; dD = v_s·tmp + dn·k_s ; dv_s += d tmp ; dk_s += d (dC^T v_s + dn)
          let dd = 0;
          for (let a = 0; a < DH; a++) {
            let t = 0;
            for (let j = 0; j < DH; j++) t += dC[a * DH + j] * k[us + j];
            dd += v[us + a] * t;
            dv[us + a] += d * t;
          }
          for (let j = 0; j < DH; j++) {
            let t = dn[j];
            for (let a = 0; a < DH; a++) t += dC[a * DH + j] * v[us + a];
            dk[us + j] += d * t;
            dd += dn[j] * k[us + j];
          }
          dD[tl * L + s] += dd;
        }
        dM[tl] += dm;
        // The outputs h_t = num_t / den_t.
        for (let tt = 0; tt < Lc; tt++) {
          const uq = ((t0 + tt) * B + b) * H + hd * DH;
          const dn_ = den[tt];
          let dhh = 0;
          for (let a = 0; a < DH; a++) { tmp[a] = dh[uq + a] / dn_; dhh += dh[uq + a] * sc.h[tt * DH + a]; } // tmp = dnum
          const dden = -dhh / dn_;
          const lo = Math.exp(-M[tt]);
          let dr = 0;
          if (Math.abs(r[tt]) > lo) dr = r[tt] >= 0 ? dden : -dden; else dM[tt] += dhh; // (= -dden * lo, see the recurrent form)
          if (hasPrev) {
            // num += e u_t, r += e w_t;  u_t = C_prev q_t, w_t = n_prev·q_t
            let s = dr * w[tt];
            for (let a = 0; a < DH; a++) s += tmp[a] * u[tt * DH + a];
            de[tt] += s;
            const et = e[tt];
            for (let a = 0; a < DH; a++) {
              const du = et * tmp[a];
              for (let j = 0; j < DH; j++) dCp[a * DH + j] += du * q[uq + j];
            }
            for (let j = 0; j < DH; j++) {
              let t = et * dr * np[npOff + j];
              for (let a = 0; a < DH; a++) t += Cp[cpOff + a * DH + j] * et * tmp[a];
              dq[uq + j] += t;
              dnp[j] += et * dr * q[uq + j];
            }
          }
          for (let s = 0; s <= tt; s++) {
            const us = ((t0 + s) * B + b) * H + hd * DH;
            const d = D[tt * L + s], aa = A[tt * L + s], sv = aa * d;
            let dS = dr;
            for (let a = 0; a < DH; a++) { dS += tmp[a] * v[us + a]; dv[us + a] += sv * tmp[a]; }
            const dA = dS * d;
            dD[tt * L + s] += dS * aa;
            for (let j = 0; j < DH; j++) { dq[uq + j] += dA * k[us + j]; dk[us + j] += dA * q[uq + j]; }
          }
        }
        // D = exp(logD - M), e = exp(g - M), M = max(g, logD[t, ·]); g = bc + m_prev, logD = bc_t - bc_s + ĩ_s.
        for (let tt = 0; tt < Lc; tt++) {
          let dMt = dM[tt];
          for (let s = 0; s <= tt; s++) { const dl = dD[tt * L + s] * D[tt * L + s]; dD[tt * L + s] = dl; dMt -= dl; } // dD now holds dlogD
          let dg = 0;
          if (hasPrev) { dg = de[tt] * e[tt]; dMt -= dg; }
          if (arg[tt] < 0) dg += dMt; else dD[tt * L + arg[tt]] += dMt;
          if (hasPrev) { dbc[tt] += dg; dmp += dg; }
          for (let s = 0; s <= tt; s++) {
            const dl = dD[tt * L + s];
            dbc[tt] += dl; dbc[s] -= dl;
            dig[((t0 + s) * B + b) * NH + hd] += dl;
          }
        }
        // bc_t = sum_{r <= t} lf_r
        let acc = 0;
        for (let tt = Lc - 1; tt >= 0; tt--) {
          acc += dbc[tt];
          const gi = ((t0 + tt) * B + b) * NH + hd;
          dfg[gi] += acc * dLogForget(expForget, fg[gi]);
        }
        dC.set(dCp); dn.set(dnp); dm = dmp;
      }
      // After the first chunk the carried gradients are those of the initial state.
      if (init && dInit) {
        for (let x = 0; x < DD; x++) dInit.C[fs * DD + x] = dC[x];
        for (let j = 0; j < DH; j++) dInit.n[fs * DH + j] = dn[j];
        dInit.m[fs] = dm;
      }
    }
  }
}
