/**
 * The built-in backends, registered by the package's entries (core.ts, so Node and browsers
 * alike). Nothing is built here: each backend is made on first use.
 */
import { registerBackend } from './backend/registry.js';
import { ReferenceBackend } from './backend/reference/index.js';
import { ComposedBackend } from './backend/composed.js';
import { WasmBackend } from './backend/wasm/index.js';
import { wasmReadySync, wasmUnavailableReason } from './backend/wasm/module.js';
import { WebGpuBackend } from './backend/webgpu/index.js';
import { webgpuUnavailableReason } from './backend/webgpu/device.js';

registerBackend('reference', { create: () => new ReferenceBackend(), createSync: () => new ReferenceBackend(), priority: 0 });
registerBackend('composed', { create: () => new ComposedBackend(), createSync: () => new ComposedBackend(), priority: -1 });
// WebAssembly SIMD128 kernels over worker threads; threads from CAROUSEL_THREADS or the core count.
registerBackend('wasm', {
  create: () => WasmBackend.create(),
  createSync: () => (wasmReadySync() ? new WasmBackend() : null),
  syncReady: wasmReadySync,
  unavailable: wasmUnavailableReason,
  priority: 10,
});
// WebGPU (navigator.gpu in browsers, the optional `webgpu` package's Dawn in Node): asynchronous
// only, so never the default; without an adapter, create() fails saying why.
registerBackend('webgpu', {
  create: () => WebGpuBackend.create(),
  unavailable: webgpuUnavailableReason,
});
