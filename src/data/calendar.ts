import { DataError } from './errors.js';
import { printable } from './printable.js';

/**
 * Timestamps of a forecast series (--time-column): parsing, the series' spacing, calendar features
 * and the timestamps of the forecast steps. Times are read as UTC wall-clock times (a zone suffix
 * Z or +hh:mm is applied), so a date never moves a day with the machine's time zone.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_MS = 86_400_000;

/**
 * Milliseconds since 1970 (UTC) of a date as written in CSV files, or null when it is none of:
 * ISO 8601 `2024-01-31`, `2024-01-31T13:00`, `2024-01-31 13:00:05.5`, with an optional `Z` or
 * `+01:00`; `2024/01/31 13:00:00` (slashes); `Jan 31 2024` (month name, as in vega-datasets'
 * stocks and sp500); a bare year `1880`.
 */
export function parseTime(text: string): number | null {
  const s = text.trim();
  let m = /^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/.exec(s);
  if (m) {
    if (m[2] === undefined) return utc(+m[1], 1, 1, 0, 0, 0, 0); // a bare year
    const ms = utc(+m[1], +m[2], m[3] === undefined ? 1 : +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0);
    if (ms === null || m[8] === undefined || m[8] === 'Z') return ms;
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(m[8])!;
    return ms - (z[1] === '-' ? -1 : 1) * (+z[2] * 60 + +z[3]) * 60_000;
  }
  m = /^([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})$/.exec(s);
  if (m) {
    const month = MONTHS.indexOf(m[1].toLowerCase());
    return month < 0 ? null : utc(+m[3], month + 1, +m[2], 0, 0, 0, 0);
  }
  return null;
}

/** Date.UTC, or null when a field is out of its range (2024-02-30 is refused, not rolled over). */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d ? t : null;
}

/** How a series steps from one row to the next: a fixed number of milliseconds, or whole months. */
export type Spacing = { unit: 'ms'; step: number } | { unit: 'month'; step: number };

/**
 * The spacing of increasing timestamps: whole months (1 = monthly, 12 = yearly) when every time is
 * at midnight on the same day of the month and the median gap is 28 days or more; otherwise the
 * median gap in milliseconds. `where(i)` names row i for messages.
 */
export function detectSpacing(times: readonly number[], where: (i: number) => string): Spacing {
  if (times.length < 2) throw new DataError(`${where(0)}: a time column needs at least 2 rows to tell the series' spacing`);
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    if (!(times[i] > times[i - 1])) throw new DataError(`${where(i)}: time ${new Date(times[i]).toISOString()} is not after the previous row's ${new Date(times[i - 1]).toISOString()} (expected rows oldest first, one per time)`);
    gaps.push(times[i] - times[i - 1]);
  }
  const median = [...gaps].sort((a, b) => a - b)[gaps.length >> 1];
  const d0 = new Date(times[0]);
  const sameDay = times.every((t) => t % DAY_MS === 0 && new Date(t).getUTCDate() === d0.getUTCDate());
  if (median >= 28 * DAY_MS && sameDay) {
    const months = (t: number) => { const d = new Date(t); return d.getUTCFullYear() * 12 + d.getUTCMonth(); };
    const mg = times.slice(1).map((t, i) => months(t) - months(times[i])).sort((a, b) => a - b);
    return { unit: 'month', step: mg[mg.length >> 1] };
  }
  return { unit: 'ms', step: median };
}

/** The time `k` steps after `t`. */
export function stepTime(t: number, s: Spacing, k: number): number {
  if (s.unit === 'ms') return t + k * s.step;
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + k * s.step, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}

/**
 * The calendar cycles worth learning at a spacing: hour of the day below a day, day of the week
 * from a day up to a week, day of the year below a year. (A cycle no shorter than two steps: a
 * daily series has no hour of the day, a monthly one no day of the week; a yearly one has none.)
 */
export type Cycle = 'hour' | 'weekday' | 'yearday';

export function calendarCycles(s: Spacing): Cycle[] {
  const ms = s.unit === 'ms' ? s.step : s.step * 30.44 * DAY_MS;
  const out: Cycle[] = [];
  if (ms * 2 <= DAY_MS) out.push('hour');
  if (ms * 2 <= 7 * DAY_MS) out.push('weekday');
  if (ms * 2 <= 365.25 * DAY_MS) out.push('yearday');
  return out;
}

/** Feature names, two per cycle (sin, cos), in the order calendarFeatures writes them. */
export function calendarNames(cycles: readonly Cycle[]): string[] {
  return cycles.flatMap((c) => [`${c}_sin`, `${c}_cos`]);
}

/**
 * Calendar features of a time: for each cycle the position in it as an angle, written as sin and
 * cos (so the end of a cycle is next to its start). hour: hours since midnight (minutes as
 * fractions) / 24; weekday: days since Monday / 7; yearday: days since 1 January / the year's
 * days (365 or 366).
 */
export function calendarFeatures(t: number, cycles: readonly Cycle[]): number[] {
  const d = new Date(t), out: number[] = [];
  for (const c of cycles) {
    let phase: number;
    if (c === 'hour') phase = (d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600) / 24;
    else if (c === 'weekday') phase = ((d.getUTCDay() + 6) % 7 + d.getUTCHours() / 24) / 7;
    else {
      const y = d.getUTCFullYear(), start = Date.UTC(y, 0, 1), days = (Date.UTC(y + 1, 0, 1) - start) / DAY_MS;
      phase = (t - start) / DAY_MS / days;
    }
    out.push(Math.sin(2 * Math.PI * phase), Math.cos(2 * Math.PI * phase));
  }
  return out;
}

/** A time as ISO 8601 (UTC): the date alone when at midnight and the spacing is a day or more. */
export function formatTime(t: number, s: Spacing): string {
  const iso = new Date(t).toISOString();
  const daily = s.unit === 'month' || s.step % DAY_MS === 0;
  if (daily && t % DAY_MS === 0) return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
}

/** Parse a time column, naming the row and the text of the first that is not a date. */
export function parseTimeColumn(texts: readonly string[], where: (i: number) => string): number[] {
  return texts.map((s, i) => {
    const t = parseTime(s);
    if (t === null) throw new DataError(`${where(i)}: '${printable(s, 40)}' is not a date (expected e.g. 2024-01-31, 2024-01-31T13:00:00, 2024/01/31 13:00, Jan 31 2024 or a year)`);
    return t;
  });
}
