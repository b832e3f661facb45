import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backward, noGrad } from '../src/autograd/tape.js';
import * as ops from '../src/ops/index.js';
import { parameter, tensor } from '../src/tensor/create.js';
import { LSTM } from '../src/nn/lstm.js';
import { GRU } from '../src/nn/gru.js';
import { Linear } from '../src/nn/linear.js';
import { forEachBackend, values } from './backends.js';

forEachBackend('autograd tape', (backend) => {
  const o = { backend };
  it('gradients accumulate across backward calls until zeroed', async () => {
    const p = parameter([1, 2, 3], [3], o);
    const loss = () => ops.sum(ops.mul(p, p));
    backward(loss());
    assert.deepEqual(await values(p.grad!), [2, 4, 6]);
    backward(loss());
    assert.deepEqual(await values(p.grad!), [4, 8, 12]);
    p.zeroGrad();
    backward(loss());
    assert.deepEqual(await values(p.grad!), [2, 4, 6]);
  });
  it('a tensor used twice gets the sum of both paths (no aliasing of gradient buffers)', async () => {
    const p = parameter([3], [1], o);
    const y = ops.add(p, p);          // one op handing the same gradient to both inputs
    const z = ops.mul(y, p);          // 2p * p
    backward(ops.sum(z));
    assert.deepEqual(await values(p.grad!), [12]); // d(2p^2)/dp = 4p
  });
  it('noGrad records nothing', async () => {
    const p = parameter([1, 2], [2], o);
    const y = noGrad(() => ops.mul(p, p));
    assert.equal(y.requiresGrad, false);
    assert.throws(() => backward(ops.sum(y)), /does not require grad/);
  });
  it('backward needs a scalar or an explicit gradient', async () => {
    const p = parameter([1, 2], [2], o);
    assert.throws(() => backward(ops.mul(p, p)), /expected a scalar \(one element\) or an explicit gradient, got shape \[2\]/);
    backward(ops.mul(p, p), tensor([1, 10], [2], o));
    assert.deepEqual(await values(p.grad!), [2, 40]);
  });
  it('LSTM inference (no tape: running state updated in place) equals the taped forward', async () => {
    for (const cfg of [{ numLayers: 2, bidirectional: true }, { projSize: 2 }, { peepholes: true, bidirectional: true }]) {
      const m = new LSTM({ inputSize: 3, hiddenSize: 4, ...cfg }, o);
      const x = tensor(Float32Array.from({ length: 5 * 3 * 3 }, (_, i) => Math.sin(i)), [5, 3, 3], o);
      const lengths = [3, 5, 2];
      const a = m.forward(x, { lengths });
      const b = noGrad(() => m.forward(x, { lengths }));
      for (const k of ['y', 'hN', 'cN'] as const) assert.deepEqual(await values(b[k]), await values(a[k]), `${k} with ${JSON.stringify(cfg)}`);
    }
  });
  it('GRU inference (no tape) equals the taped forward', async () => {
    const m = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }, o);
    const x = tensor(Float32Array.from({ length: 5 * 3 * 3 }, (_, i) => Math.cos(i)), [5, 3, 3], o);
    const a = m.forward(x, { lengths: [4, 5, 1] });
    const b = noGrad(() => m.forward(x, { lengths: [4, 5, 1] }));
    assert.deepEqual(await values(b.y), await values(a.y));
    assert.deepEqual(await values(b.hN), await values(a.hN));
  });
  // PyTorch's semantics: backward spends the graph; a second pass through it is an error (never
  // a doubled gradient), unless the first kept it with retainGraph.
  it('a second backward through the same Linear graph is an error, and leaves the gradient of the first', async () => {
    const m = new Linear({ inFeatures: 3, outFeatures: 2 }, o);
    const loss = ops.sum(m.forward(tensor([1, 2, 3, -1, 0.5, 2], [2, 3], o)));
    backward(loss);
    const g = await values(m.weight.grad!);
    assert.throws(() => backward(loss), /backward\(\): backward through the graph a second time \(through '.+'/);
    assert.deepEqual(await values(m.weight.grad!), g);
    assert.deepEqual(g, [0, 2.5, 5, 0, 2.5, 5]); // dL/dW[o, i] = sum_n x[n, i]
  });
  it('a second backward through the same LSTM graph is an error, not garbage', async () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 }, o);
    const loss = ops.sum(m.forward(tensor(new Float32Array(8).fill(0.5), [2, 2, 2], o)).y);
    backward(loss);
    const g = await values(m.parameter('weight_hh_l0').grad!);
    assert.throws(() => backward(loss), /backward through the graph a second time/);
    assert.deepEqual(await values(m.parameter('weight_hh_l0').grad!), g);
  });
  it('a second loss over a spent graph is an error too; retainGraph keeps it for a second pass', async () => {
    const p = parameter([1, 2, 3], [3], o);
    const y = ops.mul(p, p);
    backward(ops.sum(y));
    assert.throws(() => backward(ops.sum(ops.scale(y, 2))), /backward through the graph a second time \(through 'mul'/);
    p.zeroGrad();
    const z = ops.mul(p, p);
    backward(ops.sum(z), undefined, { retainGraph: true });
    backward(ops.sum(z));
    assert.deepEqual(await values(p.grad!), [4, 8, 12]);
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 }, o);
    const loss = ops.sum(m.forward(tensor(new Float32Array(8).fill(0.5), [2, 2, 2], o)).y);
    backward(loss, undefined, { retainGraph: true });
    const once = await values(m.parameter('weight_ih_l0').grad!);
    backward(loss);
    (await values(m.parameter('weight_ih_l0').grad!)).forEach((v, i) => assert.ok(Math.abs(v - 2 * once[i]) <= 1e-6 * Math.max(1, Math.abs(v))));
  });
  it('an LSTM output left unused contributes nothing', async () => {
    const m = new LSTM({ inputSize: 2, hiddenSize: 3 }, o);
    const x = tensor(new Float32Array(8).fill(0.5), [2, 2, 2], o);
    backward(ops.sum(m.forward(x).hN));
    const g1 = await values(m.parameter('weight_hh_l0').grad!);
    m.zeroGrad();
    const r = m.forward(x);
    backward(ops.add(ops.sum(r.hN), ops.scale(ops.sum(r.cN), 0)));
    const g2 = await values(m.parameter('weight_hh_l0').grad!);
    g1.forEach((v, i) => assert.ok(Math.abs(v - g2[i]) < 1e-6));
  });
}, { asyncF32: true });
