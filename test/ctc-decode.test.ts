import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ctcLoss } from '../src/loss/ctc.js';
import { ctcBeamSearch, ctcGreedyDecode } from '../src/loss/ctcDecode.js';
import { logSoftmax } from '../src/ops/softmax.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { forEachBackend, hasF64, itemOf, widest } from './backends.js';

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
    const lp = tensor(oneHot([1, 1, 0, 1, 2, 2, 0, 0, 3], 4), [9, 1, 4], widest(backend));
    assert.deepEqual((await ctcGreedyDecode(lp))[0].labels, [1, 1, 2, 3]);
    assert.deepEqual((await ctcGreedyDecode(lp, [4]))[0].labels, [1, 1]);
  });
  it('prefix beam search finds the most probable labeling and its exact probability (vs brute force and ctcLoss)', async () => {
    const rng = new Rng(9);
    // f64 on the CPU backends; webgpu computes the log-probabilities and the loss in f32 (the
    // search itself runs on the host in f64): there they agree to f32 rounding of sums of ~5 terms.
    const [pTol, nllTol] = hasF64(backend) ? [1e-12, 1e-9] : [1e-6, 1e-5];
    for (let trial = 0; trial < 5; trial++) {
      const T = 5, C = 3;
      const logits = tensor(Array.from({ length: T * C }, () => rng.normal() * 1.5), [T, 1, C], widest(backend));
      const lp = logSoftmax(logits);
      const probs = bruteForce(await lp.data(), T, C);
      const [bestKey, bestP] = [...probs.entries()].sort((a, b) => b[1] - a[1])[0];
      const [top] = (await ctcBeamSearch(lp, { beamWidth: 64 }))[0];
      assert.equal(top.labels.join(','), bestKey);
      assert.ok(Math.abs(Math.exp(top.logProb) - bestP) < pTol, `${Math.exp(top.logProb)} vs ${bestP}`);
      if (top.labels.length > 0) {
        const nll = await itemOf(ctcLoss(lp, top.labels, [T], [top.labels.length], { reduction: 'sum' }));
        assert.ok(Math.abs(-nll - top.logProb) < nllTol, `${-nll} vs ${top.logProb}`);
      }
    }
  });
}, { asyncF32: true });
