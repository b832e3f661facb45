import type { Storage } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { batchSizes, checkWeight, columnSums, copyRows, projectInputs, projectionGrads } from './recurrent.js';
import { lstmCellLayout } from '../backend/lstm-cell.js';
import {
  cellOptions, checkCellSpec, gateRecurrenceBackward, gateRecurrenceForward, gateRecurrenceWeightGrad, packPeepholes,
  peepholeGrads, type LstmCellSpec,
} from './lstm-cell.js';
import { disposeAll, emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/** One direction's weights, PyTorch layout (gate rows stacked i, f, g, o). */
export interface LstmWeights {
  wIh: Tensor;        // [4H, I]
  wHh: Tensor;        // [4H, Hout]
  bIh: Tensor | null; // [4H]
  bHh: Tensor | null; // [4H]
  wHr: Tensor | null; // [Hout, H] projection (LSTMP); Hout = H without it
  // Only with a cell spec (peepholes, Greff variants; see ops/lstm-cell.ts):
  wci?: Tensor | null; // [H] peepholes of the gates that exist (i and f peek at c_{t-1}, o at c_t)
  wcf?: Tensor | null;
  wco?: Tensor | null;
  wGr?: Tensor | null; // [3H, 3H] FGR: gate recurrence from [i, f, o]_{t-1} to [i, f, o]_t
}

export interface LstmLayerResult {
  y: Tensor;  // [T, B, D*Hout]
  hN: Tensor; // [D, B, Hout]
  cN: Tensor; // [D, B, H]
}

/**
 * What the forward pass keeps for backward, per direction. Without a tape (inference) only G
 * (one GEMM for all input projections) and a one-step R are needed: the recurrent GEMM reads the
 * running h and the cell kernel updates the running c in place.
 */
interface Saved {
  G: Storage;         // [T, B, 4H] gate activations (i, f, g, o); [T, B, G*H] for a variant
  Hp: Storage | null; // [T, B, Hout] h_{t-1} fed to step t (training only)
  Cp: Storage | null; // [T, B, H] c_{t-1} of step t (training only)
  C: Storage | null;  // [T, B, H] c_t (training only)
  R: Storage | null;  // [T, B, H] o * tanh(c_t) before the projection ([B, H] in inference)
}

/**
 * One LSTM layer (both directions when given two weight sets) over a whole sequence, as ONE op
 * with backpropagation through time written by hand (the way cuDNN does it):
 *   forward: one GEMM projects all inputs; per step one recurrent GEMM + one fused cell kernel
 *   backward: per step one fused cell kernel + one GEMM; weight gradients as single GEMMs over
 *             all steps at the end.
 * No tensors, closures or allocations inside the time loops.
 *   x [T, B, I] time-major; h0 [D, B, Hout]; c0 [D, B, H]
 *   lengths: per-sequence lengths sorted in decreasing order (null: all T)
 *   spec: the cell (peepholes, Greff et al.'s variants); absent: the standard nn.LSTM cell. The
 *     weights then stack only the G gate blocks that exist, and the same kernels run with options.
 */
export function lstmLayer(x: Tensor, h0: Tensor, c0: Tensor, dirs: readonly LstmWeights[],
  lengths: ArrayLike<number> | null, spec?: LstmCellSpec): LstmLayerResult {
  const D = dirs.length;
  if (D !== 1 && D !== 2) throw new Error(`lstmLayer: expected 1 or 2 directions, got ${D}`);
  if (x.rank !== 3) throw new Error(`lstmLayer: expected input x of shape [T, B, I], got ${fmt(x.shape)}`);
  const [T, B, I] = x.shape;
  if (spec) checkCellSpec('lstmLayer', spec);
  const layout = lstmCellLayout(cellOptions(spec, null, false));
  const NG = layout.G;                      // gate blocks stacked in the weights (4 for nn.LSTM)
  const H = dirs[0].wHh.shape[0] / NG;
  const Hout = dirs[0].wHr ? dirs[0].wHr.shape[0] : H;
  for (const w of dirs) {
    checkWeight('lstmLayer', 'weight_ih', w.wIh, [NG * H, I]);
    checkWeight('lstmLayer', 'weight_hh', w.wHh, [NG * H, Hout]);
    checkWeight('lstmLayer', 'bias_ih', w.bIh, [NG * H]);
    checkWeight('lstmLayer', 'bias_hh', w.bHh, [NG * H]);
    checkWeight('lstmLayer', 'weight_hr', w.wHr, [Hout, H]);
    const want = { wci: !!spec?.peepholes && layout.i >= 0, wcf: !!spec?.peepholes && layout.f >= 0, wco: !!spec?.peepholes && layout.o >= 0, wGr: !!spec?.gateRecurrence };
    for (const key of ['wci', 'wcf', 'wco', 'wGr'] as const) {
      if (!!w[key] !== want[key]) throw new Error(`lstmLayer: this cell ${want[key] ? 'needs' : 'has no'} ${key === 'wGr' ? 'weight_gr' : `peephole weight_${key.slice(1)}`}`);
      checkWeight('lstmLayer', key, w[key] ?? null, key === 'wGr' ? [3 * H, 3 * H] : [H]);
    }
    sameDevice('lstmLayer', x, w.wIh, w.wHh, ...[w.bIh, w.bHh, w.wHr, w.wci, w.wcf, w.wco, w.wGr].filter((t): t is Tensor => !!t));
  }
  checkWeight('lstmLayer', 'h0', h0, [D, B, Hout]);
  checkWeight('lstmLayer', 'c0', c0, [D, B, H]);
  const be = kernels(x.backend), dt = x.dtype;
  const bs = batchSizes(lengths, T, B);
  const DH = D * Hout;
  const GH = NG * H;   // gate width of one row
  // Kernel options per direction (undefined: the standard cell's fast path).
  const peeps = dirs.map((w) => (spec?.peepholes ? packPeepholes(be, dt, H, w.wci ?? null, w.wcf ?? null, w.wco ?? null) : null));
  const cellF = dirs.map((_, d) => cellOptions(spec, peeps[d], false));
  const cellB = dirs.map((_, d) => cellOptions(spec, peeps[d], true));

  const weightTensors = dirs.flatMap((w) => [w.wIh, w.wHh, w.bIh, w.bHh, w.wHr, w.wci ?? null, w.wcf ?? null, w.wco ?? null, w.wGr ?? null]);
  const inputs = [x, h0, c0, ...weightTensors.filter((t): t is Tensor => t !== null)];
  const train = needsGrad(inputs);

  const y = emptyLike(x, [T, B, DH]);
  const hN = emptyLike(x, [D, B, Hout]);
  const cN = emptyLike(x, [D, B, H]);
  const saved: Saved[] = [];

  for (let d = 0; d < D; d++) {
    const w = dirs[d], reverse = d === 1;
    const s: Saved = train
      ? { G: be.alloc(dt, T * B * GH), Hp: be.alloc(dt, T * B * Hout), Cp: be.alloc(dt, T * B * H),
        C: be.alloc(dt, T * B * H), R: w.wHr ? be.alloc(dt, T * B * H) : null }
      : { G: be.alloc(dt, T * B * GH), Hp: null, Cp: null, C: null, R: w.wHr ? be.alloc(dt, B * H) : null };
    saved.push(s);
    projectInputs(be, T * B, I, GH, x.storage, w.wIh.storage, w.bIh?.storage ?? null, w.bHh?.storage ?? null, s.G);
    // FGR reads the previous step's activations over whole row blocks: keep inactive rows zero.
    if (w.wGr) for (let t = 0; t < T; t++) if (bs[t] < B) be.fill(s.G, (t * B + bs[t]) * GH, (B - bs[t]) * GH, 0);
    // Running state [B, Hout] / [B, H]; rows past their length keep their last value.
    const h = hN.storage, c = cN.storage, hOff = d * B * Hout, cOff = d * B * H;
    copyRows(be, B, Hout, h0.storage, hOff, Hout, h, hOff, Hout);
    copyRows(be, B, H, c0.storage, cOff, H, c, cOff, H);
    const wHh = be.prepareB(true, Hout, GH, w.wHh.storage, 0, Hout, B); // W_hh^T [Hout, GH], packed once for all steps
    for (let step = 0; step < T; step++) {
      const t = reverse ? T - 1 - step : step;
      const n = bs[t];
      if (n === 0) continue;
      const g = t * B * GH, yo = t * B * DH + d * Hout;
      // Training reads and writes the saved per-step copies; inference the running state itself.
      const hp = s.Hp ? t * B * Hout : hOff, cp = s.Cp ? t * B * H : cOff, cs = s.C ? t * B * H : cOff;
      const Hp = s.Hp ?? h, Cp = s.Cp ?? c, C = s.C ?? c, ro = train ? t * B * H : 0;
      if (s.Hp) copyRows(be, n, Hout, h, hOff, Hout, s.Hp, hp, Hout);
      if (s.Cp) copyRows(be, n, H, c, cOff, H, s.Cp, cp, H);
      if (!s.R && !w.wGr && !cellF[d]) {
        // The standard cell: recurrent GEMM and cell as one step (threaded by hidden units on wasm).
        be.lstmStep(n, H, Hp, hp, Hout, wHh, s.G, g, Cp, cp, C, cs, y.storage, yo, DH);
      } else {
        be.gemmPrepared(n, 1, Hp, hp, Hout, wHh, 1, s.G, g, GH);
        if (w.wGr && step > 0) {
          const tp = reverse ? t + 1 : t - 1; // the previous step; its rows past bs[tp] start here (no recurrence)
          gateRecurrenceForward(be, Math.min(n, bs[tp]), H, s.G, tp * B * GH, w.wGr.storage, s.G, g);
        }
        if (s.R) {
          be.lstmCellForward(n, H, s.G, g, Cp, cp, C, cs, s.R, ro, H, cellF[d]);
          be.gemm(false, true, n, Hout, H, 1, s.R, ro, H, w.wHr!.storage, 0, H, 0, y.storage, yo, DH);
        } else {
          be.lstmCellForward(n, H, s.G, g, Cp, cp, C, cs, y.storage, yo, DH, cellF[d]);
        }
      }
      copyRows(be, n, Hout, y.storage, yo, DH, h, hOff, Hout);
      if (s.C) copyRows(be, n, H, s.C, cs, H, c, cOff, H);
    }
    be.releasePrepared(wHh);
  }

  const free = (...xs: (Storage | null)[]) => disposeAll(be, ...xs);
  if (!train) {
    for (const s of saved) free(s.G, s.R);
    free(...peeps);
    return { y, hN, cN };
  }
  let released = false;
  record({
      name: 'lstmLayer', inputs, outputs: [y, hN, cN],
      release() {
        released = true;
        for (const s of saved) free(s.G, s.Hp, s.Cp, s.C, s.R);
        free(...peeps);
      },
      backward([gY, gH, gC]) {
        if (released) throw new Error('lstmLayer: backward through the same graph a second time (its saved buffers were freed after the first); run the forward pass again');
        const dx = x.requiresGrad ? be.alloc(dt, T * B * I) : null;
        const dh0 = be.alloc(dt, D * B * Hout), dc0 = be.alloc(dt, D * B * H);
        const wGrads: (Storage | null)[] = [];
        for (let d = 0; d < D; d++) {
          const w = dirs[d], s = saved[d], reverse = d === 1;
          // Running gradients w.r.t. the state: dL/dh_t, dL/dc_t; they end as dL/dh0, dL/dc0.
          const dh = dh0, dc = dc0, hOff = d * B * Hout, cOff = d * B * H;
          if (gH) copyRows(be, B, Hout, gH, hOff, Hout, dh, hOff, Hout);
          if (gC) copyRows(be, B, H, gC, cOff, H, dc, cOff, H);
          const dG = be.alloc(dt, T * B * GH);                  // [T, B, 4H] pre-activation grads
          const dHt = s.R ? be.alloc(dt, T * B * Hout) : null;    // [T, B, Hout] dL/dh_t per step (for dW_hr)
          const dR = s.R ? be.alloc(dt, B * H) : null;            // [B, H] dL/d(o tanh c) of one step
          const wHh = be.prepareB(false, GH, Hout, w.wHh.storage, 0, Hout, B); // W_hh [GH, Hout], packed once
          for (let step = T - 1; step >= 0; step--) {
            const t = reverse ? T - 1 - step : step;
            const n = bs[t];
            if (n === 0) continue;
            const g = t * B * GH, cs = t * B * H, yo = t * B * DH + d * Hout;
            if (gY) copyRows(be, n, Hout, gY, yo, DH, dh, hOff, Hout, true);
            let src = dh, srcOff = hOff, ld = Hout;
            if (dHt && dR) {
              copyRows(be, n, Hout, dh, hOff, Hout, dHt, t * B * Hout, Hout);
              be.gemm(false, false, n, H, Hout, 1, dh, hOff, Hout, w.wHr!.storage, 0, H, 0, dR, 0, H);
              src = dR; srcOff = 0; ld = H;
            }
            if (!dHt && !w.wGr && !cellB[d]) {
              // The standard cell: cell backward and the dh GEMM as one step (threaded by rows on wasm).
              be.lstmStepBackward(n, H, s.G, g, s.Cp!, cs, s.C!, cs, dh, hOff, Hout, dc, cOff, dG, g, wHh);
            } else {
              be.lstmCellBackward(n, H, s.G, g, s.Cp!, cs, s.C!, cs, src, srcOff, ld, dc, cOff, dG, g, cellB[d]);
              if (w.wGr && step > 0) {
                // FGR: dL/d[i, f, o]_{t-1} enters the previous step's kernel through its dGates slot.
                const tp = reverse ? t + 1 : t - 1;
                gateRecurrenceBackward(be, Math.min(n, bs[tp]), H, dG, g, w.wGr.storage, dG, tp * B * GH);
              }
              be.gemmPrepared(n, 1, dG, g, GH, wHh, 0, dh, hOff, Hout);
            }
          }
          be.releasePrepared(wHh);
          // Weight gradients: one GEMM each over all T*B rows (inactive rows hold zeros).
          const R = T * B;
          const { dWih, dWhh } = projectionGrads(be, dt, R, I, GH, Hout, dG, dG, x.storage, w.wIh.storage, s.Hp!, dx, d > 0);
          let dB: Storage | null = null;
          if (w.bIh || w.bHh) { dB = be.alloc(dt, GH); columnSums(be, dG, R, GH, dB, false); }
          let dWhr: Storage | null = null;
          if (dHt && s.R) {
            dWhr = be.alloc(dt, Hout * H);
            be.gemm(true, false, Hout, H, R, 1, dHt, 0, Hout, s.R, 0, H, 0, dWhr, 0, H);
          }
          let dPeep: (Storage | null)[] = [null, null, null], dWgr: Storage | null = null;
          if (cellF[d]) dPeep = peepholeGrads(be, dt, R, H, cellF[d]!, dG, s.Cp!, s.C!);
          if (w.wGr) {
            // Row block t of dG pairs with row block t-1 (t+1 in reverse) of the activations.
            dWgr = be.alloc(dt, 9 * H * H);
            const off = B * GH;
            gateRecurrenceWeightGrad(be, R - B, H, dG, reverse ? 0 : off, s.G, reverse ? off : 0, dWgr);
          }
          free(dG, dHt, dR);
          wGrads.push(dWih, dWhh, w.bIh ? dB : null, w.bHh ? dB : null, w.wHr ? dWhr : null,
            w.wci ? dPeep[0] : null, w.wcf ? dPeep[1] : null, w.wco ? dPeep[2] : null, dWgr);
        }
        const present = wGrads.filter((_, i) => weightTensors[i] !== null);
        return [dx, dh0, dc0, ...present];
      },
  }, [y, hN, cN]);
  return { y, hN, cN };
}
