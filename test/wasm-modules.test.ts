import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { WasmBackend, wasmSimdSupported } from '../src/backend/wasm/index.js';
import { GRU } from '../src/nn/gru.js';
import { LSTM } from '../src/nn/lstm.js';
import { mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { SGD } from '../src/optim/sgd.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { tidy } from '../src/tensor/tidy.js';

/**
 * Whole recurrent modules on the wasm backend against the same modules on the reference backend,
 * at sizes where the wasm backend takes its fused and threaded paths (the fused LSTM step needs
 * H a multiple of 8 and at least 4 rows, its backward 8 rows; the thresholds are set to 0 so every
 * split happens):
 * forward outputs, final states, every parameter's gradient and the input gradient, then a few
 * training steps. Bidirectional, 2 layers, variable lengths, so the reverse direction, the shrinking
 * active block and the second layer's input all go through those paths.
 */
describe('modules on wasm (fused, threaded) match the reference', { skip: !wasmSimdSupported() && 'no WebAssembly SIMD' }, () => {
  const ref = new ReferenceBackend();
  let wasm: WasmBackend;
  before(async () => {
    wasm = new WasmBackend({ threads: 2 });
    wasm.parallelMinMacs = 0; wasm.rowParallelMinElements = 0; wasm.linear2ParallelMinMacs = 0;
    await wasm.ready();
  });
  after(() => wasm.terminate());

  // B = 10 with lengths: the early steps have 8 or more active rows (the fused backward step), the late ones fewer.
  const T = 7, B = 10, I = 5, lengths = [7, 3, 7, 5, 1, 6, 7, 7, 4, 6];
  function close(got: readonly number[], want: readonly number[], what: string, tol = 2e-5): void {
    assert.equal(got.length, want.length, `${what}: length`);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
    assert.ok(worst <= tol, `${what}: worst relative difference ${worst}`);
  }

  function runLstm(be: Backend, H: number): { outs: number[][]; grads: number[][]; after: number[][] } {
    const rng = new Rng(11);
    const m = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true }, { backend: be, rng });
    const x = tensor(Array.from({ length: T * B * I }, () => rng.normal()), [T, B, I], { backend: be, requiresGrad: true });
    const w = tensor(Array.from({ length: T * B * 2 * H }, () => rng.normal()), [T, B, 2 * H], { backend: be });
    const outs = tidy(() => {
      const r = m.forward(x, { lengths });
      backward(sum(mul(r.y, w)));
      return [r.y.toArray(), r.hN.toArray(), r.cN.toArray()];
    });
    const grads = [...m.parameters()].map((p) => p.grad!.toArray()).concat([x.grad!.toArray()]);
    // SGD with momentum: linear in the gradients (Adam's first steps amplify a sign flip of a
    // near-zero gradient element to the full learning rate, so it cannot be compared this way).
    const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    for (let s = 0; s < 3; s++) {
      tidy(() => { opt.zeroGrad(); const r = m.forward(x, { lengths }); backward(sum(mul(r.y, w))); opt.step(); });
    }
    return { outs, grads, after: [...m.parameters()].map((p) => p.toArray()) };
  }

  for (const H of [16, 24, 12]) {
    it(`LSTM H=${H}, 2 layers, bidirectional, lengths ${lengths.join(',')}: forward, gradients, 3 SGD steps`, () => {
      const a = runLstm(wasm, H), b = runLstm(ref, H);
      ['y', 'hN', 'cN'].forEach((n, i) => close(a.outs[i], b.outs[i], n));
      a.grads.forEach((g, i) => close(g, b.grads[i], `gradient ${i}`, 1e-4));
      a.after.forEach((p, i) => close(p, b.after[i], `parameter ${i} after 3 SGD steps`, 1e-4));
    });
  }

  it('GRU H=16, bidirectional, lengths: forward and gradients', () => {
    const run = (be: Backend) => {
      const rng = new Rng(12);
      const m = new GRU({ inputSize: I, hiddenSize: 16, bidirectional: true }, { backend: be, rng });
      const x = tensor(Array.from({ length: T * B * I }, () => rng.normal()), [T, B, I], { backend: be, requiresGrad: true });
      const w = tensor(Array.from({ length: T * B * 32 }, () => rng.normal()), [T, B, 32], { backend: be });
      const outs = tidy(() => { const r = m.forward(x, { lengths }); backward(sum(mul(r.y, w))); return [r.y.toArray(), r.hN.toArray()]; });
      return { outs, grads: [...m.parameters(), x as Tensor].map((p) => p.grad!.toArray()) };
    };
    const a = run(wasm), b = run(ref);
    a.outs.forEach((o, i) => close(o, b.outs[i], `output ${i}`));
    a.grads.forEach((g, i) => close(g, b.grads[i], `gradient ${i}`, 1e-4));
  });

  it('LSTM.stream at H=64 (linear2 split over threads) equals forward over the sequence', () => {
    const rng = new Rng(13);
    const m = new LSTM({ inputSize: I, hiddenSize: 64 }, { backend: wasm, rng });
    const xs = Array.from({ length: T * I }, () => rng.normal());
    const whole = tidy(() => m.forward(tensor(xs, [T, 1, I], { backend: wasm })).y.toArray());
    const s = m.stream(1);
    const got: number[] = [];
    for (let t = 0; t < T; t++) got.push(...s.step(tensor(xs.slice(t * I, (t + 1) * I), [1, I], { backend: wasm })).toArray());
    s.dispose();
    close(got, whole, 'stream vs forward', 1e-5);
  });
});
