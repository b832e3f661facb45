import { DataError } from './errors.js';

/** A character vocabulary: the sorted distinct characters (code points) of a training text. */
export class CharVocab {
  readonly chars: string[];
  private readonly index: Map<string, number>;

  constructor(chars: readonly string[]) {
    this.chars = [...chars];
    this.index = new Map(this.chars.map((c, i) => [c, i]));
    if (this.index.size !== this.chars.length) throw new Error('CharVocab: characters must be distinct');
  }

  static fromText(text: string): CharVocab {
    if (text.length === 0) throw new DataError('text: the file is empty (expected some text to learn from)');
    return new CharVocab([...new Set(Array.from(text))].sort());
  }

  get size(): number { return this.chars.length; }

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

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.chars[ids[i]];
    return s;
  }

  toJSON(): string[] { return [...this.chars]; }
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
