import type { Backend, Storage } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/**
 * sLSTM (xLSTM's scalar LSTM, Beck et al. 2024) over a whole sequence as ONE op with a
 * hand-written backward through time. Equations, stabilizer and initial-state convention:
 * ../shared/fixtures/EXTENDED.md, section `slstm`.
 *
 *   pre_t = x_t W_ih^T + bias + r_t          (input projection of all T steps: one GEMM)
 *   r_t[g, k] = h_{t-1}[k] W_hh[g, k]^T       block-diagonal recurrence: per gate g and head k one
 *                                            [B, DH] x [DH, DH] product (4*NH small GEMMs per step)
 *   then one fused pointwise kernel per step (backend.slstmCellForward).
 *
 * Shapes: x [T, B, I], weight_ih [4H, I], weight_hh [4, NH, DH, DH], bias [4H] (gate order
 * i, f, z, o). Outputs: y [T, B, H], hN [B, H], and the stabilized states after step T: cN, nN,
 * mN [B, H]. Initial state: by default h_0 = c_0 = n_0 = 0, m_0 = -inf (EXTENDED.md: the first
 * step is special-cased, m_1 = ĩ_1), or an explicit `initial` state (then an ordinary step 1).
 */
export type ForgetGate = 'exp' | 'sigmoid';

export interface SlstmOptions { numHeads: number; forgetGate: ForgetGate }

export interface SlstmResult { y: Tensor; hN: Tensor; cN: Tensor; nN: Tensor; mN: Tensor }

/**
 * A stabilized sLSTM state, each [B, H]: the final state (hN, cN, nN, mN) of one call is the
 * initial state of the next (a long sequence in pieces, generation step by step).
 */
export interface SlstmState { h: Tensor; c: Tensor; n: Tensor; m: Tensor }

export function checkForgetGate(op: string, f: unknown): ForgetGate {
  if (f !== 'exp' && f !== 'sigmoid') throw new Error(`${op}: forgetGate must be 'exp' or 'sigmoid', got ${JSON.stringify(f)}`);
  return f;
}

/**
 * The full layer: x -> (y, hN, cN, nN, mN). `initial`: the state before step 1 (default h_0 =
 * c_0 = n_0 = 0, m_0 = -inf, EXTENDED.md); differentiable like any input.
 */
export function slstm(x: Tensor, weightIh: Tensor, weightHh: Tensor, bias: Tensor | null, opts: SlstmOptions,
  initial: SlstmState | null = null): SlstmResult {
  if (x.rank !== 3) throw new Error(`slstm: expected input x of shape [T, B, I], got ${fmt(x.shape)}`);
  if (weightIh.rank !== 2 || weightIh.shape[1] !== x.shape[2] || weightIh.shape[0] % 4 !== 0) {
    throw new Error(`slstm: expected weight_ih of shape [4H, ${x.shape[2]}], got ${fmt(weightIh.shape)}`);
  }
  return slstmCore(x, weightIh, weightHh, bias, opts, initial);
}

/**
 * The recurrence only, from precomputed input pre-activations pre [T, B, 4H] (x W_ih^T + bias,
 * gate order i, f, z, o): for blocks whose gates come from different inputs (the sLSTM block).
 */
export function slstmRecurrence(pre: Tensor, weightHh: Tensor, opts: SlstmOptions, initial: SlstmState | null = null): SlstmResult {
  if (pre.rank !== 3 || pre.shape[2] % 4 !== 0) throw new Error(`slstmRecurrence: expected pre-activations [T, B, 4H], got ${fmt(pre.shape)}`);
  return slstmCore(pre, null, weightHh, null, opts, initial);
}

/** Shared forward/backward. With weightIh null, `x` is already the pre-activation sequence [T, B, 4H]. */
function slstmCore(x: Tensor, weightIh: Tensor | null, weightHh: Tensor, bias: Tensor | null, opts: SlstmOptions,
  initial: SlstmState | null): SlstmResult {
  const op = weightIh ? 'slstm' : 'slstmRecurrence';
  const [T, B, I] = x.shape;
  const H = weightIh ? weightIh.shape[0] / 4 : I / 4;
  const NH = opts.numHeads;
  const expForget = checkForgetGate(op, opts.forgetGate) === 'exp';
  if (!Number.isInteger(NH) || NH < 1 || H % NH !== 0) {
    throw new Error(`${op}: numHeads must be a positive integer dividing hiddenSize ${H}, got ${NH}`);
  }
  const DH = H / NH, G = 4 * H, BH = B * H;
  if (weightHh.rank !== 4 || weightHh.shape[0] !== 4 || weightHh.shape[1] !== NH || weightHh.shape[2] !== DH || weightHh.shape[3] !== DH) {
    throw new Error(`${op}: expected weight_hh of shape [4, ${NH}, ${DH}, ${DH}] (gates, heads, out, in), got ${fmt(weightHh.shape)}`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== G)) throw new Error(`${op}: expected bias of shape [${G}], got ${fmt(bias.shape)}`);
  if (T < 1) throw new Error(`${op}: expected at least one time step, got x of shape ${fmt(x.shape)}`);
  if (initial) {
    for (const [name, t] of Object.entries(initial)) {
      if (t.rank !== 2 || t.shape[0] !== B || t.shape[1] !== H) throw new Error(`${op}: expected initial state ${name} of shape [${B}, ${H}], got ${fmt(t.shape)}`);
    }
  }
  const init = initial ? [initial.h, initial.c, initial.n, initial.m] : [];
  const inputs = [x, ...(weightIh ? [weightIh] : []), weightHh, ...(bias ? [bias] : []), ...init];
  sameDevice(op, ...inputs);
  const be = kernels(x.backend), dt = x.dtype;

  // pre [T, B, 4H]: input pre-activations (+ recurrent term, added per step). Kept for backward.
  const pre = be.alloc(dt, T * B * G);
  if (weightIh) {
    if (bias) be.copyStrided([T * B, G], bias.storage, 0, [0, 1], pre, 0, [G, 1], false);
    be.gemm(false, true, T * B, G, I, 1, x.storage, 0, I, weightIh.storage, 0, I, bias ? 1 : 0, pre, 0, G);
  } else {
    be.copyStrided([T * B * G], x.storage, 0, [1], pre, 0, [1], false);
  }
  // States c, n, m [T + 1, B, H]: slot 0 the initial state (unused without one: m_0 = -inf makes
  // step 1 special), slot t+1 the state after step t. y [T, B, H] holds h_t (h_{t-1} for the
  // recurrence; h_0 is initial.h or zero, which contributes nothing).
  const c = be.alloc(dt, (T + 1) * BH), n = be.alloc(dt, (T + 1) * BH), m = be.alloc(dt, (T + 1) * BH);
  if (initial) for (const [src, dst] of [[initial.c, c], [initial.n, n], [initial.m, m]] as const) be.copyStrided([BH], src.storage, 0, [1], dst, 0, [1], false);
  const y = emptyLike(x, [T, B, H]);
  const W = weightHh.storage;
  for (let t = 0; t < T; t++) {
    const po = t * B * G;
    if (t > 0) recurrentForward(be, B, H, NH, DH, y.storage, (t - 1) * BH, W, pre, po);
    else if (initial) recurrentForward(be, B, H, NH, DH, initial.h.storage, 0, W, pre, po);
    be.slstmCellForward(B, H, expForget, t === 0 && !initial, pre, po, c, n, m, t * BH, (t + 1) * BH, y.storage, t * BH, H);
  }
  const last = (T - 1) * BH;
  const lastOf = (s: Storage, off: number) => { const o = emptyLike(x, [B, H]); be.copyStrided([BH], s, off, [1], o.storage, 0, [1], false); return o; };
  const hN = lastOf(y.storage, last), cN = lastOf(c, T * BH), nN = lastOf(n, T * BH), mN = lastOf(m, T * BH);

  if (needsGrad(inputs)) {
    record({
      name: op, inputs, outputs: [y, hN, cN, nN, mN],
      backward([gY, gH, gC, gN, gM]) {
        // dY [T, B, H]: dL/dy plus dL/dh_n on the last step (a copy: never write into given grads).
        const dY = be.alloc(dt, T * BH);
        if (gY) be.copyStrided([T * BH], gY, 0, [1], dY, 0, [1], false);
        if (gH) be.copyStrided([BH], gH, 0, [1], dY, last, [1], true);
        const stateGrad = (g: Storage | null) => { const s = be.alloc(dt, BH); if (g) be.copyStrided([BH], g, 0, [1], s, 0, [1], false); return s; };
        const dc = stateGrad(gC), dn = stateGrad(gN), dm = stateGrad(gM);
        const dhRec = be.alloc(dt, BH);   // [B, H] dL/dh_t through step t+1's recurrence
        const dPre = be.alloc(dt, T * B * G);
        for (let t = T - 1; t >= 0; t--) {
          const po = t * B * G;
          be.slstmCellBackward(B, H, expForget, t === 0 && !initial, pre, po, c, n, m, t * BH, (t + 1) * BH,
            dY, t * BH, H, dhRec, dc, dn, dm, dPre, po);
          if (t > 0 || initial) recurrentBackwardInput(be, B, H, NH, DH, dPre, po, W, dhRec);
        }
        // With an initial state, dhRec, dc, dn, dm now hold dL/d(h_0, c_0, n_0, m_0).
        // dW_hh[g, k] = sum_{t >= 2} dPre_t[g, k]^T h_{t-1}[k]: one GEMM per block over all steps.
        let dWhh: Storage | null = null;
        if (weightHh.requiresGrad) {
          dWhh = be.alloc(dt, 4 * NH * DH * DH);
          for (let g = 0; g < 4; g++) {
            for (let k = 0; k < NH; k++) {
              be.gemm(true, false, DH, DH, (T - 1) * B, 1, dPre, B * G + g * H + k * DH, G, y.storage, k * DH, H,
                0, dWhh, (g * NH + k) * DH * DH, DH);
              if (initial) {
                be.gemm(true, false, DH, DH, B, 1, dPre, g * H + k * DH, G, initial.h.storage, k * DH, H,
                  1, dWhh, (g * NH + k) * DH * DH, DH);
              }
            }
          }
        }
        let dx: Storage | null = null, dWih: Storage | null = null, db: Storage | null = null;
        if (weightIh) {
          if (x.requiresGrad) { dx = be.alloc(dt, T * B * I); be.gemm(false, false, T * B, I, G, 1, dPre, 0, G, weightIh.storage, 0, I, 0, dx, 0, I); }
          if (weightIh.requiresGrad) { dWih = be.alloc(dt, G * I); be.gemm(true, false, G, I, T * B, 1, dPre, 0, G, x.storage, 0, I, 0, dWih, 0, I); }
          if (bias?.requiresGrad) { db = be.alloc(dt, G); be.copyStrided([T * B, G], dPre, 0, [G, 1], db, 0, [0, 1], true); }
        } else if (x.requiresGrad) dx = dPre;
        const dInit = initial ? [dhRec, dc, dn, dm] : [];
        return weightIh ? [dx, dWih, dWhh, ...(bias ? [db] : []), ...dInit] : [dx, dWhh, ...dInit];
      },
    }, [y, hN, cN, nN, mN]);
  }
  return { y, hN, cN, nN, mN };
}

/** pre[b, g*H + k*DH + a] += sum_j W[g, k, a, j] h[b, k*DH + j]  (h rows at hOff, stride H). */
function recurrentForward(be: Backend, B: number, H: number, NH: number, DH: number, h: Storage, hOff: number,
  W: Storage, pre: Storage, po: number): void {
  const G = 4 * H;
  for (let g = 0; g < 4; g++) {
    for (let k = 0; k < NH; k++) {
      be.gemm(false, true, B, DH, DH, 1, h, hOff + k * DH, H, W, (g * NH + k) * DH * DH, DH, 1, pre, po + g * H + k * DH, G);
    }
  }
}

/** dh[b, k*DH + j] = sum_g sum_a dPre[b, g*H + k*DH + a] W[g, k, a, j]. */
function recurrentBackwardInput(be: Backend, B: number, H: number, NH: number, DH: number, dPre: Storage, po: number,
  W: Storage, dh: Storage): void {
  const G = 4 * H;
  for (let g = 0; g < 4; g++) {
    for (let k = 0; k < NH; k++) {
      be.gemm(false, false, B, DH, DH, 1, dPre, po + g * H + k * DH, G, W, (g * NH + k) * DH * DH, DH, g === 0 ? 0 : 1, dh, k * DH, H);
    }
  }
}
