import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DataError } from '../../data/errors.js';
import { ModelFileError } from '../../io/errors.js';
import { SafetensorsError } from '../../io/safetensors.js';
import { isDecimal } from '../../data/number.js';
import { printable } from '../../data/printable.js';
import { TrainingDiverged } from '../../train/divergence.js';
import { RunError, UserError } from '../errors.js';
import { fsError, isFsError } from '../fsErrors.js';
import { closest } from '../suggest.js';

/**
 * Run a command body, turning failures into one-line errors: bad files and paths into UserErrors
 * (exit 2), a diverged run or a full disk into RunErrors (exit 1).
 */
export async function userErrors<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof DataError || e instanceof ModelFileError || e instanceof SafetensorsError) throw new UserError(e.message);
    if (e instanceof TrainingDiverged) throw new RunError(e.message);
    if (isFsError(e)) throw fsError(e);
    throw e;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** A negative number: '-1', '-.5', '-2.5e-3' (what follows an option is its value, not a flag). */
const NEGATIVE = /^-(\d|\.\d)/;

/**
 * Every command's flags, parsed strictly (node:util parseArgs) with two manners added, here for all
 * commands at once: a negative number after an option that takes a value is that value
 * ('--lr -1' reaches --lr's range check, where parseArgs alone calls it ambiguous), and an unknown
 * option is named with the nearest known one ("did you mean --hidden?").
 */
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>>;

export function parseFlags<const O extends Options>(command: string, argv: string[], options: O, allowPositionals = false): Parsed<O> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { args.push(...argv.slice(i)); break; }
    const name = a.startsWith('--') ? a.slice(2) : '';
    if (options[name]?.type === 'string' && i + 1 < argv.length && NEGATIVE.test(argv[i + 1])) { args.push(`${a}=${argv[++i]}`); continue; }
    args.push(a);
  }
  // A lenient pass names unknown options first (a strict one stops at the first, without a hint).
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option' || Object.prototype.hasOwnProperty.call(options, t.name)) continue;
    const long = t.rawName.startsWith('--');
    const hint = long ? closest(t.name, Object.keys(options)) : undefined;
    throw new UserError(`Unknown option '${printable(t.rawName, 40)}' for carousel ${command}${hint ? `; did you mean --${hint}?` : ` (see carousel ${command} --help)`}`);
  }
  return parseArgs({ args, options, strict: true, allowPositionals });
}

/** A flag's value quoted for a message: escaped and cut. */
const q = (v: string) => `'${printable(v, 60)}'`;

export function intFlag(name: string, v: string | undefined, def: number, min = 1): number {
  if (v === undefined) return def;
  const n = isDecimal(v.trim()) ? Number(v) : NaN; // the data files' grammar: '0x10' is not 16
  if (!Number.isInteger(n) || n < min) throw new UserError(`--${name}: expected an integer >= ${min}, got ${q(v)}`);
  return n;
}

export function numFlag(name: string, v: string | undefined, def: number, lo = -Infinity, hi = Infinity): number {
  if (v === undefined) return def;
  const n = isDecimal(v.trim()) ? Number(v) : NaN; // the data files' grammar: '0x10' is not 16
  if (v.trim() === '' || !Number.isFinite(n) || n < lo || n > hi) {
    throw new UserError(`--${name}: expected a number${lo > -Infinity ? ` >= ${lo}` : ''}${hi < Infinity ? ` and <= ${hi}` : ''}, got ${q(v)}`);
  }
  return n;
}

export function choiceFlag<T extends string>(name: string, v: string | undefined, choices: readonly T[], def?: T): T {
  if (v === undefined) {
    if (def === undefined) throw new UserError(`--${name} is required: one of ${choices.join(', ')}`);
    return def;
  }
  if (!choices.includes(v as T)) throw new UserError(`--${name}: expected one of ${choices.join(', ')}, got ${q(v)}`);
  return v as T;
}

export function requireFlag(name: string, v: string | undefined): string {
  if (v === undefined || v === '') throw new UserError(`--${name} is required (see --help)`);
  return v;
}

export function readText(path: string, what = 'data file'): string {
  try { return readFileSync(path, 'utf8'); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const p = printable(path, 200);
    if (code === 'ENOENT') throw new UserError(`${what} ${p}: no such file`);
    if (code === 'EISDIR') throw new UserError(`${what} ${p}: is a folder, expected a file`);
    throw isFsError(e) ? fsError(e) : e;
  }
}
