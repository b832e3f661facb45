/** Levenshtein distance: the fewest insertions, deletions and substitutions that turn a into b. */
export function editDistance<T>(a: readonly T[], b: readonly T[]): number {
  // One row of the DP table [b.length + 1].
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = new Array<number>(b.length + 1);
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

export interface ErrorRates {
  /** Character edits over reference characters (spaces count), in [0, inf): a rate, not a percentage. */
  cer: number;
  /** Word edits over reference words. */
  wer: number;
  charErrors: number;
  chars: number;
  wordErrors: number;
  words: number;
}

const words = (s: string) => s.split(' ').filter(Boolean);

/**
 * Corpus character and word error rates: total edit distance over total reference length
 * (not a mean of per-utterance rates, so long utterances weigh by their length).
 */
export function errorRates(refs: readonly string[], hyps: readonly string[]): ErrorRates {
  if (refs.length !== hyps.length) throw new Error(`errorRates: ${refs.length} references but ${hyps.length} hypotheses`);
  let charErrors = 0, chars = 0, wordErrors = 0, nWords = 0;
  refs.forEach((r, i) => {
    const h = hyps[i];
    charErrors += editDistance([...r], [...h]); chars += [...r].length;
    const rw = words(r);
    wordErrors += editDistance(rw, words(h)); nWords += rw.length;
  });
  return { cer: charErrors / Math.max(chars, 1), wer: wordErrors / Math.max(nWords, 1), charErrors, chars, wordErrors, words: nWords };
}

/** A rate as evaluate prints it: a percentage with two decimals. */
export function percent(rate: number): string { return `${(100 * rate).toFixed(2)}%`; }
