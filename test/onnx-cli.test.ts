import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel, saveModel } from '../src/io/modelDir.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { softmax } from '../src/ops/softmax.js';
import { permute } from '../src/ops/shape.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';
import { maxDiff, ortRun } from './util/onnx.js';
import { randArray, rng } from './util/random.js';

/** `carousel import` (ONNX task models into model directories) and `carousel export --format onnx`. */
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'onnx');
type Ref = { inputs: Record<string, { shape: number[]; data: number[] }>; outputs: Record<string, { shape: number[]; data: number[] }> };
const ref = (name: string): Ref => JSON.parse(readFileSync(join(fixtures, `${name}.expected`), 'utf8')) as Ref;
const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-onnx-cli-'));

describe('carousel import', () => {
  it('a PyTorch batch-first LSTM forecaster becomes a forecast model directory computing the same', () => {
    const dir = join(tmp(), 'm');
    // The model predicts 2 values from 3 features: which features they are must be said.
    userError(carousel(['import', join(fixtures, 'forecaster.onnx'), '--out', dir, '--window', '5']), /--targets is required: the model predicts 2 values from 3 features/);
    const ok = carousel(['import', join(fixtures, 'forecaster.onnx'), '--out', dir, '--window', '5', '--features', 'a,b,c', '--targets', 'a,b']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /forecast model, LSTM 2 layer\(s\) x 8, .* \(graph batch-first\)/);
    const { model, meta } = loadModel(dir);
    assert.deepEqual(meta.forecast!.targets, ['a', 'b']);
    assert.equal(meta.forecast!.horizon, 1);
    const f = ref('forecaster');
    const x = model.input(f.inputs.x.data, f.inputs.x.shape); // [B, T, I]
    const y = model.forwardLast(permute(x, [1, 0, 2]));
    assert.ok(maxDiff(y.dataSync(), f.outputs.y.data) <= 1e-5, 'the imported model differs from PyTorch');
  });

  it('a bidirectional GRU classifier with softmax becomes a classify model (the softmax dropped: logits)', () => {
    const dir = join(tmp(), 'c');
    const r = carousel(['import', join(fixtures, 'classifier.onnx'), '--out', dir, '--labels', 'low,mid,high']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /classify model, GRU 1 layer\(s\) x 6, bidirectional, .*Softmax at the end dropped/);
    const { model, meta } = loadModel(dir);
    assert.deepEqual(meta.classify!.labels, ['low', 'mid', 'high']);
    const c = ref('classifier');
    const p = softmax(model.forwardLast(model.input(c.inputs.x.data, c.inputs.x.shape)), -1);
    assert.ok(maxDiff(p.dataSync(), c.outputs.probs.data) <= 1e-5);
  });

  it('a char LM with its vocabulary; carousel generate samples from it', () => {
    const dir = join(tmp(), 'lm');
    userError(carousel(['import', join(fixtures, 'charlm.onnx'), '--out', dir]), /--vocab is required/);
    userError(carousel(['import', join(fixtures, 'charlm.onnx'), '--out', dir, '--vocab', 'abc']), /--vocab: expected 20 characters \(the model's vocabulary\), got 3/);
    const r = carousel(['import', join(fixtures, 'charlm.onnx'), '--out', dir, '--vocab', 'abcdefghij klmnopqr\n'.slice(0, 19) + '.']);
    assert.equal(r.code, 0, r.err);
    const g = carousel(['generate', '--model', dir, '--seed-text', 'ab', '--length', '12']);
    assert.equal(g.code, 0, g.err);
    assert.equal(Array.from(g.out.trim()).length >= 12, true, g.out);
  });

  it('refuses a graph that is not a task model, saying what was expected', () => {
    const g = new GraphBuilder('not a task model');
    g.input('x', 'float', ['T', 'B', 2]);
    g.node('Relu', ['x'], ['y']);
    g.output('y', 'float', ['T', 'B', 2]);
    const d = tmp();
    const file = join(d, 'relu.onnx');
    writeFileSync(file, g.bytes());
    userError(carousel(['import', file, '--out', join(d, 'm')]), /expected a Carousel task model: LSTM or GRU layers .*; got no LSTM or GRU node \(operators: Relu\)/);
    userError(carousel(['import', join(d, 'missing.onnx'), '--out', join(d, 'm')]), /missing\.onnx/);
  });
});

describe('carousel export --format onnx', () => {
  it('writes a model directory as an ONNX file that ONNX Runtime runs to the same outputs; import reads it back', async () => {
    const d = tmp(), dir = join(d, 'm');
    const model = new SequenceModel({ task: 'classify', cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0, outputSize: 2 }, { rng: new Rng(3) });
    await saveModel(dir, model, { classify: { labels: ['no', 'yes'], features: 3 } });
    userError(carousel(['export', dir, '--format', 'tflite']), /--format: expected one of onnx, got 'tflite'/);
    const r = carousel(['export', dir, '--format', 'onnx']);
    assert.equal(r.code, 0, r.err);
    const bytes = new Uint8Array(readFileSync(join(dir, 'model.onnx')));
    const x = randArray(rng(5), 6 * 4 * 3);
    const want = loadModel(dir).model.forwardLast(model.input(x, [6, 4, 3])).dataSync();
    const got = await ortRun(bytes, { x: { data: x, shape: [6, 4, 3] } });
    assert.ok(maxDiff(got.y.data, want) <= 1e-5);
    const back = carousel(['import', join(dir, 'model.onnx'), '--out', join(d, 'back'), '--task', 'classify', '--labels', 'no,yes']);
    assert.equal(back.code, 0, back.err);
    assert.deepEqual(loadModel(join(d, 'back')).model.arch, model.arch);
  });

  it('refuses a cell with no ONNX operator', async () => {
    const dir = join(tmp(), 'x');
    await saveModel(dir, new SequenceModel({ task: 'classify', cell: 'xlstm', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 2 }), { classify: { labels: ['no', 'yes'], features: 3 } });
    userError(carousel(['export', dir, '--format', 'onnx']), /cell 'xlstm' has no ONNX operator: expected cell lstm or gru/);
  });
});
