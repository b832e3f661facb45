import { isDecimal } from '../../data/number.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';
import type { TrainConfig } from './train.js';

type Flags = Record<string, string | boolean | undefined>;

/**
 * train's forecasting options beyond the window: the time column, the series layout, lag inputs
 * and quantiles. Only those given appear in the config, so a run without them saves the same
 * config (and checkpoint) as before they existed.
 */
export function forecastFlags(v: Flags): Pick<TrainConfig, 'lags' | 'timeColumn' | 'seriesColumn' | 'seriesColumns' | 'quantiles'> {
  const name = (k: string) => {
    const x = (v[k] as string).trim();
    if (x === '') throw new UserError(`--${k}: expected a column name, got an empty one`);
    return x;
  };
  const out: ReturnType<typeof forecastFlags> = {};
  if (v.lags) out.lags = true;
  if (v['time-column'] !== undefined) out.timeColumn = name('time-column');
  if (v['series-column'] !== undefined) out.seriesColumn = name('series-column');
  if (v['series-columns'] !== undefined) {
    const cols = (v['series-columns'] as string).split(',').map((c) => c.trim());
    if (cols.length < 1 || cols.some((c) => c === '')) throw new UserError(`--series-columns: expected column names separated by commas, got '${printable(v['series-columns'] as string, 60)}'`);
    if (new Set(cols).size !== cols.length) throw new UserError(`--series-columns: a column is named twice in '${printable(v['series-columns'] as string, 60)}'`);
    out.seriesColumns = cols;
  }
  if (out.seriesColumn !== undefined && out.seriesColumns) throw new UserError('--series-column (an id column) and --series-columns (one column per series) cannot both be given');
  if (out.seriesColumns && (v.column !== undefined || v.columns !== undefined || v.target !== undefined)) throw new UserError('--series-columns: each named column is a series of one value, so --column and --target cannot be given with it');
  if (v.quantiles !== undefined) out.quantiles = quantilesFlag(v.quantiles as string);
  return out;
}

/** `--quantiles 0.1,0.5,0.9`: distinct numbers strictly between 0 and 1, in increasing order, one of them 0.5. */
export function quantilesFlag(v: string): number[] {
  const qs = v.split(',').map((p) => p.trim()).map((p) => {
    const q = isDecimal(p) ? Number(p) : NaN;
    if (!(q > 0 && q < 1)) throw new UserError(`--quantiles: expected numbers between 0 and 1 (exclusive) separated by commas, got '${printable(p === '' ? v : p, 60)}'`);
    return q;
  });
  for (let i = 1; i < qs.length; i++) if (!(qs[i] > qs[i - 1])) throw new UserError(`--quantiles: expected distinct quantiles in increasing order, got '${printable(v, 60)}'`);
  if (!qs.includes(0.5)) throw new UserError(`--quantiles: expected 0.5 among the quantiles (the point forecast that MAE and the baselines compare), got '${printable(v, 60)}'`);
  return qs;
}
