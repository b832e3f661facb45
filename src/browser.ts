/**
 * Carousel for browsers (the package's "browser" export condition): everything in the Node entry
 * except what needs Node (file I/O, fit with its checkpoints, the CLI, the conformance runner,
 * the benchmarks). The wasm backend needs a cross-origin isolated page (COOP: same-origin, COEP:
 * require-corp) and is started with `await initWasm()`; until then tensors use the reference
 * backend. Run Carousel inside a module Web Worker where you can: a page's main thread may not
 * block, so there it spins while the kernel workers finish (and blocks the page meanwhile).
 */
export * from './core.js';
