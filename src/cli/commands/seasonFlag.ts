import { isDecimal } from '../../data/number.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';

/**
 * `--season 24,168`: seasonal periods for the seasonal-naive baseline, each a positive integer no
 * longer than the window (the baseline reads one period back inside the input window; with lag
 * inputs, window = Infinity: the lags carry the values a period back).
 */
export function seasonFlag(v: string | undefined, window: number): number[] {
  if (v === undefined) return [];
  const parts = v.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    const n = isDecimal(p) ? Number(p) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > window) {
      const range = Number.isFinite(window) ? `an integer in [1, ${window}] (the window)` : 'a positive integer';
      throw new UserError(`--season: expected periods separated by commas, each ${range}, got '${printable(p === '' ? v : p, 60)}'`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}
