import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { backward } from '../src/autograd/tape.js';
import { sum } from '../src/ops/reduce.js';
import { loadTfjsLayersModel } from '../src/tfjs/file.js';
import { tfjsLayersModel } from '../src/tfjs/layersModel.js';
import { maxDiff } from './util/onnx.js';
import { randArray, rng } from './util/random.js';

/**
 * TF.js Layers models built and saved by @tensorflow/tfjs itself (model.json + a weight shard),
 * loaded with loadTfjsLayersModel: outputs equal TF.js's own predictions to 1e-5.
 */
const rand = rng(4242);

async function save(model: tf.LayersModel): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-tfjs-'));
  await model.save(tf.io.withSaveHandler(async (a) => {
    writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(a.weightData as ArrayBuffer));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
    }));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return dir;
}

async function agree(model: tf.LayersModel, shape: number[], ids = 0): Promise<void> {
  await tf.setBackend('cpu');
  const n = shape.reduce((p, d) => p * d, 1);
  const data = ids ? Array.from({ length: n }, () => Math.floor(rand() * ids)) : Array.from(randArray(rand, n));
  const want = (model.predict(ids ? tf.tensor(data, shape, 'int32') : tf.tensor(data, shape)) as tf.Tensor);
  const m = loadTfjsLayersModel(await save(model));
  const got = m.forward({ data, shape });
  assert.deepEqual(got.shape, want.shape);
  const d = maxDiff(got.dataSync(), want.dataSync());
  assert.ok(d <= 1e-5, `differs from TF.js by ${d}`);
}

describe('TF.js Layers models against TF.js', () => {
  it('stacked LSTMs with the default hard-sigmoid recurrent activation', async () => {
    const m = tf.sequential();
    m.add(tf.layers.lstm({ units: 5, returnSequences: true, inputShape: [null, 3] }));
    m.add(tf.layers.lstm({ units: 4 }));
    m.add(tf.layers.dense({ units: 2 }));
    await agree(m, [3, 7, 3]);
  });

  it('a bidirectional GRU under a TimeDistributed softmax', async () => {
    const m = tf.sequential();
    m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 4, returnSequences: true }) as tf.layers.RNN, inputShape: [6, 3] }));
    m.add(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 3, activation: 'softmax' }) }));
    await agree(m, [2, 6, 3]);
  });

  it('an Embedding into a GRU', async () => {
    const m = tf.sequential();
    m.add(tf.layers.embedding({ inputDim: 10, outputDim: 4, inputShape: [null] }));
    m.add(tf.layers.gru({ units: 5 }));
    m.add(tf.layers.dense({ units: 3, activation: 'tanh' }));
    await agree(m, [2, 5], 10);
  });

  it('SimpleRNN going backwards, Bidirectional LSTM merged by sum and by ave, sigmoid gates, Dropout', async () => {
    const m = tf.sequential();
    m.add(tf.layers.simpleRNN({ units: 4, returnSequences: true, goBackwards: true, activation: 'relu', inputShape: [5, 2] }));
    m.add(tf.layers.dropout({ rate: 0.3 }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.layers.RNN, mergeMode: 'sum' }));
    m.add(tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2 }) as tf.layers.RNN, mergeMode: 'ave' }));
    await agree(m, [3, 5, 2]);
  });
});

describe('TF.js Layers models: reset_after, training, refusals', () => {
  it('GRU reset_after=true (Keras 2 default; TF.js cannot build it) equals a direct computation', () => {
    // One GRU cell, Keras's equations with reset_after: h~ = tanh(x Wh + bx_h + r * (h Uh + bh_h)).
    const I = 2, H = 3, T = 4;
    const k = randArray(rand, I * 3 * H), rk = randArray(rand, H * 3 * H), b = randArray(rand, 2 * 3 * H);
    const x = randArray(rand, T * I);
    const hardSig = (v: number) => Math.min(1, Math.max(0, 0.2 * v + 0.5));
    let h = new Float64Array(H);
    for (let t = 0; t < T; t++) {
      const xs = (j: number) => { let s = b[j]; for (let i = 0; i < I; i++) s += x[t * I + i] * k[i * 3 * H + j]; return s; };
      const hs = (j: number) => { let s = b[3 * H + j]; for (let i = 0; i < H; i++) s += h[i] * rk[i * 3 * H + j]; return s; };
      const next = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const z = hardSig(xs(j) + hs(j)), r = hardSig(xs(H + j) + hs(H + j));
        const c = Math.tanh(xs(2 * H + j) + r * hs(2 * H + j));
        next[j] = z * h[j] + (1 - z) * c;
      }
      h = next;
    }
    const topology = { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'GRU', config: { name: 'g', units: H, reset_after: true, batch_input_shape: [null, null, I] } }] } };
    const weights = [{ name: 'g/kernel', shape: [I, 3 * H] }, { name: 'g/recurrent_kernel', shape: [H, 3 * H] }, { name: 'g/bias', shape: [2, 3 * H] }];
    const data = new Uint8Array(new Float32Array([...k, ...rk, ...b]).buffer);
    const m = tfjsLayersModel({ modelTopology: topology, weightsManifest: [{ paths: [], weights }] }, data);
    assert.ok(maxDiff(m.forward({ data: x, shape: [1, T, I] }).dataSync(), h) <= 1e-5);
  });

  it('its weights are Parameters that get gradients', async () => {
    const t = tf.sequential();
    t.add(tf.layers.embedding({ inputDim: 6, outputDim: 3, inputShape: [null] }));
    t.add(tf.layers.lstm({ units: 4 }));
    t.add(tf.layers.dense({ units: 2 }));
    const m = loadTfjsLayersModel(await save(t));
    backward(sum(m.forward({ data: [1, 2, 3, 4, 5, 0], shape: [2, 3] })));
    const params = m.namedParameters();
    assert.equal(params.length, 6);
    for (const [n, p] of params) assert.ok(p.grad && p.grad.toArray().some((v) => v !== 0), `no gradient reached ${n}`);
  });

  it('refuses unsupported layers and mismatched weights by name', async () => {
    const topology = (layers: unknown[]) => ({ class_name: 'Sequential', config: { name: 's', layers } });
    assert.throws(() => tfjsLayersModel({ modelTopology: topology([{ class_name: 'Conv1D', config: { name: 'conv', batch_input_shape: [null, 4, 2] } }]) }, new Uint8Array()),
      /TF.js layer 'conv' is a Conv1D: supported are InputLayer, LSTM, GRU/);
    const dense = { class_name: 'Dense', config: { name: 'd', units: 2, batch_input_shape: [null, 3] } };
    assert.throws(() => tfjsLayersModel({ modelTopology: topology([dense]), weightsManifest: [{ paths: [], weights: [{ name: 'd/kernel', shape: [2, 3] }, { name: 'd/bias', shape: [2] }] }] }, new Uint8Array(32)),
      /layer 'd' kernel: expected shape \[3, 2\], got 'd\/kernel' \[2, 3\]/);
  });
});

describe('carousel import model.json', () => {
  it('a Keras-cell LSTM forecaster becomes a forecast model directory; TF.js\'s hard-sigmoid default is refused by name', async () => {
    const { carousel, userError } = await import('./util/cli.js');
    const { loadModel } = await import('../src/io/modelDir.js');
    const { permute } = await import('../src/ops/shape.js');
    await tf.setBackend('cpu');
    const t = tf.sequential();
    t.add(tf.layers.lstm({ units: 4, recurrentActivation: 'sigmoid', inputShape: [null, 3] }));
    t.add(tf.layers.dense({ units: 3 }));
    const src = await save(t), out = join(src, 'm');
    const r = carousel(['import', join(src, 'model.json'), '--out', out, '--window', '8']);
    assert.equal(r.code, 0, r.err);
    const { model } = loadModel(out);
    const x = Array.from(randArray(rand, 2 * 8 * 3));
    const want = (t.predict(tf.tensor(x, [2, 8, 3])) as tf.Tensor).dataSync();
    assert.ok(maxDiff(model.forwardLast(permute(model.input(x, [2, 8, 3]), [1, 0, 2])).dataSync(), want) <= 1e-5);
    const h = tf.sequential();
    h.add(tf.layers.gru({ units: 4, inputShape: [null, 3] }));
    h.add(tf.layers.dense({ units: 3 }));
    const hs = await save(h);
    userError(carousel(['import', join(hs, 'model.json'), '--out', join(hs, 'm'), '--window', '8']), /has activations HardSigmoid, Tanh/);
  });
});
