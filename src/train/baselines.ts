import { detectPeriod } from '../data/season.js';
import type { WindowSet } from '../data/series.js';

/**
 * The forecasting baselines a model must beat, measured on the same windows as the model and in
 * the data's units, per target:
 * - persistence: every step repeats the last input value;
 * - seasonal_naive_P: step h (1-based) repeats the value one period P before, y[t+h-P], the last
 *   period repeating when h > P (P <= window, so it is always inside the input window);
 * - window_mean: every step is the mean of the target over the input window.
 */
export interface ErrorRow { target: string; method: string; mae: number; rmse: number }

/**
 * MAE and RMSE per target and method. `pred` ([n, horizon*targets], h-major, relative to the
 * anchor, normalized: ForecastTask.predictAll's output) adds the model's row; `targetCols` are the
 * targets' feature indices in w.x; `std` undoes each target's normalization.
 */
export function forecastErrors(w: WindowSet, targets: readonly string[], targetCols: readonly number[], std: readonly number[],
  seasons: readonly number[], pred: Float32Array | null): ErrorRow[] {
  const K = w.targets, H = w.horizon, W = w.window, F = w.features, Y = H * K;
  if (targets.length !== K || targetCols.length !== K || std.length !== K) throw new Error(`forecastErrors: ${K} targets, got ${targets.length} names, ${targetCols.length} columns, ${std.length} scales`);
  for (const P of seasons) if (!Number.isInteger(P) || P < 1 || P > W) throw new Error(`forecastErrors: season ${P} must be an integer in [1, window ${W}]`);
  if (pred && pred.length !== w.n * Y) throw new Error(`forecastErrors: ${pred.length} predictions for ${w.n} windows x ${Y} outputs`);
  const methods = [...(pred ? ['model'] : []), 'persistence', ...seasons.map((P) => `seasonal_naive_${P}`), 'window_mean'];
  // Forecast of method m for window i, step h, target k: normalized, relative to the anchor.
  const x = (i: number, t: number, k: number) => w.x[(i * W + t) * F + targetCols[k]];
  const forecast = (m: number, i: number, h: number, k: number, mean: number): number => {
    const name = methods[m];
    if (name === 'model') return pred![i * Y + h * K + k];
    if (name === 'persistence') return 0;
    if (name === 'window_mean') return mean;
    const P = seasons[m - (pred ? 2 : 1)];
    return x(i, W - P + (h % P), k) - w.anchor[i * K + k]; // h is 0-based: row t+1+h-P of the series
  };
  const rows: ErrorRow[] = [];
  for (let k = 0; k < K; k++) {
    const ae = new Float64Array(methods.length), se = new Float64Array(methods.length);
    for (let i = 0; i < w.n; i++) {
      let mean = 0;
      for (let t = 0; t < W; t++) mean += x(i, t, k);
      mean = mean / W - w.anchor[i * K + k];
      for (let h = 0; h < H; h++) {
        const truth = w.y[i * Y + h * K + k];
        for (let m = 0; m < methods.length; m++) {
          const d = (forecast(m, i, h, k, mean) - truth) * std[k];
          ae[m] += Math.abs(d); se[m] += d * d;
        }
      }
    }
    const n = Math.max(w.n * H, 1);
    methods.forEach((method, m) => rows.push({ target: targets[k], method, mae: ae[m] / n, rmse: Math.sqrt(se[m] / n) }));
  }
  return rows;
}

/** The rows as a whitespace-separated table with a header line (one row per target and method). */
export function formatErrors(rows: readonly ErrorRow[]): string {
  const tw = Math.max(6, ...rows.map((r) => r.target.length)) + 2, mw = Math.max(6, ...rows.map((r) => r.method.length)) + 2;
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(tw)}${b.padEnd(mw)}${c.padEnd(12)}${d}`;
  return [line('target', 'method', 'mae', 'rmse'), ...rows.map((r) => line(r.target, r.method, r.mae.toPrecision(6), r.rmse.toPrecision(6)))].join('\n');
}

/**
 * The seasonal period of each target, detected on rows [0, trainRows) only (see detectPeriod for
 * the rule): null where none was found.
 */
export function detectTargetPeriods(raw: readonly ArrayLike<number>[], targetIdx: readonly number[], trainRows: number, window: number): (number | null)[] {
  return targetIdx.map((f) => detectPeriod(Array.prototype.slice.call(raw[f], 0, trainRows) as number[], window));
}

/** Distinct periods in order of first appearance. */
export function mergeSeasons(...lists: readonly (readonly (number | null)[])[]): number[] {
  const out: number[] = [];
  for (const l of lists) for (const p of l) if (p !== null && !out.includes(p)) out.push(p);
  return out;
}

/**
 * The seasonal-naive forecast of every window as the model's outputs are laid out: [n, horizon *
 * targets] (h-major), normalized and relative to the anchor. A model trained with a seasonal
 * residual learns y minus this, and this is added back to its outputs.
 */
export function seasonalNaiveOutputs(w: WindowSet, targetCols: readonly number[], period: number): Float32Array {
  const K = w.targets, H = w.horizon, W = w.window, F = w.features, Y = H * K;
  if (!Number.isInteger(period) || period < 1 || period > W) throw new Error(`seasonalNaiveOutputs: period ${period} must be an integer in [1, window ${W}]`);
  if (targetCols.length !== K) throw new Error(`seasonalNaiveOutputs: ${targetCols.length} target columns for ${K} targets`);
  const out = new Float32Array(w.n * Y);
  for (let i = 0; i < w.n; i++) {
    for (let h = 0; h < H; h++) {
      for (let k = 0; k < K; k++) out[i * Y + h * K + k] = w.x[(i * W + W - period + (h % period)) * F + targetCols[k]] - w.anchor[i * K + k];
    }
  }
  return out;
}
