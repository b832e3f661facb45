import type { Storage } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { batchSizes, checkWeight, columnSums, copyRows, projectInputs, projectionGrads } from './recurrent.js';
import { disposeAll, emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/** One direction's weights, PyTorch layout (gate rows stacked r, z, n). */
export interface GruWeights {
  wIh: Tensor;        // [3H, I]
  wHh: Tensor;        // [3H, H]
  bIh: Tensor | null; // [3H]
  bHh: Tensor | null; // [3H]
}

export interface GruLayerResult {
  y: Tensor;  // [T, B, D*H]
  hN: Tensor; // [D, B, H]
}

/** Kept for backward; without a tape (inference) GH is one step's [B, 3H] and Hp is not kept. */
interface Saved {
  GX: Storage;        // [T, B, 3H] activations (r, z, n)
  GH: Storage;        // [T, B, 3H] h_{t-1} W_hh^T + b_hh (n needs its third block)
  Hp: Storage | null; // [T, B, H] h_{t-1} fed to step t
}

/**
 * One GRU layer (both directions when given two weight sets) over a whole sequence as ONE op
 * with hand-written BPTT; same structure as lstmLayer (see there). nn.GRU semantics:
 *   r = σ(x W_ir + b_ir + h W_hr + b_hr), z = σ(...), n = tanh(x W_in + b_in + r (h W_hn + b_hn)),
 *   h' = (1 - z) n + z h
 *   x [T, B, I]; h0 [D, B, H]; lengths sorted in decreasing order (null: all T)
 */
export function gruLayer(x: Tensor, h0: Tensor, dirs: readonly GruWeights[], lengths: ArrayLike<number> | null): GruLayerResult {
  const D = dirs.length;
  if (D !== 1 && D !== 2) throw new Error(`gruLayer: expected 1 or 2 directions, got ${D}`);
  if (x.rank !== 3) throw new Error(`gruLayer: expected input x of shape [T, B, I], got ${fmt(x.shape)}`);
  const [T, B, I] = x.shape;
  const H = dirs[0].wHh.shape[1];
  for (const w of dirs) {
    checkWeight('gruLayer', 'weight_ih', w.wIh, [3 * H, I]);
    checkWeight('gruLayer', 'weight_hh', w.wHh, [3 * H, H]);
    checkWeight('gruLayer', 'bias_ih', w.bIh, [3 * H]);
    checkWeight('gruLayer', 'bias_hh', w.bHh, [3 * H]);
    sameDevice('gruLayer', x, w.wIh, w.wHh, ...[w.bIh, w.bHh].filter((t): t is Tensor => t !== null));
  }
  checkWeight('gruLayer', 'h0', h0, [D, B, H]);
  const be = kernels(x.backend), dt = x.dtype;
  const bs = batchSizes(lengths, T, B);
  const DH = D * H, G = 3 * H;

  const weightTensors = dirs.flatMap((w) => [w.wIh, w.wHh, w.bIh, w.bHh]);
  const inputs = [x, h0, ...weightTensors.filter((t): t is Tensor => t !== null)];
  const train = needsGrad(inputs);

  const y = emptyLike(x, [T, B, DH]);
  const hN = emptyLike(x, [D, B, H]);
  const saved: Saved[] = [];
  for (let d = 0; d < D; d++) {
    const w = dirs[d], reverse = d === 1;
    const s: Saved = train
      ? { GX: be.alloc(dt, T * B * G), GH: be.alloc(dt, T * B * G), Hp: be.alloc(dt, T * B * H) }
      : { GX: be.alloc(dt, T * B * G), GH: be.alloc(dt, B * G), Hp: null };
    saved.push(s);
    projectInputs(be, T * B, I, G, x.storage, w.wIh.storage, w.bIh?.storage ?? null, null, s.GX);
    const h = hN.storage, hOff = d * B * H;
    copyRows(be, B, H, h0.storage, hOff, H, h, hOff, H);
    const wHh = be.prepareB(true, H, G, w.wHh.storage, 0, H, B); // W_hh^T [H, 3H], packed once for all steps
    for (let step = 0; step < T; step++) {
      const t = reverse ? T - 1 - step : step;
      const n = bs[t];
      if (n === 0) continue;
      const g = t * B * G, yo = t * B * DH + d * H;
      // Training reads the saved copy of h_{t-1}; inference the running state itself.
      const Hp = s.Hp ?? h, hp = s.Hp ? t * B * H : hOff, gh = train ? g : 0;
      if (s.Hp) copyRows(be, n, H, h, hOff, H, s.Hp, hp, H);
      be.gemmPrepared(n, 1, Hp, hp, H, wHh, 0, s.GH, gh, G);
      be.gruCellForward(n, H, s.GX, g, s.GH, gh, w.bHh?.storage ?? null, Hp, hp, H, y.storage, yo, DH);
      copyRows(be, n, H, y.storage, yo, DH, h, hOff, H);
    }
    be.releasePrepared(wHh);
  }

  const free = (...xs: (Storage | null)[]) => disposeAll(be, ...xs);
  if (!train) {
    for (const s of saved) free(s.GX, s.GH);
    return { y, hN };
  }
  let released = false;
  record({
      name: 'gruLayer', inputs, outputs: [y, hN],
      release() {
        released = true;
        for (const s of saved) free(s.GX, s.GH, s.Hp);
      },
      backward([gY, gH]) {
        if (released) throw new Error('gruLayer: backward through the same graph a second time (its saved buffers were freed after the first); run the forward pass again');
        const dx = x.requiresGrad ? be.alloc(dt, T * B * I) : null;
        const dh0 = be.alloc(dt, D * B * H);
        const dPrev = be.alloc(dt, B * H); // [B, H] dL/dh_{t-1} of one step
        const wGrads: (Storage | null)[] = [];
        for (let d = 0; d < D; d++) {
          const w = dirs[d], s = saved[d], reverse = d === 1;
          const dh = dh0, hOff = d * B * H; // running dL/dh_t, ends as dL/dh0
          if (gH) copyRows(be, B, H, gH, hOff, H, dh, hOff, H);
          const dGX = be.alloc(dt, T * B * G); // [T, B, 3H]
          const dGH = be.alloc(dt, T * B * G); // [T, B, 3H]
          const wHh = be.prepareB(false, G, H, w.wHh.storage, 0, H, B); // W_hh [3H, H], packed once
          for (let step = T - 1; step >= 0; step--) {
            const t = reverse ? T - 1 - step : step;
            const n = bs[t];
            if (n === 0) continue;
            const g = t * B * G, hp = t * B * H, yo = t * B * DH + d * H;
            if (gY) copyRows(be, n, H, gY, yo, DH, dh, hOff, H, true);
            be.gruCellBackward(n, H, s.GX, g, s.GH, g, s.Hp!, hp, H, dh, hOff, H, dGX, g, dGH, g, dPrev, 0);
            be.gemmPrepared(n, 1, dGH, g, G, wHh, 1, dPrev, 0, H);
            copyRows(be, n, H, dPrev, 0, H, dh, hOff, H);
          }
          be.releasePrepared(wHh);
          const R = T * B;
          const { dWih, dWhh } = projectionGrads(be, dt, R, I, G, H, dGX, dGH, x.storage, w.wIh.storage, s.Hp!, dx, d > 0);
          let dBih: Storage | null = null, dBhh: Storage | null = null;
          if (w.bIh) { dBih = be.alloc(dt, G); columnSums(be, dGX, R, G, dBih, false); }
          if (w.bHh) { dBhh = be.alloc(dt, G); columnSums(be, dGH, R, G, dBhh, false); }
          free(dGX, dGH);
          wGrads.push(dWih, dWhh, dBih, dBhh);
        }
        free(dPrev);
        return [dx, dh0, ...wGrads.filter((_, i) => weightTensors[i] !== null)];
      },
  }, [y, hN]);
  return { y, hN };
}
