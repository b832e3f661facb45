// fit() when training diverges: a non-finite training loss or an exploding validation loss stops
// the run and leaves the model with the best earlier epoch's weights (no checkpoint of the
// diverged epoch is written); with no earlier epoch it throws TrainingDiverged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, Storage } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { makeWindows } from '../src/data/series.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { SGD } from '../src/optim/sgd.js';
import { Rng } from '../src/tensor/random.js';
import { TrainingDiverged } from '../src/train/divergence.js';
import { fit } from '../src/train/fit.js';
import { ForecastTask } from '../src/train/forecastTask.js';

function forecastTask(backend?: Backend) {
  const rng = new Rng(5);
  const z = [Array.from({ length: 80 }, (_, i) => Math.sin(i / 4))];
  const model = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 1, hiddenSize: 6, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 3 }, { rng, backend });
  const task = new ForecastTask(model, makeWindows(z, [0], 12, 3, 0, 60), makeWindows(z, [0], 12, 3, 45, 80), 8, [1]);
  return { model, rng, task, opt: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }) };
}

/** Each epoch's weights, read as fit reports the epoch. */
function snapshots(model: SequenceModel) {
  const byEpoch = new Map<number, Float32Array[]>();
  return { byEpoch, callback: { onEpochEnd: (l: { epoch: number }) => { byEpoch.set(l.epoch, model.parameters().map((p) => Float32Array.from(p.toArray().flat(Infinity) as number[]))); } } };
}
const weights = (model: SequenceModel) => model.parameters().map((p) => Float32Array.from(p.toArray().flat(Infinity) as number[]));

test('a NaN training loss in epoch 3 stops the run; the model is the best of epochs 1-2; the checkpoint is epoch 2', async () => {
  const { model, rng, task, opt } = forecastTask();
  const snap = snapshots(model);
  const path = join(mkdtempSync(join(tmpdir(), 'carousel-div-')), 'ck.safetensors');
  // From epoch 3 on, an absurd learning rate: the loss becomes non-finite within the epoch.
  const blowUp = { onEpochEnd: (l: { epoch: number }) => { if (l.epoch === 2) opt.lr = 1e30; } };
  const r = await fit(task, { epochs: 6, optimizer: opt, rng, callbacks: [snap.callback, blowUp], checkpoint: { path } });
  assert.equal(r.stopped, 'diverged');
  assert.match(r.divergence!.reason, /^training diverged: loss is (NaN|Infinity|-Infinity) at epoch 3, batch/);
  assert.equal(r.history.length, 2);
  const best = r.history[0].val!.loss <= r.history[1].val!.loss ? 1 : 2;
  assert.equal(r.bestEpoch, best);
  assert.deepEqual(weights(model), snap.byEpoch.get(best));
  assert.ok(weights(model).every((w) => w.every(Number.isFinite)));
  assert.equal((loadCheckpoint(path).meta.loop as { epoch: number }).epoch, 2, 'no checkpoint of the diverged epoch');
});

test('an exploding validation loss stops the run and keeps the best earlier epoch; with none, TrainingDiverged', async () => {
  // The reference loss of a model that knows nothing drops to 1e-9 after epoch 2: epoch 3's
  // validation loss is then over 1e3 times it, which is how an exploded loss looks.
  const a = forecastTask();
  let reference = 1;
  Object.assign(a.task, { trivialLoss: () => reference });
  const snap = snapshots(a.model);
  const r = await fit(a.task, { epochs: 5, optimizer: a.opt, rng: a.rng, callbacks: [snap.callback, { onEpochEnd: (l) => { if (l.epoch === 2) reference = 1e-9; } }] });
  // The trivial loss is read once, when fit starts: so this run is not affected...
  assert.equal(r.stopped, 'completed');
  // ...and a run that starts with it sees epoch 1 explode, with nothing earlier to keep.
  const b = forecastTask();
  Object.assign(b.task, { trivialLoss: () => 1e-9 });
  await assert.rejects(() => fit(b.task, { epochs: 3, optimizer: b.opt, rng: b.rng }),
    (e: Error) => e instanceof TrainingDiverged && /^training diverged: validation loss [\d.e+-]+ is over 1e\+3 times that of a model that knows nothing \(1\.00e-9\) at epoch 1; there is no earlier epoch to keep$/.test(e.message));
  // Explosion relative to the best earlier epoch: after epoch 2 the output layer is scaled by
  // 1e5 (and learning stops), so epoch 3's validation loss is some 1e10 times the best.
  const c = forecastTask();
  const snapC = snapshots(c.model);
  const wreck = {
    onEpochEnd: (l: { epoch: number }) => {
      if (l.epoch !== 2) return;
      c.opt.lr = 0;
      const sd = c.model.stateDict();
      for (const [k, t] of sd) if (k.startsWith('head.')) sd.set(k, { shape: t.shape, data: Float32Array.from(t.data, (v) => v * 1e5) });
      c.model.loadStateDict(sd);
    },
  };
  const rc = await fit(c.task, { epochs: 5, optimizer: c.opt, rng: c.rng, callbacks: [snapC.callback, wreck] });
  assert.equal(rc.stopped, 'diverged');
  assert.match(rc.divergence!.reason, /^training diverged: validation loss [\d.e+]+ is over 1e\+6 times the best earlier epoch's [\d.e+-]+ at epoch 3$/);
  assert.equal(rc.history.length, 3);
  const best = rc.history[0].val!.loss <= rc.history[1].val!.loss ? 1 : 2;
  assert.equal(rc.bestEpoch, best);
  assert.deepEqual(weights(c.model), snapC.byEpoch.get(best));
});

test('on a device (reads only asynchronously) the best epoch is taken from the checkpoint\'s read, and kept', async () => {
  // A reference backend made device-like, as in host-reads.test.ts: no readSync, reads counted.
  const b = new ReferenceBackend();
  const readSync = (b.readSync as (s: Storage) => ReturnType<NonNullable<Backend['readSync']>>).bind(b);
  let reads = 0;
  Object.defineProperty(b, 'readSync', { value: undefined, configurable: true });
  Object.defineProperty(b, 'read', { value: async (st: Storage) => { reads++; return readSync(st); }, configurable: true });
  const { model, rng, task, opt } = forecastTask(b);
  const byEpoch = new Map<number, Map<string, { data: ArrayLike<number> }>>();
  const path = join(mkdtempSync(join(tmpdir(), 'carousel-div-')), 'ck.safetensors');
  const r = await fit(task, {
    epochs: 6, optimizer: opt, rng, checkpoint: { path },
    callbacks: [{ onEpochEnd: (l) => { if (l.epoch === 2) opt.lr = 1e30; } }, { onEpochEnd: (l) => { if (existsSync(path)) byEpoch.set(l.epoch - 1, loadCheckpoint(path).groups.model!); } }],
  });
  assert.ok(reads > 0);
  assert.equal(r.stopped, 'diverged');
  const best = r.history[0].val!.loss <= r.history[1].val!.loss ? 1 : 2;
  assert.equal(r.bestEpoch, best);
  // The checkpoint written at the end of epoch e, read by the callback of epoch e + 1 (the last
  // one, of epoch 2, is still the file: no checkpoint of the diverged epoch is written).
  const kept = byEpoch.get(best) ?? loadCheckpoint(path).groups.model!;
  assert.equal((loadCheckpoint(path).meta.loop as { epoch: number }).epoch, 2);
  const now = await model.readStateDict();
  for (const [k, t] of now) assert.deepEqual(Array.from(t.data), Array.from(kept.get(k)!.data), k);
});
