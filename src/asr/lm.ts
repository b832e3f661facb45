import { readFileSync } from 'node:fs';
import { ModelFileError } from '../io/errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { normalizeText } from './alphabet.js';

/** Sentence start (context padding only, never predicted) and end (predicted after the last character). */
export const BOS = '\u0002';
export const EOS = '\u0003';

const FORMAT = 'carousel-char-lm';

/**
 * A character n-gram language model with interpolated Kneser-Ney smoothing (Chen & Goodman
 * 1998): the highest order uses raw counts, each lower order continuation counts (how many
 * distinct characters precede a gram), each order discounted by D = n1 / (n1 + 2 n2) and
 * interpolated down to the uniform distribution over the vocabulary and the end of sentence.
 * So every context, seen or not, gets a proper distribution that sums to 1. The space is the
 * end of a word like any other character; each sentence (a line of the corpus) starts from
 * order-1 BOS symbols and ends with EOS.
 */
export class CharNgramLM {
  /** Grams of length k at counts[k - 1] (raw at the highest order, continuation counts below). */
  private readonly counts: Map<string, number>[];
  /** Per order k: each context h (k - 1 symbols) -> [sum of counts(h w), number of w with counts(h w) > 0]. */
  private readonly contexts: Map<string, [number, number]>[];
  /** Predictable symbols: the vocabulary's characters, then EOS. */
  readonly symbols: readonly string[];
  private readonly symbolIndex = new Map<string, number>();
  private readonly cache = new Map<string, Float64Array>();

  /**
   * The LM weight and insertion bonus found best for some recognizer on held-out data (the demos
   * tune them; carousel lm --weight --bonus sets them): decoders' defaults. With `pronounce` and
   * `charlm`, the weights of pronunciation and LSTM LM rescoring found best with them (lm --tune
   * --pronounce, --charlm).
   */
  readonly tuned: Tuning | null;

  private constructor(readonly order: number, readonly vocabulary: readonly string[], counts: Map<string, number>[], readonly discounts: readonly number[],
    tuned: Tuning | null = null) {
    this.tuned = tuned;
    this.counts = counts;
    this.symbols = [...vocabulary, EOS];
    this.symbols.forEach((s, i) => this.symbolIndex.set(s, i));
    this.contexts = counts.map((m) => {
      const ctx = new Map<string, [number, number]>();
      for (const [g, c] of m) {
        const h = g.slice(0, -1);
        const e = ctx.get(h);
        if (e) { e[0] += c; e[1]++; } else ctx.set(h, [c, 1]);
      }
      return ctx;
    });
  }

  /** Count the n-grams of these lines (each normalized as transcripts are; empty lines skipped). */
  static train(lines: Iterable<string>, order: number): CharNgramLM {
    if (!Number.isInteger(order) || order < 1 || order > 12) throw new Error(`CharNgramLM: order must be an integer in [1, 12], got ${order}`);
    const top = new Map<string, number>();
    const chars = new Set<string>();
    const pad = BOS.repeat(order - 1);
    for (const line of lines) {
      const t = normalizeText(line);
      if (!t) continue;
      for (const c of t) chars.add(c);
      const s = [...pad, ...t, EOS];
      for (let i = order - 1; i < s.length; i++) {
        const g = s.slice(i - order + 1, i + 1).join('');
        top.set(g, (top.get(g) ?? 0) + 1);
      }
    }
    if (!top.size) throw new Error('CharNgramLM: the corpus has no text');
    const counts: Map<string, number>[] = new Array(order);
    counts[order - 1] = top;
    // Continuation counts: gram g of length k counts the distinct symbols x with x+g seen.
    for (let k = order - 1; k >= 1; k--) {
      const m = new Map<string, number>();
      for (const g of counts[k].keys()) { const s = g.slice(1); m.set(s, (m.get(s) ?? 0) + 1); }
      counts[k - 1] = m;
    }
    return new CharNgramLM(order, [...chars].sort(), counts, counts.map(discountOf));
  }

  /**
   * The same counts over a larger vocabulary (a recognizer's alphabet may hold characters the
   * corpus never had): the new characters get their share of the uniform base distribution.
   */
  withVocabulary(chars: Iterable<string>): CharNgramLM {
    const all = new Set(this.vocabulary);
    for (const c of chars) all.add(c);
    if (all.size === this.vocabulary.length) return this;
    return new CharNgramLM(this.order, [...all].sort(), this.counts, this.discounts, this.tuned);
  }

  /** The same model recommending this LM weight and insertion bonus (and rescoring weights) to decoders. */
  withTuning(weight: number, bonus: number, pronounce?: number, charlm?: number): CharNgramLM {
    if (!(weight >= 0) || !Number.isFinite(weight) || !Number.isFinite(bonus)) throw new Error(`CharNgramLM.withTuning: expected a weight >= 0 and a finite bonus, got ${weight}, ${bonus}`);
    if (pronounce !== undefined && !(pronounce >= 0 && Number.isFinite(pronounce))) throw new Error(`CharNgramLM.withTuning: expected a pronunciation weight >= 0, got ${pronounce}`);
    if (charlm !== undefined && !(charlm >= 0 && Number.isFinite(charlm))) throw new Error(`CharNgramLM.withTuning: expected a charlm weight >= 0, got ${charlm}`);
    return new CharNgramLM(this.order, this.vocabulary, this.counts, this.discounts, { weight, bonus, ...(pronounce !== undefined ? { pronounce } : {}), ...(charlm !== undefined ? { charlm } : {}) });
  }

  /** log P(symbol | history): history is the sentence so far (any length; its last order-1 symbols count). */
  logProb(symbol: string, history: string): number {
    const i = this.symbolIndex.get(symbol);
    if (i === undefined) return -Infinity;
    return this.logProbs(history)[i];
  }

  /** log P(s | history) for every s of `symbols` (cached per context). */
  logProbs(history: string): Float64Array {
    const n = this.order - 1;
    // The context: the last order-1 symbols, BOS-padded at the sentence start.
    const tail = [...history.slice(-2 * n - 2)].slice(-n);
    const h = n === 0 ? '' : BOS.repeat(n - tail.length) + tail.join('');
    let out = this.cache.get(h);
    if (!out) {
      out = new Float64Array(this.symbols.length);
      for (let i = 0; i < out.length; i++) out[i] = Math.log(this.prob(this.symbols[i], h));
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(h, out);
    }
    return out;
  }

  /** Interpolated KN probability of w after context h (h.length = the order used - 1). */
  private prob(w: string, h: string): number {
    const k = [...h].length + 1;
    const lower = k === 1 ? 1 / this.symbols.length : this.prob(w, [...h].slice(1).join(''));
    const ctx = this.contexts[k - 1].get(h);
    if (!ctx) return lower;
    const [total, types] = ctx, D = this.discounts[k - 1];
    const c = this.counts[k - 1].get(h + w) ?? 0;
    return Math.max(c - D, 0) / total + (D * types / total) * lower;
  }

  /** log P of a whole sentence, EOS included (natural log). */
  sentenceLogProb(text: string): number {
    const t = normalizeText(text);
    let lp = 0, hist = '';
    for (const c of t) { lp += this.logProb(c, hist); hist += c; }
    return lp + this.logProb(EOS, hist);
  }

  /** The count of a gram (raw at the highest order, continuation counts below); for tests and inspection. */
  count(gram: string): number { return this.counts[[...gram].length - 1]?.get(gram) ?? 0; }

  toJSON(): LmJson {
    return { format: FORMAT, version: 1, order: this.order, vocabulary: [...this.vocabulary], discounts: [...this.discounts], ...(this.tuned ? { tuned: this.tuned } : {}), ngrams: this.counts.map((m) => Object.fromEntries(m)) };
  }

  /** Rebuild from lm.json's content, every field checked (`file` names it in errors). */
  static fromJSON(raw: unknown, file = 'lm.json'): CharNgramLM {
    const bad = (field: string, expected: string, got: unknown) => ModelFileError.field(file, field, expected, got);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('(top level)', 'an object', raw);
    const o = raw as Record<string, unknown>;
    if (o.format !== FORMAT) throw bad('format', `"${FORMAT}" (made by carousel lm)`, o.format);
    if (o.version !== 1) throw bad('version', '1', o.version);
    const order = o.order;
    if (!Number.isInteger(order) || (order as number) < 1 || (order as number) > 12) throw bad('order', 'an integer in [1, 12]', order);
    const n = order as number;
    if (!Array.isArray(o.vocabulary) || !o.vocabulary.every((c) => typeof c === 'string' && [...c].length === 1 && c !== BOS && c !== EOS) || new Set(o.vocabulary).size !== o.vocabulary.length) {
      throw bad('vocabulary', 'a list of distinct single characters', o.vocabulary);
    }
    if (!Array.isArray(o.discounts) || o.discounts.length !== n || !o.discounts.every((d) => typeof d === 'number' && d > 0 && d <= 1)) throw bad('discounts', `${n} numbers in (0, 1]`, o.discounts);
    if (!Array.isArray(o.ngrams) || o.ngrams.length !== n) throw bad('ngrams', `${n} objects (one per order)`, o.ngrams);
    const known = new Set([...(o.vocabulary as string[]), BOS, EOS]);
    const counts = o.ngrams.map((m, k) => {
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw bad(`ngrams[${k}]`, 'an object of gram: count', m);
      const map = new Map<string, number>();
      for (const [g, c] of Object.entries(m as Record<string, unknown>)) {
        const sy = [...g];
        if (sy.length !== k + 1 || !sy.every((s) => known.has(s)) || sy[k] === BOS) throw bad(`ngrams[${k}]`, `grams of ${k + 1} vocabulary symbols`, g);
        if (!Number.isSafeInteger(c) || (c as number) < 1) throw bad(`ngrams[${k}][${JSON.stringify(g)}]`, 'a positive integer count', c);
        map.set(g, c as number);
      }
      return map;
    });
    if (!counts[0].size) throw bad('ngrams[0]', 'at least one unigram', o.ngrams[0]);
    const t = o.tuned as Record<string, unknown> | undefined;
    const optionalWeight = (x: unknown) => x === undefined || (typeof x === 'number' && x >= 0 && Number.isFinite(x));
    if (t !== undefined && (typeof t !== 'object' || t === null || typeof t.weight !== 'number' || !(t.weight >= 0) || !Number.isFinite(t.weight) || typeof t.bonus !== 'number' || !Number.isFinite(t.bonus)
      || !optionalWeight(t.pronounce) || !optionalWeight(t.charlm))) {
      throw bad('tuned', '{ weight: a number >= 0, bonus: a number, pronounce and charlm (optional): numbers >= 0 }', t);
    }
    const tuned = t ? { weight: t.weight as number, bonus: t.bonus as number, ...(t.pronounce !== undefined ? { pronounce: t.pronounce as number } : {}), ...(t.charlm !== undefined ? { charlm: t.charlm as number } : {}) } : null;
    return new CharNgramLM(n, o.vocabulary as string[], counts, o.discounts as number[], tuned);
  }

  save(path: string): void { writeFileAtomic(path, JSON.stringify(this.toJSON())); }

  static load(path: string): CharNgramLM {
    let text: string;
    try { text = readFileSync(path, 'utf8'); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ModelFileError(`language model ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, expected lm.json' : (e as Error).message}`, path);
    }
    let raw: unknown;
    try { raw = JSON.parse(text); } catch (e) { throw new ModelFileError(`language model ${path}: not JSON (${(e as Error).message})`, path); }
    return CharNgramLM.fromJSON(raw, path);
  }
}

/** Decoding settings tuned with an LM: its weight, the insertion bonus, optionally the pronunciation and LSTM LM (charlm) weights. */
export interface Tuning { weight: number; bonus: number; pronounce?: number; charlm?: number }

export interface LmJson {
  format: typeof FORMAT;
  version: 1;
  order: number;
  vocabulary: string[];
  discounts: number[];
  /** Decoders' default LM weight and insertion bonus (and pronunciation weight). */
  tuned?: Tuning;
  /** ngrams[k]: grams of k + 1 symbols (BOS = \u0002, EOS = \u0003) -> count. */
  ngrams: Record<string, number>[];
}

/** Ney's discount from the counts of counts: n1 / (n1 + 2 n2), kept in [0.1, 1]. */
function discountOf(m: Map<string, number>): number {
  let n1 = 0, n2 = 0;
  for (const c of m.values()) { if (c === 1) n1++; else if (c === 2) n2++; }
  const d = n1 + 2 * n2 > 0 ? n1 / (n1 + 2 * n2) : 0.5;
  return Math.min(1, Math.max(0.1, d));
}
