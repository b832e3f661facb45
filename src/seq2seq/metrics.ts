/**
 * Token and sequence error rates of outputs against references, as G2P papers score them
 * (phoneme error rate PER, word error rate WER): per source, the reference closest to the output
 * (fewest edits; a source may have several, e.g. a word's pronunciations) counts;
 *   token error rate = sum of edit distances / sum of those references' lengths
 *   sequence error rate = fraction of sources whose output equals none of their references.
 */

/** Levenshtein distance between token sequences (insertions, deletions, substitutions cost 1). */
export function editDistance(a: readonly string[], b: readonly string[]): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** The closest reference to an output: its edit distance and length (ties: the shorter reference). */
export function bestReference(output: readonly string[], refs: readonly (readonly string[])[]): { distance: number; length: number } {
  if (refs.length === 0) throw new Error('bestReference: expected at least one reference');
  let best = { distance: Infinity, length: 0 };
  for (const r of refs) {
    const d = editDistance(output, r);
    if (d < best.distance || (d === best.distance && r.length < best.length)) best = { distance: d, length: r.length };
  }
  return best;
}

export interface ErrorRates {
  /** Token error rate (PER for G2P), a fraction. */
  tokenErrorRate: number;
  /** Sequence error rate (WER for G2P), a fraction. */
  sequenceErrorRate: number;
  sequences: number;
  edits: number;
  referenceTokens: number;
  wrongSequences: number;
}

export function errorRates(outputs: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[]): ErrorRates {
  if (outputs.length !== references.length) throw new Error(`errorRates: expected one reference list per output, got ${references.length} for ${outputs.length}`);
  let edits = 0, referenceTokens = 0, wrong = 0;
  outputs.forEach((o, i) => {
    const b = bestReference(o, references[i]);
    edits += b.distance; referenceTokens += b.length;
    if (b.distance > 0) wrong++;
  });
  const n = outputs.length;
  return {
    tokenErrorRate: referenceTokens ? edits / referenceTokens : 0, sequenceErrorRate: n ? wrong / n : 0,
    sequences: n, edits, referenceTokens, wrongSequences: wrong,
  };
}
