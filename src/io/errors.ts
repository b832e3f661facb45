import { printable } from '../data/printable.js';

/**
 * A model or checkpoint file that cannot be used (missing, unreadable, truncated, mis-shaped).
 * The message is one line: whatever it quotes from the file is shown with control characters
 * and line breaks escaped (printable) and an overlong message is cut at 500 characters, so it
 * can reach a terminal as it is.
 */
export class ModelFileError extends Error {
  constructor(message: string, readonly file?: string, readonly field?: string) { super(printable(message, 500)); this.name = 'ModelFileError'; }

  /** `file: field: expected E, got F` — one line naming what was expected and what was found. */
  static field(file: string, field: string, expected: string, found: unknown): ModelFileError {
    return new ModelFileError(`${file}: ${field}: expected ${expected}, got ${describe(found)}`, file, field);
  }
}

/** A found value for an error line: JSON, cut short. */
export function describe(v: unknown): string {
  let s: string;
  try { s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v); } catch { s = String(v); }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
