import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backward, noGrad } from '../src/autograd/tape.js';
import * as ops from '../src/ops/index.js';
import { parameter, tensor } from '../src/tensor/create.js';
import { LSTM } from '../src/nn/lstm.js';
import { GRU } from '../src/nn/gru.js';
import { forEachBackend } from './backends.js';

forEachBackend('autograd tape', (backend) => {
  const o = { backend };
  it('gradients accumulate across backward calls until zeroed', () => {
    const p = parameter([1, 2, 3], [3], o);
    const loss = () => ops.sum(ops.mul(p, p));
    backward(loss());
    assert.deepEqual(p.grad!.toArray(), [2, 4, 6]);
    backward(loss());
    assert.deepEqual(p.grad!.toArray(), [4, 8, 12]);
    p.zeroGrad();
    backward(loss());
    assert.deepEqual(p.grad!.toArray(), [2, 4, 6]);
  });
  it('a tensor used twice gets the sum of both paths (no aliasing of gradient buffers)', () => {
    const p = parameter([3], [1], o);
    const y = ops.add(p, p);          // one op handing the same gradient to both inputs
    const z = ops.mul(y, p);          // 2p * p
    backward(ops.sum(z));
    assert.deepEqual(p.grad!.toArray(), [12]); // d(2p^2)/dp = 4p
  });
  it('noGrad records nothing', () => {
    const p = parameter([1, 2], [2], o);
    const y = noGrad(() => ops.mul(p, p));
    assert.equal(y.requiresGrad, false);
    assert.throws(() => backward(ops.sum(y)), /does not require grad/);
  });
  it('backward needs a scalar or an explicit gradient', () => {
    const p = parameter([1, 2], [2], o);
    assert.throws(() => backward(ops.mul(p, p)), /expected a scalar \(one element\) or an explicit gradient, got shape \[2\]/);
    backward(ops.mul(p, p), tensor([1, 10], [2], o));
    assert.deepEqual(p.grad!.toArray(), [2, 40]);
  });
  it('LSTM inference (no tape: running state updated in place) equals the taped forward', () => {
    for (const cfg of [{ numLayers: 2, bidirectional: true }, { projSize: 2 }, { peepholes: true, bidirectional: true }]) {
      const m = new LSTM({ inputSize: 3, hiddenSize: 4, ...cfg }, o);
      const x = tensor(Float32Array.from({ length: 5 * 3 * 3 }, (_, i) => Math.sin(i)), [5, 3, 3], o);
      const lengths = [3, 5, 2];
      const a = m.forward(x, { lengths });
      const b = noGrad(() => m.forward(x, { lengths }));
      for (const k of ['y', 'hN', 'cN'] as const) assert.deepEqual(b[k].toArray(), a[k].toArray(), `${k} with ${JSON.stringify(cfg)}`);
    }
  });
  it('GRU inference (no tape) equals the taped forward', () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }, o);
    const x = tensor(Float32Array.from({ length: 5 * 3 * 3 }, (_, i) => Math.cos(i)), [5, 3, 3], o);
    const a = m.forward(x, { lengths: [4, 5, 1] });
    const b = noGrad(() => m.forward(x, { lengths: [4, 5, 1] }));
    assert.deepEqual(b.y.toArray(), a.y.toArray());
    assert.deepEqual(b.hN.toArray(), a.hN.toArray());
  });
  it('a second backward through the same recurrent graph is an error, not garbage', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 }, o);
    const loss = ops.sum(m.forward(tensor(new Float32Array(8).fill(0.5), [2, 2, 2], o)).y);
    backward(loss);
    assert.throws(() => backward(loss), /backward through the same graph a second time/);
  });
  it('an LSTM output left unused contributes nothing', () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 }, o);
    const x = tensor(new Float32Array(8).fill(0.5), [2, 2, 2], o);
    backward(ops.sum(m.forward(x).hN));
    const g1 = m.parameter('weight_hh_l0').grad!.toArray();
    m.zeroGrad();
    const r = m.forward(x);
    backward(ops.add(ops.sum(r.hN), ops.scale(ops.sum(r.cN), 0)));
    const g2 = m.parameter('weight_hh_l0').grad!.toArray();
    g1.forEach((v, i) => assert.ok(Math.abs(v - g2[i]) < 1e-6));
  });
});
