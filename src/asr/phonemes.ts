import { DataError } from '../data/errors.js';
import { printable } from '../data/printable.js';

/**
 * The sound tokens of hierarchical CTC's second output (train --phoneme-layer): those of the
 * training manifest's "phonemes" (space-separated tokens, as espeak-ng's "s m 'V D 3: m @ n"),
 * sorted, at classes 1..n (0 is the blank, as for the characters). Saved in model.json.
 */
export class PhonemeSet {
  readonly tokens: readonly string[];
  private readonly index = new Map<string, number>();

  constructor(tokens: readonly string[]) {
    for (const t of tokens) {
      if (typeof t !== 'string' || t === '' || /\s/u.test(t)) throw new Error(`PhonemeSet: expected tokens without white space, got ${JSON.stringify(t)}`);
      if (this.index.has(t)) throw new Error(`PhonemeSet: token ${JSON.stringify(t)} appears twice`);
      this.index.set(t, this.index.size + 1);
    }
    this.tokens = [...tokens];
  }

  /** The tokens of these transcriptions. */
  static fromStrings(all: Iterable<string>): PhonemeSet {
    const set = new Set<string>();
    for (const s of all) for (const t of split(s)) set.add(t);
    return new PhonemeSet([...set].sort());
  }

  /** Output classes: the tokens and the blank. */
  get classes(): number { return this.tokens.length + 1; }

  /** A transcription as classes 1..n; a token outside the set is an error naming it and `where`. */
  encode(s: string, where = 'phonemes'): number[] {
    const out: number[] = [], unknown = new Set<string>();
    for (const t of split(s)) {
      const k = this.index.get(t);
      if (k === undefined) unknown.add(t); else out.push(k);
    }
    if (unknown.size) throw new DataError(`${where}: phoneme${unknown.size > 1 ? 's' : ''} ${[...unknown].map((t) => JSON.stringify(t)).join(', ')} outside the model's ${this.tokens.length} (${printable(this.tokens.join(' '), 80)})`);
    return out;
  }

  /** A transcription as classes 1..n, tokens outside the set left out (pronunciation rescoring). */
  encodeKnown(s: string): number[] {
    const out: number[] = [];
    for (const t of split(s)) { const k = this.index.get(t); if (k !== undefined) out.push(k); }
    return out;
  }

  toJSON(): string[] { return [...this.tokens]; }
}

const split = (s: string) => s.trim().split(/\s+/u).filter(Boolean);
