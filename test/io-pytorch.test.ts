import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../src/autograd/tape.js';
import { exportStateDict, importStateDict, readSafetensorsFile } from '../src/io/pytorch.js';
import { serializeSafetensors } from '../src/io/safetensors.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { LSTM } from '../src/nn/lstm.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';

// Interchange with PyTorch in both directions, through test/data/torch_interop.py. Needs a
// /usr/bin/python3 that imports torch (Debian: apt-get install python3-torch): without it these
// tests FAIL (a green run must mean they ran), unless CAROUSEL_NO_TORCH=1 says this machine
// runs without PyTorch on purpose; then they skip, saying why.
const PY = '/usr/bin/python3';
const SCRIPT = new URL('../../test/data/torch_interop.py', import.meta.url).pathname;
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const noTorchEnv = process.env.CAROUSEL_NO_TORCH;
if (noTorchEnv !== undefined && noTorchEnv !== '' && noTorchEnv !== '1') {
  throw new Error(`CAROUSEL_NO_TORCH: expected 1 (skip the PyTorch interchange tests) or unset, got '${noTorchEnv}'`);
}
const skip = hasTorch || noTorchEnv !== '1' ? false : 'CAROUSEL_NO_TORCH=1: PyTorch interchange tests skipped on purpose';
/** Fail, with the remedy, where PyTorch is missing and nobody said to skip. */
function requireTorch(): void {
  assert.ok(hasTorch, `PyTorch is not importable by ${PY}: install it (Debian: apt-get install python3-torch), or set CAROUSEL_NO_TORCH=1 to skip these tests on purpose`);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('PyTorch -> Carousel: nn.LSTM and task-model state_dicts reproduce PyTorch outputs', { skip }, () => {
  requireTorch();
  const dir = mkdtempSync(join(tmpdir(), 'carousel-pt-'));
  execFileSync(PY, [SCRIPT, 'export', dir], { stdio: 'pipe' });
  // A bare torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True).
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true });
  importStateDict(lstm, join(dir, 'lstm_sd.safetensors'));
  const io = readSafetensorsFile(join(dir, 'lstm_io.safetensors')).tensors;
  const x = io.get('x')!;
  const r = noGrad(() => lstm.forward(new Tensor(lstm.backend.upload('f32', x.data), x.shape)));
  assert.ok(maxDiff(r.y.dataSync(), io.get('y')!.data) < 1e-5, 'y');
  assert.ok(maxDiff(r.hN.dataSync(), io.get('hN')!.data) < 1e-5, 'hN');
  assert.ok(maxDiff(r.cN.dataSync(), io.get('cN')!.data) < 1e-5, 'cN');
  // Whole task models: GRU forecaster (2 layers, bidirectional) and an LSTM character LM.
  for (const name of ['fc_gru', 'lm_lstm']) {
    const arch = JSON.parse(readFileSync(join(dir, `${name}_arch.json`), 'utf8')) as Architecture;
    const m = new SequenceModel(arch);
    importStateDict(m, join(dir, `${name}_sd.safetensors`));
    const t = readSafetensorsFile(join(dir, `${name}_io.safetensors`)).tensors;
    const xi = t.get('x')!;
    const out = noGrad(() => arch.task === 'charlm'
      ? m.forwardLM(m.input(xi.data, xi.shape, 'i32'), null).logits
      : m.forwardLast(m.input(xi.data, xi.shape)));
    assert.ok(maxDiff(out.dataSync(), t.get('out')!.data) < 1e-5, name);
  }
});

test('Carousel -> PyTorch: exported weights load in PyTorch (strict) and give the same outputs', { skip }, async () => {
  requireTorch();
  const dir = mkdtempSync(join(tmpdir(), 'carousel-pt-'));
  const archs: Record<string, Architecture> = {
    lstm_fc: { task: 'forecast', cell: 'lstm', inputSize: 3, hiddenSize: 7, numLayers: 2, bidirectional: true, dropout: 0, outputSize: 4 },
    gru_cls: { task: 'classify', cell: 'gru', inputSize: 2, hiddenSize: 5, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 3 },
    lstm_lm: { task: 'charlm', cell: 'lstm', inputSize: 4, hiddenSize: 6, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 11, vocabSize: 11 },
  };
  const rng = new Rng(5);
  for (const [name, arch] of Object.entries(archs)) {
    const m = new SequenceModel(arch, { rng });
    await exportStateDict(m, join(dir, `${name}_ts.safetensors`));
    writeFileSync(join(dir, `${name}_arch.json`), JSON.stringify(arch));
    let x: { data: number[]; shape: number[]; dtype: 'F32' | 'I32' };
    let out: Tensor;
    if (arch.task === 'charlm') {
      x = { data: Array.from({ length: 12 }, () => rng.int(11)), shape: [6, 2], dtype: 'I32' };
      out = noGrad(() => m.forwardLM(m.input(x.data, x.shape, 'i32'), null).logits);
    } else {
      x = { data: Array.from({ length: 5 * 3 * arch.inputSize }, () => rng.normal()), shape: [5, 3, arch.inputSize], dtype: 'F32' };
      out = noGrad(() => m.forwardLast(m.input(x.data, x.shape)));
    }
    writeFileSync(join(dir, `${name}_tsio.safetensors`), serializeSafetensors([['x', x], ['out', { dtype: 'F32', shape: out.shape, data: out.dataSync() }]]));
  }
  writeFileSync(join(dir, 'ts_models.json'), JSON.stringify(Object.keys(archs)));
  const res = JSON.parse(execFileSync(PY, [SCRIPT, 'check', dir], { encoding: 'utf8' })) as Record<string, number>;
  for (const name of Object.keys(archs)) assert.ok(res[name] < 1e-5, `${name}: max |diff| ${res[name]}`);
});

test('importStateDict names missing, unexpected and mis-shaped parameters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-pt-'));
  const lstm = new LSTM({ inputSize: 2, hiddenSize: 3 });
  const p = join(dir, 'bad.safetensors');
  writeFileSync(p, serializeSafetensors([
    ['weight_ih_l0', { dtype: 'F32', shape: [12, 2], data: new Float32Array(24) }],
    ['weight_hh_l0', { dtype: 'F32', shape: [12, 4], data: new Float32Array(48) }],
    ['bias_ih_l0', { dtype: 'F32', shape: [12], data: new Float32Array(12) }],
    ['extra', { dtype: 'F32', shape: [1], data: [0] }],
  ]));
  assert.throws(() => importStateDict(lstm, p), (e: Error) =>
    /'weight_hh_l0': expected shape \[12, 3\], got \[12, 4\]/.test(e.message) && /unexpected parameter 'extra'/.test(e.message) && /missing parameter 'bias_hh_l0'/.test(e.message));
  assert.throws(() => importStateDict(lstm, join(dir, 'nope.safetensors')), /no such file/);
});
