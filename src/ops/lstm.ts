import type { Storage } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { batchSizes, checkWeight, columnSums, copyRows, projectInputs } from './recurrent.js';
import { emptyLike, sameDevice } from './util.js';

/** One direction's weights, PyTorch layout (gate rows stacked i, f, g, o). */
export interface LstmWeights {
  wIh: Tensor;        // [4H, I]
  wHh: Tensor;        // [4H, Hout]
  bIh: Tensor | null; // [4H]
  bHh: Tensor | null; // [4H]
  wHr: Tensor | null; // [Hout, H] projection (LSTMP); Hout = H without it
}

export interface LstmLayerResult {
  y: Tensor;  // [T, B, D*Hout]
  hN: Tensor; // [D, B, Hout]
  cN: Tensor; // [D, B, H]
}

/** What the forward pass keeps for backward, per direction. */
interface Saved {
  G: Storage;        // [T, B, 4H] gate activations (i, f, g, o)
  Hp: Storage;       // [T, B, Hout] h_{t-1} fed to step t
  Cp: Storage;       // [T, B, H] c_{t-1} of step t
  C: Storage;        // [T, B, H] c_t
  R: Storage | null; // [T, B, H] o * tanh(c_t) before the projection
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
 */
export function lstmLayer(x: Tensor, h0: Tensor, c0: Tensor, dirs: readonly LstmWeights[],
  lengths: ArrayLike<number> | null): LstmLayerResult {
  const D = dirs.length;
  if (D !== 1 && D !== 2) throw new Error(`lstmLayer: expected 1 or 2 directions, got ${D}`);
  if (x.rank !== 3) throw new Error(`lstmLayer: expected input x of shape [T, B, I], got ${fmt(x.shape)}`);
  const [T, B, I] = x.shape;
  const H = dirs[0].wHh.shape[0] / 4;
  const Hout = dirs[0].wHr ? dirs[0].wHr.shape[0] : H;
  for (const w of dirs) {
    checkWeight('lstmLayer', 'weight_ih', w.wIh, [4 * H, I]);
    checkWeight('lstmLayer', 'weight_hh', w.wHh, [4 * H, Hout]);
    checkWeight('lstmLayer', 'bias_ih', w.bIh, [4 * H]);
    checkWeight('lstmLayer', 'bias_hh', w.bHh, [4 * H]);
    checkWeight('lstmLayer', 'weight_hr', w.wHr, [Hout, H]);
    sameDevice('lstmLayer', x, w.wIh, w.wHh, ...[w.bIh, w.bHh, w.wHr].filter((t): t is Tensor => t !== null));
  }
  checkWeight('lstmLayer', 'h0', h0, [D, B, Hout]);
  checkWeight('lstmLayer', 'c0', c0, [D, B, H]);
  const be = x.backend, dt = x.dtype;
  const bs = batchSizes(lengths, T, B);
  const DH = D * Hout;

  const y = emptyLike(x, [T, B, DH]);
  const hN = emptyLike(x, [D, B, Hout]);
  const cN = emptyLike(x, [D, B, H]);
  const saved: Saved[] = [];

  for (let d = 0; d < D; d++) {
    const w = dirs[d], reverse = d === 1;
    const s: Saved = {
      G: be.alloc(dt, T * B * 4 * H), Hp: be.alloc(dt, T * B * Hout), Cp: be.alloc(dt, T * B * H),
      C: be.alloc(dt, T * B * H), R: w.wHr ? be.alloc(dt, T * B * H) : null,
    };
    saved.push(s);
    projectInputs(be, T * B, I, 4 * H, x.storage, w.wIh.storage, w.bIh?.storage ?? null, w.bHh?.storage ?? null, s.G);
    // Running state [B, Hout] / [B, H]; rows past their length keep their last value.
    const h = hN.storage, c = cN.storage, hOff = d * B * Hout, cOff = d * B * H;
    copyRows(be, B, Hout, h0.storage, hOff, Hout, h, hOff, Hout);
    copyRows(be, B, H, c0.storage, cOff, H, c, cOff, H);
    for (let step = 0; step < T; step++) {
      const t = reverse ? T - 1 - step : step;
      const n = bs[t];
      if (n === 0) continue;
      const g = t * B * 4 * H, hp = t * B * Hout, cs = t * B * H, yo = t * B * DH + d * Hout;
      copyRows(be, n, Hout, h, hOff, Hout, s.Hp, hp, Hout);
      copyRows(be, n, H, c, cOff, H, s.Cp, cs, H);
      be.gemm(false, true, n, 4 * H, Hout, 1, s.Hp, hp, Hout, w.wHh.storage, 0, Hout, 1, s.G, g, 4 * H);
      if (s.R) {
        be.lstmCellForward(n, H, s.G, g, s.Cp, cs, s.C, cs, s.R, cs, H);
        be.gemm(false, true, n, Hout, H, 1, s.R, cs, H, w.wHr!.storage, 0, H, 0, y.storage, yo, DH);
      } else {
        be.lstmCellForward(n, H, s.G, g, s.Cp, cs, s.C, cs, y.storage, yo, DH);
      }
      copyRows(be, n, Hout, y.storage, yo, DH, h, hOff, Hout);
      copyRows(be, n, H, s.C, cs, H, c, cOff, H);
    }
  }

  const weightTensors = dirs.flatMap((w) => [w.wIh, w.wHh, w.bIh, w.bHh, w.wHr]);
  const inputs = [x, h0, c0, ...weightTensors.filter((t): t is Tensor => t !== null)];
  if (needsGrad(inputs)) {
    record({
      name: 'lstmLayer', inputs, outputs: [y, hN, cN],
      backward([gY, gH, gC]) {
        const dx = x.requiresGrad ? be.alloc(dt, T * B * I) : null;
        const dh0 = be.alloc(dt, D * B * Hout), dc0 = be.alloc(dt, D * B * H);
        const wGrads: (Storage | null)[] = [];
        for (let d = 0; d < D; d++) {
          const w = dirs[d], s = saved[d], reverse = d === 1;
          // Running gradients w.r.t. the state: dL/dh_t, dL/dc_t; they end as dL/dh0, dL/dc0.
          const dh = dh0, dc = dc0, hOff = d * B * Hout, cOff = d * B * H;
          if (gH) copyRows(be, B, Hout, gH, hOff, Hout, dh, hOff, Hout);
          if (gC) copyRows(be, B, H, gC, cOff, H, dc, cOff, H);
          const dG = be.alloc(dt, T * B * 4 * H);                  // [T, B, 4H] pre-activation grads
          const dHt = s.R ? be.alloc(dt, T * B * Hout) : null;    // [T, B, Hout] dL/dh_t per step (for dW_hr)
          const dR = s.R ? be.alloc(dt, B * H) : null;            // [B, H] dL/d(o tanh c) of one step
          for (let step = T - 1; step >= 0; step--) {
            const t = reverse ? T - 1 - step : step;
            const n = bs[t];
            if (n === 0) continue;
            const g = t * B * 4 * H, cs = t * B * H, yo = t * B * DH + d * Hout;
            if (gY) copyRows(be, n, Hout, gY, yo, DH, dh, hOff, Hout, true);
            let src = dh, srcOff = hOff, ld = Hout;
            if (dHt && dR) {
              copyRows(be, n, Hout, dh, hOff, Hout, dHt, t * B * Hout, Hout);
              be.gemm(false, false, n, H, Hout, 1, dh, hOff, Hout, w.wHr!.storage, 0, H, 0, dR, 0, H);
              src = dR; srcOff = 0; ld = H;
            }
            be.lstmCellBackward(n, H, s.G, g, s.Cp, cs, s.C, cs, src, srcOff, ld, dc, cOff, dG, g);
            be.gemm(false, false, n, Hout, 4 * H, 1, dG, g, 4 * H, w.wHh.storage, 0, Hout, 0, dh, hOff, Hout);
          }
          // Weight gradients: one GEMM each over all T*B rows (inactive rows hold zeros).
          const R = T * B;
          if (dx) be.gemm(false, false, R, I, 4 * H, 1, dG, 0, 4 * H, w.wIh.storage, 0, I, d === 0 ? 0 : 1, dx, 0, I);
          const dWih = be.alloc(dt, 4 * H * I);
          be.gemm(true, false, 4 * H, I, R, 1, dG, 0, 4 * H, x.storage, 0, I, 0, dWih, 0, I);
          const dWhh = be.alloc(dt, 4 * H * Hout);
          be.gemm(true, false, 4 * H, Hout, R, 1, dG, 0, 4 * H, s.Hp, 0, Hout, 0, dWhh, 0, Hout);
          let dB: Storage | null = null;
          if (w.bIh || w.bHh) { dB = be.alloc(dt, 4 * H); columnSums(be, dG, R, 4 * H, dB, false); }
          let dWhr: Storage | null = null;
          if (dHt && s.R) {
            dWhr = be.alloc(dt, Hout * H);
            be.gemm(true, false, Hout, H, R, 1, dHt, 0, Hout, s.R, 0, H, 0, dWhr, 0, H);
          }
          wGrads.push(dWih, dWhh, w.bIh ? dB : null, w.bHh ? dB : null, w.wHr ? dWhr : null);
        }
        const present = wGrads.filter((_, i) => weightTensors[i] !== null);
        return [dx, dh0, dc0, ...present];
      },
    }, [y, hN, cN]);
  }
  return { y, hN, cN };
}
