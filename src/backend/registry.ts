import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference/index.js';
import { WasmBackend, type WasmBackendOptions } from './wasm/index.js';
import { wasmReadySync, wasmUnavailableReason } from './wasm/module.js';

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
 * In a browser the kernels compile asynchronously, so there it is reference until initWasm().
 */
export function defaultBackendName(): string {
  const env = typeof process !== 'undefined' ? process.env.CAROUSEL_BACKEND : undefined;
  if (env) {
    if (env !== 'reference' && env !== 'wasm') throw new Error(`CAROUSEL_BACKEND: expected reference or wasm, got '${env}'`);
    return env;
  }
  return wasmReadySync() ? 'wasm' : 'reference';
}

registerBackend('reference', () => new ReferenceBackend());
// WebAssembly SIMD128 kernels over worker threads; threads from CAROUSEL_THREADS or the core count.
registerBackend('wasm', () => WasmBackend.create());

export interface InitWasmOptions extends WasmBackendOptions {
  /** Make the wasm backend the one new tensors live on (default true). */
  setDefault?: boolean;
}

/**
 * Compile the wasm kernels without blocking, start the worker threads and (by default) make the
 * wasm backend the default: the way to get it in a browser, harmless in Node. Where the wasm
 * backend is unavailable (a page without cross-origin isolation, an engine without SIMD128),
 * it warns once with the reason and returns the reference backend (made the default likewise).
 * A second call returns the same backend; `threads` then sets its thread count.
 */
export async function initWasm(opts: InitWasmOptions = {}): Promise<Backend> {
  const { setDefault = true, ...wasmOpts } = opts;
  if (typeof setDefault !== 'boolean') throw new Error(`initWasm setDefault: expected a boolean, got ${JSON.stringify(setDefault)}`);
  const reason = wasmUnavailableReason();
  let b: Backend;
  if (reason) {
    if (!warned) { warned = true; console.warn(`carousel: ${reason}; using the reference backend instead`); }
    b = ready.get('reference') ?? new ReferenceBackend();
    ready.set('reference', b);
  } else {
    const have = ready.get('wasm');
    if (have instanceof WasmBackend) {
      if (wasmOpts.maxMemoryMiB !== undefined) {
        throw new Error('initWasm: the wasm backend already exists; maxMemoryMiB applies only to the first call');
      }
      if (wasmOpts.threads !== undefined) have.setThreads(wasmOpts.threads);
      await have.ready();
      b = have;
    } else {
      creating ??= WasmBackend.create(wasmOpts).finally(() => { creating = null; }); // concurrent calls share one
      b = await creating;
      ready.set('wasm', b);
    }
  }
  if (setDefault) current = b;
  return b;
}
let warned = false;
let creating: Promise<WasmBackend> | null = null;
