import type { ActivationOp, Kernels, Storage } from '../../backend/backend.js';
import { constant, free, scratch } from './util.js';

/**
 * Composed fallbacks of the `norm` kernel set (group norm, the fused activations, the depthwise
 * causal conv1d), built from core kernels only: per-group reductions through zero strides,
 * broadcasts of per-feature vectors through zero row strides, elementwise maps. Semantics:
 * src/backend/reference/norm.ts, activation.ts, conv1d.ts (the oracles), in the same order of
 * operations where that costs nothing.
 */

// ---------------------------------------------------------------------------------------------
// Group norm: x [rows, C] viewed as [rows*G, cs] (cs = C/G consecutive features per group).

export function groupNormForward(k: Kernels, rows: number, C: number, G: number, eps: number, x: Storage,
  w: Storage | null, b: Storage | null, y: Storage, mean: Storage, rstd: Storage): void {
  if (rows <= 0 || C <= 0) return;
  const dt = x.dtype, cs = C / G, RG = rows * G, N = rows * C;
  const csK = constant(k, dt, cs), one = constant(k, dt, 1), d = scratch(k, dt, N), v = scratch(k, dt, RG);
  // mean = sum / cs
  k.reduce('sum', [RG, cs], x, 0, [cs, 1], mean, 0, [1, 0]);
  k.binary('div', [RG], mean, 0, [1], csK, 0, [0], mean, 0);
  // d = x - mean;  var = sum d^2 / cs;  rstd = 1 / sqrt(var + eps)
  k.binary('sub', [RG, cs], x, 0, [cs, 1], mean, 0, [1, 0], d, 0);
  k.binary('mul', [N], d, 0, [1], d, 0, [1], y, 0);
  k.reduce('sum', [RG, cs], y, 0, [cs, 1], v, 0, [1, 0]);
  k.binary('div', [RG], v, 0, [1], csK, 0, [0], v, 0);
  k.affine(v, 0, v, 0, RG, 1, eps, false);
  k.unary('sqrt', v, 0, v, 0, RG);
  k.binary('div', [RG], one, 0, [0], v, 0, [1], rstd, 0);
  // y = d rstd w + b
  k.binary('mul', [RG, cs], d, 0, [cs, 1], rstd, 0, [1, 0], y, 0);
  if (w) k.binary('mul', [rows, C], y, 0, [C, 1], w, 0, [0, 1], y, 0);
  if (b) k.binary('add', [rows, C], y, 0, [C, 1], b, 0, [0, 1], y, 0);
  free(k, csK, one, d, v);
}

export function groupNormBackward(k: Kernels, rows: number, C: number, G: number, x: Storage, w: Storage | null,
  mean: Storage, rstd: Storage, dy: Storage, dx: Storage | null, dw: Storage | null, db: Storage | null): void {
  if (C <= 0) return;
  if (rows <= 0) {
    if (dw) k.fill(dw, 0, C, 0);
    if (db) k.fill(db, 0, C, 0);
    return;
  }
  const dt = x.dtype, cs = C / G, RG = rows * G, N = rows * C;
  const xh = scratch(k, dt, N), t = scratch(k, dt, N);
  // xh = (x - mean) rstd
  k.binary('sub', [RG, cs], x, 0, [cs, 1], mean, 0, [1, 0], xh, 0);
  k.binary('mul', [RG, cs], xh, 0, [cs, 1], rstd, 0, [1, 0], xh, 0);
  if (dw) {
    k.binary('mul', [N], dy, 0, [1], xh, 0, [1], t, 0);
    k.reduce('sum', [rows, C], t, 0, [C, 1], dw, 0, [0, 1]);
  }
  if (db) k.reduce('sum', [rows, C], dy, 0, [C, 1], db, 0, [0, 1]);
  if (dx) {
    const dxh = scratch(k, dt, N), m1 = scratch(k, dt, RG), m2 = scratch(k, dt, RG), csK = constant(k, dt, cs);
    // dxh = dy w;  m1 = mean(dxh), m2 = mean(dxh xh) per group
    if (w) k.binary('mul', [rows, C], dy, 0, [C, 1], w, 0, [0, 1], dxh, 0);
    else k.affine(dy, 0, dxh, 0, N, 1, 0, false);
    k.reduce('sum', [RG, cs], dxh, 0, [cs, 1], m1, 0, [1, 0]);
    k.binary('div', [RG], m1, 0, [1], csK, 0, [0], m1, 0);
    k.binary('mul', [N], dxh, 0, [1], xh, 0, [1], t, 0);
    k.reduce('sum', [RG, cs], t, 0, [cs, 1], m2, 0, [1, 0]);
    k.binary('div', [RG], m2, 0, [1], csK, 0, [0], m2, 0);
    // dx = rstd (dxh - m1 - xh m2)
    k.binary('sub', [RG, cs], dxh, 0, [cs, 1], m1, 0, [1, 0], dxh, 0);
    k.binary('mul', [RG, cs], xh, 0, [cs, 1], m2, 0, [1, 0], t, 0);
    k.binary('sub', [N], dxh, 0, [1], t, 0, [1], dxh, 0);
    k.binary('mul', [RG, cs], rstd, 0, [1, 0], dxh, 0, [cs, 1], dx, 0);
    free(k, dxh, m1, m2, csK);
  }
  free(k, xh, t);
}

// ---------------------------------------------------------------------------------------------
// Activations: gelu (tanh form) and silu.

const K0 = Math.sqrt(2 / Math.PI), K1 = 0.044715;

/** t = tanh(K0 (x + K1 x^3)) into `t` (n elements). */
function geluTanh(k: Kernels, x: Storage, t: Storage, n: number): void {
  k.affine(x, 0, t, 0, n, K1, 0, false);                       // K1 x
  k.binary('mul', [n], t, 0, [1], x, 0, [1], t, 0);
  k.binary('mul', [n], t, 0, [1], x, 0, [1], t, 0);            // K1 x x x
  k.binary('add', [n], x, 0, [1], t, 0, [1], t, 0);
  k.affine(t, 0, t, 0, n, K0, 0, false);
  k.unary('tanh', t, 0, t, 0, n);
}

export function activationForward(k: Kernels, op: ActivationOp, x: Storage, y: Storage, n: number): void {
  if (n <= 0) return;
  const t = scratch(k, y.dtype, n);
  if (op === 'gelu') {
    // y = 0.5 x (1 + t)
    geluTanh(k, x, t, n);
    k.affine(t, 0, t, 0, n, 1, 1, false);
    k.affine(x, 0, y, 0, n, 0.5, 0, false);
    k.binary('mul', [n], y, 0, [1], t, 0, [1], y, 0);
  } else if (op === 'silu') {
    k.unary('sigmoid', x, 0, t, 0, n);
    k.binary('mul', [n], x, 0, [1], t, 0, [1], y, 0);
  } else {
    free(k, t);
    throw new Error(`activationForward: unknown activation '${op as string}'`);
  }
  free(k, t);
}

export function activationBackward(k: Kernels, op: ActivationOp, x: Storage, dy: Storage, dx: Storage, n: number): void {
  if (n <= 0) return;
  const dt = dx.dtype, t = scratch(k, dt, n), u = scratch(k, dt, n);
  if (op === 'gelu') {
    // f' = 0.5 (1 + t) + 0.5 x (1 - t^2) K0 (1 + 3 K1 x^2)
    geluTanh(k, x, t, n);
    k.affine(x, 0, u, 0, n, 0.5, 0, false);                    // 0.5 x
    k.binary('mul', [n], t, 0, [1], t, 0, [1], dx, 0);
    k.affine(dx, 0, dx, 0, n, -1, 1, false);                   // 1 - t^2
    k.binary('mul', [n], u, 0, [1], dx, 0, [1], u, 0);
    k.affine(u, 0, u, 0, n, K0, 0, false);
    k.affine(x, 0, dx, 0, n, 3 * K1, 0, false);
    k.binary('mul', [n], dx, 0, [1], x, 0, [1], dx, 0);
    k.affine(dx, 0, dx, 0, n, 1, 1, false);                    // 1 + 3 K1 x^2
    k.binary('mul', [n], u, 0, [1], dx, 0, [1], u, 0);
    k.affine(t, 0, t, 0, n, 1, 1, false);
    k.affine(t, 0, t, 0, n, 0.5, 0, false);                    // 0.5 (1 + t)
    k.binary('add', [n], t, 0, [1], u, 0, [1], t, 0);
    k.binary('mul', [n], dy, 0, [1], t, 0, [1], dx, 0);
  } else if (op === 'silu') {
    // f' = s (1 + x (1 - s)), s = σ(x);  dx = dy s (1 + x (1 - s))
    k.unary('sigmoid', x, 0, t, 0, n);
    k.affine(t, 0, u, 0, n, -1, 1, false);
    k.binary('mul', [n], x, 0, [1], u, 0, [1], u, 0);
    k.affine(u, 0, u, 0, n, 1, 1, false);
    k.binary('mul', [n], dy, 0, [1], t, 0, [1], t, 0);
    k.binary('mul', [n], t, 0, [1], u, 0, [1], dx, 0);
  } else {
    free(k, t, u);
    throw new Error(`activationBackward: unknown activation '${op as string}'`);
  }
  free(k, t, u);
}

// ---------------------------------------------------------------------------------------------
// Depthwise causal conv1d: x, y [T, B, C], w [C, K]; tap j reads x shifted by K-1-j steps.

export function causalConv1dForward(k: Kernels, T: number, B: number, C: number, K: number, x: Storage, w: Storage,
  bias: Storage | null, y: Storage): void {
  const BC = B * C, N = T * BC;
  if (N <= 0) return;
  // y = bias (broadcast over t, b) or 0, then the taps in order j = 0..K-1.
  if (bias) k.copyStrided([T * B, C], bias, 0, [0, 1], y, 0, [C, 1], false);
  else k.fill(y, 0, N, 0);
  const tmp = scratch(k, y.dtype, N);
  for (let j = 0; j < K; j++) {
    const sh = K - 1 - j, Tn = T - sh;
    if (Tn <= 0) continue;
    // y[sh..T) += w[:, j] x[0..T-sh)
    k.binary('mul', [Tn * B, C], x, 0, [C, 1], w, j, [0, K], tmp, 0);
    k.binary('add', [Tn * BC], y, sh * BC, [1], tmp, 0, [1], y, sh * BC);
  }
  free(k, tmp);
}

export function causalConv1dBackward(k: Kernels, T: number, B: number, C: number, K: number, x: Storage, w: Storage,
  dy: Storage, dx: Storage | null, dw: Storage | null, db: Storage | null): void {
  const BC = B * C, N = T * BC;
  if (db) {
    if (N > 0) k.reduce('sum', [T * B, C], dy, 0, [C, 1], db, 0, [0, 1]);
    else k.fill(db, 0, C, 0);
  }
  if (dw) k.fill(dw, 0, C * K, 0);
  if (dx) k.fill(dx, 0, N, 0);
  if (N <= 0 || (!dx && !dw)) return;
  const tmp = scratch(k, (dx ?? dw)!.dtype, N);
  // dx[s] gets its taps in order of the output step t = s + K-1-j, i.e. j from K-1 down.
  for (let j = K - 1; j >= 0; j--) {
    const sh = K - 1 - j, Tn = T - sh;
    if (Tn <= 0) continue;
    if (dx) {
      k.binary('mul', [Tn * B, C], w, j, [0, K], dy, sh * BC, [C, 1], tmp, 0);
      k.binary('add', [Tn * BC], dx, 0, [1], tmp, 0, [1], dx, 0);
    }
    if (dw) {
      // dw[c, j] = sum over (t, b) of dy[t] x[t - sh]
      k.binary('mul', [Tn * B, C], dy, sh * BC, [C, 1], x, 0, [C, 1], tmp, 0);
      k.reduce('sum', [Tn * B, C], tmp, 0, [C, 1], dw, j, [0, K]);
    }
  }
  free(k, tmp);
}
