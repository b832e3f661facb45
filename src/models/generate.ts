import type { CharVocab } from '../data/text.js';
import type { Rng } from '../tensor/random.js';
import type { SequenceModel } from './sequenceModel.js';
import { StreamingModel } from './stream.js';

export interface GenerateOptions {
  /** Characters to condition on (fed through the model first). */
  seed: string;
  length: number;
  /** Softmax temperature: < 1 sharper, > 1 more random; 0 = always the most likely character. */
  temperature?: number;
  /** Sample only among the k most likely characters (0: all). */
  topK?: number;
  /** Nucleus sampling: sample only among the most likely characters whose probabilities sum to at least p (1: all). */
  topP?: number;
  /**
   * CTRL-style repetition penalty (>= 1; 1: none): before temperature, each character that occurs
   * among the last `repetitionWindow` characters (seed text included) has its logit divided by R
   * when positive and multiplied by R when negative, so it becomes less likely.
   */
  repetitionPenalty?: number;
  /** How many of the most recent characters the repetition penalty looks at (default 32; 0: the whole text). */
  repetitionWindow?: number;
  /** Refuse seed text with characters outside the vocabulary (default: they read as the vocabulary's fallback, see CharVocab). */
  strictVocab?: boolean;
  rng: Rng;
}

/**
 * Sample text from a character language model, one character at a time with carried state. The
 * vocabulary's unknown-character entry, where it has one, is never drawn.
 */
export async function generateText(model: SequenceModel, vocab: CharVocab, o: GenerateOptions): Promise<string> {
  const temp = o.temperature ?? 1, topK = o.topK ?? 0, topP = o.topP ?? 1;
  const penalty = o.repetitionPenalty ?? 1, window = o.repetitionWindow ?? 32;
  if (!(temp >= 0) || !Number.isFinite(temp)) throw new Error(`temperature: expected a number >= 0, got ${o.temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`top-k: expected a non-negative integer, got ${o.topK}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`top-p: expected a number in (0, 1], got ${o.topP}`);
  if (!(penalty >= 1) || !Number.isFinite(penalty)) throw new Error(`repetition penalty: expected a number >= 1, got ${o.repetitionPenalty}`);
  if (!Number.isInteger(window) || window < 0) throw new Error(`repetition window: expected a non-negative integer, got ${o.repetitionWindow}`);
  if (!Number.isInteger(o.length) || o.length < 0) throw new Error(`length: expected a non-negative integer, got ${o.length}`);
  const seedText = o.seed.length ? o.seed : vocab.chars.includes('\n') ? '\n' : vocab.chars[0];
  const seedIds = o.strictVocab ? vocab.encode(seedText, 'seed text') : vocab.encodeLenient(seedText).ids;
  const stream = new StreamingModel(model);
  try {
    // push() frees what it allocates (each output at the next push, the last one with the
    // stream): the loop stays flat without tidy(). Only the logits that a draw needs are read.
    for (let i = 0; i < seedIds.length - 1; i++) stream.push(seedIds[i]);
    let logits = (await stream.push(seedIds[seedIds.length - 1]).data()) as Float32Array;
    const V = vocab.size, out: number[] = [], history = Array.from(seedIds);
    const p = new Float64Array(V), l = new Float64Array(V);
    for (let n = 0; n < o.length; n++) {
      l.set(logits);
      if (penalty !== 1) penalizeRepeats(l, window > 0 ? history.slice(-window) : history, penalty);
      if (vocab.unknown !== null) l[vocab.unknown] = -Infinity;
      const next = sample(l, temp, topK, o.rng, topP, p);
      out.push(next);
      history.push(next);
      if (n + 1 < o.length) logits = (await stream.push(next).data()) as Float32Array;
    }
    return vocab.decode(out);
  } finally {
    stream.dispose();
  }
}

/**
 * CTRL's repetition penalty (Keskar et al. 2019), in place: each distinct id in `recent` has its
 * logit divided by `penalty` when positive, multiplied by it when negative.
 */
export function penalizeRepeats(logits: { [i: number]: number; length: number }, recent: Iterable<number>, penalty: number): void {
  for (const i of new Set(recent)) logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty;
}

/**
 * Draw an index from softmax(logits / temperature), restricted to the top k and then to the
 * nucleus: the smallest set of most likely indices whose probability (within the top k) sums to
 * at least `topP`. Temperature 0 returns the most likely index. Entries of -Infinity are never drawn.
 */
export function sample(logits: ArrayLike<number>, temperature: number, topK: number, rng: Rng, topP = 1, p = new Float64Array(logits.length)): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
  if (temperature === 0) return best;
  let cutoff = -Infinity;
  if (topK > 0 && topK < V) cutoff = Array.from(logits).sort((a, b) => b - a)[topK - 1];
  let z = 0;
  for (let i = 0; i < V; i++) { p[i] = logits[i] >= cutoff ? Math.exp((logits[i] - logits[best]) / temperature) : 0; z += p[i]; }
  if (topP < 1) {
    // Most likely first (ties by index); keep indices until their mass reaches topP of the total.
    const order = Array.from({ length: V }, (_, i) => i).filter((i) => p[i] > 0).sort((a, b) => p[b] - p[a] || a - b);
    let kept = 0, k = 0;
    while (k < order.length && (k === 0 || kept < topP * z)) kept += p[order[k++]];
    for (let j = k; j < order.length; j++) p[order[j]] = 0;
    z = kept;
  }
  let u = rng.next() * z;
  for (let i = 0; i < V; i++) { u -= p[i]; if (u < 0) return i; }
  return best;
}
