import { checkFlag, deferCheck, flagSet } from '../backend/checks.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { kernels } from './kernels.js';

/**
 * Reject NaN and infinities in an input, on the device (anyNonFinite; src/backend/checks.ts says
 * when the flag is read). Read at once, the message names the first bad value and where it is.
 */
export function checkFinite(what: string, t: Tensor): void {
  if (t.dtype === 'i32' || t.size === 0) return;
  const be = t.backend, flag = checkFlag(be, t.dtype);
  kernels(be).anyNonFinite(t.storage, 0, t.size, flag, 0);
  if (be.readSync) {
    // Read at once (free on a CPU); the message, naming the value, is built only on failure.
    if (flagSet(be as Parameters<typeof flagSet>[0], flag)) {
      const a = t.dataSync();
      const i = a.findIndex((v) => !Number.isFinite(v));
      throw new Error(`${what}: expected finite values, got ${a[i]} at flat index ${i} of shape ${fmt(t.shape)}`);
    }
    return;
  }
  deferCheck(be, flag, `finite:${what}`, `${what}: expected finite values, got NaN or infinity`);
}

/**
 * Reject i32 indices outside [0, n). On a CPU the indices are read where they lie (no copy to
 * make, nothing allocated: generation looks up one index per step); on a device, by kernels:
 * any(idx < 0 or idx >= n), deferred.
 */
export function checkIndices(what: string, idx: Tensor, n: number): void {
  const m = idx.size;
  if (m === 0) return;
  const be = idx.backend;
  if (be.readSync) {
    const a = be.readSync(idx.storage);
    for (let i = 0; i < m; i++) if (a[i] < 0 || a[i] >= n) throw new Error(`${what}: index ${a[i]} at position ${i} out of range [0, ${n})`);
    return;
  }
  const lim = be.upload('i32', [0, n]), t = be.alloc('i32', m), u = be.alloc('i32', m), flag = checkFlag(be, 'i32');
  be.binary('lt', [m], idx.storage, 0, [1], lim, 0, [0], t, 0);
  be.binary('ge', [m], idx.storage, 0, [1], lim, 1, [0], u, 0);
  be.binary('max', [m], t, 0, [1], u, 0, [1], t, 0);
  be.reduce('max', [m], t, 0, [1], flag, 0, [0]);
  for (const s of [lim, t, u]) be.dispose(s);
  deferCheck(be, flag, `index:${what}`, `${what}: index out of range [0, ${n})`);
}
