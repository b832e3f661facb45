import { availableParallelism } from 'node:os';
import { pool } from '../io/pool.js';
import type { Posteriors } from './decode.js';
import { espeakPhonemes } from './espeakPhonemes.js';
import type { PhonemeSet } from './phonemes.js';
import { ctcLogLikelihood } from './rescore.js';

/**
 * Pronunciation rescoring: the phonemes a model heard (its hierarchical CTC output, train
 * --phoneme-layer) judge how each candidate spelling would sound. English spelling is ambiguous
 * from sound (`pecans`, `peckons`), and a character LM of other words cannot settle it; a
 * letter-to-sound model can, where a spelling's pronunciation differs from what was heard. The
 * letter-to-sound model is espeak-ng's rules (`espeak-ng -q -x`, a process per accent for a batch
 * of candidates, several at once), under every English accent, since the speaker's is not known: a
 * candidate's score is the best accent's mean, over the phoneme models, of log P_ctc(its phonemes).
 * For speech that espeak-ng rendered this is its own pronunciation; for recordings of people, a
 * stand-in letter-to-sound model.
 */

/** The fewest texts one espeak-ng process is given when a batch is sliced (Pronouncer.prepare). */
export const SLICE = 200;

/** Texts' phonemes under each accent, asked of espeak-ng once per text and accent. */
export class Pronouncer {
  private readonly cache = new Map<string, readonly string[]>(); // text -> phonemes, accent by accent

  /** `width`: how many espeak-ng processes run at once (default: one per core). */
  constructor(readonly accents: readonly string[], private readonly say: (words: readonly string[], voice: string) => Promise<string[]> = espeakPhonemes,
    private readonly width = availableParallelism()) {
    if (!accents.length) throw new Error('Pronouncer: expected at least one accent');
    if (!(Number.isInteger(width) && width >= 1)) throw new Error(`Pronouncer: expected a width of at least 1 process, got ${width}`);
  }

  /**
   * Look up every text not yet known: per accent, one batch, or with more cores than accents a
   * few slices of it (of at least SLICE texts), `width` processes at a time. espeak-ng's
   * translation is the time here (about 0.6 ms a word against 10 ms to start a process), and
   * rescoring 64 candidates of 3,200 utterances under 8 accents asks it up to 1.6 million times.
   */
  async prepare(texts: Iterable<string>): Promise<void> {
    const todo = [...new Set(texts)].filter((t) => t.trim() !== '' && !this.cache.has(t));
    if (!todo.length) return;
    const slices = Math.max(1, Math.min(Math.ceil(this.width / this.accents.length), Math.floor(todo.length / SLICE)));
    const size = Math.ceil(todo.length / slices);
    const jobs = this.accents.flatMap((_, a) => Array.from({ length: slices }, (_, k) => ({ a, from: k * size }))).filter((j) => j.from < todo.length);
    const perAccent = this.accents.map(() => new Array<string>(todo.length)); // [accent][text]
    await pool(jobs, this.width, async ({ a, from }) => {
      const part = todo.slice(from, from + size), said = await this.say(part, this.accents[a]);
      if (said.length !== part.length) throw new Error(`Pronouncer: expected ${part.length} pronunciations from ${this.accents[a]}, got ${said.length}`);
      said.forEach((p, i) => { perAccent[a][from + i] = p; });
    });
    todo.forEach((t, i) => this.cache.set(t, perAccent.map((p) => p[i])));
  }

  /** A prepared text's phonemes, accent by accent (the empty text: no phonemes). */
  of(text: string): readonly string[] {
    if (text.trim() === '') return this.accents.map(() => '');
    const p = this.cache.get(text);
    if (!p) throw new Error(`Pronouncer.of: ${JSON.stringify(text)} was not prepared`);
    return p;
  }

  get size(): number { return this.cache.size; }
}

/** One phoneme model's view of an utterance: its phoneme log-probabilities [T, P] and its tokens. */
export interface HeardPhonemes { post: Posteriors; set: PhonemeSet }

/**
 * The best accent's mean over `heard` (one entry per phoneme model) of log P_ctc(pronunciation).
 * A token outside a model's set (a sound no training utterance had) is left out of that
 * model's sequence, not fatal: one unknown sound should cost a little, not rule a spelling out.
 */
export function pronunciationScore(heard: readonly HeardPhonemes[], prons: readonly string[]): number {
  if (!heard.length) throw new Error('pronunciationScore: expected at least one phoneme model');
  let best = -Infinity;
  for (const pron of prons) {
    let sum = 0;
    for (const h of heard) sum += ctcLogLikelihood(h.post, h.set.encodeKnown(pron));
    best = Math.max(best, sum / heard.length);
  }
  return best;
}
