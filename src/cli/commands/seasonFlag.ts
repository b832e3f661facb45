import { isDecimal } from '../../data/number.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';

/**
 * `--season 24,168`: seasonal periods for the seasonal-naive baseline, each a positive integer no
 * longer than the window (the baseline reads one period back inside the input window).
 */
export function seasonFlag(v: string | undefined, window: number): number[] {
  if (v === undefined) return [];
  const parts = v.split(',').map((s) => s.trim());
  const out: number[] = [];
  for (const p of parts) {
    const n = isDecimal(p) ? Number(p) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > window) {
      throw new UserError(`--season: expected periods separated by commas, each an integer in [1, ${window}] (the window), got '${printable(p === '' ? v : p, 60)}'`);
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}
