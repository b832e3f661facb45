import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, Storage } from '../src/backend/backend.js';
import { listBackends, loadBackend, backendUnavailable } from '../src/backend/registry.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { ComposedBackend } from '../src/backend/composed.js';
import { WasmBackend } from '../src/backend/wasm/index.js';
import { pendingChecks } from '../src/backend/checks.js';
import { noGrad } from '../src/autograd/tape.js';
import { indexSelect } from '../src/ops/shape.js';
import { LSTM } from '../src/nn/lstm.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { ForecastTask } from '../src/train/forecastTask.js';
import { fit } from '../src/train/fit.js';
import { Adam } from '../src/optim/adam.js';
import { Rng } from '../src/tensor/random.js';
import { tensor } from '../src/tensor/create.js';
import { makeWindows } from '../src/data/series.js';
import { silentProgress } from '../src/train/progress.js';
import { saveModel, weightsPath } from '../src/io/modelDir.js';
import { existsSync, mkdtempSync } from 'node:fs';
import { webgpuForSuite } from './backends.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * "No host reads inside a step" (the backend contract, src/backend/backend.ts): a fresh instance
 * of each CPU backend is made device-like — no readSync, so every dataSync()/item() in library
 * code throws, and every `read` is counted — and webgpu, device-like already, has its reads
 * counted; then a whole fit() training step (forward, backward, clipping, Adam, the loss summed on
 * the device) must make no read, and noGrad inference of a stacked bidirectional LSTM none until
 * the caller reads the output.
 */
function deviceLike(b: Backend): { be: Backend; reads: () => number } {
  let n = 0;
  let read = b.read.bind(b);
  if (b.readSync) {
    const readSync = (b.readSync as (s: Storage) => ReturnType<NonNullable<Backend['readSync']>>).bind(b);
    Object.defineProperty(b, 'readSync', { value: undefined, configurable: true });
    read = async (s: Storage) => readSync(s);
  }
  Object.defineProperty(b, 'read', { value: async (s: Storage) => { n++; return read(s); }, configurable: true });
  return { be: b, reads: () => n };
}

const fresh: Record<string, () => Backend | Promise<Backend>> = {
  reference: () => new ReferenceBackend(),
  composed: () => new ComposedBackend(),
  wasm: () => new WasmBackend({ threads: 2 }),
  // One device per test process (test/backends.ts opens it, on SwiftShader where there is no GPU):
  // each test wraps its read again and counts only its own.
  webgpu: async () => (await loadBackend('webgpu')),
};
const webgpu = webgpuForSuite();

for (const name of listBackends()) {
  const skip = name === 'webgpu' ? webgpu.skip : backendUnavailable(name) ?? (fresh[name] ? false : 'no fresh instance known');
  describe(`no host reads in a step: ${name}`, { skip }, () => {
    it('is device-like: dataSync refuses, reads are counted', async () => {
      await loadBackend(name); // the module compiles once per process (wasm)
      const { be, reads } = deviceLike(await fresh[name]());
      const t = tensor([1, 2, 3], [3], { backend: be });
      assert.throws(() => t.dataSync(), /reads only asynchronously/);
      assert.deepEqual(Array.from(await t.data()), [1, 2, 3]);
      assert.equal(reads(), 1);
    });

    it('a whole fit() training step (forward, backward, clip, Adam) reads nothing', async () => {
      const { be, reads } = deviceLike(await fresh[name]());
      const rng = new Rng(3);
      const series = Array.from({ length: 120 }, (_, t) => Math.sin(t / 5));
      const train = makeWindows([series], [0], 12, 2, 0, 100);
      const val = makeWindows([series], [0], 12, 2, 100 - 12, 120);
      const model = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 1, hiddenSize: 8, numLayers: 2,
        bidirectional: false, dropout: 0, outputSize: 2 }, { rng, backend: be });
      const task = new ForecastTask(model, train, val, 16, [1]);
      const atBatch: number[] = [];
      const res = await fit(task, {
        epochs: 1, optimizer: new Adam(model.parameters(), { lr: 0.01 }), rng, clipNorm: 0.5, readEvery: 1000,
        progress: silentProgress, callbacks: [{ onBatchEnd: () => { atBatch.push(reads()); } }],
      });
      assert.ok(atBatch.length >= 4, `${atBatch.length} batches`);
      // Every batch but the last (where the epoch's loss is read once) made no read.
      assert.deepEqual(atBatch.slice(0, -1), atBatch.slice(0, -1).map(() => 0));
      // After the epoch: its loss, the validation predictions (one batch) and the deferred input checks.
      assert.ok(reads() >= 2 && reads() <= 6, `reads after the epoch: ${reads()}`);
      assert.ok(Number.isFinite(res.history[0].loss));
      assert.ok(Number.isFinite(res.history[0].val!.loss), 'validation runs on a device-like backend (await data())');
    });

    it('fit with checkpoints and early stopping, and saving the model, read asynchronously', async () => {
      const { be } = deviceLike(await fresh[name]());
      const rng = new Rng(4);
      const series = Array.from({ length: 80 }, (_, t) => Math.cos(t / 4));
      const model = new SequenceModel({ task: 'forecast', cell: 'gru', inputSize: 1, hiddenSize: 6, numLayers: 1,
        bidirectional: false, dropout: 0, outputSize: 1 }, { rng, backend: be });
      const task = new ForecastTask(model, makeWindows([series], [0], 8, 1, 0, 64), makeWindows([series], [0], 8, 1, 56, 80), 16, [1]);
      const dir = mkdtempSync(join(tmpdir(), 'carousel-hr-'));
      const res = await fit(task, {
        epochs: 2, optimizer: new Adam(model.parameters(), { lr: 0.01 }), rng, progress: silentProgress,
        checkpoint: { path: join(dir, 'ck.safetensors'), everySteps: 2 }, earlyStopping: { patience: 5, restoreBest: true },
      });
      assert.equal(res.history.length, 2);
      assert.ok(existsSync(join(dir, 'ck.safetensors')));
      await saveModel(join(dir, 'm'), model, { forecast: { features: ['x'], targets: ['x'], window: 8, horizon: 1, normalization: { mean: [0], std: [1] } } });
      assert.ok(existsSync(weightsPath(join(dir, 'm'))));
    });

    it('noGrad inference of a stacked bidirectional LSTM reads nothing until the output is read', async () => {
      const { be, reads } = deviceLike(await fresh[name]());
      const rng = new Rng(5);
      const lstm = new LSTM({ inputSize: 4, hiddenSize: 6, numLayers: 2, bidirectional: true }, { backend: be, rng });
      const x = tensor(Array.from({ length: 7 * 3 * 4 }, () => rng.normal()), [7, 3, 4], { backend: be });
      const { y } = noGrad(() => lstm.forward(x, { lengths: [7, 5, 2] }));
      assert.equal(reads(), 0);
      assert.ok(pendingChecks(be) > 0, 'the input check waits on the device');
      const v = await y.data();
      assert.equal(v.length, 7 * 3 * 12);
      assert.equal(pendingChecks(be), 0);
      assert.ok(reads() >= 1);
    });

    it('a deferred check that failed throws at the next read', async () => {
      const { be } = deviceLike(await fresh[name]());
      const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 }, { backend: be, rng: new Rng(1) });
      const x = tensor([1, NaN, 0, 0], [2, 1, 2], { backend: be });
      const { y } = noGrad(() => lstm.forward(x)); // no throw here: nothing was read
      await assert.rejects(y.data(), /LSTM input: expected finite values, got NaN or infinity \(found by a device-side check/);
      // An index out of range (an embedding lookup) likewise, checked by kernels and read with the output.
      const table = tensor([1, 2, 3, 4], [2, 2], { backend: be });
      const picked = indexSelect(table, tensor([1, 2], [2], { backend: be, dtype: 'i32' }));
      await assert.rejects(picked.data(), /indexSelect: index out of range \[0, 2\) \(found by a device-side check/);
    });
  });
}
