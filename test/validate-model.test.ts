import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointData } from '../src/io/checkpoint.js';
import { ModelFileError } from '../src/io/errors.js';
import { LIMITS } from '../src/io/limits.js';
import { loadModel, saveModel, weightsPath } from '../src/io/modelDir.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { cellFactories } from '../src/models/cells.js';
import { parameterShapes } from '../src/models/parameterShapes.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { GRU } from '../src/nn/gru.js';
import { LSTM } from '../src/nn/lstm.js';
import { Linear } from '../src/nn/linear.js';
import { XLSTMStack } from '../src/nn/xlstm.js';
import { MLSTM } from '../src/nn/mlstm.js';
import { SLSTM } from '../src/nn/slstm.js';
import { Highway } from '../src/nn/highway.js';
import { ConvLSTM2d } from '../src/nn/convlstm.js';
import { Adam } from '../src/optim/adam.js';
import { StepLR } from '../src/optim/schedule.js';
import { makeWindows } from '../src/data/series.js';
import { Rng } from '../src/tensor/random.js';
import { fit, type FitOptions } from '../src/train/fit.js';
import { ForecastTask } from '../src/train/forecastTask.js';
import { silentProgress } from '../src/train/progress.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-val-'));
const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;

const arch = (o: Partial<Architecture> = {}): Architecture => ({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 3, ...o });
const forecastMeta = { forecast: { features: ['a', 'b'], targets: ['a'], window: 4, horizon: 3, normalization: { mean: [0, 1], std: [1, 2] } } };

/** A saved forecast model (3 outputs = 1 target x horizon 3) and its model.json as an object. */
async function savedModel(): Promise<{ dir: string; meta: Record<string, any> }> {
  const dir = tmp();
  await saveModel(dir, new SequenceModel(arch(), { rng: new Rng(1) }), forecastMeta);
  return { dir, meta: JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) };
}

/** loadModel refuses with a ModelFileError of one line matching `re`. */
function refused(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof ModelFileError, `expected a ModelFileError, got ${e.stack}`);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, re);
    return true;
  });
}

/** A backend that counts allocations: what loadModel made before refusing. */
function countingBackend(): { be: ReferenceBackend; made: () => number } {
  const be = new ReferenceBackend();
  let n = 0;
  const upload = be.upload.bind(be), alloc = be.alloc.bind(be);
  be.upload = (d, v) => { n++; return upload(d, v); };
  be.alloc = (d, l) => { n++; return alloc(d, l); };
  return { be, made: () => n };
}

test('parameterShapes: the shapes computed from an architecture are exactly those every built-in cell constructs', () => {
  for (const cell of cellFactories.keys()) {
    for (const task of ['forecast', 'classify', 'charlm'] as const) {
      for (const [numLayers, bidirectional, hiddenSize] of [[1, false, 4], [3, true, 6], [2, false, 5]] as const) {
        if ((cell === 'xlstm' || task === 'charlm') && bidirectional) continue;
        const a = arch({ task, cell, numLayers, bidirectional, hiddenSize, inputSize: 3, outputSize: 5, ...(task === 'charlm' ? { vocabSize: 5 } : {}) });
        const built = new SequenceModel(a).namedParameters().map(([n, p]) => `${n} [${p.shape.join(', ')}]`).sort();
        const computed = [...parameterShapes(a)!].map(([n, s]) => `${n} [${s.join(', ')}]`).sort();
        assert.deepEqual(computed, built, `${cell} ${task} ${numLayers} layers${bidirectional ? ' bidirectional' : ''}`);
      }
    }
  }
});

test('limits: absurd sizes are refused at once with the number and the limit, before any parameter is made', () => {
  const t0 = Date.now();
  assert.throws(() => new GRU({ inputSize: 1, hiddenSize: 30000 }), /GRU: 2700\d+ parameters is beyond the limit of 268435456/);
  assert.throws(() => new LSTM({ inputSize: 1, hiddenSize: 20000 }), /LSTM: \d+ parameters is beyond the limit of 268435456/);
  assert.throws(() => new LSTM({ inputSize: 1, hiddenSize: 4, numLayers: 1e9 }), /LSTM\.numLayers: 1000000000 layers is beyond the limit of 256/);
  assert.throws(() => new GRU({ inputSize: 100000, hiddenSize: 4 }), /GRU\.inputSize: 100000 units is beyond the limit of 65536/);
  assert.throws(() => new Linear({ inFeatures: 65536, outFeatures: 65536 }), /Linear: \d+ parameters is beyond the limit/);
  assert.throws(() => new XLSTMStack({ embeddingDim: 8192, numBlocks: 64 }), /XLSTMStack: \d+ parameters is beyond the limit/);
  assert.throws(() => new MLSTM({ inputSize: 1e6, hiddenSize: 1e6 }), /MLSTM: \d+ parameters is beyond the limit/);
  assert.throws(() => new SLSTM({ inputSize: 1e6, hiddenSize: 1e6 }), /SLSTM: \d+ parameters is beyond the limit/);
  assert.throws(() => new Highway({ size: 4, numLayers: 1e9 }), /Highway\.numLayers: 1000000000 layers is beyond the limit of 256/);
  assert.throws(() => new ConvLSTM2d({ inputChannels: 1, hiddenChannels: 4, kernelSize: 3, height: 1e5, width: 1e5 }), /ConvLSTM2d: \d+ parameters is beyond the limit/);
  assert.throws(() => new SequenceModel(arch({ hiddenSize: 20000 })), /architecture: \d+ parameters is beyond the limit of 268435456/);
  assert.throws(() => new SequenceModel(arch({ numLayers: 1e9 })), /architecture\.numLayers: 1000000000 layers is beyond the limit of 256/);
  assert.ok(Date.now() - t0 < 2000, `refusals took ${Date.now() - t0} ms`);
  assert.equal(LIMITS.parameters, 2 ** 28);
});

test('model.json: hostile architectures are refused before anything is allocated', async () => {
  const { dir, meta } = await savedModel();
  const write = (m: unknown) => writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
  for (const [a, re] of [
    [{ hiddenSize: 20000 }, /parameters is beyond the limit of 268435456/],
    [{ numLayers: 1e9 }, /numLayers: 1000000000 layers is beyond the limit of 256/],
    [{ inputSize: 1e12 }, /inputSize: 1000000000000 units is beyond the limit of 65536/],
    // Within the limits, but not what the weights file holds: refused from the header, not after building 16M parameters.
    [{ hiddenSize: 2000 }, /does not fit the architecture in model\.json: 'rnn\.weight_ih_l0': expected shape \[8000, 2\], got \[12, 2\]/],
  ] as const) {
    write({ ...meta, architecture: { ...meta.architecture, ...a } });
    const { be, made } = countingBackend();
    refused(() => loadModel(dir, { backend: be }), re);
    assert.equal(made(), 0, `${JSON.stringify(a)}: nothing allocated`);
  }
});

test('model.json: task sections must agree with the architecture; each problem is named in one line', async () => {
  const { dir, meta } = await savedModel();
  const f = meta.forecast;
  const cases: [Record<string, any>, RegExp][] = [
    [{ forecast: { ...f, horizon: 4 } }, /model\.json: forecast\.horizon: expected (targets x horizon|an integer in \[1, 3\]).*got 4/],
    [{ forecast: { ...f, horizon: 0 } }, /model\.json: forecast\.horizon: expected an integer in \[1, 3\], got 0/],
    [{ forecast: { ...f, targets: ['a', 'b'] } }, /forecast\.horizon: expected targets x horizon = architecture\.outputSize/],
    [{ forecast: { ...f, targets: ['zz'] } }, /forecast\.targets: expected columns among the features \(a, b\), got "zz"/],
    [{ forecast: { ...f, features: ['a'] } }, /forecast\.features: expected an array of 2 strings, got 1 entries/],
    [{ forecast: { ...f, normalization: { mean: [0, 1], std: [1, 0] } } }, /forecast\.normalization\.std: expected 2 positive finite numbers/],
    [{ forecast: { ...f, window: 'x' } }, /forecast\.window: expected an integer/],
    [{ forecast: { ...f, features: ['a', ''], targets: ['a'] } }, /forecast\.features\[1\]: expected a non-empty name, got ""/],
    [{ forecast: undefined }, /a forecast model needs a "forecast" section/],
    [{ classify: { labels: ['x'], features: 2 } }, /classify: expected no "classify" section in a forecast model/],
    [{ extra: 1 }, /extra: expected only the fields/],
    [{ version: 3 }, /unsupported version 3/],
    [{ weights: { ...meta.weights, file: '../../etc/passwd.safetensors' } }, /weights\.file: expected a file name in the model directory/],
    [{ weights: { ...meta.weights, sha256: '0'.repeat(64) } }, /SHA-256 [0-9a-f]{64}, model\.json records 0{64}/],
    [{ weights: { ...meta.weights, bytes: meta.weights.bytes + 1 } }, /\d+ bytes, model\.json records \d+/],
    [{ weights: undefined }, /weights: expected \{ file, bytes, sha256 \}, got nothing/],
  ];
  for (const [change, re] of cases) {
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...meta, ...change }));
    refused(() => loadModel(dir), re);
  }
  writeFileSync(join(dir, 'model.json'), JSON.stringify(meta));
  assert.equal(loadModel(dir).meta.forecast!.horizon, 3);
});

test('model.json: a charlm vocabulary must have one character per vocabulary entry; classify one label per output', async () => {
  const dir = tmp();
  const lm = new SequenceModel(arch({ task: 'charlm', inputSize: 2, outputSize: 4, vocabSize: 4 }));
  await saveModel(dir, lm, { charlm: { vocabulary: ['a', 'b', 'c', 'd'] } });
  const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  for (const [vocabulary, re] of [
    [['a', 'b', 'c'], /charlm\.vocabulary: expected an array of 4 strings, got 3 entries/],
    [['a', 'b', 'c', 'de'], /charlm\.vocabulary\[3\]: expected one character, got "de"/],
    [['a', 'b', 'c', 'c'], /charlm\.vocabulary: expected distinct entries/],
  ] as const) {
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ...meta, charlm: { vocabulary } }));
    refused(() => loadModel(dir), re);
  }
  await assert.rejects(saveModel(dir, lm, { charlm: { vocabulary: ['a', 'b', 'c'] } }), /charlm\.vocabulary: expected an array of 4 strings/, 'saveModel never writes a model.json that would not load');
  const cls = new SequenceModel(arch({ task: 'classify', outputSize: 3 }));
  await assert.rejects(saveModel(tmp(), cls, { classify: { labels: ['x', 'y'], features: 2 } }), /classify\.labels: expected an array of 3 strings/);
});

test('files: only regular files are read: a symlink to /dev/zero, a FIFO or a directory is refused at once', async () => {
  const { dir } = await savedModel();
  const wp = weightsPath(dir);
  rmSync(wp);
  symlinkSync('/dev/zero', wp);
  refused(() => loadModel(dir), /expected a regular file, got a character device/);
  const ck = join(dir, 'ck.safetensors');
  symlinkSync('/dev/zero', ck);
  refused(() => loadCheckpoint(ck), /ck\.safetensors: expected a regular file, got a character device/);
  const fifo = join(dir, 'fifo.safetensors');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  refused(() => loadCheckpoint(fifo), /expected a regular file, got a FIFO/);
  refused(() => loadCheckpoint(dir), /expected a regular file, got a directory/);
});

test('safetensors: dtypes named like Object.prototype members are unknown dtypes', () => {
  for (const dtype of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    const h = Buffer.from(JSON.stringify({ x: { dtype, shape: [1], data_offsets: [0, 4] } }));
    const b = new Uint8Array(8 + h.length + 4);
    new DataView(b.buffer).setBigUint64(0, BigInt(h.length), true);
    b.set(h, 8);
    assert.throws(() => parseSafetensors(b, 'f'), new RegExp(`tensor 'x': unknown dtype "${dtype}" \\(expected one of F64, F32`));
  }
  const f = parseSafetensors(serializeSafetensors([['__proto__', { dtype: 'F32', shape: [1], data: [2] }]], { __proto__: 'm', constructor: 'c' } as Record<string, string>));
  assert.deepEqual(Array.from(f.tensors.get('__proto__')!.data), [2]);
});

/** A small forecasting run with a checkpoint; returns how to resume it with a changed checkpoint. */
async function checkpointed(): Promise<{ ck: CheckpointData; resume: (ck: CheckpointData) => Promise<unknown> }> {
  const series = Array.from({ length: 40 }, (_, t) => Math.sin(t / 3));
  const make = () => {
    const rng = new Rng(2);
    const model = new SequenceModel(arch({ inputSize: 1, outputSize: 1 }), { rng });
    const task = new ForecastTask(model, makeWindows([series], [0], 6, 1, 0, 40), null, 8, [1]);
    const optimizer = new Adam(model.parameters(), { lr: 0.01 });
    return { task, o: { epochs: 2, optimizer, rng, progress: silentProgress, schedule: new StepLR(optimizer, 1, 0.5) } satisfies FitOptions };
  };
  const path = join(tmp(), 'ck.safetensors');
  const first = make();
  await fit(first.task, { ...first.o, epochs: 1, checkpoint: { path, everySteps: 2 } });
  return {
    ck: loadCheckpoint(path),
    resume: (ck) => { const r = make(); return fit(r.task, { ...r.o, resume: ck }); },
  };
}

test('checkpoint: hostile metadata and tensor groups are refused naming the file and field, before anything is restored', async () => {
  const { ck, resume } = await checkpointed();
  await resume(ck); // the checkpoint as written resumes
  const m = ck.meta as Record<string, any>;
  const cases: [(c: Record<string, any>) => void, RegExp][] = [
    [(c) => { c.optimizer.lr = -1; }, /optimizer\.lr: expected a finite number in \[0, Infinity\], got -1/],
    [(c) => { c.optimizer.hyper.beta1 = 1.5; }, /optimizer\.hyper\.beta1: expected a finite number in \[0, 1\), got 1\.5/],
    [(c) => { c.optimizer.hyper.amsgrad = 'yes'; }, /optimizer\.hyper\.amsgrad: expected true or false/],
    [(c) => { c.optimizer.hyper.constructor = 1; }, /optimizer\.hyper\.constructor: expected only beta1/],
    [(c) => { c.optimizer.kind = 'sgd'; }, /optimizer\.kind: expected 'adam'/],
    [(c) => { c.optimizer.steps = [1]; }, /optimizer\.steps: expected 6 integers/],
    [(c) => { c.optimizer = null; }, /optimizer: expected an object, got null/],
    [(c) => { c.loop.batch = -1; }, /loop\.batch: expected an integer in \[0, \d+\], got -1/],
    [(c) => { c.loop.epoch = 'x'; }, /loop\.epoch: expected an integer/],
    [(c) => { c.loop.order = [0, 0, 1]; }, /loop\.order: expected a permutation of 0\.\.\d+/],
    [(c) => { c.loop.history = {}; }, /loop\.history: expected an array/],
    [(c) => { c.loop = 5; }, /loop: expected an object, got 5/],
    [(c) => { c.rng = [0, 0, 0, 0, null]; }, /rng: expected four 32-bit words/],
    [(c) => { c.defaultRng = 'x'; }, /defaultRng: expected four 32-bit words/],
    [(c) => { c.schedule = null; }, /schedule: expected the state of the 'step' schedule/],
    [(c) => { c.schedule.lastEpoch = -3; }, /schedule\.lastEpoch: expected an integer in \[0, /],
    [(c) => { c.version = 7; }, /version: expected 1, got 7/],
  ];
  for (const [change, re] of cases) {
    const meta = JSON.parse(JSON.stringify(m));
    change(meta);
    await assert.rejects(resume({ ...ck, meta }), (e: Error) => {
      assert.ok(e instanceof ModelFileError, `expected a ModelFileError for ${re}, got ${e.stack}`);
      assert.match(e.message, new RegExp(`ck\\.safetensors: ${re.source}`));
      return true;
    });
  }
  const groups = (g: Record<string, Map<string, any>>) => resume({ ...ck, groups: g });
  const model = ck.groups.model;
  const wrong = new Map(model);
  wrong.set('head.bias', { shape: [2], data: [0, 0] });
  await assert.rejects(groups({ ...ck.groups, model: wrong }), /ck\.safetensors: model\.head\.bias: expected shape \[1\], got \[2\]/);
  await assert.rejects(groups({ ...ck.groups, best: new Map([['x', { shape: [1], data: [0] }]]) }), /ck\.safetensors: best\.rnn\.weight_ih_l0: expected a tensor of shape \[12, 1\], got nothing/);
  await assert.rejects(groups({ optim: ck.groups.optim }), /ck\.safetensors: no "model\." tensors/);
  await assert.rejects(groups({ ...ck.groups, optim: new Map([['99.exp_avg', { shape: [1], data: [0] }]]) }), /ck\.safetensors: optimizer state: buffer '99\.exp_avg' names no parameter/);
});

test('cli: train --resume refuses a checkpoint whose saved settings are out of range, in one line', () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'm');
  writeFileSync(csv, 't,value\n' + Array.from({ length: 40 }, (_, i) => `${i},${Math.sin(i / 3).toFixed(4)}`).join('\n') + '\n');
  const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const r = run(['train', '--task', 'forecast', '--data', csv, '--out', out, '--window', '4', '--hidden', '3', '--epochs', '1']);
  assert.equal(r.status, 0, r.stderr);
  const path = join(out, 'checkpoint.safetensors');
  const ck = loadCheckpoint(path);
  for (const [field, value, re] of [
    ['lr', -1, /config\.lr: expected a finite number in \[0, Infinity\], got -1/],
    ['hidden', 1e9, /config\.hidden: expected an integer in \[1, 65536\], got 1000000000/],
    ['cell', 'constructor', /config\.cell: expected one of lstm, gru/],
    ['task', undefined, /config\.task: expected one of forecast, classify, charlm, got nothing/],
  ] as const) {
    saveCheckpoint(path, { ...ck, meta: { ...ck.meta, config: { ...(ck.meta.config as object), [field]: value } } });
    const e = run(['train', '--out', out, '--resume', '--epochs', '2']);
    assert.equal(e.status, 2, e.stderr);
    assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr);
    assert.match(e.stderr, new RegExp(`checkpoint\\.safetensors: ${re.source}`));
  }
});

test('checkArchitecture refuses a cell that is not registered; a cell registered from outside has no computed shapes (loadStateDict checks its weights)', () => {
  assert.equal(parameterShapes(arch({ cell: 'no-such-cell' })), null);
  assert.throws(() => new SequenceModel(arch({ cell: 'tcn' })), /architecture\.cell: unknown cell "tcn": expected one of lstm, gru/);
});

test('checkpoint: carried state only for a task that carries state, numbered from 0', async () => {
  const { ck, resume } = await checkpointed();
  await assert.rejects(resume({ ...ck, groups: { ...ck.groups, carry: new Map([['0', { shape: [1, 1, 3], data: [0, 0, 0] }]]) } }),
    /ck\.safetensors: "carry\." tensors, but this task carries no state between batches/);
});
