import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { WasmBackend, wasmSimdSupported } from '../src/backend/wasm/index.js';

/**
 * The backends that backend-agnostic tests run on: the reference oracle, and every other
 * backend this engine supports (wasm where WebAssembly SIMD is available). Use it as
 *   for (const { name, make } of testBackends()) describe(`... on ${name}`, () => { ... });
 * `make()` returns a fresh backend (await it: devices start asynchronously). Add new backends here.
 */
export interface TestBackend { name: string; make: () => Promise<Backend> }

export function testBackends(): TestBackend[] {
  const list: TestBackend[] = [{ name: 'reference', make: async () => new ReferenceBackend() }];
  if (wasmSimdSupported()) {
    list.push({ name: 'wasm', make: async () => { const b = new WasmBackend({ threads: 2 }); await b.ready(); return b; } });
  }
  return list;
}
