import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backward, noGrad } from '../src/autograd/tape.js';
import * as ops from '../src/ops/index.js';
import { arr } from '../src/backend/reference/index.js';
import { cpuSuiteSkip, testBackends } from './backends.js';
import { makeWindows } from '../src/data/series.js';
import { padBatch, type SeqSample } from '../src/data/sequences.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { StreamingModel } from '../src/models/stream.js';
import { generateText, sample } from '../src/models/generate.js';
import { CharVocab } from '../src/data/text.js';
import { Adam } from '../src/optim/adam.js';
import { CosineAnnealingLR } from '../src/optim/schedule.js';
import { SGD } from '../src/optim/sgd.js';
import { Rng } from '../src/tensor/random.js';
import { CharLMTask } from '../src/train/charlmTask.js';
import { ClassifyTask } from '../src/train/classifyTask.js';
import { fit, type FitOptions } from '../src/train/fit.js';
import { ForecastTask } from '../src/train/forecastTask.js';
import type { Task } from '../src/train/task.js';

// Small problems, built deterministically from a seed.
function sineWindows() {
  const z = [Array.from({ length: 80 }, (_, i) => Math.sin(i / 4))];
  return { train: makeWindows(z, [0], 12, 3, 0, 60), val: makeWindows(z, [0], 12, 3, 45, 80) };
}
function signSequences(n: number, rng: Rng): SeqSample[] {
  return Array.from({ length: n }, () => {
    const len = 2 + rng.int(6);
    const data = Float32Array.from({ length: len }, () => rng.normal());
    return { data, length: len, label: data.reduce((a, b) => a + b, 0) > 0 ? 1 : 0 };
  });
}
const text = 'the cat sat on the mat. the dog sat on the log. '.repeat(6);

type Maker = (seed: number) => { task: Task; model: SequenceModel; rng: Rng };
const makers: Record<string, Maker> = {
  forecast: (seed) => {
    const rng = new Rng(seed), { train, val } = sineWindows();
    const model = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 1, hiddenSize: 6, numLayers: 2, bidirectional: false, dropout: 0.2, outputSize: 3 }, { rng });
    return { model, rng, task: new ForecastTask(model, train, val, 8, [1]) };
  },
  classify: (seed) => {
    const rng = new Rng(seed), data = signSequences(40, new Rng(99));
    const model = new SequenceModel({ task: 'classify', cell: 'gru', inputSize: 1, hiddenSize: 5, numLayers: 1, bidirectional: true, dropout: 0, outputSize: 2 }, { rng });
    return { model, rng, task: new ClassifyTask(model, data.slice(0, 32), data.slice(32), 1, 8) };
  },
  charlm: (seed) => {
    const rng = new Rng(seed), v = CharVocab.fromText(text), ids = v.encode(text);
    const model = new SequenceModel({ task: 'charlm', cell: 'lstm', inputSize: 4, hiddenSize: 8, numLayers: 1, bidirectional: false, dropout: 0, outputSize: v.size, vocabSize: v.size }, { rng });
    return { model, rng, task: new CharLMTask(model, ids.subarray(0, 250), ids.subarray(250), 4, 10) };
  },
};

function weights(m: SequenceModel): number[] { return m.parameters().flatMap((p) => Array.from(p.dataSync())); }

function opts(model: SequenceModel, rng: Rng, extra: Partial<FitOptions> = {}): FitOptions {
  const optimizer = new Adam(model.parameters(), { lr: 0.01 });
  return { epochs: 3, optimizer, schedule: new CosineAnnealingLR(optimizer, 3), clipNorm: 1, rng, ...extra };
}

for (const [name, make] of Object.entries(makers)) {
  test(`fit ${name}: same seed, same weights; a crash + resume from the last checkpoint ends bit-identical`, async () => {
    const a = make(1);
    const ra = await fit(a.task, opts(a.model, a.rng));
    assert.equal(ra.stopped, 'completed');
    const b = make(1);
    await fit(b.task, opts(b.model, b.rng));
    assert.deepEqual(weights(b.model), weights(a.model), 'two runs with one seed agree');

    // Crash at step k (after the checkpoint of step k-1 was written), then resume in a fresh
    // process-like setup: different seed for everything not restored from the checkpoint.
    const dir = mkdtempSync(join(tmpdir(), 'carousel-fit-'));
    const path = join(dir, 'ck.safetensors');
    const total = ra.steps, k = Math.floor(total / 2) + 1;
    const c = make(1);
    await assert.rejects(() => fit(c.task, opts(c.model, c.rng, {
      checkpoint: { path, everySteps: 1 },
      callbacks: [{ onBatchEnd: (i) => { if (i.step === k) throw new Error('simulated crash'); } }],
    })), /simulated crash/);
    const d = make(12345);
    const rd = await fit(d.task, opts(d.model, d.rng, { checkpoint: { path, everySteps: 1 }, resume: loadCheckpoint(path) }));
    assert.deepEqual(weights(d.model), weights(a.model), `resumed after step ${k - 1} of ${total}`);
    assert.equal(rd.steps, total);
    assert.deepEqual(rd.history.map((h) => h.loss), ra.history.map((h) => h.loss));
  });
}

test('fit: training reduces the loss and learns (sign of a variable-length sum)', async () => {
  const rng = new Rng(3), data = signSequences(120, new Rng(4));
  const model = new SequenceModel({ task: 'classify', cell: 'lstm', inputSize: 1, hiddenSize: 8, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 2 }, { rng });
  const task = new ClassifyTask(model, data.slice(0, 100), data.slice(100), 1, 10);
  const r = await fit(task, { epochs: 12, optimizer: new Adam(model.parameters(), { lr: 0.03 }), rng });
  assert.ok(r.history[11].loss < r.history[0].loss * 0.6, `loss ${r.history[0].loss} -> ${r.history[11].loss}`);
  assert.ok(r.history[11].val!.metrics.accuracy >= 0.8, `accuracy ${r.history[11].val!.metrics.accuracy}`);
});

test('fit: early stopping, callbacks that stop, divergence is reported', async () => {
  const a = makers.forecast(1);
  const r = await fit(a.task, { epochs: 20, optimizer: new SGD(a.model.parameters(), { lr: 0 }), rng: a.rng, earlyStopping: { patience: 2 } });
  assert.equal(r.stopped, 'early');
  assert.equal(r.history.length, 3);
  const b = makers.forecast(1);
  const seen: number[] = [];
  const r2 = await fit(b.task, { epochs: 5, optimizer: new Adam(b.model.parameters()), rng: b.rng, callbacks: [{ onEpochEnd: (l) => { seen.push(l.epoch); return l.epoch === 2 ? 'stop' : undefined; } }] });
  assert.equal(r2.stopped, 'callback');
  assert.deepEqual(seen, [1, 2]);
  const c = makers.forecast(1);
  await assert.rejects(() => fit(c.task, { epochs: 2, optimizer: new SGD(c.model.parameters(), { lr: 1e30 }), rng: c.rng }), /training diverged: loss is (NaN|Infinity)/);
});

test('truncated BPTT: chunked forward with the state carried equals one pass; gradients stop at the chunk', async () => {
  const rng = new Rng(8);
  const arch: Architecture = { task: 'charlm', cell: 'gru', inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 7, vocabSize: 7 };
  const m = new SequenceModel(arch, { rng });
  const ids = Array.from({ length: 10 * 2 }, () => rng.int(7));
  const full = noGrad(() => m.forwardLM(m.input(ids, [10, 2], 'i32'), null).logits.dataSync());
  const p1 = noGrad(() => m.forwardLM(m.input(ids.slice(0, 8), [4, 2], 'i32'), null));
  const p2 = noGrad(() => m.forwardLM(m.input(ids.slice(8), [6, 2], 'i32'), p1.state).logits.dataSync());
  const chunked = [...p1.logits.dataSync(), ...p2];
  chunked.forEach((v, i) => assert.ok(Math.abs(v - full[i]) < 1e-5, `logit ${i}`));
  // Sequence-to-one with bptt: same output as full BPTT.
  const f = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 4, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 1 }, { rng });
  const x = f.input(Array.from({ length: 9 * 3 * 2 }, () => rng.normal()), [9, 3, 2]);
  const a = noGrad(() => f.forwardLast(x).dataSync()), b = noGrad(() => f.forwardLast(x, null, 4).dataSync());
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-6));
});

for (const { name, backend } of testBackends()) test(`truncated BPTT: the gradient is that of the last chunk from a fixed starting state (finite differences, f64, ${name})`, { skip: backend ? cpuSuiteSkip(name) ?? false : `${name} unavailable` }, () => {
  // forwardLast(x, null, bptt) differentiates L(θ) = sum(w * head(rnn(x[start:], s0; θ))) with the
  // state s0 = rnn(x[:start]) held fixed: checked element by element against central differences
  // of exactly that function (s0 computed once, in one pass instead of the model's chunks), and
  // shown to differ from the full-BPTT gradient (so the check would see a gradient leaking past s0).
  const opt = { backend: backend!, dtype: 'f64' as const, rng: new Rng(21) };
  const m = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 2 }, opt);
  const T = 9, B = 2, bptt = 4, start = T - bptt, rng = new Rng(22);
  const xv = Array.from({ length: T * B * 2 }, () => rng.normal());
  const x = m.input(xv, [T, B, 2]);
  x.requiresGrad = true;
  const w = m.input(Array.from({ length: B * 2 }, () => rng.normal()), [B, 2]);
  const params = m.parameters();
  backward(ops.sum(ops.mul(m.forwardLast(x, null, bptt), w)));
  const truncated = params.map((p) => Array.from(p.grad!.dataSync()));
  const gx = Array.from(x.grad!.dataSync());
  const s0 = noGrad(() => m.rnn.forward(ops.slice(x, 0, 0, start), null).state);
  const xLast = ops.slice(x, 0, start, T);
  const objective = () => noGrad(() => ops.sum(ops.mul(m.head.forward(m.summarize(m.rnn.forward(xLast, s0), null)), w)).item());
  const eps = 1e-6;
  params.forEach((p, k) => {
    const a = arr(p.storage); // the parameter's own memory (reference backend), perturbed in place
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      a[i] = v + eps; const up = objective();
      a[i] = v - eps; const dn = objective();
      a[i] = v;
      const num = (up - dn) / (2 * eps);
      assert.ok(Math.abs(num - truncated[k][i]) <= 1e-6 * Math.max(1, Math.abs(num)), `parameter ${k} [${p.shape}] element ${i}: tape ${truncated[k][i]} vs finite differences ${num}`);
    }
  });
  // Inputs before the chunk get no gradient at all.
  gx.slice(0, start * B * 2).forEach((v, i) => assert.equal(v, 0, `dL/dx[${i}] before the chunk`));
  assert.ok(gx.slice(start * B * 2).some((v) => Math.abs(v) > 1e-3), 'the chunk itself has input gradients');
  // Full BPTT differs: the truncation is real.
  m.zeroGrad();
  backward(ops.sum(ops.mul(m.forwardLast(x), w)));
  const worst = Math.max(...params.flatMap((p, k) => Array.from(p.grad!.dataSync(), (v, i) => Math.abs(v - truncated[k][i]))));
  assert.ok(worst > 1e-4, `full and truncated gradients agree to ${worst}: the test could not tell them apart`);
});

test('variable lengths: a padded batch gives each sequence the result it gets alone', async () => {
  const rng = new Rng(5), data = signSequences(5, rng);
  const m = new SequenceModel({ task: 'classify', cell: 'lstm', inputSize: 1, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0, outputSize: 3 }, { rng });
  const { x, T, lengths } = padBatch(data, [0, 1, 2, 3, 4], 1);
  const batch = noGrad(() => m.forwardLast(m.input(x, [T, 5, 1]), lengths).dataSync());
  data.forEach((s, i) => {
    const alone = noGrad(() => m.forwardLast(m.input(s.data, [s.length, 1, 1])).dataSync());
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(alone[c] - batch[i * 3 + c]) < 1e-5, `sequence ${i} class ${c}`);
  });
});

test('streaming: step()/push() one time step at a time matches the whole-sequence forward; resetState', async () => {
  const rng = new Rng(6);
  const m = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 5, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 3 }, { rng });
  m.eval();
  const xs = Array.from({ length: 7 * 2 }, () => rng.normal());
  const s = new StreamingModel(m);
  let out: Float32Array | null = null;
  for (let t = 0; t < 7; t++) out = s.push(m.input(xs.slice(t * 2, t * 2 + 2), [1, 2])).dataSync() as Float32Array;
  const whole = noGrad(() => m.forwardLast(m.input(xs, [7, 1, 2])).dataSync());
  whole.forEach((v, i) => assert.ok(Math.abs(v - out![i]) < 1e-5));
  // Pure step(): same as push from the same state; after resetState, a fresh start.
  s.resetState();
  assert.equal(s.state, null);
  const first = s.step(m.input(xs.slice(0, 2), [1, 2]), null);
  const again = s.push(m.input(xs.slice(0, 2), [1, 2]));
  assert.deepEqual(Array.from(again.dataSync()), Array.from(first.output.dataSync()));
  assert.throws(() => new StreamingModel(new SequenceModel({ ...m.arch, bidirectional: true })), /bidirectional model needs the whole sequence/);
});

test('sampling: temperature 0 is argmax, top-k restricts, generation is reproducible with a seed', async () => {
  const rng = new Rng(1);
  assert.equal(sample([0.1, 3, 0.2], 0, 0, rng), 1);
  for (let i = 0; i < 50; i++) assert.ok([1, 2].includes(sample([0.1, 3, 2.9, -1], 1, 2, rng)));
  const { model } = makers.charlm(2);
  const v = CharVocab.fromText(text);
  const g1 = await generateText(model, v, { seed: 'the ', length: 30, temperature: 0.8, rng: new Rng(5) });
  const g2 = await generateText(model, v, { seed: 'the ', length: 30, temperature: 0.8, rng: new Rng(5) });
  assert.equal(g1, g2);
  assert.equal(Array.from(g1).length, 30);
  await assert.rejects(generateText(model, v, { seed: 'xyz', length: 3, rng, strictVocab: true }), /seed text: character "x"/);
  assert.equal(Array.from(await generateText(model, v, { seed: 'xyz', length: 3, rng })).length, 3, 'unseen seed characters read as the fallback');
});

test('generation: a model whose weights make the next character (current + 1) gives exactly that text', async () => {
  // Vocabulary 'abcde'. Embedding = identity; the LSTM forgets (f ~ 0), writes the current
  // character to its cell (g = tanh(10 onehot - 5): ~+1 there, ~-1 elsewhere) and outputs it
  // (i, o ~ 1); the head maps unit j to character j + 1 (mod 5), scaled: logits differ by ~15.
  const v = new CharVocab([...'abcde']), V = 5;
  const model = new SequenceModel({ task: 'charlm', cell: 'lstm', inputSize: V, hiddenSize: V, numLayers: 1, bidirectional: false, dropout: 0, outputSize: V, vocabSize: V }, { rng: new Rng(1) });
  const eye = (scale: number, shift = 0) => Array.from({ length: V * V }, (_, i) => (Math.floor(i / V) === (i % V + shift) % V ? scale : 0));
  const blocks = (i: number[], f: number[], g: number[], o: number[]) => [...i, ...f, ...g, ...o];
  const zeros = (n: number) => new Array(n).fill(0), fill = (n: number, x: number) => new Array(n).fill(x);
  model.loadStateDict({
    'embed.weight': { shape: [V, V], data: eye(1) },
    'rnn.weight_ih_l0': { shape: [4 * V, V], data: blocks(zeros(V * V), zeros(V * V), eye(10), zeros(V * V)) },
    'rnn.weight_hh_l0': { shape: [4 * V, V], data: zeros(4 * V * V) },
    'rnn.bias_ih_l0': { shape: [4 * V], data: blocks(fill(V, 10), fill(V, -10), fill(V, -5), fill(V, 10)) },
    'rnn.bias_hh_l0': { shape: [4 * V], data: zeros(4 * V) },
    'head.weight': { shape: [V, V], data: eye(10, 1) }, // row (j + 1) % V has its 10 at column j
    'head.bias': { shape: [V], data: zeros(V) },
  });
  // The expectation, independently: each character follows the previous one in the alphabet.
  const expected = (last: string, n: number) => Array.from({ length: n }, (_, k) => 'abcde'[('abcde'.indexOf(last) + 1 + k) % V]).join('');
  assert.equal(expected('c', 7), 'deabcde');
  for (const [seed, temperature] of [['ca', 0], ['eed', 0], ['b', 0.5]] as const) {
    const got = await generateText(model, v, { seed, length: 12, temperature, rng: new Rng(3) });
    assert.equal(got, expected(seed[seed.length - 1], 12), `seed '${seed}', temperature ${temperature}`);
  }
});
