import { DataError } from './errors.js';
import type { Rng } from '../tensor/random.js';

/**
 * The unknown-character entry of a vocabulary: U+FFFD, the character Unicode reserves for "a
 * character that could not be represented" (also what a file's invalid UTF-8 reads as).
 */
export const UNKNOWN_CHAR = '\uFFFD';

/**
 * A character vocabulary: the sorted distinct characters (code points) of a training text and,
 * in models trained since it exists, an unknown-character entry (`unknown`, its index) that every
 * character outside the vocabulary reads as. A vocabulary without one (older models) reads such
 * characters as its fallback: space, or its first character when it has no space.
 */
export class CharVocab {
  readonly chars: string[];
  readonly unknown: number | null;
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[], unknown: number | null = null) {
    this.chars = [...chars];
    this.index = new Map(this.chars.map((c, i) => [c, i]));
    if (this.index.size !== this.chars.length) throw new Error('CharVocab: characters must be distinct');
    if (unknown !== null && !(Number.isInteger(unknown) && unknown >= 0 && unknown < this.chars.length)) {
      throw new Error(`CharVocab: expected unknown an index in [0, ${this.chars.length - 1}], got ${unknown}`);
    }
    this.unknown = unknown;
  }

  /** The text's distinct characters, sorted; with `unknown`, plus the unknown entry U+FFFD (last unless the text has it). */
  static fromText(text: string, o: { unknown?: boolean } = {}): CharVocab {
    if (text.length === 0) throw new DataError('text: the file is empty (expected some text to learn from)');
    const chars = [...new Set(Array.from(text))].sort();
    if (!o.unknown) return new CharVocab(chars);
    if (!chars.includes(UNKNOWN_CHAR)) chars.push(UNKNOWN_CHAR);
    return new CharVocab(chars, chars.indexOf(UNKNOWN_CHAR));
  }

  get size(): number { return this.chars.length; }

  /** The id a character outside the vocabulary reads as: the unknown entry, else space, else the first character. */
  get fallback(): number { return this.unknown ?? this.index.get(' ') ?? 0; }

  /** Text -> ids; a character outside the vocabulary is an error naming it. */
  encode(text: string, what = 'text'): Int32Array {
    const cps = Array.from(text);
    const out = new Int32Array(cps.length);
    cps.forEach((c, i) => {
      const k = this.index.get(c);
      if (k === undefined) throw new DataError(`${what}: character ${JSON.stringify(c)} at position ${i} is not in the model's vocabulary of ${this.size} characters`);
      out[i] = k;
    });
    return out;
  }

  /** Text -> ids, never refusing: characters outside the vocabulary read as `fallback` and are counted. */
  encodeLenient(text: string): { ids: Int32Array; unknown: number } {
    const cps = Array.from(text);
    const ids = new Int32Array(cps.length);
    let unknown = 0;
    cps.forEach((c, i) => {
      const k = this.index.get(c);
      if (k === undefined) unknown++;
      ids[i] = k ?? this.fallback;
    });
    return { ids, unknown };
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]];
    return s;
  }

  toJSON(): string[] { return [...this.chars]; }
}

/**
 * Replace a small share of a token stream (in place) by the unknown entry, at random positions,
 * at least one: the model then learns an embedding for "some character I do not know" and a
 * probability for meeting one, instead of an untrained row that only unseen text would reach.
 */
export function sprinkleUnknown(ids: Int32Array, unknown: number, share: number, rng: Rng): number {
  const n = Math.max(1, Math.round(ids.length * share));
  for (let k = 0; k < n; k++) ids[rng.int(ids.length)] = unknown;
  return n;
}

/**
 * Split a token stream into B parallel streams of equal length (PyTorch word_language_model's
 * batchify): stream b holds tokens [b*L, (b+1)*L). Truncated BPTT walks the streams in chunks,
 * carrying the state from one chunk to the next. Returns [L, B] time-major.
 */
export function batchify(ids: Int32Array, B: number): { data: Int32Array; L: number; B: number } {
  const L = Math.floor(ids.length / B);
  if (L < 2) throw new DataError(`text: ${ids.length} characters are too few for ${B} parallel streams (need at least ${2 * B}); use a smaller --batch-size or more text`);
  const data = new Int32Array(L * B);
  for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) data[t * B + b] = ids[b * L + t];
  return { data, L, B };
}
