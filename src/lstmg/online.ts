/**
 * Online training until a test passes: `trainOne(n)` learns from the n-th example (LSTM-g
 * updates its weights as it goes), and every `checkEvery` examples `test()` scores the net on
 * fresh data; training stops when the score reaches `criterion` or `budget` examples are spent.
 * Yields to the event loop between tests, so a long run stays interruptible.
 */
export interface OnlineResult { solved: boolean; /** Examples seen when solved; null when not. */ seen: number | null; score: number; seconds: number }

export async function trainOnline(o: {
  budget: number; checkEvery: number; criterion: number;
  trainOne: (n: number) => void; test: () => number; onTest?: (seen: number, score: number) => void;
}): Promise<OnlineResult> {
  const t0 = Date.now();
  let score = NaN;
  for (let seen = 0; seen < o.budget;) {
    for (let i = 0; i < o.checkEvery && seen < o.budget; i++, seen++) o.trainOne(seen);
    score = o.test();
    o.onTest?.(seen, score);
    if (score >= o.criterion) return { solved: true, seen, score, seconds: (Date.now() - t0) / 1000 };
    await new Promise((r) => setImmediate(r));
  }
  return { solved: false, seen: null, score, seconds: (Date.now() - t0) / 1000 };
}
