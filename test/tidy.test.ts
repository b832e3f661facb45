import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { WasmHeap } from '../src/backend/wasm/heap.js';
import { WasmBackend, wasmSimdSupported } from '../src/backend/wasm/index.js';
import { mseLoss } from '../src/loss/mse.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM } from '../src/nn/lstm.js';
import { add, mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { reshape } from '../src/ops/shape.js';
import { Adam } from '../src/optim/adam.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { keep, tidy } from '../src/tensor/tidy.js';

/**
 * tidy(): buffers made inside are freed when it returns, except what it returns, keep()-ed
 * tensors, parameters, gradients and optimizer state. Measured on the wasm backend, whose heap
 * counts the bytes in use and the blocks taken from new memory.
 */
describe('tidy()', { skip: !wasmSimdSupported() && 'no WebAssembly SIMD' }, () => {
  const be = new WasmBackend({ threads: 1 });
  after(() => be.terminate());
  const opts = { backend: be };
  const vec = (n: number, seed: number) => { const r = new Rng(seed); return tensor(Array.from({ length: n }, () => r.normal()), [n], opts); };

  it('frees the intermediates, keeps what is returned (also inside arrays and objects)', () => {
    const a = vec(1000, 1), b = vec(1000, 2);
    const base = be.heap.inUse;
    const r = tidy(() => {
      const s = add(a, b), p = mul(s, s);
      return { p, list: [add(p, a)] };
    });
    assert.equal(be.heap.inUse - base, 2 * WasmHeap.sizeClass(4000), 'two [1000] f32 results survive');
    const want = a.toArray().map((v, i) => (v + b.toArray()[i]) ** 2);
    r.p.toArray().forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-4));
    r.p.dispose(); r.list[0].dispose();
    assert.equal(be.heap.inUse, base);
  });

  it('nests: what an inner scope returns belongs to the outer one', () => {
    const a = vec(100, 3);
    const base = be.heap.inUse;
    let inner = a;
    const out = tidy(() => {
      inner = tidy(() => mul(add(a, a), a));
      return add(inner, a);
    });
    assert.equal(be.heap.inUse - base, WasmHeap.sizeClass(400), 'only the outer result is left');
    assert.throws(() => inner.toArray(), /used after it was freed.*tidy\(\)/, 'the inner result went with the outer scope');
    out.dispose();
  });

  it('keep() exempts a tensor; a throwing fn frees its buffers and rethrows; async functions are refused', () => {
    const a = vec(100, 4);
    const base = be.heap.inUse;
    let kept = a;
    tidy(() => { kept = keep(add(a, a)); mul(a, a); });
    assert.equal(be.heap.inUse - base, WasmHeap.sizeClass(400));
    assert.deepEqual(kept.toArray(), a.toArray().map((v) => Math.fround(v + v)));
    kept.dispose();
    assert.throws(() => tidy(() => { add(a, a); throw new Error('boom'); }), /boom/);
    assert.equal(be.heap.inUse, base);
    assert.throws(() => tidy((async () => add(a, a)) as never), /must be synchronous/);
    assert.equal(be.heap.inUse, base);
  });

  it('a training loop in tidy: same numbers as without, no new memory after the first step, flat heap', () => {
    function run(useTidy: boolean): { losses: number[]; fresh: number[]; inUse: number[] } {
      const rng = new Rng(7);
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 8 }, { backend: be, rng });
      const head = new Linear({ inFeatures: 8, outFeatures: 1 }, { backend: be, rng });
      const opt = new Adam([...lstm.parameters(), ...head.parameters()], { lr: 0.01 });
      const x = tensor(Array.from({ length: 5 * 4 * 3 }, () => rng.normal()), [5, 4, 3], opts);
      const y = tensor(Array.from({ length: 4 }, () => rng.normal()), [4, 1], opts);
      const losses: number[] = [], fresh: number[] = [], inUse: number[] = [];
      for (let i = 0; i < 6; i++) {
        const f0 = be.freshAllocations;
        const body = () => {
          opt.zeroGrad();
          const { hN } = lstm.forward(x);
          const loss = mseLoss(head.forward(reshape(hN, [4, 8])), y);
          backward(loss);
          clipGradNorm([...lstm.parameters(), ...head.parameters()], 0.5);
          opt.step();
          return loss.item();
        };
        losses.push(useTidy ? tidy(body) : body());
        fresh.push(be.freshAllocations - f0);
        inUse.push(be.heap.inUse);
      }
      return { losses, fresh, inUse };
    }
    const plain = run(false), tidied = run(true);
    assert.deepEqual(tidied.losses, plain.losses, 'tidy changes no number');
    assert.ok(tidied.fresh[0] > 0);
    // The second step may still meet a free list in another state than the first left it (a
    // gradient of step 1 is held until zeroGrad, and clipping writes a scaled copy of each of the 6
    // gradients while the old ones are alive): from the third on, nothing new.
    assert.ok(tidied.fresh[1] <= 6, `step 2 took ${tidied.fresh[1]} new blocks`);
    assert.deepEqual(tidied.fresh.slice(2), [0, 0, 0, 0], 'later steps take no new memory');
    assert.equal(new Set(tidied.inUse.slice(1)).size, 1, `bytes in use between steps stay the same: ${tidied.inUse.join(', ')}`);
    assert.ok(plain.inUse[5] > plain.inUse[1], 'without tidy the garbage waits for the collector (the heap grows)');
  });

  it('zeroGrad frees the gradient buffer', () => {
    const w = tensor([1, 2, 3], [3], { ...opts, requiresGrad: true });
    tidy(() => backward(sum(mul(w, w))));
    const g = w.grad!;
    assert.deepEqual(g.toArray(), [2, 4, 6]);
    w.zeroGrad();
    assert.equal(w.grad, null);
    assert.throws(() => g.toArray(), /used after it was freed/);
  });

  it('rejects a non-function', () => {
    assert.throws(() => tidy(42 as never), /tidy: expected a function, got number/);
  });
});
