import { BLANK, type Alphabet } from './alphabet.js';
import { EOS, type CharNgramLM } from './lm.js';

/** One utterance's per-frame log-probabilities: [T, C] row-major, class 0 the blank. */
export interface Posteriors { T: number; C: number; data: ArrayLike<number> }

export interface Hypothesis {
  text: string;
  /** log P_ctc(text | x): every alignment of the text summed (over the frames the beam kept). */
  ctcLogProb: number;
  /** log P_ctc + alpha log P_lm (EOS included) + beta * characters: what the beam ranks by. */
  score: number;
}

/** log(e^a + e^b), exact at -Infinity. */
export function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** Best path: the most likely class per frame, repeats merged, blanks dropped. */
export function greedyDecode(p: Posteriors, alphabet: Alphabet): string {
  const { T, C, data } = p;
  let out = '', prev = -1;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (data[t * C + c] > data[t * C + best]) best = c;
    if (best !== BLANK && best !== prev) out += alphabet.decode([best]);
    prev = best;
  }
  return out;
}

/** The words a lexicon allows, as a trie over their characters. */
export class Lexicon {
  readonly root: LexNode = { next: new Map(), word: false };
  /** Its distinct words, in the order first given. */
  readonly words: string[] = [];
  size = 0;
  constructor(words: Iterable<string>) {
    for (const w of words) {
      if (!w) continue;
      let n = this.root;
      for (const c of w) {
        let m = n.next.get(c);
        if (!m) { m = { next: new Map(), word: false }; n.next.set(c, m); }
        n = m;
      }
      if (!n.word) { n.word = true; this.size++; this.words.push(w); }
    }
    if (!this.size) throw new Error('Lexicon: no words');
  }
  has(word: string): boolean {
    let n: LexNode | undefined = this.root;
    for (const c of word) { n = n.next.get(c); if (!n) return false; }
    return n.word;
  }
}
export interface LexNode { next: Map<string, LexNode>; word: boolean }

export interface BeamOptions {
  beamWidth?: number;
  /** A character LM, weighted by alpha (0: the LM is ignored). */
  lm?: CharNgramLM | null;
  alpha?: number;
  /** Insertion bonus per character (beta), against the LM's bias to short outputs. */
  beta?: number;
  /** Only these words (space-separated) may be output. */
  lexicon?: Lexicon | null;
  /** Skip a character at a frame where its log-probability is below this (default -10; -Infinity: exact). */
  minLogProb?: number;
  topK?: number;
}

interface Beam { text: string; last: number; pb: number; pnb: number; lm: number; lex: LexNode | null }

/**
 * CTC prefix beam search with a character language model (Hannun et al. 2014): each prefix keeps
 * the probability of its alignments ending in a blank (pb) and in its last character (pnb); it is
 * ranked by log P_ctc + alpha log P_lm(prefix) + beta |prefix|, and the final ranking adds
 * alpha log P_lm(EOS | text). With a lexicon, a character extends a prefix only along a word of
 * the trie, and a space only after a complete word. With alpha = beta = 0, no lexicon and
 * minLogProb -Infinity this is exactly ctcBeamSearch (src/loss/ctcDecode.ts).
 */
export function beamDecode(p: Posteriors, alphabet: Alphabet, o: BeamOptions = {}): Hypothesis[] {
  const W = o.beamWidth ?? 16, alpha = o.alpha ?? 0, beta = o.beta ?? 0, minLp = o.minLogProb ?? -10, topK = o.topK ?? 1;
  if (!Number.isInteger(W) || W < 1) throw new Error(`beamDecode: beamWidth must be a positive integer, got ${W}`);
  const { T, C, data } = p;
  if (C !== alphabet.classes) throw new Error(`beamDecode: expected ${alphabet.classes} classes (the alphabet and the blank), got ${C}`);
  const lm = o.lm && alpha !== 0 ? o.lm.withVocabulary(alphabet.chars) : null;
  const lmIndex = lm ? alphabet.chars.map((c) => lm.symbols.indexOf(c)) : [];
  const lex = o.lexicon ?? null;
  const spaceClass = alphabet.classOf(' ');
  let beams: Beam[] = [{ text: '', last: -1, pb: 0, pnb: -Infinity, lm: 0, lex: lex?.root ?? null }];
  for (let t = 0; t < T; t++) {
    const row = t * C;
    const next = new Map<string, Beam>();
    const get = (b: Beam, c: number): Beam | null => {
      const text = c < 0 ? b.text : b.text + alphabet.chars[c - 1];
      let e = next.get(text);
      if (e) return e;
      let node = b.lex, score = b.lm;
      if (c >= 0) {
        if (lex) {
          if (c === spaceClass) { if (!node!.word) return null; node = lex.root; } else { node = node!.next.get(alphabet.chars[c - 1]) ?? null; if (!node) return null; }
        }
        if (lm) score += alpha * lm.logProbs(b.text)[lmIndex[c - 1]];
        score += beta;
      }
      e = { text, last: c < 0 ? b.last : c, pb: -Infinity, pnb: -Infinity, lm: score, lex: node };
      next.set(text, e);
      return e;
    };
    for (const b of beams) {
      const total = logAdd(b.pb, b.pnb);
      const same = get(b, -1)!;
      same.pb = logAdd(same.pb, total + data[row + BLANK]);
      for (let c = 1; c < C; c++) {
        const lp = data[row + c];
        if (lp < minLp) continue;
        if (c === b.last) {
          same.pnb = logAdd(same.pnb, b.pnb + lp); // a repeat without a blank merges
          const ext = get(b, c);
          if (ext) ext.pnb = logAdd(ext.pnb, b.pb + lp); // after a blank it is a new character
        } else {
          const ext = get(b, c);
          if (ext) ext.pnb = logAdd(ext.pnb, total + lp);
        }
      }
    }
    // Each prefix's score computed once, not in every comparison.
    beams = [...next.values()].map((b) => ({ b, s: logAdd(b.pb, b.pnb) + b.lm })).sort((x, y) => y.s - x.s).slice(0, W).map((x) => x.b);
  }
  const final = beams.map((b) => {
    const ctc = logAdd(b.pb, b.pnb);
    const end = lm ? alpha * lm.logProbs(b.text)[lm.symbols.indexOf(EOS)] : 0;
    // With a lexicon the last word must be complete too (a trailing space already was).
    const complete = !lex || b.text === '' || b.lex === lex.root || b.lex!.word;
    return { text: b.text.trimEnd(), ctcLogProb: ctc, score: ctc + b.lm + end, complete };
  });
  const ok = final.filter((h) => h.complete);
  return (ok.length ? ok : final).sort((a, b) => b.score - a.score).slice(0, topK).map(({ complete: _c, ...h }) => h);
}
