import type { Storage } from '../backend/backend.js';
import type { LstmCellOptions } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { packPeepholes, peepholeGrads } from './lstm-cell.js';
import { checkWeight } from './recurrent.js';
import { emptyLike, sameDevice } from './util.js';
import { kernels } from './kernels.js';

/** One ConvLSTM layer's weights (EXTENDED.md names: weight_ih, weight_hh, bias, weight_c{i,f,o}). */
export interface ConvLstmWeights {
  wIh: Tensor;        // [4C, Cin, k, k]  gate channel blocks (i, f, g, o)
  wHh: Tensor;        // [4C, C, k, k]
  bias: Tensor | null; // [4C], added once
  wci: Tensor | null; // [C, Hgt, Wid] Hadamard peepholes (all three or none)
  wcf: Tensor | null;
  wco: Tensor | null;
}

export interface ConvLstmLayerResult {
  y: Tensor;  // [T, B, C, Hgt, Wid] h_t of every step
  hN: Tensor; // [B, C, Hgt, Wid]
  cN: Tensor; // [B, C, Hgt, Wid]
}

/**
 * One ConvLSTM layer (Shi et al. 2015, with Hadamard peepholes) over a whole sequence as ONE op
 * with hand-written backpropagation through time:
 *   a = W_ih * x_t + bias + W_hh * h_{t-1}    ('same' zero padding, odd k, stride 1)
 *   i = σ(a_i + W_ci ⊙ c_{t-1}), f = σ(a_f + W_cf ⊙ c_{t-1}), c_t = f c_{t-1} + i tanh(a_g)
 *   o = σ(a_o + W_co ⊙ c_t), h_t = o tanh(c_t)
 * Each convolution is im2col + ONE GEMM for the whole batch (cols [K, B*P], batch in the columns),
 * then a strided copy into the cell's [B, 4C, P] layout. The pointwise part is the LSTM cell kernel
 * itself: per batch row the 4C gate channels of P = Hgt*Wid positions are exactly the cell's
 * [4N] gate vector with N = C*P units, and the [C, Hgt, Wid] peepholes are its [N] peephole
 * vectors, so ConvLSTM shares the fused LSTM kernels (lstmCellForward/Backward with peepholes).
 *   x [T, B, Cin, Hgt, Wid]; h0, c0 [B, C, Hgt, Wid]
 */
export function convLstmLayer(x: Tensor, h0: Tensor, c0: Tensor, w: ConvLstmWeights): ConvLstmLayerResult {
  if (x.rank !== 5) throw new Error(`convLstmLayer: expected input x of shape [T, B, Cin, height, width], got ${fmt(x.shape)}`);
  const [T, B, Cin, Hg, Wd] = x.shape;
  if (T < 1 || B < 1) throw new Error(`convLstmLayer: expected at least one time step and one sequence, got x of shape ${fmt(x.shape)}`);
  if (w.wIh.rank !== 4) throw new Error(`convLstmLayer: expected weight_ih of shape [4C, Cin, k, k], got ${fmt(w.wIh.shape)}`);
  const C = w.wIh.shape[0] / 4, k = w.wIh.shape[2];
  if (!Number.isInteger(C) || C < 1) throw new Error(`convLstmLayer: weight_ih needs 4C rows, got ${fmt(w.wIh.shape)}`);
  if (k % 2 !== 1) throw new Error(`convLstmLayer: expected an odd kernel size ('same' padding needs one), got ${k}`);
  checkWeight('convLstmLayer', 'weight_ih', w.wIh, [4 * C, Cin, k, k]);
  checkWeight('convLstmLayer', 'weight_hh', w.wHh, [4 * C, C, k, k]);
  checkWeight('convLstmLayer', 'bias', w.bias, [4 * C]);
  const peeps = [w.wci, w.wcf, w.wco];
  if (peeps.some((p) => p) && !peeps.every((p) => p)) throw new Error('convLstmLayer: expected all three peephole weights or none');
  for (const [n, p] of [['weight_ci', w.wci], ['weight_cf', w.wcf], ['weight_co', w.wco]] as const) checkWeight('convLstmLayer', n, p, [C, Hg, Wd]);
  checkWeight('convLstmLayer', 'h0', h0, [B, C, Hg, Wd]);
  checkWeight('convLstmLayer', 'c0', c0, [B, C, Hg, Wd]);
  const weights = [w.wIh, w.wHh, w.bias, w.wci, w.wcf, w.wco].filter((t): t is Tensor => t !== null);
  sameDevice('convLstmLayer', x, h0, c0, ...weights);

  const be = kernels(x.backend), dt = x.dtype;
  const P = Hg * Wd, N = C * P, G4 = 4 * N;   // positions per image, cell units per row, gate width
  const KI = Cin * k * k, KH = C * k * k, pad = (k - 1) / 2;
  const XS = Cin * P;                          // one input image
  const cell: LstmCellOptions | undefined = w.wci ? {
    inputGate: true, forgetGate: 'gate', outputGate: true, inputActivation: true, outputActivation: true,
    peepholes: packPeepholes(be, dt, N, w.wci, w.wcf, w.wco), peepOff: 0, gateRecurrence: false,
  } : undefined;

  const y = emptyLike(x, [T, B, C, Hg, Wd]);
  const hN = emptyLike(x, [B, C, Hg, Wd]);
  const cN = emptyLike(x, [B, C, Hg, Wd]);
  const BP = B * P;                          // GEMM columns: every position of every image
  const Gs = be.alloc(dt, T * B * G4);      // [T, B, 4C, P] pre-activations in, gate activations out (kept)
  const Cp = be.alloc(dt, T * B * N);       // [T, B, N] c_{t-1} of step t
  const Cs = be.alloc(dt, T * B * N);       // [T, B, N] c_t
  const colsX = be.alloc(dt, KI * BP);      // [Cin*k*k, B*P] im2col of x_t
  const colsH = be.alloc(dt, KH * BP);      // [C*k*k, B*P] im2col of h_{t-1}
  const conv = be.alloc(dt, 4 * C * BP);    // [4C, B, P] one step's convolution output
  // [4C, B, P] <-> [B, 4C, P], one 2-D [4C, P] block per image (shapes and strides made once).
  const blk = [4 * C, P], convStr = [BP, 1], gateStr = [P, 1];
  const biasShape = [4 * C, BP], biasStr = [1, 0]; // bias[o] broadcast along row o of conv
  // h_{t-1} of step t: h0 at t = 0, else row block t-1 of y.
  const hPrev = (t: number): Storage => (t === 0 ? h0.storage : y.storage);
  const hPrevOff = (t: number): number => (t === 0 ? 0 : (t - 1) * B * N);

  for (let t = 0; t < T; t++) {
    const g = t * B * G4, cs = t * B * N;
    // conv [4C, B*P] = bias + W_ih [4C, KI] cols_x [KI, B*P] + W_hh [4C, KH] cols_h [KH, B*P]
    if (w.bias) be.copyStrided(biasShape, w.bias.storage, 0, biasStr, conv, 0, convStr, false);
    be.im2col(B, Cin, Hg, Wd, k, pad, x.storage, t * B * XS, colsX, 0);
    be.gemm(false, false, 4 * C, BP, KI, 1, w.wIh.storage, 0, KI, colsX, 0, BP, w.bias ? 1 : 0, conv, 0, BP);
    be.im2col(B, C, Hg, Wd, k, pad, hPrev(t), hPrevOff(t), colsH, 0);
    be.gemm(false, false, 4 * C, BP, KH, 1, w.wHh.storage, 0, KH, colsH, 0, BP, 1, conv, 0, BP);
    for (let b = 0; b < B; b++) be.copyStrided(blk, conv, b * P, convStr, Gs, g + b * G4, gateStr, false);
    if (t === 0) be.copy2d(1, B * N, c0.storage, 0, B * N, Cp, 0, B * N, false);
    else be.copy2d(1, B * N, Cs, cs - B * N, B * N, Cp, cs, B * N, false);
    be.lstmCellForward(B, N, Gs, g, Cp, cs, Cs, cs, y.storage, cs, N, cell);
  }
  be.copyStrided([B * N], y.storage, (T - 1) * B * N, [1], hN.storage, 0, [1], false);
  be.copyStrided([B * N], Cs, (T - 1) * B * N, [1], cN.storage, 0, [1], false);

  const inputs = [x, h0, c0, ...weights];
  if (needsGrad(inputs)) {
    record({
      name: 'convLstmLayer', inputs, outputs: [y, hN, cN],
      backward([gY, gH, gC]) {
        const dh = be.alloc(dt, B * N), dc = be.alloc(dt, B * N); // dL/dh_t, dL/dc_t; end as dL/dh0, dL/dc0
        if (gH) be.copyStrided([B * N], gH, 0, [1], dh, 0, [1], false);
        if (gC) be.copyStrided([B * N], gC, 0, [1], dc, 0, [1], false);
        const dG = be.alloc(dt, T * B * G4);          // [T, B, 4C, P] pre-activation grads
        const dcols = be.alloc(dt, Math.max(KI, KH) * BP); // [K, B*P] column grads
        const dA = be.alloc(dt, 4 * C * BP);                // [4C, B*P] one step's dG in the conv layout
        const dx = x.requiresGrad ? be.alloc(dt, x.size) : null;
        const dWih = be.alloc(dt, 4 * C * KI), dWhh = be.alloc(dt, 4 * C * KH);
        for (let t = T - 1; t >= 0; t--) {
          const g = t * B * G4, cs = t * B * N;
          if (gY) be.copy2d(1, B * N, gY, cs, B * N, dh, 0, B * N, true);
          be.lstmCellBackward(B, N, Gs, g, Cp, cs, Cs, cs, dh, 0, N, dc, 0, dG, g, cell);
          for (let b = 0; b < B; b++) be.copyStrided(blk, dG, g + b * G4, gateStr, dA, b * P, convStr, false);
          // dL/dh_{t-1} = col2im(W_hh^T [KH, 4C] dA [4C, B*P])
          be.gemm(true, false, KH, BP, 4 * C, 1, w.wHh.storage, 0, KH, dA, 0, BP, 0, dcols, 0, BP);
          be.fill(dh, 0, B * N, 0);
          be.col2im(B, C, Hg, Wd, k, pad, dcols, 0, dh, 0);
          // dW_hh += dA [4C, B*P] cols_h^T [B*P, KH] (columns recomputed rather than kept for all steps)
          be.im2col(B, C, Hg, Wd, k, pad, hPrev(t), hPrevOff(t), colsH, 0);
          be.gemm(false, true, 4 * C, KH, BP, 1, dA, 0, BP, colsH, 0, BP, 1, dWhh, 0, KH);
          be.im2col(B, Cin, Hg, Wd, k, pad, x.storage, t * B * XS, colsX, 0);
          be.gemm(false, true, 4 * C, KI, BP, 1, dA, 0, BP, colsX, 0, BP, 1, dWih, 0, KI);
          if (dx) {
            be.gemm(true, false, KI, BP, 4 * C, 1, w.wIh.storage, 0, KI, dA, 0, BP, 0, dcols, 0, BP);
            be.col2im(B, Cin, Hg, Wd, k, pad, dcols, 0, dx, t * B * XS);
          }
        }
        let dBias: Storage | null = null;
        if (w.bias) {
          dBias = be.alloc(dt, 4 * C);
          be.copyStrided([T * B, 4 * C, P], dG, 0, [G4, P, 1], dBias, 0, [0, 1, 0], true);
        }
        const dPeep = cell ? peepholeGrads(be, dt, T * B, N, cell, dG, Cp, Cs) : [null, null, null];
        const all = [dx, dh, dc, dWih, dWhh, dBias, ...dPeep];
        const present = [x, h0, c0, w.wIh, w.wHh, w.bias, w.wci, w.wcf, w.wco];
        return all.filter((_, i) => present[i] !== null);
      },
    }, [y, hN, cN]);
  }
  return { y, hN, cN };
}
