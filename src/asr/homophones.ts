import { editDistance, errorRates, type ErrorRates } from './metrics.js';

/**
 * Homophones of a word split: held-out words that sound like another spelling. A listener that
 * hears the sounds perfectly still cannot tell such words apart, so they set a floor on its
 * error rates that no acoustic model can beat.
 */

export interface WordSplit { train: readonly string[]; val: readonly string[]; test: readonly string[] }

export interface HomophoneFloor {
  testWords: number;
  /** Test words that sound like a training word (a different spelling: the splits share no words). */
  sharedWithTrain: number;
  /** Test words that sound like any other word of the three splits. */
  sharedWithAny: number;
  /** On the sharedWithTrain words, writing the training spelling that sounds alike (the closest to the truth of them). */
  trainChoice: ErrorRates;
  /** The same rule over all test words, every other test word spelled right. */
  trainChoiceAll: ErrorRates;
  /**
   * What a deterministic listener must get wrong even if it knew the test words: test words that
   * sound alike get one spelling between them. WER: all but one of each such group wrong (exact).
   * CER: a lower bound on the fewest character edits (exact for groups of two; larger groups:
   * the larger of the farthest pair's distance and the sum over pairs / (size - 1), by the
   * triangle inequality); `cerChoice` is what the best member of each group as the spelling gets,
   * an upper bound on the floor.
   */
  floor: { cer: number; cerChoice: number; wer: number; groups: number; chars: number; words: number };
}

const chars = (s: string) => [...s];

/** `sound(w)`: the word's phonemes as one string; words with equal strings sound alike. */
export function homophoneFloor(split: WordSplit, sound: (word: string) => string | undefined): HomophoneFloor {
  const soundOf = (w: string) => {
    const s = sound(w);
    if (s === undefined || s === '') throw new Error(`homophoneFloor: no phonemes for '${w}'`);
    return s;
  };
  const trainBy = new Map<string, string[]>();
  for (const w of split.train) { const s = soundOf(w); const g = trainBy.get(s); if (g) g.push(w); else trainBy.set(s, [w]); }
  const countAll = new Map<string, number>();
  for (const w of [...split.train, ...split.val, ...split.test]) { const s = soundOf(w); countAll.set(s, (countAll.get(s) ?? 0) + 1); }
  const closest = (w: string, cands: readonly string[]) => cands.reduce((best, c) => (editDistance(chars(c), chars(w)) < editDistance(chars(best), chars(w)) ? c : best));

  const shared: { ref: string; hyp: string }[] = [];
  const testBy = new Map<string, string[]>();
  let sharedWithAny = 0;
  for (const w of split.test) {
    const s = soundOf(w);
    const cands = trainBy.get(s);
    if (cands) shared.push({ ref: w, hyp: closest(w, cands) });
    if ((countAll.get(s) ?? 0) > 1) sharedWithAny++;
    const g = testBy.get(s); if (g) g.push(w); else testBy.set(s, [w]);
  }
  const hypOf = new Map(shared.map((p) => [p.ref, p.hyp]));

  let floorEdits = 0, choiceEdits = 0, wrongWords = 0, groups = 0, totalChars = 0;
  for (const w of split.test) totalChars += chars(w).length;
  for (const g of testBy.values()) {
    if (g.length < 2) continue;
    groups++;
    wrongWords += g.length - 1;
    let pairSum = 0, pairMax = 0;
    for (let i = 0; i < g.length; i++) for (let j = i + 1; j < g.length; j++) {
      const d = editDistance(chars(g[i]), chars(g[j]));
      pairSum += d; pairMax = Math.max(pairMax, d);
    }
    floorEdits += Math.max(pairMax, Math.ceil(pairSum / (g.length - 1)));
    choiceEdits += Math.min(...g.map((c) => g.reduce((t, w) => t + editDistance(chars(c), chars(w)), 0)));
  }
  const n = split.test.length;
  return {
    testWords: n,
    sharedWithTrain: shared.length,
    sharedWithAny,
    trainChoice: errorRates(shared.map((p) => p.ref), shared.map((p) => p.hyp)),
    trainChoiceAll: errorRates([...split.test], split.test.map((w) => hypOf.get(w) ?? w)),
    floor: { cer: floorEdits / Math.max(totalChars, 1), cerChoice: choiceEdits / Math.max(totalChars, 1), wer: wrongWords / Math.max(n, 1), groups, chars: totalChars, words: n },
  };
}
