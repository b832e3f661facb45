/**
 * Hochreiter and Schmidhuber 1997, experiment 6 (Table 9): temporal order. Sequences of length
 * uniform in [100, 110] over {a, b, c, d} start with E and end with B; relevant symbols X or Y
 * sit at fixed windows: 6a two of them (t1 in [10, 20], t2 in [50, 60]) giving 4 classes (XX, XY,
 * YX, YY); 6b three (t1 in [10, 20], t2 in [33, 43], t3 in [66, 76]) giving 8 classes. One-hot
 * input (8 units), one sigmoid output per class, trained at the last step only.
 * Criterion (the paper's): a sequence is right when every output unit is within 0.3 of its
 * target at the end; all of 2000 fresh test sequences must be right.
 */
import type { Rng } from '../tensor/random.js';
import { allWithin } from './embeddedReber.js';
import type { SeqBatch, SeqNet, SeqTask } from './trainer.js';

const [A, E, BEND, XS] = [0, 4, 5, 6]; // a..d = 0..3, E = 4, B = 5, X = 6, Y = 7
const WINDOWS: Record<'6a' | '6b', [number, number][]> = {
  '6a': [[10, 20], [50, 60]],
  '6b': [[10, 20], [33, 43], [66, 76]],
};

export function temporalOrderTask(kind: '6a' | '6b'): SeqTask {
  const windows = WINDOWS[kind], classes = 1 << windows.length;
  const batch = (rng: Rng, B: number): SeqBatch => {
    const L = 100 + rng.int(11);
    const x = new Float32Array(L * B * 8), target = new Float32Array(L * B * classes), weight = new Float32Array(L * B);
    for (let b = 0; b < B; b++) {
      const seq = Array.from({ length: L }, () => A + rng.int(4));
      seq[0] = E; seq[L - 1] = BEND;
      let cls = 0;
      for (const [lo, hi] of windows) {
        const which = rng.int(2); // 0 = X, 1 = Y
        seq[lo + rng.int(hi - lo + 1)] = XS + which;
        cls = cls * 2 + which;
      }
      for (let t = 0; t < L; t++) x[(t * B + b) * 8 + seq[t]] = 1;
      target[((L - 1) * B + b) * classes + cls] = 1;
      weight[(L - 1) * B + b] = 1;
    }
    return { T: L, B, x, target, weight };
  };
  return {
    inputSize: 8, outputSize: classes, batch,
    async test(net: SeqNet, rng: Rng) {
      let good = 0, pass = true;
      for (let k = 0; k < 8; k++) {
        const b = batch(rng, 250);
        const r = allWithin(await net.predict(b), b, classes, 0.3);
        good += r.score * b.B; pass &&= r.pass;
      }
      return { pass, score: good / 2000 };
    },
  };
}
