import type { Storage } from './backend.js';

/**
 * Storage scopes for tidy() (src/tensor/tidy.ts): JavaScript frees nothing deterministically, so
 * a synchronous training loop would otherwise hold every step's buffers until the garbage
 * collector runs, which it cannot do before the loop yields. Backends report each storage they
 * hand out (trackStorage); tidy() disposes the ones made in its scope that it does not keep.
 * Long-lived storages (parameters, gradients, optimizer state, stream state) are marked kept by
 * their owners and never tracked.
 */
const scopes: Storage[][] = [];
const kept = new WeakSet<Storage>();

/** Record a storage just handed out by a backend (a no-op outside tidy()). */
export function trackStorage(s: Storage): void {
  if (scopes.length > 0) scopes[scopes.length - 1].push(s);
}

/** Exempt a storage from every scope, now and later: its owner frees it (or the GC does). */
export function keepStorage(s: Storage): void { kept.add(s); }

/** Whether keepStorage(s) was called: its owner (or the user who kept it) frees it, not a scope or a stream. */
export function isKept(s: Storage): boolean { return kept.has(s); }

export function openScope(): void { scopes.push([]); }

/**
 * Close the innermost scope: storages in `survivors` pass to the enclosing scope (if any), kept
 * ones are left alone, the others are disposed.
 */
export function closeScope(survivors: ReadonlySet<Storage>): void {
  const mine = scopes.pop();
  if (!mine) throw new Error('closeScope: no open scope');
  const outer = scopes.length > 0 ? scopes[scopes.length - 1] : null;
  for (const s of mine) {
    if (kept.has(s)) continue;
    if (survivors.has(s)) { outer?.push(s); continue; }
    s.backend.dispose(s);
  }
}
