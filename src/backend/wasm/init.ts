import type { Backend } from '../backend.js';
import { adoptBackend, builtBackend, useBackend } from '../registry.js';
import { ReferenceBackend } from '../reference/index.js';
import { WasmBackend, type WasmBackendOptions } from './index.js';
import { wasmUnavailableReason } from './module.js';

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
    b = builtBackend('reference') ?? new ReferenceBackend();
    adoptBackend('reference', b);
  } else {
    const have = builtBackend('wasm');
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
      adoptBackend('wasm', b);
    }
  }
  if (setDefault) useBackend(b);
  return b;
}
let warned = false;
let creating: Promise<WasmBackend> | null = null;
