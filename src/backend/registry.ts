import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';
import { WasmBackend, wasmSimdSupported } from './wasm/index.js';

/**
 * Backends by name. A backend registers a factory; it is built on first use, so an unavailable
 * device (no WASM SIMD, no WebGPU adapter) fails only when asked for, with its own message.
 */
const factories = new Map<string, () => Backend | Promise<Backend>>();
const ready = new Map<string, Backend>();
let current: Backend | null = null;

export function registerBackend(name: string, factory: () => Backend | Promise<Backend>): void {
  factories.set(name, factory);
}

export function listBackends(): string[] {
  return [...factories.keys()];
}

/** Select the backend that new tensors live on. Async because devices initialise asynchronously. */
export async function setBackend(name: string): Promise<Backend> {
  let b = ready.get(name);
  if (!b) {
    const f = factories.get(name);
    if (!f) throw new Error(`unknown backend '${name}': expected one of ${listBackends().join(', ')}`);
    b = await f();
    ready.set(name, b);
  }
  current = b;
  return b;
}

export function getBackend(): Backend {
  if (!current) {
    const name = defaultBackendName();
    current = ready.get(name) ?? (name === 'wasm' ? new WasmBackend() : new ReferenceBackend());
    ready.set(name, current);
  }
  return current;
}

/**
 * The backend used until setBackend is called: CAROUSEL_BACKEND if set (reference or wasm), else
 * wasm wherever WebAssembly SIMD128 with shared memory is available, else reference (the oracle).
 */
export function defaultBackendName(): string {
  const env = typeof process !== 'undefined' ? process.env.CAROUSEL_BACKEND : undefined;
  if (env) {
    if (env !== 'reference' && env !== 'wasm') throw new Error(`CAROUSEL_BACKEND: expected reference or wasm, got '${env}'`);
    return env;
  }
  return wasmSimdSupported() ? 'wasm' : 'reference';
}

registerBackend('reference', () => new ReferenceBackend());
// WebAssembly SIMD128 kernels over worker threads; threads from CAROUSEL_THREADS or the core count.
registerBackend('wasm', async () => { const b = new WasmBackend(); await b.ready(); return b; });
