import { performance } from 'node:perf_hooks';
import type { Result, Timing } from './types.js';

/** Timing statistics of repeated runs of one unit of work, in milliseconds. */
export interface Stats {
  median: number;
  min: number;
  max: number;
  reps: number;
}

/**
 * Time `run` (one unit of work: one training step, one 1000-step stream, ...):
 * `timing.warmup` untimed runs (of `warm` when given: a cheaper warm-up, e.g. the first 100
 * steps of a stream), continued until `timing.warmupMs` is spent so fast units reach steady state, then timed repetitions until maxReps, or until the cap is spent (at least
 * one timed run always happens), or until minReps are done and a quarter of the cap is spent
 * (fast benches stop early once they have enough samples). Very slow work gets fewer runs:
 * when one warm-up run of `run` took longer than the cap, one more run is the measurement
 * (reps = 1), or, past 4x the cap, that warm-up run itself is, so a full run fits its budget.
 */
export async function measure(run: () => unknown, timing: Timing, warm?: () => unknown): Promise<Stats> {
  const start = performance.now();
  for (let i = 0; ; i++) {
    if (i >= timing.warmup && (timing.warmup === 0 || performance.now() - start >= timing.warmupMs)) break;
    const t0 = performance.now();
    await (warm ?? run)();
    const dt = performance.now() - t0;
    if (!warm && dt > timing.capMs) {
      // One unit is longer than the cap: time one more (warm) run when it is not too long,
      // else the warm-up run itself is the measurement.
      if (dt > 4 * timing.capMs) return stats([dt]);
      const t1 = performance.now();
      await run();
      return stats([performance.now() - t1]);
    }
    if (performance.now() - start > timing.capMs / 2) break;
  }
  const times: number[] = [];
  for (;;) {
    const t0 = performance.now();
    await run();
    const t1 = performance.now();
    times.push(t1 - t0);
    const spent = t1 - start;
    if (times.length >= timing.maxReps) break;
    if (spent >= timing.capMs) break;
    if (times.length >= timing.minReps && spent >= timing.capMs / 4) break;
  }
  return stats(times);
}

export function stats(times: readonly number[]): Stats {
  if (times.length === 0) throw new Error('stats: expected at least one time, got none');
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], reps: s.length };
}

/** Who produced a number: the columns shared by every row of one suite. */
export interface Origin { lib: string; backend: string; threads: number }

/**
 * Rows for one timed bench. `scale` turns milliseconds per unit of work into the bench's unit
 * (e.g. 1000/steps for microseconds per step). `metric` is 'time', or 'time_extrapolated' when
 * the unit of work was a measured fraction of the bench scaled up (said in the table).
 */
export function timeRows(o: Origin, bench: string, s: Stats, unit: string, scale: number, metric = 'time'): Result[] {
  const row = (m: string, value: number, u: string): Result => ({ bench, ...o, metric: m, value, unit: u });
  return [
    row(metric, s.median * scale, unit),
    row(`${metric}_min`, s.min * scale, unit),
    row(`${metric}_max`, s.max * scale, unit),
    row('reps', s.reps, 'count'),
  ];
}

export function skipRow(o: Origin, bench: string, reason: string): Result {
  return { bench, ...o, metric: 'skipped', value: null, unit: reason };
}

export function valueRow(o: Origin, bench: string, metric: string, value: number, unit: string): Result {
  return { bench, ...o, metric, value, unit };
}

/**
 * How many units of work (stream steps, sequences) fit a budget: one pilot unit is timed and
 * the count is cut so that one repetition takes about `budgetMs`. Used only for peers too slow
 * to run the bench's full size in a repetition; their rows then say how many were run.
 */
export async function fitUnits(pilot: () => unknown, full: number, budgetMs: number): Promise<number> {
  let t0 = performance.now();
  await pilot();
  let one = performance.now() - t0;
  if (one < budgetMs / 2) { // cheap enough to time again, warm
    t0 = performance.now();
    await pilot();
    one = performance.now() - t0;
  }
  one = Math.max(one, 1e-3);
  return Math.max(1, Math.min(full, Math.floor(budgetMs / one)));
}
