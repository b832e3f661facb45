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
import { forEachBackend, hasF64, itemOf, reference, sized, values, widest } from './backends.js';

const emptyFixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'ctc-empty');

function randomLogits(backend: Backend, rng: Rng, T: number, N: number, C: number, dtype: 'f32' | 'f64') {
  return tensor(Array.from({ length: T * N * C }, () => rng.normal() * 2), [T, N, C], { dtype, backend, requiresGrad: true });
}

forEachBackend('CTC loss', (backend, name) => {
  const F = widest(backend).dtype; // f64 on the CPU backends, f32 on webgpu
  const dtypes = hasF64(backend) ? ['f32', 'f64'] as const : ['f32'] as const;
  // PyTorch (>= 2.4, test/fixtures/ctc-empty/generate.py): input length 0 gives loss 0 with an empty
  // target and Infinity (0 with zeroInfinity) with a non-empty one; the gradient is 0 there.
  for (const dtype of ['f32', 'f64'] as const) {
    const skip = backend.dtypes.includes(dtype) ? false : `${backend.name} has no ${dtype} (the f32 twin of this test runs)`;
    it(`empty inputs follow PyTorch: the ctc-empty fixtures pass (${dtype})`, { skip }, async () => {
      const s = await runConformance([emptyFixtures], backend, dtype);
      assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
      assert.equal(s.passed, readdirSync(emptyFixtures).filter((f) => f.endsWith('.json')).length);
      assert.equal(s.passed, 4);
    });
  }
  it('input length 0: loss 0 and zero gradient with an empty target, Infinity without, 0 with zeroInfinity', async () => {
    for (const dtype of dtypes) {
      const x = randomLogits(backend, new Rng(9), 3, 2, 4, dtype);
      const lp = logSoftmax(x);
      const none = await values(ctcLoss(lp, [2], [0, 0], [0, 1], { reduction: 'none' }));
      assert.deepEqual(none, [0, Infinity], `${dtype} none`);
      const zi = await values(ctcLoss(lp, [2], [0, 0], [0, 1], { reduction: 'none', zeroInfinity: true }));
      assert.deepEqual(zi, [0, 0], `${dtype} zeroInfinity`);
      const loss = ctcLoss(lp, [], [0, 0], [0, 0], { reduction: 'mean' });
      assert.equal(await itemOf(loss), 0);
      backward(loss);
      const g = await values(x.grad!);
      assert.ok(g.every((v) => v === 0), `${dtype} gradient ${g}`);
    }
  });
  it('stays finite and exact over thousands of steps in float32 (vs float64)', async () => {
    const rng = new Rng(4);
    // The composed backend (CTC as a chain of core kernels) runs the same test on 1500 steps.
    const [T, T2, L1, L2] = sized(name, [4000, 3500, 300, 500], [1500, 1300, 120, 200]);
    const N = 2, C = 6;
    const vals = Array.from({ length: T * N * C }, () => rng.normal() * 2);
    const targets = Array.from({ length: L1 + L2 }, () => 1 + rng.int(C - 1));
    const run = async (dtype: 'f32' | 'f64', be: Backend) => {
      const x = tensor(vals, [T, N, C], { dtype, backend: be, requiresGrad: true });
      const loss = ctcLoss(logSoftmax(x), targets, [T, T2], [L1, L2], { reduction: 'sum' });
      backward(loss);
      return { loss: await itemOf(loss), grad: await x.grad!.data() };
    };
    // f32 on this backend against f64 on it, or on the reference where it has no f64 (webgpu).
    const a = await run('f32', backend), b = await run('f64', hasF64(backend) ? backend : reference);
    assert.ok(Number.isFinite(a.loss) && a.loss > 1000, `loss ${a.loss}`);
    assert.ok(Math.abs(a.loss - b.loss) / b.loss < 1e-5, `${a.loss} vs ${b.loss}`);
    let worst = 0;
    for (let i = 0; i < a.grad.length; i++) worst = Math.max(worst, Math.abs(a.grad[i] - b.grad[i]));
    // The CPU backends' f32 CTC computes in f64 inside (their f32 gradient is within 3e-7 of f64);
    // webgpu's computes in f32, whose rounding of α and β over 1500 steps moves the gradient by up
    // to 1.6e-4, as much as a correctly rounded f32 run of the same recursions does (measured with
    // Math.fround on every operation).
    const gTol = hasF64(backend) ? 1e-4 : 4e-4;
    assert.ok(worst < gTol, `gradient differs by ${worst}`);
  });
  it('its gradient w.r.t. log-probs sums to zero over classes at every valid step', async () => {
    const rng = new Rng(5);
    const x = randomLogits(backend, rng, 12, 3, 5, F);
    const lp = logSoftmax(x);
    lp.requiresGrad = true;
    const leafLp = tensor(await lp.data(), [12, 3, 5], { dtype: F, backend, requiresGrad: true });
    backward(ctcLoss(leafLp, [1, 2, 2, 3, 4, 1], [12, 9, 7], [3, 2, 1], { reduction: 'sum' }));
    const g = await leafLp.grad!.data();
    const tol = F === 'f64' ? 1e-12 : 1e-6; // webgpu: an f32 sum of 5 terms in [-1, 1]
    for (let t = 0; t < 12; t++) for (let n = 0; n < 3; n++) {
      let s = 0;
      for (let c = 0; c < 5; c++) s += g[(t * 3 + n) * 5 + c];
      const valid = t < [12, 9, 7][n];
      assert.ok(Math.abs(s) < tol, `t=${t} n=${n}: ${s}`);
      if (!valid) for (let c = 0; c < 5; c++) assert.equal(g[(t * 3 + n) * 5 + c], 0);
    }
  });
  it('unbatched [T, C] input equals a batch of one; padded targets equal concatenated ones', async () => {
    const rng = new Rng(6);
    const lp = logSoftmax(randomLogits(backend, rng, 7, 2, 4, F));
    const single = reshape(logSoftmax(randomLogits(backend, rng, 7, 1, 4, F)), [7, 4]);
    const a = ctcLoss(single, [1, 3], [7], [2], { reduction: 'none' });
    const b = ctcLoss(reshape(single, [7, 1, 4]), [1, 3], [7], [2], { reduction: 'none' });
    assert.deepEqual(a.shape, []);
    assert.equal(await itemOf(a), await itemOf(b));
    // Targets are read on the host: a tensor of them on a backend that reads only asynchronously
    // is refused with the reason (there, a host copy serves).
    if (!backend.readSync) {
      assert.throws(() => ctcLoss(lp, tensor([1, 3, 2, 2], [4], { dtype: 'i32', backend }), [7, 6], [3, 1]),
        /^Error: ctcLoss: targets is a tensor on backend 'webgpu', which reads only asynchronously: pass an array/);
    }
    const padded = tensor([1, 3, 2, 2, 0, 0], [2, 3], { dtype: 'i32', backend: backend.readSync ? backend : reference });
    const c = await itemOf(ctcLoss(lp, padded, [7, 6], [3, 1]));
    const d = await itemOf(ctcLoss(lp, [1, 3, 2, 2], [7, 6], [3, 1]));
    assert.equal(c, d);
  });
  it('empty targets: the probability of emitting only blanks', async () => {
    const rng = new Rng(8);
    const lp = logSoftmax(randomLogits(backend, rng, 5, 1, 3, F));
    const v = await lp.data();
    let blanks = 0;
    for (let t = 0; t < 5; t++) blanks += v[t * 3];
    const tol = F === 'f64' ? 1e-12 : 1e-5; // webgpu: an f32 sum of 5 log-probabilities of a few units
    assert.ok(Math.abs(await itemOf(ctcLoss(lp, [], [5], [0], { reduction: 'sum' })) + blanks) < tol);
  });
}, { asyncF32: true });
