import type { Storage } from '../backend/backend.js';
import { contiguousStrides, broadcastStrides, fmt, sameShape, sizeOf, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A fresh zero-filled tensor on the same backend and dtype as `like`. */
export function emptyLike(like: Tensor, shape: Shape = like.shape): Tensor {
  return new Tensor(like.backend.alloc(like.dtype, sizeOf(shape)), shape);
}

export function sameDevice(op: string, ...ts: Tensor[]): void {
  const [a, ...rest] = ts;
  for (const t of rest) {
    if (t.backend !== a.backend) throw new Error(`${op}: tensors live on different backends (${a.backend.name} and ${t.backend.name})`);
    if (t.dtype !== a.dtype) throw new Error(`${op}: dtypes differ (${a.dtype} and ${t.dtype})`);
  }
}

export function checkRank(op: string, what: string, t: Tensor, ranks: number | number[]): void {
  const ok = Array.isArray(ranks) ? ranks.includes(t.rank) : t.rank === ranks;
  if (!ok) {
    const want = Array.isArray(ranks) ? ranks.join(' or ') : String(ranks);
    throw new Error(`${op}: expected ${what} of rank ${want}, got shape ${fmt(t.shape)}`);
  }
}

export function checkFloat(op: string, t: Tensor): void {
  if (t.dtype === 'i32') throw new Error(`${op}: expected a floating-point tensor, got i32`);
}

/**
 * Sum a gradient of shape `from` down to `to` (undoing a broadcast). Returns `g` itself when the
 * shapes already match (gradient buffers are never mutated, so sharing is safe).
 */
export function reduceTo(g: Storage, from: Shape, to: Shape): Storage {
  if (sameShape(from, to)) return g;
  const b = g.backend;
  const out = b.alloc(g.dtype, sizeOf(to));
  b.copyStrided(from, g, 0, contiguousStrides(from), out, 0, broadcastStrides(to, from), true);
  return out;
}

/** A zero gradient for an output nobody used (kernels that need a full buffer get one). */
export function gradOrZeros(g: Storage | null, like: { shape: Shape; dtype: Tensor['dtype'] }, backend: Tensor['backend']): Storage {
  return g ?? backend.alloc(like.dtype, sizeOf(like.shape));
}

/** Return buffers an op no longer needs to their backend at once (null entries are skipped). */
export function disposeAll(be: Tensor['backend'], ...xs: (Storage | null)[]): void {
  for (const b of xs) if (b) be.dispose(b);
}
