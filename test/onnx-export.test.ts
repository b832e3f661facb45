import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { Embedding } from '../src/nn/embedding.js';
import { GRU } from '../src/nn/gru.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM } from '../src/nn/lstm.js';
import type { Module } from '../src/nn/module.js';
import { onnxBytes } from '../src/onnx/export.js';
import { exportOnnx, loadOnnx } from '../src/onnx/file.js';
import { loadOnnxBytes } from '../src/onnx/model.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { lstmModel, torchToOnnx } from '../bench/onnx.js';
import { maxDiff, ortRun, type Feed } from './util/onnx.js';
import { randArray, rng } from './util/random.js';

/**
 * exportOnnx: task models and module stacks, run in ONNX Runtime at batch sizes and lengths other
 * than any fixed one (the axes are dynamic), equal to Carousel's own outputs; and read back by loadOnnx.
 */
const rand = rng(2016);

async function sameAsOrt(bytes: Uint8Array, feed: Feed, want: Record<string, { shape: readonly number[]; data: ArrayLike<number> }>): Promise<void> {
  const got = await ortRun(bytes, feed);
  const back = loadOnnxBytes(bytes).forward(feed);
  for (const [k, w] of Object.entries(want)) {
    assert.deepEqual(got[k].dims, [...w.shape], `${k}: ONNX Runtime's shape`);
    const d = maxDiff(got[k].data, w.data);
    assert.ok(d <= 1e-5, `${k}: ONNX Runtime differs from Carousel by ${d}`);
    const e = maxDiff(back[k].dataSync(), w.data);
    assert.ok(e <= 1e-5, `${k}: loadOnnx of the export differs from Carousel by ${e}`);
  }
}

const arch = (a: Partial<Architecture>): Architecture => ({ task: 'forecast', cell: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 2, ...a });

describe('exportOnnx: task models in ONNX Runtime', () => {
  const seqCases: [string, Architecture][] = [
    ['forecast, 2-layer bidirectional LSTM', arch({ numLayers: 2, bidirectional: true, dropout: 0.2 })],
    ['classify, GRU', arch({ task: 'classify', cell: 'gru', inputSize: 4, hiddenSize: 6, outputSize: 3 })],
    ['classify, 3-layer bidirectional GRU', arch({ task: 'classify', cell: 'gru', numLayers: 3, bidirectional: true, outputSize: 4 })],
  ];
  for (const [name, a] of seqCases) {
    it(name, async () => {
      const m = new SequenceModel(a, { rng: new Rng(5) }).eval();
      const bytes = await onnxBytes(m);
      for (const [T, B] of [[7, 3], [2, 1]]) {
        const x = randArray(rand, T * B * a.inputSize);
        const y = m.forwardLast(new Tensor(m.backend.upload(m.dtype, x), [T, B, a.inputSize]));
        await sameAsOrt(bytes, { x: { data: x, shape: [T, B, a.inputSize] } }, { y: { shape: y.shape, data: y.dataSync() } });
      }
    });
  }

  for (const cell of ['lstm', 'gru']) {
    it(`charlm, 2-layer ${cell}, with the state in and out`, async () => {
      const a = arch({ task: 'charlm', cell, inputSize: 6, hiddenSize: 7, numLayers: 2, outputSize: 11, vocabSize: 11 });
      const m = new SequenceModel(a, { rng: new Rng(9) }).eval();
      const bytes = await onnxBytes(m);
      const T = 5, B = 3, S = 2 * B * 7;
      const ids = Array.from({ length: T * B }, () => Math.floor(rand() * 11));
      const h0 = randArray(rand, S), c0 = randArray(rand, S);
      const st = (v: Float32Array) => new Tensor(m.backend.upload(m.dtype, v), [2, B, 7]);
      const r = m.forwardLM(new Tensor(m.backend.upload('i32', ids), [T, B]), cell === 'lstm' ? [st(h0), st(c0)] : [st(h0)]);
      const feed: Feed = { ids: { data: ids, shape: [T, B] }, h0: { data: h0, shape: [2, B, 7] } };
      const want: Record<string, { shape: number[]; data: ArrayLike<number> }> = {
        logits: { shape: [T, B, 11], data: r.logits.dataSync() },
        h_n: { shape: [2, B, 7], data: r.state[0].dataSync() },
      };
      if (cell === 'lstm') { feed.c0 = { data: c0, shape: [2, B, 7] }; want.c_n = { shape: [2, B, 7], data: r.state[1].dataSync() }; }
      await sameAsOrt(bytes, feed, want);
    });
  }

  it('refuses a cell ONNX has no operator for, and an LSTM variant', async () => {
    await assert.rejects(onnxBytes(new SequenceModel(arch({ cell: 'xlstm' }))), /cell 'xlstm' has no ONNX operator: expected cell lstm or gru/);
    await assert.rejects(onnxBytes(new LSTM({ inputSize: 2, hiddenSize: 4, projSize: 2 })), /projection \(projSize\) has no ONNX LSTM equivalent/);
  });
});

describe('exportOnnx: module stacks in ONNX Runtime', () => {
  it('Embedding -> batch-first LSTM -> Linear', async () => {
    const o = { rng: new Rng(2) };
    const mods: Module[] = [new Embedding({ numEmbeddings: 9, embeddingDim: 4 }, o), new LSTM({ inputSize: 4, hiddenSize: 5, batchFirst: true, numLayers: 2 }, o), new Linear({ inFeatures: 5, outFeatures: 3 }, o)];
    const [B, T] = [2, 6];
    const ids = Array.from({ length: B * T }, () => Math.floor(rand() * 9));
    const e = (mods[0] as Embedding).forward(new Tensor(mods[0].backend.upload('i32', ids), [B, T]));
    const y = (mods[2] as Linear).forward((mods[1] as LSTM).forward(e).y);
    await sameAsOrt(await onnxBytes(mods), { input: { data: ids, shape: [B, T] } }, { output: { shape: y.shape, data: y.dataSync() } });
  });

  it('a bidirectional GRU alone, and one Linear alone; exportOnnx writes the file', async () => {
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true }, { rng: new Rng(4) });
    const x = randArray(rand, 5 * 2 * 3);
    const y = gru.forward(new Tensor(gru.backend.upload(gru.dtype, x), [5, 2, 3])).y;
    const dir = mkdtempSync(join(tmpdir(), 'carousel-onnx-'));
    await exportOnnx(gru, join(dir, 'gru.onnx'));
    const bytes = new Uint8Array(readFileSync(join(dir, 'gru.onnx')));
    await sameAsOrt(bytes, { input: { data: x, shape: [5, 2, 3] } }, { output: { shape: y.shape, data: y.dataSync() } });
    const lin = new Linear({ inFeatures: 3, outFeatures: 2 }, { rng: new Rng(4) });
    const z = lin.forward(new Tensor(lin.backend.upload(lin.dtype, x.subarray(0, 6)), [2, 3]));
    await sameAsOrt(await onnxBytes(lin), { input: { data: x.subarray(0, 6), shape: [2, 3] } }, { output: { shape: z.shape, data: z.dataSync() } });
    assert.equal(loadOnnx(join(dir, 'gru.onnx')).numParameters(), 2 * 3 * 4 * (3 + 4 + 2));
  });
});

describe("the benchmarks' ONNX models (bench/onnx.ts, on the same writer)", () => {
  it('lstmModel runs in ONNX Runtime to the outputs of Carousel\'s LSTM, batched and streaming', async () => {
    const I = 3, H = 4, T = 5, B = 2;
    const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { rng: new Rng(8) });
    const p = lstm.stateDict();
    const f = (n: string) => Float32Array.from(p.get(n)!.data);
    const w = torchToOnnx(H, I, f('weight_ih_l0'), f('weight_hh_l0'), f('bias_ih_l0'), f('bias_hh_l0'));
    const x = randArray(rand, T * B * I);
    const h0 = randArray(rand, B * H), c0 = randArray(rand, B * H);
    const t = (v: Float32Array, s: number[]) => new Tensor(lstm.backend.upload(lstm.dtype, v), s);
    const all = lstm.forward(t(x, [T, B, I]));
    const batched = await ortRun(lstmModel(T, B, I, H, w, false), { X: { data: x, shape: [T, B, I] } });
    assert.ok(maxDiff(batched.Y.data, all.y.dataSync()) <= 1e-5);
    const step = lstm.forward(t(x.subarray(0, B * I), [1, B, I]), { h0: t(h0, [1, B, H]), c0: t(c0, [1, B, H]) });
    const streamed = await ortRun(lstmModel(1, B, I, H, w, true), { X: { data: x.subarray(0, B * I), shape: [1, B, I] }, h0: { data: h0, shape: [1, B, H] }, c0: { data: c0, shape: [1, B, H] } });
    assert.ok(maxDiff(streamed.Y_h.data, step.hN.dataSync()) <= 1e-5);
    assert.ok(maxDiff(streamed.Y_c.data, step.cN.dataSync()) <= 1e-5);
  });
});
