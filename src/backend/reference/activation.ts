import type { TypedArray } from '../dtype.js';
import { sigmoid } from './elementwise.js';

import type { ActivationOp } from '../backend.js';

const K0 = Math.sqrt(2 / Math.PI), K1 = 0.044715;

/**
 * gelu: the tanh form 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's
 * GELU(approximate='tanh')); silu (swish): x σ(x).
 */
export function activationForwardRef(op: ActivationOp, x: TypedArray, y: TypedArray, n: number): void {
  if (op === 'gelu') for (let i = 0; i < n; i++) { const v = x[i]; y[i] = 0.5 * v * (1 + Math.tanh(K0 * (v + K1 * v * v * v))); }
  else for (let i = 0; i < n; i++) y[i] = x[i] * sigmoid(x[i]);
}

/** dx[i] = dy[i] f'(x[i]) (overwritten). */
export function activationBackwardRef(op: ActivationOp, x: TypedArray, dy: TypedArray, dx: TypedArray, n: number): void {
  if (op === 'gelu') {
    for (let i = 0; i < n; i++) {
      const v = x[i], t = Math.tanh(K0 * (v + K1 * v * v * v));
      dx[i] = dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * K0 * (1 + 3 * K1 * v * v));
    }
  } else {
    for (let i = 0; i < n; i++) { const s = sigmoid(x[i]); dx[i] = dy[i] * s * (1 + x[i] * (1 - s)); }
  }
}
