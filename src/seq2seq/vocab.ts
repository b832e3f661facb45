/**
 * A sequence-to-sequence vocabulary: ids 0..3 are the specials <pad> <s> </s> <unk>, then the
 * tokens seen in the training data, sorted (so a vocabulary depends only on the set of tokens).
 * A side of the data is split into tokens either per character ('char': "hello") or at spaces
 * ('space': "HH AH L OW").
 */
export type Tokenization = 'char' | 'space';

export const PAD = 0, BOS = 1, EOS = 2, UNK = 3;
export const SPECIALS = ['<pad>', '<s>', '</s>', '<unk>'] as const;

/** The tokens of one side of a line. */
export function tokenize(text: string, mode: Tokenization): string[] {
  return mode === 'char' ? [...text] : text.split(' ').filter((t) => t !== '');
}

/** Tokens back to text: concatenated for 'char', space-separated for 'space'. */
export function detokenize(tokens: readonly string[], mode: Tokenization): string {
  return tokens.join(mode === 'char' ? '' : ' ');
}

export class Vocab {
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;

  /** tokens: the non-special tokens, in id order (ids from 4). */
  constructor(tokens: readonly string[], readonly mode: Tokenization) {
    this.tokens = [...SPECIALS, ...tokens];
    this.ids = new Map(this.tokens.map((t, i) => [t, i]));
    if (this.ids.size !== this.tokens.length) throw new Error(`Vocab: duplicate tokens in ${JSON.stringify(tokens.slice(0, 20))}`);
  }

  /** The vocabulary of a training side: every token seen, sorted. */
  static build(sequences: Iterable<readonly string[]>, mode: Tokenization): Vocab {
    const seen = new Set<string>();
    for (const s of sequences) for (const t of s) seen.add(t);
    for (const sp of SPECIALS) seen.delete(sp);
    return new Vocab([...seen].sort(), mode);
  }

  get size(): number { return this.tokens.length; }
  has(token: string): boolean { return this.ids.has(token) && !SPECIALS.includes(token as typeof SPECIALS[number]); }
  /** The token's id, or UNK. */
  id(token: string): number { return this.has(token) ? this.ids.get(token)! : UNK; }
  /** Ids of tokens, and the tokens that were not in the vocabulary (mapped to <unk>). */
  encode(tokens: readonly string[]): { ids: number[]; unknown: string[] } {
    const unknown: string[] = [];
    const ids = tokens.map((t) => { const i = this.id(t); if (i === UNK) unknown.push(t); return i; });
    return { ids, unknown };
  }
  /** Ids back to tokens, stopping at </s> and skipping <pad> and <s>. */
  decode(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (let k = 0; k < ids.length; k++) {
      const i = ids[k];
      if (i === EOS) break;
      if (i === PAD || i === BOS) continue;
      out.push(this.tokens[i] ?? SPECIALS[UNK]);
    }
    return out;
  }

  toJSON(): { mode: Tokenization; tokens: string[] } { return { mode: this.mode, tokens: this.tokens.slice(SPECIALS.length) }; }

  /** From model.json's config, checked (where names the field for the error). */
  static fromJSON(v: unknown, where: string): Vocab {
    const o = v as { mode?: unknown; tokens?: unknown };
    if (typeof o !== 'object' || o === null || (o.mode !== 'char' && o.mode !== 'space') || !Array.isArray(o.tokens)
      || o.tokens.some((t) => typeof t !== 'string' || t === '')) {
      throw new Error(`${where}: expected { mode: 'char'|'space', tokens: [non-empty strings] }, got ${JSON.stringify(v)?.slice(0, 80)}`);
    }
    return new Vocab(o.tokens as string[], o.mode);
  }
}
