import { DataError } from './errors.js';

/**
 * Sliding windows over a (normalized) multivariate series for direct multi-step forecasting.
 * Sample i reads rows [i, i+window) of every feature and predicts rows [i+window, i+window+horizon)
 * of the target features. Targets are stored relative to the last observed value of the same
 * feature (the model predicts the change from now), which lets a small network extrapolate a
 * trend beyond the range it was trained on.
 */
export interface WindowSet {
  n: number;
  window: number;
  horizon: number;
  features: number;
  targets: number;
  /** [n, window, features] */
  x: Float32Array;
  /** [n, horizon * targets] (h-major: index h*targets + k), relative to the anchor */
  y: Float32Array;
  /** [n, targets]: last observed value of each target feature (add back to predictions) */
  anchor: Float32Array;
  /** [n, targets]: the data's units of one normalized unit of each window's targets, where series differ (absent: one scale for all windows, given separately) */
  targetStd?: Float32Array;
  /** [n]: the series each window comes from (several series in one set) */
  series?: Int32Array;
  /** Lag inputs: for each period, the channel of x holding each target's value one period before row t + horizon */
  lags?: { period: number; cols: number[] }[];
}

/** The windows of several series as one set (windows never span two series: each is made within one). */
export function concatWindows(sets: readonly WindowSet[]): WindowSet {
  if (sets.length === 0) throw new DataError('no series to make windows of');
  const a = sets[0];
  for (const s of sets) {
    if (s.window !== a.window || s.horizon !== a.horizon || s.features !== a.features || s.targets !== a.targets) {
      throw new Error(`concatWindows: window sets differ in shape (${s.window}x${s.horizon}x${s.features}x${s.targets} vs ${a.window}x${a.horizon}x${a.features}x${a.targets})`);
    }
  }
  if (sets.length === 1) return a;
  const n = sets.reduce((t, s) => t + s.n, 0);
  const cat = (pick: (s: WindowSet) => Float32Array) => {
    const out = new Float32Array(sets.reduce((t, s) => t + pick(s).length, 0));
    let o = 0;
    for (const s of sets) { out.set(pick(s), o); o += pick(s).length; }
    return out;
  };
  const std = sets.every((s) => s.targetStd) ? cat((s) => s.targetStd!) : undefined;
  const series = new Int32Array(n);
  let o = 0;
  sets.forEach((s, j) => { series.fill(j, o, o + s.n); if (s.series) series.set(s.series, o); o += s.n; });
  return { ...a, n, x: cat((s) => s.x), y: cat((s) => s.y), anchor: cat((s) => s.anchor), ...(std ? { targetStd: std } : {}), series };
}

/** Windows whose inputs start at rows [from, to - window - horizon]. cols[f][row]; targetFeatures index cols. */
export function makeWindows(cols: readonly ArrayLike<number>[], targetFeatures: readonly number[], window: number,
  horizon: number, from = 0, to = cols[0]?.length ?? 0): WindowSet {
  const F = cols.length, K = targetFeatures.length, rows = to - from;
  if (!Number.isInteger(window) || window < 1) throw new DataError(`window: expected a positive integer, got ${window}`);
  if (!Number.isInteger(horizon) || horizon < 1) throw new DataError(`horizon: expected a positive integer, got ${horizon}`);
  const n = rows - window - horizon + 1;
  if (n < 1) {
    throw new DataError(`the series has ${rows} rows, shorter than window + horizon = ${window} + ${horizon} = ${window + horizon}: use a shorter --window or --horizon, or more data`);
  }
  const x = new Float32Array(n * window * F), y = new Float32Array(n * horizon * K), anchor = new Float32Array(n * K);
  for (let i = 0; i < n; i++) {
    const s = from + i;
    for (let t = 0; t < window; t++) for (let f = 0; f < F; f++) x[(i * window + t) * F + f] = cols[f][s + t];
    for (let k = 0; k < K; k++) {
      const a = cols[targetFeatures[k]][s + window - 1];
      anchor[i * K + k] = a;
      for (let h = 0; h < horizon; h++) y[i * horizon * K + h * K + k] = cols[targetFeatures[k]][s + window + h] - a;
    }
  }
  return { n, window, horizon, features: F, targets: K, x, y, anchor };
}

/** Inputs [window, B, F] (time-major) and targets [B, horizon*K] for the samples `idx`. */
export function gatherWindows(w: WindowSet, idx: readonly number[]): { x: Float32Array; y: Float32Array } {
  const B = idx.length, W = w.window, F = w.features, Y = w.horizon * w.targets;
  const x = new Float32Array(W * B * F), y = new Float32Array(B * Y);
  idx.forEach((i, b) => {
    for (let t = 0; t < W; t++) for (let f = 0; f < F; f++) x[(t * B + b) * F + f] = w.x[(i * W + t) * F + f];
    y.set(w.y.subarray(i * Y, (i + 1) * Y), b * Y);
  });
  return { x, y };
}

/**
 * Seasonal-naive forecast: each of the next `horizon` values repeats the value one season earlier
 * from the last observed season (y_{T+h} = y_{T+h-m*ceil(h/m)}), the standard baseline for
 * seasonal series.
 */
export function seasonalNaive(history: ArrayLike<number>, horizon: number, season: number): number[] {
  if (history.length < season) throw new DataError(`seasonal naive: need at least one season (${season}) of history, got ${history.length}`);
  const T = history.length;
  return Array.from({ length: horizon }, (_, h) => history[T - season + (h % season)]);
}
