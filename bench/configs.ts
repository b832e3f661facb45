import type { Sizes, Timing } from './types.js';

/** The configurations of issue 4, exactly, all fp32. */
export const FULL_SIZES: Sizes = {
  'B1': { input: 64, hidden: 256, length: 100, batch: 32 },
  'B1-small': { input: 8, hidden: 32, length: 20, batch: 1 },
  'B2-256': { input: 64, hidden: 256, steps: 1000 },
  'B2-1024': { input: 64, hidden: 1024, steps: 1000 },
  'B3': { input: 64, hidden: 256, length: 100, batch: 32 },
  'B4': { T: 200, batch: 16, classes: 30, targetLength: 40 },
  'GEMM': { m: 512, n: 512, k: 512 },
  'B1-memory': { input: 64, hidden: 256, length: 100, batch: 32 },
  'B5-big': { input: 1024, hidden: 1024, length: 256, batch: 64 },
  'GEMM-4096': { m: 4096, n: 4096, k: 4096 },
};

/** Tiny sizes for the smoke test: the same code paths, milliseconds of work. */
export const TINY_SIZES: Sizes = {
  'B1': { input: 4, hidden: 8, length: 5, batch: 2 },
  'B1-small': { input: 3, hidden: 4, length: 3, batch: 1 },
  'B2-256': { input: 4, hidden: 8, steps: 10 },
  'B2-1024': { input: 4, hidden: 16, steps: 10 },
  'B3': { input: 4, hidden: 8, length: 5, batch: 2 },
  'B4': { T: 12, batch: 2, classes: 5, targetLength: 3 },
  'GEMM': { m: 16, n: 16, k: 16 },
  'B1-memory': { input: 4, hidden: 8, length: 5, batch: 2 },
  'B5-big': { input: 8, hidden: 8, length: 4, batch: 2 },
  'GEMM-4096': { m: 32, n: 32, k: 32 },
};

/** --quick: the same configurations, but streams of 100 steps instead of 1000 (per-step cost is unchanged). */
export const QUICK_SIZES: Sizes = {
  ...FULL_SIZES,
  'B2-256': { ...FULL_SIZES['B2-256'], steps: 100 },
  'B2-1024': { ...FULL_SIZES['B2-1024'], steps: 100 },
};

/** Full run: medians of several repetitions, each bench capped so that all suites fit in ~9 min on 2 cores. */
export const FULL_TIMING: Timing = { warmup: 2, warmupMs: 1000, minReps: 5, maxReps: 30, capMs: 6000 };
/** --quick: one warm-up, few repetitions, short caps. Numbers are indicative only. */
export const QUICK_TIMING: Timing = { warmup: 1, warmupMs: 100, minReps: 2, maxReps: 5, capMs: 1000 };
