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
  rng: Rng;
}

/** Sample text from a character language model, one character at a time with carried state. */
export async function generateText(model: SequenceModel, vocab: CharVocab, o: GenerateOptions): Promise<string> {
  const temp = o.temperature ?? 1, topK = o.topK ?? 0;
  if (!(temp >= 0) || !Number.isFinite(temp)) throw new Error(`temperature: expected a number >= 0, got ${o.temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`top-k: expected a non-negative integer, got ${o.topK}`);
  if (!Number.isInteger(o.length) || o.length < 0) throw new Error(`length: expected a non-negative integer, got ${o.length}`);
  const seedIds = vocab.encode(o.seed.length ? o.seed : vocab.chars.includes('\n') ? '\n' : vocab.chars[0], 'seed text');
  const stream = new StreamingModel(model);
  try {
    // push() frees what it allocates (each output at the next push, the last one with the
    // stream): the loop stays flat without tidy(). Only the logits that a draw needs are read.
    for (let i = 0; i < seedIds.length - 1; i++) stream.push(seedIds[i]);
    let logits = (await stream.push(seedIds[seedIds.length - 1]).data()) as Float32Array;
    const V = vocab.size, out: number[] = [];
    const p = new Float64Array(V);
    for (let n = 0; n < o.length; n++) {
      const next = sample(logits, temp, topK, o.rng, p);
      out.push(next);
      if (n + 1 < o.length) logits = (await stream.push(next).data()) as Float32Array;
    }
    return vocab.decode(out);
  } finally {
    stream.dispose();
  }
}

/** Draw an index from softmax(logits / temperature), restricted to the top k. */
export function sample(logits: ArrayLike<number>, temperature: number, topK: number, rng: Rng, p = new Float64Array(logits.length)): number {
  const V = logits.length;
  let best = 0;
  for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
  if (temperature === 0) return best;
  let cutoff = -Infinity;
  if (topK > 0 && topK < V) cutoff = [...Array.from(logits)].sort((a, b) => b - a)[topK - 1];
  let z = 0;
  for (let i = 0; i < V; i++) { p[i] = logits[i] >= cutoff ? Math.exp((logits[i] - logits[best]) / temperature) : 0; z += p[i]; }
  let u = rng.next() * z;
  for (let i = 0; i < V; i++) { u -= p[i]; if (u < 0) return i; }
  return best;
}
