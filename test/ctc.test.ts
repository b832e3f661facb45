import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { backward } from '../src/autograd/tape.js';
import { ctcLoss } from '../src/loss/ctc.js';
import { logSoftmax } from '../src/ops/softmax.js';
import { reshape } from '../src/ops/shape.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { runConformance } from '../src/conformance/runner.js';
import { forEachBackend, sized } from './backends.js';

const emptyFixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'ctc-empty');

function randomLogits(backend: Backend, rng: Rng, T: number, N: number, C: number, dtype: 'f32' | 'f64') {
  return tensor(Array.from({ length: T * N * C }, () => rng.normal() * 2), [T, N, C], { dtype, backend, requiresGrad: true });
}

forEachBackend('CTC loss', (backend, name) => {
  // PyTorch (>= 2.4, test/fixtures/ctc-empty/generate.py): input length 0 gives loss 0 with an empty
  // target and Infinity (0 with zeroInfinity) with a non-empty one; the gradient is 0 there.
  for (const dtype of ['f32', 'f64'] as const) {
    it(`empty inputs follow PyTorch: the ctc-empty fixtures pass (${dtype})`, async () => {
      const s = await runConformance([emptyFixtures], backend, dtype);
      assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
      assert.equal(s.passed, readdirSync(emptyFixtures).filter((f) => f.endsWith('.json')).length);
      assert.equal(s.passed, 4);
    });
  }
  it('input length 0: loss 0 and zero gradient with an empty target, Infinity without, 0 with zeroInfinity', () => {
    for (const dtype of ['f32', 'f64'] as const) {
      const x = randomLogits(backend, new Rng(9), 3, 2, 4, dtype);
      const lp = logSoftmax(x);
      const none = ctcLoss(lp, [2], [0, 0], [0, 1], { reduction: 'none' }).toArray();
      assert.deepEqual(none, [0, Infinity], `${dtype} none`);
      const zi = ctcLoss(lp, [2], [0, 0], [0, 1], { reduction: 'none', zeroInfinity: true }).toArray();
      assert.deepEqual(zi, [0, 0], `${dtype} zeroInfinity`);
      const loss = ctcLoss(lp, [], [0, 0], [0, 0], { reduction: 'mean' });
      assert.equal(loss.item(), 0);
      backward(loss);
      assert.ok(x.grad!.toArray().every((v) => v === 0), `${dtype} gradient ${x.grad!.toArray()}`);
    }
  });
  it('stays finite and exact over thousands of steps in float32 (vs float64)', () => {
    const rng = new Rng(4);
    // The composed backend (CTC as a chain of core kernels) runs the same test on 1500 steps.
    const [T, T2, L1, L2] = sized(name, [4000, 3500, 300, 500], [1500, 1300, 120, 200]);
    const N = 2, C = 6;
    const vals = Array.from({ length: T * N * C }, () => rng.normal() * 2);
    const targets = Array.from({ length: L1 + L2 }, () => 1 + rng.int(C - 1));
    const run = (dtype: 'f32' | 'f64') => {
      const x = tensor(vals, [T, N, C], { dtype, backend, requiresGrad: true });
      const loss = ctcLoss(logSoftmax(x), targets, [T, T2], [L1, L2], { reduction: 'sum' });
      backward(loss);
      return { loss: loss.item(), grad: x.grad!.dataSync() };
    };
    const a = run('f32'), b = run('f64');
    assert.ok(Number.isFinite(a.loss) && a.loss > 1000, `loss ${a.loss}`);
    assert.ok(Math.abs(a.loss - b.loss) / b.loss < 1e-5, `${a.loss} vs ${b.loss}`);
    let worst = 0;
    for (let i = 0; i < a.grad.length; i++) worst = Math.max(worst, Math.abs(a.grad[i] - b.grad[i]));
    assert.ok(worst < 1e-4, `gradient differs by ${worst}`);
  });
  it('its gradient w.r.t. log-probs sums to zero over classes at every valid step', () => {
    const rng = new Rng(5);
    const x = randomLogits(backend, rng, 12, 3, 5, 'f64');
    const lp = logSoftmax(x);
    lp.requiresGrad = true;
    const leafLp = tensor(lp.dataSync(), [12, 3, 5], { dtype: 'f64', backend, requiresGrad: true });
    backward(ctcLoss(leafLp, [1, 2, 2, 3, 4, 1], [12, 9, 7], [3, 2, 1], { reduction: 'sum' }));
    const g = leafLp.grad!.dataSync();
    for (let t = 0; t < 12; t++) for (let n = 0; n < 3; n++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += g[(t * 3 + n) * 5 + c];
      const valid = t < [12, 9, 7][n];
      assert.ok(Math.abs(s) < 1e-12, `t=${t} n=${n}: ${s}`);
      if (!valid) for (let c = 0; c < 5; c++) assert.equal(g[(t * 3 + n) * 5 + c], 0);
    }
  });
  it('unbatched [T, C] input equals a batch of one; padded targets equal concatenated ones', () => {
    const rng = new Rng(6);
    const lp = logSoftmax(randomLogits(backend, rng, 7, 2, 4, 'f64'));
    const single = reshape(logSoftmax(randomLogits(backend, rng, 7, 1, 4, 'f64')), [7, 4]);
    const a = ctcLoss(single, [1, 3], [7], [2], { reduction: 'none' });
    const b = ctcLoss(reshape(single, [7, 1, 4]), [1, 3], [7], [2], { reduction: 'none' });
    assert.deepEqual(a.shape, []);
    assert.equal(a.item(), b.item());
    const padded = tensor([1, 3, 2, 2, 0, 0], [2, 3], { dtype: 'i32', backend });
    const c = ctcLoss(lp, padded, [7, 6], [3, 1]).item();
    const d = ctcLoss(lp, [1, 3, 2, 2], [7, 6], [3, 1]).item();
    assert.equal(c, d);
  });
  it('empty targets: the probability of emitting only blanks', () => {
    const rng = new Rng(8);
    const lp = logSoftmax(randomLogits(backend, rng, 5, 1, 3, 'f64'));
    const v = lp.dataSync();
    let blanks = 0;
    for (let t = 0; t < 5; t++) blanks += v[t * 3];
    assert.ok(Math.abs(ctcLoss(lp, [], [5], [0], { reduction: 'sum' }).item() + blanks) < 1e-12);
  });
});
