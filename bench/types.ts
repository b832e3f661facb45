/**
 * Shared vocabulary of the benchmark: which benches exist, their sizes, and the shape of one
 * result row (the JSON schema `npm run bench -- --json FILE` writes).
 */

/** The benches of issue 4, in table order. B2 has one entry per hidden size. */
export const BENCHES = ['B1', 'B1-small', 'B2-256', 'B2-1024', 'B3', 'B4', 'GEMM', 'B1-memory'] as const;
/**
 * Benches sized for a GPU (issue 10), run only by GPU suites (Carousel on webgpu, PyTorch on
 * CUDA, TF.js on WebGPU), never by the CPU ones: B5-big, a training step as B1 at input 1024,
 * hidden 1024, length 256, batch 64; GEMM-4096, the GEMM at 4096 x 4096 x 4096.
 */
export const GPU_ONLY_BENCHES = ['B5-big', 'GEMM-4096'] as const;
/** What a GPU suite runs (of those selected): the list, and B4 (CTC runs natively on webgpu). */
export const GPU_BENCHES = ['B1', 'B2-1024', 'B3', 'B4', 'B5-big', 'GEMM-4096'] as const;
/** Every bench name, in table order. */
export const ALL_BENCHES = [...BENCHES, ...GPU_ONLY_BENCHES] as const;
export type BenchName = (typeof ALL_BENCHES)[number];
/** Whether a Carousel backend (or a peer's) computes on a GPU: it runs GPU_BENCHES once, threads 1. */
export const isGpuBackend = (backend: string): boolean => backend === 'webgpu' || backend === 'cuda';

/** One result row. `value` is null only for metric 'skipped' (the reason is in `unit`). */
export interface Result {
  bench: string;
  lib: string;
  backend: string;
  threads: number;
  metric: string;
  value: number | null;
  unit: string;
}

/** Training step: 1-layer LSTM, MSE on a linear head of the last hidden state, Adam. */
export interface TrainSize { input: number; hidden: number; length: number; batch: number }
/** Streaming inference: batch 1, one step per call, `steps` steps with the state carried. */
export interface StreamSize { input: number; hidden: number; steps: number }
/** Batched inference over a whole sequence. */
export interface InferSize { input: number; hidden: number; length: number; batch: number }
/** CTC loss forward and backward. */
export interface CtcSize { T: number; batch: number; classes: number; targetLength: number }
/** Square-ish GEMM C[m,n] = A[m,k] B[k,n]. */
export interface GemmSize { m: number; n: number; k: number }

export interface Sizes {
  'B1': TrainSize;
  'B1-small': TrainSize;
  'B2-256': StreamSize;
  'B2-1024': StreamSize;
  'B3': InferSize;
  'B4': CtcSize;
  'GEMM': GemmSize;
  'B1-memory': TrainSize;
  'B5-big': TrainSize;
  'GEMM-4096': GemmSize;
}

/** How long to measure: warm-up runs, repetitions, and a per-bench time cap. */
export interface Timing {
  warmup: number;
  /**
   * Keep warming up (after `warmup` runs, when warmup > 0) until this much time is spent, so fast
   * units reach steady state (JIT-compiled JavaScript needs hundreds of sub-millisecond steps).
   */
  warmupMs: number;
  minReps: number;
  maxReps: number;
  /** Stop repeating once this much time went into one bench (the first measured rep always runs). */
  capMs: number;
}

/** What a suite (one library on one backend with one thread count) is asked to run. */
export interface SuiteSpec {
  suite: string;        // 'carousel' | 'tfjs' | 'ort' | 'neataptic' | 'synaptic' | 'brain' | 'pytorch'
  backend: string;      // the library's backend name ('reference', 'wasm', 'cpu', ...)
  threads: number;
  benches: BenchName[];
  sizes: Sizes;
  timing: Timing;
  /** Extra, suite-specific settings (e.g. PyTorch's BLAS environment label). */
  variant?: string;
}

/** Prefix of the one stdout line on which a suite process hands back its rows (JSON). */
export const RESULT_MARK = 'RESULTS ';
