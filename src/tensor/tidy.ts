import { closeScope, keepStorage, openScope } from '../backend/scope.js';
import type { Storage } from '../backend/backend.js';
import { Tensor } from './tensor.js';

/**
 * Run fn and free every buffer it allocated except those of the tensors it returns (found in the
 * result itself, or in arrays and plain objects within it, a few levels deep) and those marked
 * with keep(). Parameters, their gradients, optimizer state and streams keep their own buffers.
 * The way to run a training step in a synchronous loop without holding every step's memory until
 * the garbage collector runs (it cannot while the loop never yields): with tidy, a step reuses
 * the previous step's blocks and the memory stays flat.
 *
 *   for (...) tidy(() => { opt.zeroGrad(); backward(loss(model.forward(x), y)); opt.step(); });
 *
 * Run backward inside the same tidy as the forward (the tape's saved buffers are freed with it).
 * A tensor made inside and stored elsewhere must be keep()-ed or returned; using a freed one
 * is an error on the wasm backend. Scopes nest: what an inner tidy returns belongs to the outer.
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new Error(`tidy: expected a function, got ${typeof fn}`);
  openScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeScope(new Set());
    throw e;
  }
  if (result instanceof Promise) {
    closeScope(new Set());
    throw new Error('tidy: fn returned a Promise; tidy frees buffers when fn returns, so it must be synchronous');
  }
  const survivors = new Set<Storage>();
  collect(result, survivors, 0);
  closeScope(survivors);
  return result;
}

/**
 * Exempt t's buffer from every tidy() scope (its owner, or the garbage collector, frees it). Also
 * what keeps a StreamingModel.push() output past the next push: kept, it is yours to dispose().
 */
export function keep<T extends Tensor>(t: T): T {
  keepStorage(t.storage);
  return t;
}

function collect(v: unknown, out: Set<Storage>, depth: number): void {
  if (v instanceof Tensor) { out.add(v.storage); return; }
  if (depth >= 4 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) { for (const x of v) collect(x, out, depth + 1); return; }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) for (const x of Object.values(v)) collect(x, out, depth + 1);
}
