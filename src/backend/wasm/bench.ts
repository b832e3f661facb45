import type { WasmBackend } from './index.js';
import { WasmBackend as Backend } from './index.js';

/**
 * Microbenchmarks of the wasm backend, for bench/ (which reports them beside the peers): the
 * GEMM's throughput and the SIMD128 peak of this machine, both in GFLOP/s (a multiply-add counts
 * as 2 flops). Timing lives here, never in tests.
 */
let shared: WasmBackend | null = null;
async function backend(threads: number): Promise<WasmBackend> {
  if (!shared) shared = new Backend({ threads: Math.max(threads, 1) });
  if (shared.threads < threads) shared.setThreads(threads);
  await shared.ready();
  return shared;
}

function now(): number { return Number(process.hrtime.bigint()) / 1e9; }

/** Best-of-several seconds per call of fn, each sample at least `minSeconds` long. */
function timeIt(fn: () => void, minSeconds = 0.2, samples = 5): number {
  fn(); // warm up
  let reps = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    const dt = now() - t0;
    if (dt >= minSeconds / samples) break;
    reps *= 2;
  }
  let best = Infinity;
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    for (let i = 0; i < reps; i++) fn();
    best = Math.min(best, (now() - t0) / reps);
  }
  return best;
}

/**
 * GFLOP/s of C[m,n] = A[m,k] B[k,n] (no transposes, beta 0) on `threads` threads, on random
 * data in the backend's memory.
 */
export async function gemmGflops(m: number, n: number, k: number, threads = 1,
  opts: { transA?: boolean; transB?: boolean } = {}): Promise<number> {
  const b = await backend(threads);
  const A = b.alloc('f32', m * k), B = b.alloc('f32', k * n), C = b.alloc('f32', m * n);
  const fillRand = (s: { array: Float32Array | Int32Array | Float64Array }) => { for (let i = 0; i < s.array.length; i++) s.array[i] = Math.random() - 0.5; };
  fillRand(A as never); fillRand(B as never);
  const ta = !!opts.transA, tb = !!opts.transB;
  const sec = timeIt(() => {
    const ws = A as unknown as { ptr: number }, wb = B as unknown as { ptr: number }, wc = C as unknown as { ptr: number };
    b.gemmPtr(ta, tb, m, n, k, 1, ws.ptr, ta ? m : k, wb.ptr, tb ? k : n, 0, wc.ptr, n, threads);
  });
  b.dispose(A); b.dispose(B); b.dispose(C);
  return (2 * m * n * k) / sec / 1e9;
}

/**
 * The SIMD128 peak: GFLOP/s of tight f32x4 mul+add loops (FMA-free, as the kernels are), per
 * thread and in total when `threads` run them at once. Two probes, the larger wins: 12
 * independent accumulator chains fed by vector loads, and the GEMM micro-kernel's own loop
 * (broadcast loads, 8 chains) on an L1-resident panel, i.e. what the GEMM could reach if
 * memory cost nothing.
 */
export async function simdPeakGflops(threads = 1): Promise<{ perThread: number; total: number }> {
  const b = await backend(threads);
  const iters = 2_000_128; // a multiple of 256 (the tile probe's panel)
  const a = timeIt(() => b.simdPeak(iters, threads, 'chains'), 0.3, 5);
  const t = timeIt(() => b.simdPeak(iters, threads, 'tile'), 0.3, 5);
  const perThread = Math.max((96 * iters) / a, (64 * iters) / t) / 1e9;
  return { perThread, total: perThread * Math.min(threads, b.threads) };
}

/**
 * The int8 product's peak: G multiply-adds per second of its inner step (the relaxed 7-bit dot, or
 * int8 widened to int16 and i32x4.dot_i16x8_s, by the build) with 12 independent chains on
 * L1-resident operands, per thread and in total when `threads` run it at once: no int8 kernel of
 * this build can multiply-add faster, whatever its blocking.
 */
export async function int8PeakGmacs(threads = 1): Promise<{ perThread: number; total: number }> {
  const b = await backend(threads);
  const iters = 2_000_000;
  const sec = timeIt(() => b.simdPeak(iters, threads, 'int8'), 0.3, 5);
  const perThread = (b.int8MacsPerRound() * iters) / sec / 1e9;
  return { perThread, total: perThread * Math.min(threads, b.threads) };
}

/**
 * GB/s of reading a `bytes`-long buffer once (split over `threads` threads, all at once): the
 * memory bandwidth a kernel that streams that much data (a weight matrix) can use at most.
 */
export async function readGBps(bytes: number, threads = 1): Promise<number> {
  const b = await backend(threads);
  const n = Math.floor(bytes / 4), s = b.alloc('f32', n);
  const sec = timeIt(() => b.readProbe((s as unknown as { ptr: number }).ptr, n, threads));
  b.dispose(s);
  return (4 * n) / sec / 1e9;
}

/** Release the benchmark backend's worker threads. */
export function closeBench(): void { shared?.terminate(); shared = null; }
