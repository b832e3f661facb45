import type { Backend } from './backend.js';

/**
 * Backends by name. The registry imports no concrete backend: the package's entries register
 * theirs (src/backends.ts: reference, composed, wasm), and a user registers another the same way.
 * A backend is built on first use, so an unavailable device (no WASM SIMD, no WebGPU adapter)
 * fails only when asked for, with its own message, and importing the package starts nothing.
 */
export interface BackendEntry {
  /** Build the backend (devices initialise asynchronously). */
  create(): Backend | Promise<Backend>;
  /** Build it without waiting, where the platform allows (absent or null: only create()). */
  createSync?(): Backend | null;
  /** Whether createSync can build it now (false: not yet, e.g. wasm in a browser before initWasm). */
  syncReady?(): boolean;
  /** Why it cannot run here, or null when it can. */
  unavailable?(): string | null;
  /**
   * Among the registered backends that can run here and be built synchronously, the one with
   * the highest priority is the default (reference 0, wasm 10).
   */
  priority?: number;
}

const entries = new Map<string, BackendEntry>();
const ready = new Map<string, Backend>();
let current: Backend | null = null;

/** Register a backend under a name: a factory, or an entry with a synchronous path and a priority. */
export function registerBackend(name: string, entry: BackendEntry | (() => Backend | Promise<Backend>)): void {
  entries.set(name, typeof entry === 'function' ? { create: entry } : entry);
}

export function listBackends(): string[] {
  return [...entries.keys()];
}

/** The backend of that name if it was already built (no side effects). */
export function builtBackend(name: string): Backend | undefined { return ready.get(name); }

/** Record a backend built outside setBackend (initWasm) under its name. */
export function adoptBackend(name: string, b: Backend): void { ready.set(name, b); }

/** Why the named backend cannot run here (null: it can, or it does not say). */
export function backendUnavailable(name: string): string | null {
  const e = entries.get(name);
  if (!e) return `unknown backend '${name}': expected one of ${listBackends().join(', ')}`;
  return e.unavailable?.() ?? null;
}

/** Build (once) and return the named backend without making it the default. */
export async function loadBackend(name: string): Promise<Backend> {
  let b = ready.get(name);
  if (!b) {
    const e = entries.get(name);
    if (!e) throw new Error(`unknown backend '${name}': expected one of ${listBackends().join(', ') || '(none registered)'}`);
    b = await e.create();
    ready.set(name, b);
  }
  return b;
}

/** Select the backend that new tensors live on. Async because devices initialise asynchronously. */
export async function setBackend(name: string): Promise<Backend> {
  current = await loadBackend(name);
  return current;
}

/** Make `b` the backend new tensors live on (it need not be registered). */
export function useBackend(b: Backend): void { current = b; }

export function getBackend(): Backend {
  if (!current) {
    const name = defaultBackendName();
    let b = ready.get(name);
    if (!b) {
      b = entries.get(name)!.createSync?.() ?? undefined;
      if (!b) throw new Error(`backend '${name}' starts asynchronously: await setBackend('${name}') first`);
      ready.set(name, b);
    }
    current = b;
  }
  return current;
}

/**
 * The backend used until setBackend is called: CAROUSEL_BACKEND if set (any registered name),
 * else the registered backend of highest priority that can run here and start synchronously
 * (wasm wherever WebAssembly SIMD128 with shared memory is, else reference, the oracle).
 */
export function defaultBackendName(): string {
  if (entries.size === 0) {
    throw new Error('no backend is registered: import the package entry (carousel-lstm), or registerBackend() one');
  }
  const env = typeof process !== 'undefined' ? process.env.CAROUSEL_BACKEND : undefined;
  if (env) {
    if (!entries.has(env)) throw new Error(`CAROUSEL_BACKEND: expected one of ${listBackends().join(', ')}, got '${env}'`);
    return env;
  }
  let best: string | null = null, bestP = -Infinity;
  for (const [name, e] of entries) {
    if (!e.createSync || e.syncReady?.() === false || (e.unavailable?.() ?? null) !== null) continue;
    const p = e.priority ?? 0;
    if (p > bestP) { best = name; bestP = p; }
  }
  if (best === null) throw new Error(`none of the registered backends (${listBackends().join(', ')}) starts synchronously here: await setBackend(name)`);
  return best;
}
