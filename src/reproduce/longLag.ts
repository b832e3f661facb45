/**
 * Hochreiter and Schmidhuber 1997, experiment 2 (Table 2): noise-free sequences with long time
 * lags. An alphabet of p + 1 symbols (x, y, a_1 .. a_{p-1}), one-hot in and out.
 *   2a: two sequences, (y, a_1, ..., a_{p-1}, y) and (x, a_1, ..., a_{p-1}, x), equally likely;
 *       every next symbol is trained; only the last needs memory (of the first, p steps back).
 *   2b: as 2a, but the p - 1 middle symbols are drawn at random (no local regularities): only
 *       the last symbol is predictable, so only it is trained.
 * Criterion (ours, after the paper's "final sequence element predicted correctly"): at the last
 * step every output unit within 0.25 of its target, for each of 256 fresh test sequences.
 */
import type { Rng } from '../tensor/random.js';
import { allWithin } from './embeddedReber.js';
import type { SeqBatch, SeqNet, SeqTask } from './trainer.js';

/** Symbol indices: 0 = x, 1 = y, 1 + i = a_i (i = 1 .. p-1). */
export function longLagTask(p: number, randomMiddle: boolean): SeqTask {
  const n = p + 1; // alphabet size
  const batch = (rng: Rng, B: number): SeqBatch => {
    const T = p; // inputs: the first p symbols; targets: symbols 1 .. p
    const x = new Float32Array(T * B * n), target = new Float32Array(T * B * n), weight = new Float32Array(T * B);
    for (let b = 0; b < B; b++) {
      const first = rng.int(2);
      const seq = [first];
      for (let i = 1; i < p; i++) seq.push(1 + (randomMiddle ? 1 + rng.int(p - 1) : i));
      seq.push(first);
      for (let t = 0; t < T; t++) {
        const o = (t * B + b) * n;
        x[o + seq[t]] = 1;
        target[o + seq[t + 1]] = 1;
        weight[t * B + b] = randomMiddle && t < T - 1 ? 0 : 1;
      }
    }
    return { T, B, x, target, weight };
  };
  return {
    inputSize: n, outputSize: n, batch,
    async test(net: SeqNet, rng: Rng) {
      const b = batch(rng, 256);
      b.weight.fill(0, 0, (b.T - 1) * b.B); // scored at the last step only
      return allWithin(await net.predict(b), b, n, 0.25);
    },
  };
}
