import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { getBackend } from '../src/backend/registry.js';
import { LSTM, type LSTMConfig } from '../src/nn/lstm.js';
import { slice, reshape } from '../src/ops/shape.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';

describe(`LSTM.stream: one step per call, state in backend memory (${getBackend().name})`, () => {
  const cases: [string, Partial<LSTMConfig>][] = [
    ['standard', {}], ['2 layers', { numLayers: 2 }], ['projection, 2 layers', { projSize: 3, numLayers: 2 }],
    ['peepholes', { peepholes: true }], ['CIFG', { variant: 'CIFG' }], ['NOAF, no bias', { variant: 'NOAF', bias: false }],
  ];
  for (const [name, cfg] of cases) {
    it(`${name}: steps equal forward over the whole sequence`, () => {
      const rng = new Rng(5);
      const m = new LSTM({ inputSize: 3, hiddenSize: 5, ...cfg }, { rng });
      const T = 6, B = 2, L = m.numLayers;
      const x = tensor(Array.from({ length: T * B * 3 }, () => rng.normal()), [T, B, 3]);
      const h0 = tensor(Array.from({ length: L * B * m.outputSize }, () => rng.normal()), [L, B, m.outputSize]);
      const c0 = tensor(Array.from({ length: L * B * 5 }, () => rng.normal()), [L, B, 5]);
      const whole = noGrad(() => m.forward(x, { h0, c0 }));
      const s = m.stream(B);
      s.reset(h0, c0);
      const want = whole.y.toArray();
      for (let t = 0; t < T; t++) {
        const y = s.step(reshape(slice(x, 0, t, t + 1), [B, 3])).toArray();
        y.forEach((v, i) => assert.ok(Math.abs(v - want[t * y.length + i]) < 1e-5, `t=${t} i=${i}: ${v} vs ${want[t * y.length + i]}`));
      }
      const [hn, cn] = [s.h.toArray(), s.c.toArray()];
      whole.hN.toArray().forEach((v, i) => assert.ok(Math.abs(v - hn[i]) < 1e-5));
      whole.cN.toArray().forEach((v, i) => assert.ok(Math.abs(v - cn[i]) < 1e-5));
    });
  }
  it('allocates nothing per step', () => {
    const m = new LSTM({ inputSize: 4, hiddenSize: 8, numLayers: 2, projSize: 3 });
    const s = m.stream(1);
    const x = tensor([0.1, 0.2, -0.3, 0.4], [1, 4]);
    s.step(x);
    const be = m.backend as unknown as { alloc: (...a: unknown[]) => unknown };
    const original = be.alloc;
    let count = 0;
    be.alloc = function (...a: unknown[]) { count++; return original.apply(this, a); };
    try { for (let t = 0; t < 50; t++) s.step(x); } finally { be.alloc = original; }
    assert.equal(count, 0);
  });
  it('rejects what cannot stream and bad input', () => {
    assert.throws(() => new LSTM({ inputSize: 2, hiddenSize: 3, bidirectional: true }).stream(), /bidirectional LSTM needs the whole sequence/);
    const s = new LSTM({ inputSize: 2, hiddenSize: 3 }).stream(2);
    assert.throws(() => s.step(tensor([1, 2], [1, 2])), /expected x of shape \[2, 2\], got \[1, 2\]/);
    assert.throws(() => s.step(tensor([1, NaN, 0, 0], [2, 2])), /expected finite values, got NaN/);
    assert.throws(() => s.reset(tensor([1, 2, 3], [1, 1, 3])), /expected h0 of shape \[1, 2, 3\], got \[1, 1, 3\]/);
  });
});
