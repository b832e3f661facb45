/**
 * Hochreiter and Schmidhuber 1997, experiment 4 (Table 7): the adding problem. Each step has two
 * inputs: a value uniform in [-1, 1] and a marker. Two steps are marked 1: one among the first
 * 10, one among the first T/2 - 1 (a different one); the first and last steps are marked -1
 * unless marked 1; all others 0. Sequence length is uniform in [T, T + T/10] (here one length
 * per batch). At the end the net outputs 0.5 + (X1 + X2) / 4 (sigmoid unit, in [0, 1]).
 * Criterion (the paper's): a sequence is right when its absolute error is below 0.04; all of
 * 2000 fresh test sequences must be right (the paper: the 2000 most recent training sequences).
 */
import type { Rng } from '../tensor/random.js';
import { allWithin } from './embeddedReber.js';
import type { SeqBatch, SeqNet, SeqTask } from './trainer.js';

export function addingTask(T: number): SeqTask {
  const batch = (rng: Rng, B: number): SeqBatch => {
    const L = T + rng.int(Math.floor(T / 10) + 1);
    const x = new Float32Array(L * B * 2), target = new Float32Array(L * B), weight = new Float32Array(L * B);
    for (let b = 0; b < B; b++) {
      const i1 = rng.int(10);
      let i2 = rng.int(Math.floor(T / 2) - 1);
      while (i2 === i1) i2 = rng.int(Math.floor(T / 2) - 1);
      let sum = 0;
      for (let t = 0; t < L; t++) {
        const o = (t * B + b) * 2, v = rng.uniform(-1, 1);
        x[o] = v;
        if (t === i1 || t === i2) { x[o + 1] = 1; sum += v; } else if (t === 0 || t === L - 1) x[o + 1] = -1;
      }
      target[(L - 1) * B + b] = 0.5 + sum / 4;
      weight[(L - 1) * B + b] = 1;
    }
    return { T: L, B, x, target, weight };
  };
  return {
    inputSize: 2, outputSize: 1, batch,
    async test(net: SeqNet, rng: Rng) {
      let good = 0, pass = true;
      for (let k = 0; k < 8; k++) { // 8 x 250 = 2000 sequences
        const b = batch(rng, 250);
        const r = allWithin(await net.predict(b), b, 1, 0.04);
        good += r.score * b.B; pass &&= r.pass;
      }
      return { pass, score: good / 2000 };
    },
  };
}
