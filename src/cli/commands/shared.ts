import { readFileSync } from 'node:fs';
import { DataError } from '../../data/errors.js';
import { ModelFileError } from '../../io/errors.js';
import { SafetensorsError } from '../../io/safetensors.js';
import { UserError } from '../errors.js';

/** Run a command body, turning errors caused by the user's files into one-line UserErrors. */
export async function userErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DataError || e instanceof ModelFileError || e instanceof SafetensorsError) throw new UserError(e.message);
    // A file-system refusal (no such folder, permission denied, disk full) is about the user's paths.
    const sys = e as NodeJS.ErrnoException;
    if (typeof sys?.code === 'string' && typeof sys.syscall === 'string') throw new UserError(`cannot ${sys.syscall} ${sys.path ?? ''}: ${sys.code}${sys.code === 'ENOSPC' ? ' (disk full)' : sys.code === 'EACCES' ? ' (permission denied)' : sys.code === 'ENOTDIR' ? ' (a path component is a file)' : sys.code === 'ENOENT' ? ' (no such folder)' : ''}`.replace('  ', ' '));
    throw e;
  }
}

export function intFlag(name: string, v: string | undefined, def: number, min = 1): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UserError(`--${name}: expected an integer >= ${min}, got '${v}'`);
  return n;
}

export function numFlag(name: string, v: string | undefined, def: number, lo = -Infinity, hi = Infinity): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) {
    throw new UserError(`--${name}: expected a number${lo > -Infinity ? ` >= ${lo}` : ''}${hi < Infinity ? ` and <= ${hi}` : ''}, got '${v}'`);
  }
  return n;
}

export function choiceFlag<T extends string>(name: string, v: string | undefined, choices: readonly T[], def?: T): T {
  if (v === undefined) {
    if (def === undefined) throw new UserError(`--${name} is required: one of ${choices.join(', ')}`);
    return def;
  }
  if (!choices.includes(v as T)) throw new UserError(`--${name}: expected one of ${choices.join(', ')}, got '${v}'`);
  return v as T;
}

export function requireFlag(name: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UserError(`--${name} is required (see --help)`);
  return v;
}

export function readText(path: string, what = 'data file'): string {
  try { return readFileSync(path, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `${what} ${path}: no such file` : code === 'EISDIR' ? `${what} ${path}: is a folder, expected a file` : `${what} ${path}: cannot read (${(e as Error).message})`);
  }
}
