import { getBackend, initWasm, LSTM, ReferenceBackend, Rng, tensor, WasmBackend, wasmUnavailableReason } from '../../src/browser.js';
import { platform, threadCanBlock } from '../../src/backend/wasm/platform.js';

/**
 * The checks test/browser.test.ts runs in Chromium, on a page's main thread and inside a module
 * Web Worker (worker-entry.ts), through the browser entry exactly as an application would. It
 * reports numbers; the Node side asserts them.
 */
export interface BrowserReport {
  where: string;
  platform: string;
  isolated: boolean;
  canBlock: boolean;
  backend: string;
  reason: string | null;
  warnings: string[];
  threads?: number;
  workersRunning?: number;
  gemmMacs?: number;
  parallelMinMacs?: number;
  gemmMaxErr?: number;
  peakOnWorker?: boolean;
  peakResult?: number;
  lstmMaxDiff?: number;
  fallbackLstmOk?: boolean;
  ms: number;
}

/**
 * What simd_peak(iters, buf) returns for a buffer of ones (kernels/gemm.c): twelve f32x4
 * accumulators each adding fround(0.999999) per step, summed pairwise as the kernel does, lane 0.
 */
function expectedPeak(iters: number): number {
  const f = Math.fround, m = f(0.999999);
  let s = 0;
  for (let i = 0; i < iters; i++) s = f(s + m);
  const two = f(s + s), four = f(two + two), eight = f(four + four);
  return f(eight + four);
}

export async function runChecks(where: string): Promise<BrowserReport> {
  const t0 = performance.now();
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => { warnings.push(a.map(String).join(' ')); warn.apply(console, a); };
  try {
    const b = await initWasm({ threads: 2 });
    const base: BrowserReport = {
      where, platform: platform.name, isolated: globalThis.crossOriginIsolated === true, canBlock: threadCanBlock(),
      backend: getBackend().name, reason: wasmUnavailableReason(), warnings, ms: 0,
    };
    if (!(b instanceof WasmBackend)) {
      // The fallback must still compute: a small LSTM on the default (reference) backend.
      const y = new LSTM({ inputSize: 3, hiddenSize: 4 }, { rng: new Rng(1) }).forward(tensor(new Float32Array(2 * 1 * 3).fill(0.5), [2, 1, 3])).y;
      return { ...base, fallbackLstmOk: y.shape.join() === '2,1,4' && y.toArray().every(Number.isFinite), ms: performance.now() - t0 };
    }
    // A GEMM large enough to be split over the calling thread and the worker, against a JS triple loop.
    const m = 96, k = 160, n = 256, rng = new Rng(3);
    const A = Float32Array.from({ length: m * k }, () => rng.uniform(-1, 1));
    const B = Float32Array.from({ length: k * n }, () => rng.uniform(-1, 1));
    const sa = b.upload('f32', A), sb = b.upload('f32', B), sc = b.alloc('f32', m * n);
    b.gemm(false, false, m, n, k, 1, sa, 0, k, sb, 0, n, 0, sc, 0, n);
    const C = b.readSync(sc);
    let gemmMaxErr = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += A[i * k + p] * B[p * n + j];
        gemmMaxErr = Math.max(gemmMaxErr, Math.abs(s - C[i * n + j]));
      }
    }
    // A job posted to the worker's slot: returns only once the worker has run it (pool.ts protocol).
    // The worker writes its probe's result into its slot (Job.Peak, pool.ts): a sentinel there
    // first, then the exact float32 value the probe computes, or the worker never ran it.
    const pool = (b as unknown as { pool: { slot(i: number): number; f32: Float32Array } }).pool;
    const resultAt = pool.slot(0) + 4;
    pool.f32[resultAt] = NaN;
    b.simdPeak(20000, 2);
    const peakResult = pool.f32[resultAt];
    const peakOnWorker = peakResult === expectedPeak(20000);
    // The same LSTM (same seed) on wasm and on the reference backend.
    const cfg = { inputSize: 16, hiddenSize: 64, numLayers: 2, bidirectional: true };
    const T = 12, N = 8, x = Float32Array.from({ length: T * N * 16 }, () => rng.uniform(-1, 1));
    const ref = new ReferenceBackend();
    const outW = new LSTM(cfg, { backend: b, rng: new Rng(7) }).forward(tensor(x, [T, N, 16], { backend: b }));
    const outR = new LSTM(cfg, { backend: ref, rng: new Rng(7) }).forward(tensor(x, [T, N, 16], { backend: ref }));
    let lstmMaxDiff = 0;
    for (const key of ['y', 'hN', 'cN'] as const) {
      const w = outW[key].dataSync(), r = outR[key].dataSync();
      if (w.length !== r.length) throw new Error(`${key}: ${w.length} values on wasm, ${r.length} on reference`);
      for (let i = 0; i < w.length; i++) lstmMaxDiff = Math.max(lstmMaxDiff, Math.abs(w[i] - r[i]));
    }
    const report: BrowserReport = {
      ...base, threads: b.threads, workersRunning: b.workersRunning, gemmMacs: m * n * k, parallelMinMacs: b.parallelMinMacs,
      gemmMaxErr, peakOnWorker, peakResult, lstmMaxDiff, ms: performance.now() - t0,
    };
    b.terminate();
    return report;
  } finally {
    console.warn = warn;
  }
}
