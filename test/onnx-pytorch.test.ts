import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { backward } from '../src/autograd/tape.js';
import { crossEntropy } from '../src/loss/crossEntropy.js';
import { mseLoss } from '../src/loss/mse.js';
import { log } from '../src/ops/elementwise.js';
import { loadOnnx } from '../src/onnx/file.js';
import type { OnnxModel } from '../src/onnx/model.js';
import { Adam } from '../src/optim/adam.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { fit } from '../src/train/fit.js';
import type { Task } from '../src/train/task.js';
import { randArray, rng } from './util/random.js';
import { maxDiff } from './util/onnx.js';

/**
 * Files exported by PyTorch 1.13's torch.onnx.export (test/fixtures/onnx/generate.py, opset 14,
 * dynamic batch and time axes): loadOnnx reproduces PyTorch's outputs to 1e-5, and the imported
 * weights are Parameters that fit() trains.
 */
const here = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'onnx');
type Record_ = { inputs: Record<string, { shape: number[]; data: number[] }>; outputs: Record<string, { shape: number[]; data: number[] }> };
const expected = (name: string): Record_ => JSON.parse(readFileSync(join(here, `${name}.expected`), 'utf8')) as Record_;

describe('PyTorch-exported ONNX files', () => {
  for (const [name, what] of [
    ['forecaster', 'a 2-layer batch-first LSTM forecaster'],
    ['classifier', 'a bidirectional GRU classifier with softmax'],
    ['charlm', 'a character LM with an embedding and explicit initial states'],
  ] as const) {
    it(`${what} reproduces PyTorch's outputs to 1e-5`, () => {
      const m = loadOnnx(join(here, `${name}.onnx`));
      const ref = expected(name);
      assert.deepEqual(m.inputs.map((i) => i.name), Object.keys(ref.inputs));
      const out = m.forward(ref.inputs);
      assert.deepEqual(Object.keys(out), Object.keys(ref.outputs));
      for (const [k, want] of Object.entries(ref.outputs)) {
        assert.deepEqual(out[k].shape, want.shape, `${k}: shape`);
        const d = maxDiff(out[k].dataSync(), want.data);
        assert.ok(d <= 1e-5, `${name} ${k} differs from PyTorch by ${d}`);
      }
    });
  }

  it('takes other batch sizes and lengths (the dynamic axes), and a Tensor input', () => {
    const m = loadOnnx(join(here, 'forecaster.onnx'));
    const x = new Tensor(m.backend.upload(m.dtype, randArray(rng(3), 4 * 9 * 3)), [4, 9, 3]);
    assert.deepEqual(m.forward({ x }).y.shape, [4, 2]);
    const lm = loadOnnx(readFileSync(join(here, 'charlm.onnx')));
    const h = { data: new Float32Array(16 * 3), shape: [1, 3, 16] };
    const r = lm.forward({ ids: { data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], shape: [4, 3] }, h0: h, c0: h });
    assert.deepEqual(r.logits.shape, [4, 3, 20]);
    assert.deepEqual(r.c_n.shape, [1, 3, 16]);
  });

  it('the initializers are Parameters: every one gets a gradient (LSTM, GRU, embedding, head)', () => {
    for (const name of ['forecaster', 'classifier', 'charlm']) {
      const m = loadOnnx(join(here, `${name}.onnx`));
      const ref = expected(name);
      const outs = Object.values(m.forward(ref.inputs));
      let loss = mseLoss(outs[0], new Tensor(m.backend.upload(m.dtype, new Float32Array(outs[0].size).fill(0.3)), outs[0].shape));
      if (name === 'classifier') loss = crossEntropy(log(outs[0]), [0, 2, 1]);
      backward(loss);
      const params = m.namedParameters();
      assert.ok(params.length >= 4, `${name}: ${params.length} parameters`);
      for (const [pn, p] of params) {
        assert.ok(p.grad, `${name}: no gradient reached ${pn}`);
        assert.ok(p.grad.toArray().some((v) => v !== 0), `${name}: the gradient of ${pn} is all zeros`);
      }
    }
  });

  it('fit() fine-tunes an imported forecaster: the loss falls', async () => {
    const m: OnnxModel = loadOnnx(join(here, 'forecaster.onnx'));
    const r = rng(7), B = 8, T = 6;
    const x = randArray(r, B * T * 3);
    // Target: the mean of each sequence's first feature, and its last value.
    const y = new Float32Array(B * 2);
    for (let b = 0; b < B; b++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += x[(b * T + t) * 3];
      y[2 * b] = s / T; y[2 * b + 1] = x[(b * T + T - 1) * 3];
    }
    const target = new Tensor(m.backend.upload(m.dtype, y), [B, 2]);
    const lossNow = () => mseLoss(m.forward({ x: { data: x, shape: [B, T, 3] } }).y, target).item();
    const task: Task = {
      model: m, stateful: false,
      numBatches: () => 1,
      epochOrder: () => [0],
      trainBatch: () => ({ loss: mseLoss(m.forward({ x: { data: x, shape: [B, T, 3] } }).y, target), items: B, state: null }),
      validate: async () => null,
    };
    const before = lossNow();
    const res = await fit(task, { epochs: 40, optimizer: new Adam(m.parameters(), { lr: 0.02 }), rng: new Rng(1) });
    const after = lossNow();
    assert.equal(res.stopped, 'completed');
    assert.ok(after < before / 3, `loss ${before} -> ${after}`);
  });
});
