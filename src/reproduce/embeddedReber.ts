/**
 * Hochreiter and Schmidhuber 1997, experiment 1 (Table 1): the embedded Reber grammar. At every
 * step the net sees one symbol (one-hot, 7 units) and predicts the legal next symbols (7 sigmoid
 * units, target 1 for each legal successor). Criterion (the paper's "all string symbols of all
 * test strings predicted correctly"): every output unit within 0.5 of its target, at every step
 * of every one of 256 fresh test strings.
 */
import type { Rng } from '../tensor/random.js';
import { embeddedReber, maskTargets, NSYM, type ReberString } from './reber.js';
import type { SeqBatch, SeqNet, SeqTask } from './trainer.js';

/** Time-major batch of whole strings, padded with weight 0 after each string's end. */
export function reberBatch(strings: ReberString[]): SeqBatch {
  const B = strings.length, T = Math.max(...strings.map((s) => s.symbols.length - 1));
  const x = new Float32Array(T * B * NSYM), target = new Float32Array(T * B * NSYM), weight = new Float32Array(T * B);
  strings.forEach((s, b) => {
    for (let t = 0; t < s.symbols.length - 1; t++) {
      const o = (t * B + b) * NSYM;
      x[o + s.symbols[t]] = 1;
      maskTargets(s.legal[t], target, o);
      weight[t * B + b] = 1;
    }
  });
  return { T, B, x, target, weight };
}

/** Whether every weighted output of every sequence is within tol of its target; and the fraction of sequences that are. */
export function allWithin(y: Float32Array, b: SeqBatch, O: number, tol: number): { pass: boolean; score: number } {
  let good = 0;
  for (let s = 0; s < b.B; s++) {
    let ok = true;
    for (let t = 0; t < b.T && ok; t++) {
      if (!b.weight[t * b.B + s]) continue;
      const o = (t * b.B + s) * O;
      for (let k = 0; k < O; k++) if (!(Math.abs(y[o + k] - b.target[o + k]) < tol)) { ok = false; break; }
    }
    if (ok) good++;
  }
  return { pass: good === b.B, score: good / b.B };
}

export const embeddedReberTask: SeqTask = {
  inputSize: NSYM,
  outputSize: NSYM,
  batch: (rng: Rng, B: number) => reberBatch(Array.from({ length: B }, () => embeddedReber(rng))),
  async test(net: SeqNet, rng: Rng) {
    const b = reberBatch(Array.from({ length: 256 }, () => embeddedReber(rng)));
    return allWithin(await net.predict(b), b, NSYM, 0.5);
  },
};
