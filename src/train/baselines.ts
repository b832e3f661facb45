import { detectPeriod } from '../data/season.js';
import type { WindowSet } from '../data/series.js';

/**
 * The forecasting baselines a model must beat, measured on the same windows as the model and in
 * the data's units, per target:
 * - persistence: every step repeats the last input value;
 * - seasonal_naive_P: step h (1-based) repeats the value one period P before, y[t+h-P], the last
 *   period repeating when h > P (P <= window, so it is always inside the input window; a longer
 *   period is read from the windows' lag inputs of that period, which hold y[t+h-P] for P >= horizon);
 * - window_mean: every step is the mean of the target over the input window.
 */
export interface ErrorRow { target: string; method: string; mae: number; rmse: number }

/**
 * MAE and RMSE per target and method. `pred` ([n, horizon*targets], h-major, relative to the
 * anchor, normalized: ForecastTask.predictAll's output) adds the model's row; `targetCols` are the
 * targets' feature indices in w.x; `std` undoes each target's normalization (w.targetStd, where
 * present, per window). With `seriesNames` and windows of several series, each series also gets
 * its rows (target 'name:series').
 */
export function forecastErrors(w: WindowSet, targets: readonly string[], targetCols: readonly number[], std: readonly number[],
  seasons: readonly number[], pred: Float32Array | null, seriesNames: readonly string[] = []): ErrorRow[] {
  const K = w.targets, H = w.horizon, W = w.window, F = w.features, Y = H * K;
  if (targets.length !== K || targetCols.length !== K || std.length !== K) throw new Error(`forecastErrors: ${K} targets, got ${targets.length} names, ${targetCols.length} columns, ${std.length} scales`);
  for (const P of seasons) seasonalSource(w, P);
  if (pred && pred.length !== w.n * Y) throw new Error(`forecastErrors: ${pred.length} predictions for ${w.n} windows x ${Y} outputs`);
  const methods = [...(pred ? ['model'] : []), 'persistence', ...seasons.map((P) => `seasonal_naive_${P}`), 'window_mean'];
  const naive = seasons.map((P) => seasonalNaiveOutputs(w, targetCols, P));
  // Forecast of method m for window i, step h, target k: normalized, relative to the anchor.
  const x = (i: number, t: number, k: number) => w.x[(i * W + t) * F + targetCols[k]];
  const forecast = (m: number, i: number, h: number, k: number, mean: number): number => {
    const name = methods[m];
    if (name === 'model') return pred![i * Y + h * K + k];
    if (name === 'persistence') return 0;
    if (name === 'window_mean') return mean;
    return naive[m - (pred ? 2 : 1)][i * Y + h * K + k];
  };
  const groups: { label: (t: string) => string; keep: (i: number) => boolean }[] = [{ label: (t) => t, keep: () => true }];
  if (w.series && seriesNames.length > 1) seriesNames.forEach((name, j) => groups.push({ label: (t) => `${t}:${name}`, keep: (i) => w.series![i] === j }));
  const rows: ErrorRow[] = [];
  for (const g of groups) {
    for (let k = 0; k < K; k++) {
      const ae = new Float64Array(methods.length), se = new Float64Array(methods.length);
      let count = 0;
      for (let i = 0; i < w.n; i++) {
        if (!g.keep(i)) continue;
        count++;
        const s = w.targetStd ? w.targetStd[i * K + k] : std[k];
        let mean = 0;
        for (let t = 0; t < W; t++) mean += x(i, t, k);
        mean = mean / W - w.anchor[i * K + k];
        for (let h = 0; h < H; h++) {
          const truth = w.y[i * Y + h * K + k];
          for (let m = 0; m < methods.length; m++) {
            const d = (forecast(m, i, h, k, mean) - truth) * s;
            ae[m] += Math.abs(d); se[m] += d * d;
          }
        }
      }
      if (count === 0) continue;
      const n = count * H;
      methods.forEach((method, m) => rows.push({ target: g.label(targets[k]), method, mae: ae[m] / n, rmse: Math.sqrt(se[m] / n) }));
    }
  }
  return rows;
}

/**
 * Where the seasonal-naive forecast of period P is read: inside the window when P <= window,
 * else from the lag inputs of period P (which hold the value one period before each forecast step).
 */
function seasonalSource(w: WindowSet, P: number): { inWindow: true } | { inWindow: false; cols: number[] } {
  if (!Number.isInteger(P) || P < 1) throw new Error(`season ${P} must be a positive integer`);
  if (P <= w.window) return { inWindow: true };
  const lag = w.lags?.find((l) => l.period === P);
  if (!lag) throw new Error(`season ${P} must be in [1, window ${w.window}], or a period of the model's lag inputs`);
  return { inWindow: false, cols: lag.cols };
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
  if (targetCols.length !== K) throw new Error(`seasonalNaiveOutputs: ${targetCols.length} target columns for ${K} targets`);
  const src = seasonalSource(w, period);
  const out = new Float32Array(w.n * Y);
  for (let i = 0; i < w.n; i++) {
    for (let h = 0; h < H; h++) {
      for (let k = 0; k < K; k++) {
        // In the window: row t+1+h-P (the last period repeating when h >= P); a lag input: row W-H+h holds y[t+1+h-P].
        const v = src.inWindow ? w.x[(i * W + W - period + (h % period)) * F + targetCols[k]] : w.x[(i * W + W - H + h) * F + src.cols[k]];
        out[i * Y + h * K + k] = v - w.anchor[i * K + k];
      }
    }
  }
  return out;
}
