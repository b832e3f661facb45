import { calendarCycles, calendarFeatures, calendarNames, detectSpacing, parseTimeColumn, type Cycle, type Spacing } from './calendar.js';
import { columnIndex, firstNumericColumn, numberAt, parseCsv, type CsvTable } from './csv.js';
import { DataError } from './errors.js';
import { Normalizer } from './normalize.js';
import { printable } from './printable.js';
import { detectPeriod } from './season.js';
import { concatWindows, makeWindows, type WindowSet } from './series.js';

/**
 * A forecasting CSV as what the network reads: one or more series (an id column, or one column
 * per series), each normalized with its own statistics, and at every row of a window the input
 * channels
 *   [features (targets and covariates), lag inputs, seasonal differences, calendar features]
 *    F values                           L x K       L x K                 2 x cycles
 * where for period P and target k at row t:
 * - the lag input is the target's value one period before row t + horizon (z_k[t + H - P],
 *   P >= H): in the window's last H rows these are exactly the values one season before each
 *   forecast step, from however far back P reaches (a yearly period needs no yearly window);
 * - the seasonal difference is z_k[t] - z_k[t - P] divided by its root mean square on the
 *   training rows (lagScale): how the series moved against a period ago, at unit size. A model
 *   of the residual over seasonal-naive predicts exactly the next such differences.
 * Windows start at row P of their series, where both are observed.
 */

/** How rows become series: `column` names an id column (rows grouped by it, in file order); `columns`: one column per series. */
export interface SeriesLayout { column?: string; columns?: string[] }

export interface SeriesRows {
  name: string;
  /** [feature][row] */
  raw: Float64Array[];
  /** Row times (ms since 1970, UTC) when there is a time column. */
  times: number[] | null;
  /** The spacing of those times (null: no time column, or a single row). */
  spacing: Spacing | null;
}

/** The value name of a model trained on one column per series (each column is a series of it). */
export const WIDE_VALUE = 'value';

/** Read the series of a CSV: features (default the first numeric column), optional times, split by the layout. */
export function readForecastSeries(text: string, source: string, o: { features?: string[]; timeColumn?: string; layout?: SeriesLayout }): { features: string[]; series: SeriesRows[] } {
  const t = parseCsv(text, source);
  if (t.rows.length === 0) throw new DataError(`${source}: no data rows after the header`);
  const where = (r: number) => `${source} line ${t.lines[r]}`;
  const layout = o.layout ?? {};
  if (layout.columns && layout.column) throw new DataError('a series id column and one column per series cannot both be given');
  const timeCol = o.timeColumn !== undefined ? columnIndex(t, o.timeColumn) : -1;
  const readTimes = (rows: number[]) => (timeCol < 0 ? null : parseTimeColumn(rows.map((r) => t.rows[r][timeCol]), (i) => `${where(rows[i])}, column ${timeCol + 1} ('${printable(o.timeColumn!, 40)}')`));
  const spacingOf = (times: number[] | null, rows: number[], name: string) =>
    times && times.length >= 2 ? detectSpacing(times, (i) => `${where(rows[i])}${layout.column ? ` (series '${printable(name, 40)}')` : ''}`) : null;
  const numbers = (k: number, rows: number[]) => Float64Array.from(rows, (r) => numberAt(t, r, k));
  const all = t.rows.map((_, r) => r);
  if (layout.columns) {
    if (o.features && o.features.length) throw new DataError(`one column per series (${layout.columns.join(', ')}): each column is the series' only value, so no other input columns can be given`);
    const times = readTimes(all), spacing = spacingOf(times, all, '');
    return { features: [WIDE_VALUE], series: layout.columns.map((c) => ({ name: c, raw: [numbers(columnIndex(t, c), all)], times, spacing })) };
  }
  const features = o.features && o.features.length ? o.features : [firstNumeric(t, [layout.column, o.timeColumn])];
  const idx = features.map((f) => columnIndex(t, f));
  if (o.timeColumn !== undefined && features.includes(o.timeColumn)) throw new DataError(`the time column '${printable(o.timeColumn, 40)}' cannot also be an input column`);
  if (!layout.column) {
    const times = readTimes(all);
    return { features, series: [{ name: '', raw: idx.map((k) => numbers(k, all)), times, spacing: spacingOf(times, all, '') }] };
  }
  const idCol = columnIndex(t, layout.column);
  if (features.includes(layout.column)) throw new DataError(`the series column '${printable(layout.column, 40)}' cannot also be an input column`);
  const groups = new Map<string, number[]>();
  for (const r of all) {
    const id = t.rows[r][idCol];
    if (!groups.has(id)) groups.set(id, []);
    groups.get(id)!.push(r);
  }
  return {
    features,
    series: [...groups].map(([name, rows]) => {
      const times = readTimes(rows);
      return { name, raw: idx.map((k) => numbers(k, rows)), times, spacing: spacingOf(times, rows, name) };
    }),
  };
}

function firstNumeric(t: CsvTable, skip: (string | undefined)[]): string {
  const rest = t.header.filter((h) => !skip.includes(h));
  return firstNumericColumn({ ...t, header: rest, rows: t.rows.map((r) => r.filter((_, k) => !skip.includes(t.header[k]))) });
}

/** What a window's channels are: enough to rebuild them from a file (saved in model.json). */
export interface ChannelPlan {
  features: string[];
  targetIdx: number[];
  lags: number[];
  /** [lags x targets]: the scale of each seasonal difference channel */
  lagScale: number[];
  cycles: Cycle[];
  window: number;
  horizon: number;
}

/** The channel names, in the order of x's last axis. */
export function channelNames(p: ChannelPlan, targets: readonly string[]): string[] {
  return [...p.features, ...p.lags.flatMap((P) => targets.map((t) => `${t}_lag${P}`)), ...p.lags.flatMap((P) => targets.map((t) => `${t}_diff${P}`)), ...calendarNames(p.cycles)];
}

export function channelCount(p: { features: readonly unknown[]; lags: readonly unknown[]; cycles: readonly unknown[] }, targets: number): number {
  return p.features.length + 2 * p.lags.length * targets + 2 * p.cycles.length;
}

/** The first row whose window has every lag observed. */
export function firstRow(p: ChannelPlan): number { return Math.max(0, ...p.lags); }

/** Channels cols[c][row] of one normalized series (z[f][row]); rows before firstRow(p) hold NaN lags and start no window. */
export function seriesChannels(z: readonly ArrayLike<number>[], times: readonly number[] | null, p: ChannelPlan): Float64Array[] {
  const T = z[0].length, K = p.targetIdx.length;
  const cols: Float64Array[] = z.map((c) => Float64Array.from(c));
  for (const P of p.lags) {
    if (P < p.horizon) throw new DataError(`lag period ${P} is shorter than the horizon ${p.horizon}: the value one period before the last forecast step is not observed yet`);
    for (let k = 0; k < K; k++) {
      const src = z[p.targetIdx[k]], col = new Float64Array(T);
      for (let t = 0; t < T; t++) col[t] = t + p.horizon - P >= 0 ? src[t + p.horizon - P] : NaN;
      cols.push(col);
    }
  }
  p.lags.forEach((P, j) => {
    for (let k = 0; k < K; k++) {
      const src = z[p.targetIdx[k]], col = new Float64Array(T), s = p.lagScale[j * K + k];
      for (let t = 0; t < T; t++) col[t] = t - P >= 0 ? (src[t] - src[t - P]) / s : NaN;
      cols.push(col);
    }
  });
  if (p.cycles.length) {
    if (!times) throw new Error('seriesChannels: calendar features need the series\' times');
    const cal = Array.from({ length: 2 * p.cycles.length }, () => new Float64Array(T));
    for (let t = 0; t < T; t++) calendarFeatures(times[t], p.cycles).forEach((v, j) => { cal[j][t] = v; });
    cols.push(...cal);
  }
  return cols;
}

/** Windows over rows [from, to) of one series' channels, with its lags and target scale recorded. */
function windowsOf(cols: readonly ArrayLike<number>[], p: ChannelPlan, norm: Normalizer, from: number, to: number): WindowSet {
  const w = makeWindows(cols, p.targetIdx, p.window, p.horizon, from, to);
  const F = p.features.length, K = p.targetIdx.length;
  const std = new Float32Array(w.n * K);
  for (let i = 0; i < w.n; i++) p.targetIdx.forEach((f, k) => { std[i * K + k] = norm.std[f]; });
  return { ...w, targetStd: std, ...(p.lags.length ? { lags: p.lags.map((P, j) => ({ period: P, cols: p.targetIdx.map((_, k) => F + j * K + k) })) } : {}) };
}

export interface ForecastSetup {
  columns?: string[];
  targets?: string[];
  window: number;
  horizon: number;
  /** Fraction of each series' windows (its latest) held out for validation. */
  valFraction: number;
  timeColumn?: string;
  layout?: SeriesLayout;
  /** Periods given by the user (--season). */
  seasons: number[];
  /** Feed lag inputs of every detected and given period >= horizon. */
  lags: boolean;
}

export interface PreparedForecast {
  features: string[];
  targets: string[];
  targetIdx: number[];
  series: { name: string; norm: Normalizer; trainRows: number }[];
  /** Period detected per target on the first series' training rows (null: none). */
  detected: (number | null)[];
  plan: ChannelPlan;
  time: { column: string; spacing: Spacing; cycles: Cycle[] } | null;
  train: WindowSet;
  val: WindowSet | null;
}

/**
 * Training data: per series a chronological split (the latest valFraction of its windows validate;
 * training windows end, targets included, before the first validation target), the normalization
 * fitted on that series' training rows only, and the seasonal period detected on the first
 * series' training rows (lags 2..window).
 */
export function prepareForecastData(text: string, source: string, s: ForecastSetup): PreparedForecast {
  const { features, series } = readForecastSeries(text, source, { features: s.columns, timeColumn: s.timeColumn, layout: s.layout });
  const targets = s.targets && s.targets.length ? s.targets : [features[0]];
  const targetIdx = targets.map((n) => {
    const k = features.indexOf(n);
    if (k < 0) throw new DataError(`target column '${printable(n, 40)}' must also be an input column (--column ${features.join(',')})`);
    return k;
  });
  const W = s.window, H = s.horizon;
  const split = (rows: number, start: number) => {
    const total = rows - start - W - H + 1;
    let nVal = Math.floor(total * s.valFraction), nTrain = total - nVal - (nVal > 0 ? H - 1 : 0);
    if (nVal > 0 && nTrain < 1) { nVal = 0; nTrain = total; }
    return { total, nVal, trainRows: start + nTrain - 1 + W + H };
  };
  const first = series[0], T0 = first.raw[0].length;
  const s0 = split(T0, 0);
  if (s0.total < 1) throw new DataError(`${source}${first.name ? ` series '${printable(first.name, 40)}'` : ''}: the series has ${T0} rows, shorter than window + horizon = ${W} + ${H} = ${W + H}: use a shorter --window or --horizon, or more data`);
  // Rows [0, s0.trainRows) are training rows with or without lags (lags only drop early windows).
  const detected = targetIdx.map((f) => detectPeriod(Array.from(first.raw[f].subarray(0, s0.trainRows)), W));
  const lags = s.lags ? [...new Set([...detected.filter((p): p is number => p !== null), ...s.seasons])].filter((P) => P >= H) : [];
  if (s.lags && lags.length === 0) throw new DataError(`--lags: no seasonal period >= the horizon ${H} was detected or given (--season P)`);
  const spacing = first.spacing;
  const cycles = spacing ? calendarCycles(spacing) : [];
  const plan: ChannelPlan = { features, targetIdx, lags, lagScale: [], cycles, window: W, horizon: H };
  const start = firstRow(plan);
  for (const sr of series) {
    const T = sr.raw[0].length, sp = split(T, start);
    const label = `${source}${sr.name ? ` series '${printable(sr.name, 40)}'` : ''}`;
    if (sp.total < 1) throw new DataError(`${label}: the series has ${T} rows, fewer than ${start ? `the longest lag's ${start} + ` : ''}window + horizon = ${start + W + H}: use a shorter --window or --horizon${start ? ' or period' : ''}, or more data`);
  }
  // Each series normalized on its training rows, then the seasonal differences' scale over all of them.
  const norms = series.map((sr) => Normalizer.fit(sr.raw, split(sr.raw[0].length, start).trainRows));
  plan.lagScale = lags.flatMap((P) => targetIdx.map((f) => {
    let ss = 0, n = 0;
    series.forEach((sr, j) => {
      const end = split(sr.raw[0].length, start).trainRows, c = sr.raw[f], m = norms[j];
      for (let t = P; t < end; t++) { ss += ((c[t] - c[t - P]) / m.std[f]) ** 2; n++; }
    });
    const r = Math.sqrt(ss / Math.max(n, 1));
    return r > 1e-6 && Number.isFinite(r) ? r : 1;
  }));
  const trains: WindowSet[] = [], vals: WindowSet[] = [], out: PreparedForecast['series'] = [];
  for (const [j, sr] of series.entries()) {
    const T = sr.raw[0].length, sp = split(T, start);
    const norm = norms[j];
    const cols = seriesChannels(sr.raw.map((c, f) => Array.from(c, (v) => norm.forward(v, f))), sr.times, plan);
    trains.push(windowsOf(cols, plan, norm, start, sp.trainRows));
    if (sp.nVal > 0) vals.push(windowsOf(cols, plan, norm, T - (sp.nVal - 1) - W - H, T));
    out.push({ name: sr.name, norm, trainRows: sp.trainRows });
  }
  const tagged = (sets: WindowSet[], which: number[]) => concatWindows(sets.map((w, j) => ({ ...w, series: new Int32Array(w.n).fill(which[j]) })));
  const valIdx = series.map((_, j) => j).filter((j) => split(series[j].raw[0].length, start).nVal > 0);
  return {
    features, targets, targetIdx, series: out, detected, plan,
    time: s.timeColumn !== undefined && spacing ? { column: s.timeColumn, spacing, cycles } : null,
    train: tagged(trains, series.map((_, j) => j)), val: vals.length ? tagged(vals, valIdx) : null,
  };
}

/** What model.json's forecast section holds, as far as rebuilding inputs goes. */
export interface SavedForecast {
  features: string[];
  targets: string[];
  window: number;
  horizon: number;
  normalization: { mean: number[]; std: number[] };
  lags?: number[];
  lagScale?: number[];
  time?: { column: string; spacing: Spacing; cycles: Cycle[] };
  series?: { column?: string; columns?: string[]; names: string[]; normalization: { mean: number[]; std: number[] }[] };
}

/** A file's series prepared as at training: each with the model's normalization of that series (a series the model never saw is refused). */
export function savedSeries(f: SavedForecast, text: string, source: string): { plan: ChannelPlan; series: (SeriesRows & { norm: Normalizer; cols: Float64Array[] })[] } {
  const layout: SeriesLayout | undefined = f.series ? { column: f.series.column, columns: f.series.columns } : undefined;
  const read = readForecastSeries(text, source, { features: f.series?.columns ? undefined : f.features, timeColumn: f.time?.column, layout });
  const plan: ChannelPlan = { features: f.features, targetIdx: f.targets.map((t) => f.features.indexOf(t)), lags: f.lags ?? [], lagScale: f.lagScale ?? [], cycles: f.time?.cycles ?? [], window: f.window, horizon: f.horizon };
  return {
    plan,
    series: read.series.map((sr) => {
      let nj = f.normalization;
      if (f.series) {
        const j = f.series.names.indexOf(sr.name);
        if (j < 0) throw new DataError(`${source}: series '${printable(sr.name, 40)}' was not in the model's training data (its series: ${printable(f.series.names.join(', '), 200)})`);
        nj = f.series.normalization[j];
      }
      const norm = Normalizer.fromJSON(nj);
      return { ...sr, norm, cols: seriesChannels(sr.raw.map((c, k) => Array.from(c, (v) => norm.forward(v, k))), sr.times, plan) };
    }),
  };
}

/** Every window of every series of a file (evaluate). */
export function savedWindows(f: SavedForecast, text: string, source: string): { w: WindowSet; names: string[] } {
  const { plan, series } = savedSeries(f, text, source);
  const start = firstRow(plan);
  const sets = series.map((sr, j) => {
    const T = sr.raw[0].length;
    if (T - start < plan.window + plan.horizon) throw new DataError(`${source}${sr.name ? ` series '${printable(sr.name, 40)}'` : ''}: the series has ${T} rows, fewer than ${start ? `the longest lag's ${start} + ` : ''}window + horizon = ${start + plan.window + plan.horizon}`);
    const w = windowsOf(sr.cols, plan, sr.norm, start, T);
    return { ...w, series: new Int32Array(w.n).fill(j) };
  });
  return { w: concatWindows(sets), names: series.map((s) => s.name) };
}

/**
 * The last window of each series (predict): x [1, window, channels] of its latest rows, the anchor,
 * and y zero (unknown). Needs window rows, and with lags the longest lag's rows before them.
 */
export function lastWindows(f: SavedForecast, text: string, source: string): { name: string; w: WindowSet; norm: Normalizer; lastTime: number | null; spacing: Spacing | null }[] {
  const { plan, series } = savedSeries(f, text, source);
  const start = firstRow(plan), W = plan.window, K = plan.targetIdx.length, C = series[0]?.cols.length ?? 0;
  return series.map((sr) => {
    const T = sr.raw[0].length;
    if (T - start < W) throw new DataError(`${source}${sr.name ? ` series '${printable(sr.name, 40)}'` : ''}: the series has ${T} rows, shorter than the model's window of ${W}${start ? ` plus the longest lag's ${start} rows` : ''}`);
    const x = new Float32Array(W * C);
    for (let t = 0; t < W; t++) for (let c = 0; c < C; c++) x[t * C + c] = sr.cols[c][T - W + t];
    const anchor = Float32Array.from(plan.targetIdx, (fi) => sr.cols[fi][T - 1]);
    const w: WindowSet = {
      n: 1, window: W, horizon: plan.horizon, features: C, targets: K, x, y: new Float32Array(plan.horizon * K), anchor,
      ...(plan.lags.length ? { lags: plan.lags.map((P, j) => ({ period: P, cols: plan.targetIdx.map((_, k) => plan.features.length + j * K + k) })) } : {}),
    };
    return { name: sr.name, w, norm: sr.norm, lastTime: sr.times ? sr.times[T - 1] : null, spacing: sr.spacing };
  });
}
