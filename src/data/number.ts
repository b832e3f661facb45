import { DataError } from './errors.js';
import { printable } from './printable.js';

/**
 * The one grammar for a number in a data file: decimal, optional sign, fraction and exponent
 * ("-1.5e-3", ".5", "7."). Not hexadecimal, binary or octal ("0x1F" is not 31), not "Infinity",
 * no digit separators. Written without nested quantifiers so a 2-million-digit cell is checked
 * in linear time.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The largest finite 32-bit float: the models compute in 32-bit floats, larger values become Infinity. */
export const FLOAT32_MAX = 3.4028234663852886e38;

export function isDecimal(s: string): boolean { return DECIMAL.test(s); }

/**
 * A data value as a number, or a DataError naming `where`, what was expected and what was found
 * (the cell quoted printably and cut short).
 */
export function parseNumber(text: string, where: string): number {
  const s = text.trim();
  if (s === '') throw new DataError(`${where}: missing value (expected a number, got an empty field)`);
  if (/^[+-]?nan$/i.test(s)) throw new DataError(`${where}: value is NaN (expected a finite number; fill or drop missing values first)`);
  const quoted = `'${printable(s, 40)}'`;
  if (/^[+-]?0[xob]/i.test(s)) throw new DataError(`${where}: expected a decimal number, got ${quoted} (hexadecimal, octal and binary are not read)`);
  if (/^[+-]?inf(inity)?$/i.test(s)) throw new DataError(`${where}: expected a finite number, got ${quoted}`);
  if (!DECIMAL.test(s)) throw new DataError(`${where}: expected a number, got ${quoted}`);
  return checkRange(Number(s), quoted, where);
}

/** A number already parsed (JSON): finite and within the 32-bit float range. */
export function checkRange(v: number, shown: string, where: string): number {
  if (!Number.isFinite(v)) throw new DataError(`${where}: expected a finite number, got ${shown}`);
  if (Math.abs(v) > FLOAT32_MAX) {
    throw new DataError(`${where}: expected a number between -3.4e38 and 3.4e38 (the models compute in 32-bit floats), got ${shown}`);
  }
  return v;
}
