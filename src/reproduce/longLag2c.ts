/**
 * Hochreiter and Schmidhuber 1997, experiment 2c (section 5.2, Table 3): very long time lags, no
 * local regularities, many distractors. p + 4 symbols, one-hot: the distractors a_1 .. a_p, the
 * trigger e, the start b, and the two class symbols x, y.
 *   A sequence: b, then x or y (the class), then q distractors drawn at random (the prefix of
 *   length q + 2), then more random distractors each with probability 9/10, until e comes (1/10);
 *   after e the class symbol again. Length q + k + 4 (k >= 0 extra distractors), at least q + 4,
 *   q + 14 expected; the class must be held for at least q + 1 steps, through ~ (q + 10) / p
 *   occurrences of each distractor.
 * Only the last symbol is predictable, so only it is trained: two sigmoid outputs (x, y).
 * Criterion (the paper's): "prediction error (for final sequence element) of both output units
 * always below 0.2, for 10,000 successive, randomly chosen input sequences"; ours: both outputs
 * within 0.2 of the target at the last step of each of 10,000 fresh sequences.
 */
import type { Rng } from '../tensor/random.js';
import { allWithin } from './embeddedReber.js';
import type { SeqBatch, SeqNet, SeqTask } from './trainer.js';

/** Symbol indices for p distractors: 0 .. p-1 = a_1 .. a_p, then e, b, x, y. */
export const symbols2c = (p: number) => ({ e: p, b: p + 1, x: p + 2, y: p + 3, size: p + 4 });

/** One sequence of task 2c as symbol indices (its last element is the target, never an input). */
export function sequence2c(rng: Rng, q: number, p: number): number[] {
  const s = symbols2c(p);
  const cls = rng.int(2) === 0 ? s.x : s.y;
  const seq = [s.b, cls];
  for (let i = 0; i < q; i++) seq.push(rng.int(p));
  while (rng.next() < 0.9) seq.push(rng.int(p));
  seq.push(s.e, cls);
  return seq;
}

/** Sequences as a time-major batch, padded with weight 0 after each end; trained at each sequence's last step. */
function batch2c(seqs: number[][], p: number): SeqBatch {
  const n = p + 4, B = seqs.length, T = Math.max(...seqs.map((s) => s.length - 1));
  const x = new Float32Array(T * B * n), target = new Float32Array(T * B * 2), weight = new Float32Array(T * B);
  seqs.forEach((seq, b) => {
    const L = seq.length - 1; // inputs: all but the last symbol
    for (let t = 0; t < L; t++) x[(t * B + b) * n + seq[t]] = 1;
    target[((L - 1) * B + b) * 2 + (seq[L] === p + 2 ? 0 : 1)] = 1;
    weight[(L - 1) * B + b] = 1;
  });
  return { T, B, x, target, weight };
}

export function longLag2cTask(q: number, p: number): SeqTask {
  const make = (rng: Rng, B: number) => batch2c(Array.from({ length: B }, () => sequence2c(rng, q, p)), p);
  return {
    inputSize: p + 4, outputSize: 2,
    batch: make,
    async test(net: SeqNet, rng: Rng) {
      // 10,000 in chunks of 250; the first 1,000 screen (a net failing them is not tested further).
      let good = 0, seen = 0;
      for (let k = 0; k < 40; k++) {
        const b = make(rng, 250);
        const r = allWithin(await net.predict(b), b, 2, 0.2);
        good += r.score * b.B; seen += b.B;
        if (!r.pass && seen >= 1000) break;
      }
      return { pass: good === 10_000, score: good / seen };
    },
  };
}
