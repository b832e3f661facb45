/**
 * Seasonal period detection for the forecasting baselines.
 *
 * Rule: difference the series once (y[t] - y[t-1], which removes a level and a linear trend), take
 * the autocorrelation r(lag) of the differenced series (the usual biased estimate: sums over
 * n - lag pairs divided by the sum of squares over n), and pick the strongest local peak
 * (r(lag) >= r(lag-1) and r(lag) >= r(lag+1)) among lags in [2, maxLag] with r(lag) above
 * PERIOD_THRESHOLD and r(floor(lag/2)) below 0: half a period earlier a seasonal series is out of
 * phase, while the noise differencing leaves (r(1) near -0.5, so a bump at lag 2) is not. maxLag is the model's window (the seasonal-naive forecast reads one period
 * back inside the window), and never more than half the differenced series. No such peak: null.
 * Callers pass the training part of the series only, so the period is never read off held-out data.
 */
export const PERIOD_THRESHOLD = 0.3;

export function detectPeriod(series: ArrayLike<number>, maxLag: number): number | null {
  const n = series.length - 1; // length of the differenced series
  const top = Math.min(maxLag, Math.floor(n / 2));
  if (top < 2) return null;
  const d = new Float64Array(n);
  let mean = 0;
  for (let t = 0; t < n; t++) { d[t] = series[t + 1] - series[t]; mean += d[t]; }
  mean /= n;
  let ss = 0;
  for (let t = 0; t < n; t++) { d[t] -= mean; ss += d[t] * d[t]; }
  if (!(ss > 0) || !Number.isFinite(ss)) return null; // a straight line or non-finite values: no season to find
  // r[lag] for lags 1 .. top + 1 (one past the range, to see whether `top` is a peak).
  const last = Math.min(top + 1, n - 1);
  const r = new Float64Array(last + 1);
  for (let lag = 1; lag <= last; lag++) {
    let s = 0;
    for (let t = lag; t < n; t++) s += d[t] * d[t - lag];
    r[lag] = s / ss;
  }
  let best: number | null = null;
  for (let lag = 2; lag <= top; lag++) {
    const peak = r[lag] >= r[lag - 1] && (lag + 1 > last || r[lag] >= r[lag + 1]);
    if (peak && r[lag] > PERIOD_THRESHOLD && r[Math.floor(lag / 2)] < 0 && (best === null || r[lag] > r[best])) best = lag;
  }
  return best;
}
