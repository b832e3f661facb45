import { DataError } from '../data/errors.js';
import { printable } from '../data/printable.js';

/** CTC's blank class: index 0 of every model's output; the characters are 1..n. */
export const BLANK = 0;

/**
 * A transcript as the recognizer sees it: Unicode NFC, lower-case, every run of white space one
 * space, none at the ends. Training, evaluation and the language model all normalize alike, so
 * "Three  Oh" and "three oh" are one transcript.
 */
export function normalizeText(s: string): string {
  return s.normalize('NFC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * The characters a model can emit: those of its training transcripts, sorted, at classes
 * 1..n (0 is the blank). Saved in model.json as the list of characters.
 */
export class Alphabet {
  readonly chars: readonly string[];
  private readonly index = new Map<string, number>();

  constructor(chars: readonly string[]) {
    const seen = new Set<string>();
    for (const c of chars) {
      if (typeof c !== 'string' || [...c].length !== 1) throw new Error(`Alphabet: expected single characters, got ${JSON.stringify(c)}`);
      if (seen.has(c)) throw new Error(`Alphabet: character ${JSON.stringify(c)} appears twice`);
      if (c !== ' ' && /\s/u.test(c)) throw new Error(`Alphabet: white space other than ' ' cannot be a character, got ${JSON.stringify(c)}`);
      seen.add(c);
    }
    this.chars = [...chars];
    this.chars.forEach((c, i) => this.index.set(c, i + 1));
  }

  /** The characters of these (normalized) transcripts. */
  static fromTexts(texts: Iterable<string>): Alphabet {
    const set = new Set<string>();
    for (const t of texts) for (const c of normalizeText(t)) set.add(c);
    return new Alphabet([...set].sort());
  }

  /** Output classes: the characters and the blank. */
  get classes(): number { return this.chars.length + 1; }

  has(c: string): boolean { return this.index.has(c); }

  /** Class of one character (1..n), or undefined. */
  classOf(c: string): number | undefined { return this.index.get(c); }

  /**
   * A normalized transcript as classes 1..n. A character outside the alphabet is an error that
   * names it, where it is (`where`: the manifest line) and what the alphabet holds.
   */
  encode(text: string, where = 'transcript'): number[] {
    const t = normalizeText(text);
    const out: number[] = [];
    const unknown = new Set<string>();
    for (const c of t) {
      const k = this.index.get(c);
      if (k === undefined) unknown.add(c); else out.push(k);
    }
    if (unknown.size) {
      throw new DataError(`${where}: character${unknown.size > 1 ? 's' : ''} ${[...unknown].map((c) => JSON.stringify(c)).join(', ')} outside the model's alphabet (${printable(this.chars.join(''), 80)}) in ${JSON.stringify(printable(t, 60))}`);
    }
    return out;
  }

  /** Classes back to text (the blank and unknown classes are dropped). */
  decode(labels: readonly number[]): string {
    let s = '';
    for (const k of labels) if (k >= 1 && k <= this.chars.length) s += this.chars[k - 1];
    return s;
  }

  toJSON(): string[] { return [...this.chars]; }
}

/**
 * Frames CTC needs to emit this label sequence: one per label, plus a blank between each pair of
 * equal neighbours ("oo" needs o, blank, o).
 */
export function minFrames(labels: readonly number[]): number {
  let n = labels.length;
  for (let i = 1; i < labels.length; i++) if (labels[i] === labels[i - 1]) n++;
  return n;
}
