import { CpuStorage } from '../backend/reference/index.js';
import { fmt } from './shape.js';
import type { Tensor } from './tensor.js';

/**
 * Reject NaN and infinities in an input, naming where the first one is. Done where values are
 * directly readable (CPU backends: the wasm backend scans with SIMD); on a GPU the check would
 * cost a transfer, so it is skipped.
 */
export function checkFinite(what: string, t: Tensor): void {
  if (!(t.storage instanceof CpuStorage)) return;
  const a = t.storage.array;
  const i = t.backend.findNonFinite(t.storage, a.length);
  if (i >= 0) throw new Error(`${what}: expected finite values, got ${a[i]} at flat index ${i} of shape ${fmt(t.shape)}`);
}

/** Reject option names a constructor does not know: a typo must never be silently ignored. */
export function checkOptions(what: string, given: object, known: readonly string[]): void {
  const extra = Object.keys(given).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`${what}: unknown option(s) ${extra.join(', ')}; expected some of ${known.join(', ')}`);
}

export function checkPositiveInt(what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${what}: expected a positive integer, got ${JSON.stringify(v)}`);
  return v;
}
