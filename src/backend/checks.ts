import type { Backend, Storage } from './backend.js';
import { keepStorage } from './scope.js';

/**
 * Input checks that run on the device. A check is a one-element flag storage (nonzero: failed)
 * computed by kernels. Where the backend reads synchronously (CPU: the read costs nothing) the
 * flag is read at once and the error thrown at the call, with details. Elsewhere (a GPU) reading
 * would stall the pipeline, so the flag waits: flags of the same check merge on the device (max),
 * and the next `Tensor.data()` on that backend reads them first and throws for any that failed,
 * the way CUDA reports a device-side assert at the next synchronisation.
 */
interface Pending { flag: Storage; message: string }
const pending = new WeakMap<Backend, Map<string, Pending>>();

const flags = new WeakMap<Backend, Map<string, Storage>>();

/**
 * A [1] flag storage of that dtype for one check: where the check is read at once the same one
 * serves every call (kept, never freed: a streaming step allocates nothing), else a new one that
 * deviceCheck takes over.
 */
export function checkFlag(be: Backend, dtype: Storage['dtype']): Storage {
  if (!be.readSync) return be.alloc(dtype, 1);
  let m = flags.get(be);
  if (!m) { m = new Map(); flags.set(be, m); }
  let f = m.get(dtype);
  if (!f) { f = be.alloc(dtype, 1); keepStorage(f); m.set(dtype, f); }
  return f;
}

/**
 * Where reads are free (CPU backends): whether `flag` (from checkFlag) is set. The caller builds
 * its message only when it is, so a passing check in a time-step loop makes no string or closure.
 */
export function flagSet(be: Backend & { readSync(s: Storage): ArrayLike<number> }, flag: Storage): boolean {
  const bad = be.readSync(flag)[0] !== 0;
  if (flags.get(be)?.get(flag.dtype) !== flag) be.dispose(flag);
  return bad;
}

/**
 * Where reads are transfers: keep `flag` (taken over) until the next data() on `be`. `key` names
 * the check site: flags of one key merge on the device (max), so pending checks stay bounded.
 */
export function deferCheck(be: Backend, flag: Storage, key: string, message: string): void {
  let m = pending.get(be);
  if (!m) { m = new Map(); pending.set(be, m); }
  const had = m.get(key);
  if (!had) { keepStorage(flag); m.set(key, { flag, message }); return; } // outlives the step's tidy()
  be.binary('max', [1], had.flag, 0, [1], flag, 0, [1], had.flag, 0);
  be.dispose(flag);
}

/**
 * Check `flag` (a [1] storage from checkFlag, nonzero = failed): at once where reads are free,
 * throwing detail() (which may read the inputs), else deferred with `message`.
 */
export function deviceCheck(be: Backend, flag: Storage, key: string, message: string, detail: () => string = () => message): void {
  if (be.readSync) { if (flagSet(be as Backend & { readSync(s: Storage): ArrayLike<number> }, flag)) throw new Error(detail()); return; }
  deferCheck(be, flag, key, message);
}

/** Read the deferred checks of `be` (one read each) and throw for the first that failed. */
export async function verifyChecks(be: Backend): Promise<void> {
  const m = pending.get(be);
  if (!m || m.size === 0) return;
  const list = [...m.values()];
  m.clear();
  let failed: string | null = null;
  for (const p of list) {
    const v = (await be.read(p.flag))[0];
    be.dispose(p.flag);
    if (v !== 0 && failed === null) failed = p.message;
  }
  if (failed !== null) throw new Error(`${failed} (found by a device-side check since the last read)`);
}

/** How many deferred checks wait on `be` (tests). */
export function pendingChecks(be: Backend): number { return pending.get(be)?.size ?? 0; }
