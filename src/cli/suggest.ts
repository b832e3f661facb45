/**
 * "Did you mean": the candidate nearest to a misspelled word, by edit distance (insertions,
 * deletions, substitutions and swaps of neighbours each count 1), or undefined when none is close.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  // Close means at most 1 edit for short words, 2 for longer ones, and fewer edits than letters kept.
  const limit = word.length <= 4 ? 1 : 2;
  let best: string | undefined, bestD = limit + 1;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD && d < Math.min(word.length, c.length)) { best = c; bestD = d; }
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: 'trian' -> 'train' is 1). */
export function editDistance(a: string, b: string): number {
  // d[i][j]: distance between a[0, i) and b[0, j); rows (a.length + 1) x (b.length + 1)
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
