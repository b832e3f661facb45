/**
 * Carousel's side of every bench, on one backend with one thread count. Everything is built
 * before timing starts; a timed unit is exactly the work the bench names (one training step,
 * one 1000-step stream, one batched call, one CTC forward+backward, one GEMM).
 */
import { performance } from 'node:perf_hooks';
import type { Backend, Storage } from '../../src/backend/backend.js';
import { listBackends, setBackend } from '../../src/backend/registry.js';
import { backward, noGrad } from '../../src/autograd/tape.js';
import { tidy } from '../../src/tensor/tidy.js';
import { LSTM } from '../../src/nn/lstm.js';
import { Linear } from '../../src/nn/linear.js';
import { mseLoss } from '../../src/loss/mse.js';
import { ctcLoss } from '../../src/loss/ctc.js';
import { Adam } from '../../src/optim/adam.js';
import { reshape } from '../../src/ops/shape.js';
import { logSoftmax } from '../../src/ops/softmax.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { measure, skipRow, timeRows, valueRow, type Origin } from '../measure.js';
import { quantRows } from './quant.js';
import { isGpuBackend, type BenchName, type CtcSize, type GemmSize, type InferSize, type Result, type StreamSize, type SuiteSpec, type TrainSize } from '../types.js';
import { uniformArray } from '../inputs.js';

/** Random values in [-1, 1), seeded so every run feeds the same numbers. */

/**
 * The backend a suite runs on, with its thread count applied. Backends other than 'reference'
 * register themselves when the library's entry point is loaded, so that is imported first.
 * Returns a reason string when the backend is not available here.
 */
export async function carouselBackend(name: string, threads: number): Promise<Backend | string> {
  let why = '';
  try { const entry = '../../src/index.js'; await import(entry); } catch (e) { why = `; loading the package entry failed: ${(e as Error).message.split('\n')[0]}`; }
  if (!listBackends().includes(name)) return `skipped: not available (backend '${name}' is not registered; have ${listBackends().join(', ')}${why})`;
  let be: Backend;
  try { be = await setBackend(name); } catch (e) { return `skipped: not available (${(e as Error).message})`; }
  const tunable = be as Backend & { setThreads?: (n: number) => unknown; threads?: number };
  if (name !== 'reference') {
    if (typeof tunable.setThreads === 'function') await tunable.setThreads(threads);
    else if (threads !== 1) return `skipped: backend '${name}' has no setThreads(n)`;
  } else if (threads !== 1) return 'skipped: the reference backend is single-threaded';
  return be;
}

/** The thread count a backend reports it uses (1 when it does not say). */
function reportedThreads(be: Backend, asked: number): number {
  const t = (be as Backend & { threads?: unknown }).threads;
  return typeof t === 'number' ? t : asked;
}

/** B1 / B1-small: one full training step (forward, MSE on a linear head of h_T, backward, Adam). */
export function makeTrainStep(be: Backend, s: TrainSize, seed = 1): () => void {
  const rng = new Rng(seed);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  const head = new Linear({ inFeatures: s.hidden, outFeatures: 1 }, { backend: be, rng });
  const opt = new Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
  const x = tensor(uniformArray(rng, s.length * s.batch * s.input), [s.length, s.batch, s.input], { backend: be }); // [T, B, I]
  const target = tensor(uniformArray(rng, s.batch), [s.batch, 1], { backend: be });                                 // [B, 1]
  // tidy: the step's buffers return to the backend when it ends (a synchronous loop never lets
  // the garbage collector free them), so every step after the first reuses the same blocks.
  return () => tidy(() => {
    opt.zeroGrad();
    const { hN } = lstm.forward(x);                                   // [1, B, H]
    const pred = head.forward(reshape(hN, [s.batch, s.hidden]));      // [B, 1]
    backward(mseLoss(pred, target));
    opt.step();
  });
}

/**
 * B2: `steps` single-step calls at batch 1, h and c carried from call to call: LSTM.stream, the
 * streaming API over the one step the library streams with (src/ops/step.ts lstmStep; state in
 * backend memory, nothing allocated per step).
 */
function makeStream(be: Backend, s: StreamSize, steps = s.steps): () => void {
  const rng = new Rng(2);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  lstm.eval();
  // Inputs made up front (one [1, I] tensor per step) so the timed loop only steps the LSTM.
  const xs: Tensor[] = [];
  for (let t = 0; t < s.steps; t++) xs.push(tensor(uniformArray(rng, s.input), [1, s.input], { backend: be }));
  const stream = lstm.stream(1);
  return () => {
    stream.reset();
    for (let t = 0; t < steps; t++) stream.step(xs[t]);
  };
}

/** B3: one batched forward call over the whole sequence. */
function makeInfer(be: Backend, s: InferSize): () => void {
  const rng = new Rng(3);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  lstm.eval();
  const x = tensor(uniformArray(rng, s.length * s.batch * s.input), [s.length, s.batch, s.input], { backend: be });
  return () => tidy(() => noGrad(() => { lstm.forward(x); }));
}

/** CTC inputs shared by every library: random logits and targets without blanks (class 0). */
export function ctcData(s: CtcSize, seed = 4): { logits: Float32Array; targets: Int32Array } {
  const rng = new Rng(seed);
  const logits = uniformArray(rng, s.T * s.batch * s.classes);
  const targets = new Int32Array(s.batch * s.targetLength);
  for (let i = 0; i < targets.length; i++) targets[i] = 1 + rng.int(s.classes - 1);
  return { logits, targets };
}

/** B4: logSoftmax then CTC loss (mean), forward and backward to the logits. */
function makeCtc(be: Backend, s: CtcSize): () => void {
  const { logits, targets } = ctcData(s);
  const x = tensor(logits, [s.T, s.batch, s.classes], { backend: be, requiresGrad: true }); // [T, N, C]
  const inLens = new Int32Array(s.batch).fill(s.T);
  const tgLens = new Int32Array(s.batch).fill(s.targetLength);
  return () => tidy(() => {
    x.zeroGrad();
    backward(ctcLoss(logSoftmax(x), targets, inLens, tgLens));
  });
}

/** GEMM: C[m,n] = A[m,k] B[k,n] through the backend's kernel. */
function makeGemm(be: Backend, s: GemmSize): () => void {
  const rng = new Rng(5);
  const a: Storage = be.upload('f32', uniformArray(rng, s.m * s.k));
  const b: Storage = be.upload('f32', uniformArray(rng, s.k * s.n));
  const c: Storage = be.alloc('f32', s.m * s.n);
  return () => be.gemm(false, false, s.m, s.n, s.k, 1, a, 0, s.k, b, 0, s.n, 0, c, 0, s.n);
}

/**
 * The wasm backend's own microbenchmarks (src/backend/wasm/bench.ts): its SIMD peak on this
 * machine for `threads` threads (independent f32x4 multiply-add chains, fused in the relaxed-SIMD
 * build), and its GEMM measured on raw
 * pointers. Loaded by a computed path so the bench still compiles and runs without the backend.
 */
async function wasmMicro(threads: number, s: GemmSize, readBytes: number):
  Promise<{ peak: number; int8: number; gemm: number; read: number; close(): void } | string> {
  try {
    const path = '../../src/backend/wasm/bench.js';
    const m = await import(path) as {
      simdPeakGflops(t: number): Promise<{ perThread: number; total: number }>;
      int8PeakGmacs(t: number): Promise<{ perThread: number; total: number }>;
      gemmGflops(m: number, n: number, k: number, t: number): Promise<number>;
      readGBps(bytes: number, t: number): Promise<number>;
      closeBench(): void;
    };
    // The machine's SIMD capacity for `threads` cores: the better of one core's peak times the
    // thread count and all threads measured at once (the latter drops when other processes
    // compete for the cores, which would make the GEMM look better than it is).
    const one = (await m.simdPeakGflops(1)).perThread;
    const peak = Math.max(one * threads, threads > 1 ? (await m.simdPeakGflops(threads)).total : 0);
    const i8 = (await m.int8PeakGmacs(1)).perThread;
    const int8 = Math.max(i8 * threads, threads > 1 ? (await m.int8PeakGmacs(threads)).total : 0);
    const gemm = await m.gemmGflops(s.m, s.n, s.k, threads);
    const read = await m.readGBps(readBytes, threads);
    return { peak, int8, gemm, read, close: () => m.closeBench() };
  } catch (e) { return (e as Error).message.split('\n')[0]; }
}

/**
 * Steady-state allocations and peak memory of B1 steps (deliverable 5); run in a fresh process.
 * "Allocations" are those that take new memory: on wasm, linear-memory blocks not served from
 * the free lists (plus JS-memory fallbacks), read from the backend's own counter; on a backend
 * without one, every storage handed out. Storages handed out (most of them blocks freed by the
 * previous step, handed out again) are reported beside them.
 */
async function memoryRows(o: Origin, be: Backend, s: TrainSize): Promise<Result[]> {
  const fresh = () => (be as Backend & { freshAllocations?: number }).freshAllocations;
  // Count every storage the backend hands out (upload counted once, not via its inner alloc).
  let count = 0, bytes = 0, depth = 0;
  const origAlloc = be.alloc.bind(be), origUpload = be.upload.bind(be);
  const bytesOf = (dtype: string, n: number) => n * (dtype === 'f64' ? 8 : 4);
  (be as { alloc: Backend['alloc'] }).alloc = (dtype, n) => {
    if (depth === 0) { count++; bytes += bytesOf(dtype, n); }
    depth++; try { return origAlloc(dtype, n); } finally { depth--; }
  };
  (be as { upload: Backend['upload'] }).upload = (dtype, data) => {
    if (depth === 0) { count++; bytes += bytesOf(dtype, data.length); }
    depth++; try { return origUpload(dtype, data); } finally { depth--; }
  };
  try {
    const step = makeTrainStep(be, s);
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const rssBase = process.resourceUsage().maxRSS / 1024; // MiB (maxRSS is in KiB)
    step();
    const rssFirst = process.resourceUsage().maxRSS / 1024;
    const N = 5;
    count = 0; bytes = 0;
    const fresh0 = fresh();
    for (let i = 0; i < N; i++) step();
    const rssN = process.resourceUsage().maxRSS / 1024;
    const freshN = fresh();
    return [
      valueRow(o, 'B1-memory', 'allocs_per_step', fresh0 === undefined || freshN === undefined ? count / N : (freshN - fresh0) / N, 'count'),
      valueRow(o, 'B1-memory', 'handouts_per_step', count / N, 'count'),
      valueRow(o, 'B1-memory', 'handout_bytes_per_step', bytes / N, 'bytes'),
      valueRow(o, 'B1-memory', 'peak_rss_delta_first_step', rssFirst - rssBase, 'MiB'),
      valueRow(o, 'B1-memory', 'peak_rss_delta', rssN - rssBase, 'MiB'),
      valueRow(o, 'B1-memory', 'rss_baseline', rssBase, 'MiB'),
    ];
  } finally {
    (be as { alloc: Backend['alloc'] }).alloc = origAlloc;
    (be as { upload: Backend['upload'] }).upload = origUpload;
  }
}

export async function runCarousel(spec: SuiteSpec): Promise<Result[]> {
  const asked: Origin = { lib: 'carousel', backend: spec.backend, threads: spec.threads };
  const be = await carouselBackend(spec.backend, spec.threads);
  if (typeof be === 'string') return spec.benches.map((b) => skipRow(asked, b, be));
  // The wasm backend's label names its kernel build (relaxed or simd128: CAROUSEL_WASM_BUILD, or the engine's choice).
  const build = (be as Backend & { build?: { build: string; reason: string } }).build;
  const o: Origin = { ...asked, backend: build ? `${spec.backend}-${build.build}` : spec.backend, threads: reportedThreads(be, spec.threads) };
  const out: Result[] = build ? [{ bench: 'info', ...o, metric: 'kernel_build', value: null, unit: `${build.build} (${build.reason})` }] : [];
  // webgpu: the adapter and the GEMM kernel (auto: chosen by size).
  const gpu = be as Backend & { adapter?: { vendor: string; architecture: string; description: string }; gemmKernel?: string };
  if (isGpuBackend(spec.backend) && gpu.adapter) {
    // --webgpu-gemm (bench/args.ts) picks the kernel for every product.
    const kernel = process.env.CAROUSEL_BENCH_WEBGPU_GEMM;
    if (kernel) {
      try { gpu.gemmKernel = kernel; } catch (e) { return spec.benches.map((b) => skipRow(o, b, `skipped: ${(e as Error).message}`)); }
    }
    out.push({ bench: 'info', ...o, metric: 'adapter', value: null, unit: `${gpu.adapter.vendor} ${gpu.adapter.architecture} ${gpu.adapter.description}`.trim() });
    if (gpu.gemmKernel) out.push({ bench: 'info', ...o, metric: 'gemm_kernel', value: null, unit: gpu.gemmKernel });
  }
  for (const bench of spec.benches) {
    const t0 = performance.now();
    try {
      out.push(...await runOne(o, be, bench, spec));
      // B2-1024-int8/bf16, B3-int8 (bench/suites/quant.ts): the CPU backends' quantized paths.
      if (!isGpuBackend(spec.backend)) out.push(...await quantRows(o, be, bench, spec));
    } catch (e) {
      out.push(skipRow(o, bench, `failed: ${(e as Error).message.split('\n')[0]}`));
    }
    process.stderr.write(`  carousel/${o.backend}/t${o.threads} ${bench}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return out;
}

/**
 * A timed unit that ends when the backend's work has: on a GPU backend (webgpu records
 * dispatches and returns at once) the unit submits and waits for the queue to drain.
 */
function synced(be: Backend, run: () => void): () => unknown {
  const sync = (be as Backend & { sync?: () => Promise<void> }).sync;
  if (typeof sync !== 'function') return run;
  return async () => { run(); await sync.call(be); };
}

async function runOne(o: Origin, be: Backend, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const t = spec.timing;
  const unit = (run: () => void) => (isGpuBackend(spec.backend) ? synced(be, run) : run);
  switch (bench) {
    case 'B1': case 'B1-small': case 'B5-big':
      return timeRows(o, bench, await measure(unit(makeTrainStep(be, spec.sizes[bench])), t), 'ms', 1);
    case 'B2-256': case 'B2-1024': {
      const s = spec.sizes[bench];
      // Warm up on the first tenth of the stream, time the whole stream.
      return timeRows(o, bench, await measure(unit(makeStream(be, s)), t, unit(makeStream(be, s, Math.max(1, s.steps / 10 | 0)))), 'us', 1000 / s.steps);
    }
    case 'B3':
      return timeRows(o, bench, await measure(unit(makeInfer(be, spec.sizes.B3)), t), 'ms', 1);
    case 'B4':
      return timeRows(o, bench, await measure(unit(makeCtc(be, spec.sizes.B4)), t), 'ms', 1);
    case 'GEMM': case 'GEMM-4096': {
      const s = spec.sizes[bench];
      const st = await measure(unit(makeGemm(be, s)), t);
      const flop = 2 * s.m * s.n * s.k;
      const rows = [
        valueRow(o, bench, 'gflops', flop / (st.median * 1e6), 'GFLOP/s'),
        valueRow(o, bench, 'gflops_min', flop / (st.max * 1e6), 'GFLOP/s'),
        valueRow(o, bench, 'gflops_max', flop / (st.min * 1e6), 'GFLOP/s'),
        valueRow(o, bench, 'reps', st.reps, 'count'),
      ];
      if (spec.backend === 'wasm') {
        // Hardware floors of the two benches bound by it: B3's multiply-adds at the SIMD peak (of the build running),
        // and B2-1024's per-step read of its weights (W_ih and W_hh, [4H, I + H] f32) at the
        // bandwidth measured for a buffer of that size.
        const b3 = spec.sizes.B3, b2 = spec.sizes['B2-1024'];
        const b3Flop = 2 * b3.length * b3.batch * 4 * b3.hidden * (b3.input + b3.hidden);
        const b2Bytes = 4 * 4 * b2.hidden * (b2.input + b2.hidden);
        const p = await wasmMicro(o.threads, s, b2Bytes);
        if (typeof p === 'string') rows.push(valueRow(o, bench, 'simd_peak', NaN, `unavailable: ${p}`));
        else {
          p.close();
          rows.push(valueRow(o, bench, 'simd_peak', p.peak, 'GFLOP/s'));
          rows.push(valueRow(o, bench, 'gflops_microbench', p.gemm, 'GFLOP/s'));
          rows.push(valueRow(o, bench, 'fraction_of_peak', 100 * flop / (st.median * 1e6) / p.peak, '%'));
          rows.push(valueRow(o, bench, 'read_gbps', p.read, 'GB/s'));
          rows.push(valueRow(o, 'B3', 'floor_simd_peak', b3Flop / (p.peak * 1e6), 'ms'));
          // B3-int8's multiply-adds at the int8 product's peak (int8_peak, G multiply-adds/s).
          rows.push(valueRow(o, bench, 'int8_peak', p.int8, 'GMAC/s'));
          rows.push(valueRow(o, 'B3-int8', 'floor_simd_peak', b3Flop / 2 / (p.int8 * 1e6), 'ms'));
          rows.push(valueRow(o, 'B2-1024', 'floor_weight_read', b2Bytes / (p.read * 1e3), 'us'));
        }
      }
      return rows;
    }
    case 'B1-memory':
      return memoryRows(o, be, spec.sizes['B1-memory']);
  }
}
