import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ctcLoss } from '../src/loss/ctc.js';
import { ctcBeamSearch, ctcGreedyDecode } from '../src/loss/ctcDecode.js';
import { logSoftmax } from '../src/ops/softmax.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { f64, forEachBackend } from './backends.js';

/** Brute force: probability of every labeling, summed over all C^T paths. */
function bruteForce(lp: ArrayLike<number>, T: number, C: number): Map<string, number> {
  const m = new Map<string, number>();
  const path = new Array<number>(T).fill(0);
  for (let k = 0; k < C ** T; k++) {
    let r = k, logp = 0;
    for (let t = 0; t < T; t++) { path[t] = r % C; r = Math.floor(r / C); logp += lp[t * C + path[t]]; }
    const labels: number[] = [];
    path.forEach((c, t) => { if (c !== 0 && (t === 0 || path[t - 1] !== c)) labels.push(c); });
    const key = labels.join(',');
    m.set(key, (m.get(key) ?? 0) + Math.exp(logp));
  }
  return m;
}

forEachBackend('CTC decoding', (backend) => {
  it('greedy decoding collapses repeats and removes blanks', async () => {
    const oneHot = (seq: number[], C: number) => seq.flatMap((c) => Array.from({ length: C }, (_, j) => (j === c ? 0 : -10)));
    const lp = tensor(oneHot([1, 1, 0, 1, 2, 2, 0, 0, 3], 4), [9, 1, 4], f64(backend));
    assert.deepEqual((await ctcGreedyDecode(lp))[0].labels, [1, 1, 2, 3]);
    assert.deepEqual((await ctcGreedyDecode(lp, [4]))[0].labels, [1, 1]);
  });
  it('prefix beam search finds the most probable labeling and its exact probability (vs brute force and ctcLoss)', async () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 5; trial++) {
      const T = 5, C = 3;
      const logits = tensor(Array.from({ length: T * C }, () => rng.normal() * 1.5), [T, 1, C], f64(backend));
      const lp = logSoftmax(logits);
      const probs = bruteForce(lp.dataSync(), T, C);
      const [bestKey, bestP] = [...probs.entries()].sort((a, b) => b[1] - a[1])[0];
      const [top] = (await ctcBeamSearch(lp, { beamWidth: 64 }))[0];
      assert.equal(top.labels.join(','), bestKey);
      assert.ok(Math.abs(Math.exp(top.logProb) - bestP) < 1e-12);
      if (top.labels.length > 0) {
        const nll = ctcLoss(lp, top.labels, [T], [top.labels.length], { reduction: 'sum' }).item();
        assert.ok(Math.abs(-nll - top.logProb) < 1e-9);
      }
    }
  });
});
