import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';
import { WasmBackend } from './wasm/index.js';

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
    current = ready.get('reference') ?? new ReferenceBackend();
    ready.set('reference', current);
  }
  return current;
}

registerBackend('reference', () => new ReferenceBackend());
// WebAssembly SIMD128 kernels over worker threads; threads from CAROUSEL_THREADS or the core count.
registerBackend('wasm', async () => { const b = new WasmBackend(); await b.ready(); return b; });
