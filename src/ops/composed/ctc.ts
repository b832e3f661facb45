import type { BinaryOp, Kernels, Storage } from '../../backend/backend.js';
import type { DType } from '../../backend/dtype.js';
import { constant, free, inF64, scratch } from './util.js';

/**
 * Composed CTC (oracle: src/backend/reference/ctc.ts, PyTorch's ctc_loss with reduction none),
 * from core kernels only and without reading any storage on the host: the targets and both
 * length vectors stay on the device, so everything that depends on them (the extended label
 * sequences l', which positions exist, where the s-2 transition is allowed, where each sample's
 * input ends) is built there with integer `binary` ops on i32 storages, and turned into
 * floating-point masks with `gatherRows` from a two-entry table (i32 0/1 -> -inf/0), so no
 * kernel mixes integer and float operands.
 *
 * Layout. Every sample gets the same number of extended positions s < Lc, where
 *   Lc = min(2 * targets.length + 1, 2T + 1)
 * (targets.length bounds every target length; a position s > 2t + 1 is unreachable at step t,
 * so positions past 2T never carry probability and dropping them changes no α·β product; a
 * sample whose end position 2S_n lies past Lc has no alignment: loss Infinity, as in the
 * reference). A [N, W] block (W = Lc + 2) holds one row per sample with two leading pad slots,
 * always -inf: they give α(s-1), α(s-2) at s = 0, 1 and β(s+1), β(s+2) of the previous row's
 * end, so the recursions are plain shifted views of a flat buffer. Positions s >= L_n = 2S_n + 1
 * are -inf too (a mask added at every step).
 *
 * α over all t is kept ([T, N, W], one block per step, two -inf slots in front); β runs backwards
 * in two [N, W] buffers, each sample starting at its own t = T_n - 1 (the start values are added,
 * through a per-(t, n) mask, by `max` with a recursion that is -inf there), and the gradient of
 * step t is formed as soon as β_t is known:
 *   grad[t, n, c] = exp(lp) - sum_{s: l'_s = c} exp(α_t(s) + β_t(s) + nll_n - lp[t, n, l'_s])
 * (the reference's exp(lp) - exp(lcab + nll - lp), summed in linear space by scatterAddRows; every
 * term is a posterior <= 1), plus (nll_n - nll_n), which is 0, or NaN where the loss is infinite,
 * as the reference's -inf + inf gives. Rows t >= T_n are exactly zero: the gradient row is picked
 * by `gatherRows` between the computed row and a zero row with an integer index (no mask product
 * that an inf could turn into NaN).
 *
 * Log-sum-exp of (a, b, c): m = max(a, b, c, floor) with a finite floor, then
 * log(exp(a - m) + exp(b - m) + exp(c - m)) + m; an entry -inf gives exp(-inf) = 0 and all -inf
 * gives log(0) + floor = -inf, with no NaN. Everything runs in the dtype of logProbs, except f32
 * on a backend that lists f64: that runs in f64 scratch (log-space sums over thousands of steps
 * lose f32 precision; the reference accumulates in f64 too). In f32 the results match the
 * reference to ~1e-4 over ~50 steps (the error grows with T).
 */
export function ctc(k: Kernels, logProbs: Storage, T: number, N: number, C: number, targets: Storage,
  inputLengths: Storage, targetLengths: Storage, blank: number, loss: Storage, grad: Storage): void {
  if (N <= 0) return;
  if (T <= 0) {
    // Every input is empty: loss 0 where the target is empty too, Infinity elsewhere (no gradient rows).
    const table = k.upload(loss.dtype, [0, Infinity]), zero = constant(k, 'i32', 0), nonEmpty = scratch(k, 'i32', N);
    k.binary('gt', [N], targetLengths, 0, [1], zero, 0, [0], nonEmpty, 0);
    k.gatherRows(table, 0, nonEmpty, N, 1, loss, 0);
    free(k, table, zero, nonEmpty);
    return;
  }
  // f32 on a backend that computes in f64: run in f64 (as the reference accumulates) and round
  // the results once; the i32 inputs pass through as they are.
  inF64(k, [logProbs, loss, grad], [1, 2], ([lp, l, g]) =>
    ctcIn(k, lp!, T, N, C, targets, inputLengths, targetLengths, blank, l!, g!));
}

/** ctc in the dtype of logProbs (loss and grad of the same dtype); N >= 1, T >= 1. */
function ctcIn(k: Kernels, logProbs: Storage, T: number, N: number, C: number, targets: Storage,
  inputLengths: Storage, targetLengths: Storage, blank: number, loss: Storage, grad: Storage): void {
  const D: DType = logProbs.dtype;
  const Smax = targets.length;
  const Lc = Math.min(2 * Smax + 1, 2 * T + 1);
  const W = Lc + 2, NW = N * W, NC = N * C;
  const BIG = 1 << 30; // larger than any target length: the pad slots compare as invalid

  const owned: Storage[] = [];
  const keep = (s: Storage): Storage => { owned.push(s); return s; };
  const tmp = (dtype: DType, n: number): Storage => keep(scratch(k, dtype, n));
  const cst = (dtype: DType, v: number): Storage => keep(constant(k, dtype, v));
  const up = (dtype: DType, f: (i: number) => number, n: number): Storage =>
    keep(k.upload(dtype, Array.from({ length: n }, (_, i) => f(i))));
  /** out = a op b over [rows, cols] (out contiguous), each operand with [row, col] strides. */
  const bin = (op: BinaryOp, rows: number, cols: number, a: Storage, aOff: number, aStr: number[],
    b: Storage, bOff: number, bStr: number[], out: Storage, outOff = 0): void => {
    if (rows > 0 && cols > 0) k.binary(op, [rows, cols], a, aOff, aStr, b, bOff, bStr, out, outOff);
  };
  /** out[i] = a[aOff + i] op b[bOff + i] for i < n (bStr 0: b a scalar). */
  const bin1 = (op: BinaryOp, n: number, a: Storage, aOff: number, b: Storage, bOff: number, out: Storage,
    outOff = 0, bStr = 1): void => {
    if (n > 0) k.binary(op, [n], a, aOff, [1], b, bOff, [bStr], out, outOff);
  };
  const ROW: number[] = [1, 0], COL: number[] = [0, 1], FULL: number[] = [W, 1];

  try {
    // ---- host-known index patterns over the W slots of a row (s = j - 2) ----
    const slot = (j: number) => j - 2;
    const csH = up('i32', (j) => (slot(j) >= 0 ? Math.ceil(slot(j) / 2) : BIG), W); // s valid <=> ceil(s/2) <= S
    const qH = up('i32', (j) => (slot(j) >= 0 && slot(j) % 2 === 1 ? (slot(j) - 1) / 2 : BIG), W); // label index of odd s
    const q0H = up('i32', (j) => (slot(j) >= 0 && slot(j) % 2 === 1 ? (slot(j) - 1) / 2 : 0), W);
    const ge2H = up('i32', (j) => (slot(j) >= 2 ? 1 : 0), W);
    const lt2H = up('i32', (j) => (slot(j) >= 0 && slot(j) < 2 ? 1 : 0), W);
    const nC = up('i32', (n) => n * C, N);
    const S = targetLengths, Tin = inputLengths;
    const blankI = cst('i32', blank), oneI = cst('i32', 1), zeroI = cst('i32', 0);

    // ---- the extended labels l' [N, W] (+2 trailing blanks, read by the s+2 view of skipB) ----
    const lab = tmp('i32', NW + 2);
    k.fill(lab, 0, NW + 2, blank);
    if (Smax > 0) {
      // off[n] = sum_{m < n} S_m: masked products summed by copyStrided's zero-stride accumulate.
      const off = tmp('i32', N);
      if (N > 1) {
        const lower = up('i32', (i) => (i % N < Math.floor(i / N) ? 1 : 0), N * N);
        const prod = tmp('i32', N * N);
        bin('mul', N, N, lower, 0, [N, 1], S, 0, COL, prod);
        k.copyStrided([N, N], prod, 0, [N, 1], off, 0, [1, 0], true);
      }
      const inRange = tmp('i32', NW), tIdx = tmp('i32', NW), g = tmp('i32', NW);
      bin('lt', N, W, qH, 0, COL, S, 0, ROW, inRange);         // odd s with (s-1)/2 < S_n
      bin('add', N, W, off, 0, ROW, q0H, 0, COL, tIdx);        // off_n + (s-1)/2
      bin1('mul', NW, tIdx, 0, inRange, 0, tIdx);              // 0 (a valid index) elsewhere
      k.gatherRows(targets, 0, tIdx, NW, 1, g, 0);
      bin1('sub', NW, g, 0, blankI, 0, g, 0, 0);
      bin1('mul', NW, g, 0, inRange, 0, g);
      bin1('add', NW, g, 0, blankI, 0, lab, 0, 0);             // inRange ? target : blank
    }
    // gidx[n, j] = n*C + l'_j: the element of an [N, C] step block that slot (n, j) reads.
    const gidx = tmp('i32', NW);
    bin('add', N, W, nC, 0, ROW, lab, 0, FULL, gidx);

    // ---- integer masks over [N, W] ----
    const valid = tmp('i32', NW);
    bin('le', N, W, csH, 0, COL, S, 0, ROW, valid);            // s < L_n (pads: never)
    const notBlank = tmp('i32', NW);
    bin1('ne', NW, lab, 0, blankI, 0, notBlank, 0, 0);
    const skipA = tmp('i32', NW);                              // α: s-2 -> s allowed
    bin1('ne', NW - 2, lab, 2, lab, 0, skipA, 2);
    bin1('mul', NW, skipA, 0, notBlank, 0, skipA);
    bin('mul', N, W, skipA, 0, FULL, ge2H, 0, COL, skipA);
    const skipB = tmp('i32', NW);                              // β: s+2 -> s allowed
    bin1('ne', NW, lab, 0, lab, 2, skipB);                     // (s+2 >= L_n: that slot of β is -inf)
    bin1('mul', NW, skipB, 0, notBlank, 0, skipB);
    const initM = tmp('i32', NW);                              // α_0: s in {0, 1}, s < L_n
    bin('mul', N, W, valid, 0, FULL, lt2H, 0, COL, initM);
    const endM = tmp('i32', NW);                               // β_{T_n-1}: s in {L_n-2, L_n-1}
    bin('eq', N, W, csH, 0, COL, S, 0, ROW, endM);

    // Per (t, n): t == T_n - 1 (β starts), and the gradient row to pick (n if t < T_n, else N: zero).
    const tPlus1 = up('i32', (t) => t + 1, T), tH = up('i32', (t) => t, T);
    const endT = tmp('i32', T * N);
    bin('eq', T, N, tPlus1, 0, ROW, Tin, 0, COL, endT);
    const sel = tmp('i32', T * N);
    bin('lt', T, N, tH, 0, ROW, Tin, 0, COL, sel);
    const nMinusN = up('i32', (n) => n - N, N), bigN = cst('i32', N);
    bin('mul', T, N, sel, 0, [N, 1], nMinusN, 0, COL, sel);
    bin1('add', T * N, sel, 0, bigN, 0, sel, 0, 0);

    // Where the loss is read: α[t_n, n, s] for s = L_n - 1 (idx1) and L_n - 2 (idx1 - 1, a pad when
    // S_n = 0), t_n = T_n - 1 clamped into [0, T); the loss is finite only when T_n >= 1 and
    // L_n <= Lc (else the clamped reads are masked out).
    const twoS = tmp('i32', N), tl = tmp('i32', N), idx1 = tmp('i32', N), idx2 = tmp('i32', N), lossM = tmp('i32', N);
    const lcm1 = cst('i32', Lc - 1);
    bin1('add', N, S, 0, S, 0, twoS);
    bin1('le', N, twoS, 0, lcm1, 0, lossM, 0, 0);
    bin1('ge', N, Tin, 0, oneI, 0, tl, 0, 0);
    bin1('mul', N, lossM, 0, tl, 0, lossM);
    bin1('min', N, twoS, 0, lcm1, 0, twoS, 0, 0);
    bin1('sub', N, Tin, 0, oneI, 0, tl, 0, 0);
    bin1('max', N, tl, 0, zeroI, 0, tl, 0, 0);
    bin1('min', N, tl, 0, cst('i32', T - 1), 0, tl, 0, 0);
    bin1('mul', N, tl, 0, cst('i32', NW), 0, idx1, 0, 0);
    bin1('add', N, idx1, 0, up('i32', (n) => 2 + n * W + 2, N), 0, idx1);
    bin1('add', N, idx1, 0, twoS, 0, idx1);
    bin1('sub', N, idx1, 0, oneI, 0, idx2, 0, 0);

    // ---- float log-masks (0 allowed, -inf not) via a table gather ----
    const table = keep(k.upload(D, [-Infinity, 0]));
    const logMask = (m: Storage, n: number): Storage => {
      const out = tmp(D, n);
      if (n > 0) k.gatherRows(table, 0, m, n, 1, out, 0);
      return out;
    };
    const validL = logMask(valid, NW), skipAL = logMask(skipA, NW), skipBL = logMask(skipB, NW);
    const initL = logMask(initM, NW), endL = logMask(endM, NW), endTL = logMask(endT, T * N), lossL = logMask(lossM, N);

    // ---- float work buffers ----
    const floorV = D === 'f64' ? -1e300 : -1e37;
    const floorC = cst(D, floorV);
    const alpha = tmp(D, 2 + T * NW);
    k.fill(alpha, 0, 2, -Infinity);
    const lpr = tmp(D, NW), lpl = tmp(D, NW), M = tmp(D, NW), X2 = tmp(D, NW), E = tmp(D, NW), E1 = tmp(D, NW);

    /** E = logsumexp(x0[o0 + i], x1[o1 + i], X2[i]) for i < NW. */
    const lse3 = (x0: Storage, o0: number, x1: Storage, o1: number): void => {
      bin1('max', NW, x0, o0, x1, o1, M);
      bin1('max', NW, M, 0, X2, 0, M);
      bin1('max', NW, M, 0, floorC, 0, M, 0, 0);
      bin1('sub', NW, x0, o0, M, 0, E); k.unary('exp', E, 0, E, 0, NW);
      bin1('sub', NW, x1, o1, M, 0, E1); k.unary('exp', E1, 0, E1, 0, NW);
      bin1('add', NW, E, 0, E1, 0, E);
      bin1('sub', NW, X2, 0, M, 0, E1); k.unary('exp', E1, 0, E1, 0, NW);
      bin1('add', NW, E, 0, E1, 0, E);
      k.unary('log', E, 0, E, 0, NW);
      bin1('add', NW, E, 0, M, 0, E);
    };
    /** lpr = lp[t, n, l'_j] (raw), lpl = lpr masked to the valid positions. */
    const gatherStep = (t: number): void => {
      k.gatherRows(logProbs, t * NC, gidx, NW, 1, lpr, 0);
      bin1('add', NW, lpr, 0, validL, 0, lpl);
    };

    // ---- α ----
    for (let t = 0; t < T; t++) {
      gatherStep(t);
      const cur = 2 + t * NW;
      if (t === 0) { bin1('add', NW, lpl, 0, initL, 0, alpha, cur); continue; }
      const prev = cur - NW;
      bin1('add', NW, alpha, prev - 2, skipAL, 0, X2);
      lse3(alpha, prev, alpha, prev - 1);
      bin1('add', NW, E, 0, lpl, 0, alpha, cur);
    }

    // ---- loss = -logsumexp(α at the two end positions) ----
    const a1 = tmp(D, N), a2 = tmp(D, N), m = tmp(D, N), e = tmp(D, N), nanFix = tmp(D, N);
    k.gatherRows(alpha, 0, idx1, N, 1, a1, 0);
    k.gatherRows(alpha, 0, idx2, N, 1, a2, 0);
    bin1('max', N, a1, 0, a2, 0, m);
    bin1('max', N, m, 0, floorC, 0, m, 0, 0);
    bin1('sub', N, a1, 0, m, 0, e); k.unary('exp', e, 0, e, 0, N);
    bin1('sub', N, a2, 0, m, 0, a1); k.unary('exp', a1, 0, a1, 0, N);
    bin1('add', N, e, 0, a1, 0, e);
    k.unary('log', e, 0, e, 0, N);
    bin1('add', N, e, 0, m, 0, e);
    bin1('add', N, e, 0, lossL, 0, e);
    k.unary('neg', e, 0, loss, 0, N);
    bin1('sub', N, loss, 0, loss, 0, nanFix); // 0, or NaN where the loss is infinite

    // ---- β backwards, and the gradient of each step ----
    let bPrev = tmp(D, NW + 2), bCur = tmp(D, NW + 2);
    k.fill(bPrev, 0, NW + 2, -Infinity);
    k.fill(bCur, 0, NW + 2, -Infinity);
    const occ = tmp(D, NC), gRows = tmp(D, NC + C), selT = tmp('i32', N); // gRows' last row stays 0
    for (let t = T - 1; t >= 0; t--) {
      gatherStep(t);
      bin1('add', NW, bPrev, 2, skipBL, 0, X2);
      lse3(bPrev, 0, bPrev, 1);
      bin1('add', NW, E, 0, lpl, 0, E);                         // the recursion (-inf for t >= T_n - 1)
      bin1('add', NW, lpl, 0, endL, 0, E1);
      bin('add', N, W, E1, 0, FULL, endTL, t * N, ROW, E1);      // the start values, where t == T_n - 1
      bin1('max', NW, E, 0, E1, 0, bCur);

      // Posteriors exp(α + β + nll - lp) summed per class.
      bin1('add', NW, alpha, 2 + t * NW, bCur, 0, M);
      bin('add', N, W, M, 0, FULL, loss, 0, ROW, M);
      bin1('sub', NW, M, 0, lpr, 0, M);
      k.unary('exp', M, 0, M, 0, NW);
      k.fill(occ, 0, NC, 0);
      k.scatterAddRows(M, 0, gidx, NW, 1, occ, 0);
      k.unary('exp', logProbs, t * NC, gRows, 0, NC);
      bin1('sub', NC, gRows, 0, occ, 0, gRows);
      bin('add', N, C, gRows, 0, [C, 1], nanFix, 0, ROW, gRows);
      k.copyStrided([N], sel, t * N, [1], selT, 0, [1], false);
      k.gatherRows(gRows, 0, selT, N, C, grad, t * NC);
      const sw = bPrev; bPrev = bCur; bCur = sw;
    }

    // An empty input with an empty target aligns with probability 1: loss 0 (its gradient rows are
    // already zero, t >= T_n). Picked by index, loss[n] = src[ee_n ? N : n] with src = [loss, 0]:
    // no product that an Infinity elsewhere could turn into NaN.
    const ee = tmp('i32', N), pick = tmp('i32', N), src = tmp(D, N + 1);
    bin1('eq', N, Tin, 0, zeroI, 0, ee, 0, 0);
    bin1('eq', N, S, 0, zeroI, 0, pick, 0, 0);
    bin1('mul', N, ee, 0, pick, 0, ee);
    bin1('mul', N, ee, 0, nMinusN, 0, pick);                    // ee (n - N)
    bin1('sub', N, up('i32', (n) => n, N), 0, pick, 0, pick);  // ee ? N : n
    k.copyStrided([N], loss, 0, [1], src, 0, [1], false);
    k.gatherRows(src, 0, pick, N, 1, loss, 0);
  } finally {
    free(k, ...owned);
  }
}
