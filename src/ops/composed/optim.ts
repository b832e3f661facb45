import type { Kernels, Storage } from '../../backend/backend.js';
import { constant, free, scratch } from './util.js';

const tinyOf = (s: Storage) => (s.dtype === 'f64' ? 2.2250738585072014e-308 : 1.1754943508222875e-38);

/**
 * s[0, n) = 0 where |s| is below the smallest normal value: s * (|s| >= tiny), which keeps NaN
 * (|NaN| >= tiny is 0, and NaN * 0 is NaN) and infinities.
 */
export function flushSubnormal(k: Kernels, s: Storage, n: number): void {
  if (n <= 0) return;
  const a = scratch(k, s.dtype, n), tiny = constant(k, s.dtype, tinyOf(s));
  k.unary('abs', s, 0, a, 0, n);
  k.binary('ge', [n], a, 0, [1], tiny, 0, [0], a, 0);
  k.binary('mul', [n], s, 0, [1], a, 0, [1], s, 0);
  free(k, a, tiny);
}

/**
 * One Adam / AdamW step as torch.optim.Adam's single-tensor path (see OptionalKernels.adamStep):
 *   g' = g + wd p (Adam) | p -= lr wd p (AdamW);  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2
 *   (m, v flushed of subnormals; AMSGrad: vmax = max(vmax, v), used below in place of v)
 *   p += -lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 */
export function adamStep(k: Kernels, p: Storage, g: Storage, m: Storage, v: Storage, vmax: Storage | null, n: number,
  lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void {
  if (n <= 0) return;
  const one = [1];
  const gg = scratch(k, p.dtype, n), t = scratch(k, p.dtype, n);
  if (decoupled) {
    k.affine(p, 0, gg, 0, n, -lr * weightDecay, 0, false);
    k.binary('add', [n], p, 0, one, gg, 0, one, p, 0);
    k.affine(g, 0, gg, 0, n, 1, 0, false);
  } else {
    k.affine(p, 0, gg, 0, n, weightDecay, 0, false);
    k.binary('add', [n], g, 0, one, gg, 0, one, gg, 0);
  }
  k.affine(m, 0, m, 0, n, beta1, 0, false);
  k.affine(gg, 0, m, 0, n, 1 - beta1, 0, true);
  k.unary('square', gg, 0, t, 0, n);
  k.affine(v, 0, v, 0, n, beta2, 0, false);
  k.affine(t, 0, v, 0, n, 1 - beta2, 0, true);
  flushSubnormal(k, m, n);
  flushSubnormal(k, v, n);
  let den = v;
  if (vmax) { k.binary('max', [n], vmax, 0, one, v, 0, one, vmax, 0); den = vmax; }
  k.unary('sqrt', den, 0, t, 0, n);
  k.affine(t, 0, t, 0, n, 1 / Math.sqrt(1 - beta2 ** step), eps, false);
  k.binary('div', [n], m, 0, one, t, 0, one, t, 0);
  k.affine(t, 0, p, 0, n, -lr / (1 - beta1 ** step), 0, true);
  free(k, gg, t);
}
