// Quantized models on disk and on the command line: save/load round trip (bit for bit), files
// that do not fit refused by name, `carousel quantize` then predict / generate / info.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { loadModel, readModelMeta, saveModel, weightsPath } from '../src/io/modelDir.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { StreamingModel } from '../src/models/stream.js';
import { quantize, QuantizedModel } from '../src/quant/model.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';
import { randArray, rng } from './util/random.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-quant-'));
const VOCAB = [...'abcdefgh ', '\n'];
const lmArch: Architecture = { task: 'charlm', cell: 'lstm', inputSize: 8, hiddenSize: 16, numLayers: 2, bidirectional: false, dropout: 0, outputSize: VOCAB.length, vocabSize: VOCAB.length };
const fcArch: Architecture = { task: 'forecast', cell: 'gru', inputSize: 1, hiddenSize: 12, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 2 };
const fcMeta = { forecast: { features: ['y'], targets: ['y'], window: 6, horizon: 2, normalization: { mean: [10], std: [2] } } };

async function floatDir(arch: Architecture, meta: object, seed: number): Promise<string> {
  const dir = tmp();
  await saveModel(dir, new SequenceModel(arch, { rng: new Rng(seed) }), meta);
  return dir;
}

/** Rewrite a model directory's weights file and model.json so that the hashes match again. */
function rewrite(dir: string, bytes: Uint8Array, edit: (meta: Record<string, any>) => void = () => {}): void {
  const meta = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  writeFileSync(join(dir, meta.weights.file), bytes);
  meta.weights.bytes = bytes.length;
  meta.weights.sha256 = createHash('sha256').update(bytes).digest('hex');
  edit(meta);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(meta));
}

describe('safetensors I8 / BF16 / F16', () => {
  it('writes them as given (16-bit patterns), reads them back; refuses values they cannot hold', () => {
    const bytes = serializeSafetensors([['a', { dtype: 'I8', shape: [3], data: [-128, 0, 127] }], ['b', { dtype: 'BF16', shape: [2], data: [0x3f80, 0xc000] }],
      ['c', { dtype: 'F16', shape: [2], data: [0x3c00, 0x0001] }]], { quantization: 'int8' });
    const f = parseSafetensors(bytes);
    assert.deepEqual(Array.from(f.tensors.get('a')!.data), [-128, 0, 127]);
    assert.deepEqual(Array.from(f.tensors.get('b')!.data), [1, -2]);
    assert.deepEqual(Array.from(f.tensors.get('c')!.data), [1, 2 ** -24]);
    assert.throws(() => serializeSafetensors([['a', { dtype: 'I8', shape: [1], data: [128] }]]), /^Error: safetensors: tensor 'a': I8 takes integers in \[-128, 127\], got 128 at index 0$/);
    assert.throws(() => serializeSafetensors([['b', { dtype: 'F16', shape: [1], data: [0.5] }]]), /F16 takes 16-bit patterns in \[0, 65535\], got 0.5 at index 0/);
    assert.throws(() => serializeSafetensors([['d', { dtype: 'U8' as never, shape: [1], data: [1] }]]), /cannot write dtype "U8" \(expected one of F32, F64, I32, I8, F16, BF16\)/);
  });
});

describe('quantized model directories', () => {
  for (const scheme of ['int8', 'bf16', 'f16'] as const) {
    it(`${scheme}: save and load give the same model, bit for bit; the file holds ${scheme} tensors and the scheme`, async () => {
      const m = new SequenceModel(lmArch, { rng: new Rng(1) }), q = quantize(m, { weights: scheme }), dir = tmp();
      await saveModel(dir, q, { charlm: { vocabulary: VOCAB } });
      assert.deepEqual(readModelMeta(dir).quantization, { weights: scheme });
      const f = parseSafetensors(readFileSync(weightsPath(dir)));
      assert.equal(f.metadata.quantization, scheme);
      assert.equal(f.tensors.get('rnn.weight_ih_l0')!.dtype, { int8: 'I8', bf16: 'BF16', f16: 'F16' }[scheme]);
      assert.equal(f.tensors.get('head.weight')!.dtype, { int8: 'I8', bf16: 'BF16', f16: 'F16' }[scheme]);
      assert.equal(f.tensors.get('rnn.bias_ih_l0')!.dtype, 'F32');
      assert.equal(f.tensors.has('rnn.weight_hh_l1.scale'), scheme === 'int8');
      const { model: back } = loadModel(dir);
      assert.ok(back instanceof QuantizedModel && back.scheme === scheme);
      for (const [[n, a], [n2, b]] of back.quantizedWeights().map((e, i) => [e, q.quantizedWeights()[i]] as const)) {
        assert.equal(n, n2);
        assert.deepEqual(a.stored(), b.stored());
      }
      noGrad(() => {
        const run = (mm: SequenceModel) => { const s = new StreamingModel(mm); s.push(1); s.push(4); const y = s.push(2).dataSync().slice(); s.dispose(); return y; };
        assert.deepEqual(run(back), run(q));
      });
    });
  }

  it('a file that does not fit its model.json is refused, naming the tensor', async () => {
    const q = quantize(new SequenceModel(fcArch, { rng: new Rng(2) }), { weights: 'int8' }), dir = tmp();
    await saveModel(dir, q, fcMeta);
    const bytes = readFileSync(weightsPath(dir)), f = parseSafetensors(bytes);
    const entries = () => [...f.tensors].map(([n, t]) => [n, { dtype: t.dtype, shape: t.shape, data: t.data.slice() }] as [string, any]);
    // A value int8's symmetric scheme never writes.
    const bad = entries();
    (bad.find(([n]) => n === 'rnn.weight_ih_l0')![1].data as Int8Array)[0] = -128;
    rewrite(dir, serializeSafetensors(bad, f.metadata));
    assert.throws(() => loadModel(dir), /tensor 'rnn.weight_ih_l0': quantized weight: expected int8 values in \[-127, 127\] \(symmetric\), got -128 at index 0/);
    // A scale missing.
    rewrite(dir, serializeSafetensors(entries().filter(([n]) => n !== 'head.weight.scale'), f.metadata));
    assert.throws(() => loadModel(dir), /missing tensor 'head.weight.scale' \(F32 \[2\]\)/);
    // The scheme in model.json and in the file disagree.
    rewrite(dir, serializeSafetensors(entries(), f.metadata), (m) => { m.quantization.weights = 'bf16'; });
    assert.throws(() => loadModel(dir), /expected quantization "bf16" in the metadata \(as model\.json says\), got "int8"/);
    // An unknown scheme, and a quantized file read as a float model.
    rewrite(dir, bytes, (m) => { m.quantization = { weights: 'int4' }; });
    assert.throws(() => loadModel(dir), /quantization\.weights: expected "int8", "bf16", "f16", got "int4"/);
    rewrite(dir, bytes, (m) => { delete m.quantization; });
    assert.throws(() => loadModel(dir), /tensor 'rnn.weight_ih_l0': expected a floating-point parameter, got I8/);
  });

  it('a float weights file under a quantized model.json is refused', async () => {
    const dir = await floatDir(fcArch, fcMeta, 3);
    rewrite(dir, readFileSync(weightsPath(dir)), (m) => { m.quantization = { weights: 'int8' }; });
    assert.throws(() => loadModel(dir), /expected quantization "int8" in the metadata \(as model\.json says\), got none/);
  });
});

describe('carousel quantize', () => {
  it('int8 charlm: quantize, info shows the scheme, predict and generate run on it', async () => {
    const dir = await floatDir(lmArch, { charlm: { vocabulary: VOCAB } }, 4), out = join(tmp(), 'mq');
    const r = carousel(['quantize', dir, '--weights', 'int8', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /mq: int8 weights, [\d.]+ kB \(f32: [\d.]+ kB\)/);
    const i = carousel(['info', out]);
    assert.equal(i.code, 0, i.err);
    assert.match(i.out, /^quantized: int8 weights \(int8 per output row with f32 scales, int8 activations, int32 sums\)/m);
    assert.match(i.out, /^ {2}rnn\.weight_ih_l0 {2}\[64, 8\] int8$/m);
    const text = join(tmp(), 'seed.txt');
    writeFileSync(text, 'abc dead bee');
    const p = carousel(['predict', '--model', out, '--data', text]), pf = carousel(['predict', '--model', dir, '--data', text]);
    assert.equal(p.code, 0, p.err);
    assert.match(p.out, /^char,probability\n(.+,0\.\d{4}\n){5}$/);
    // The same five characters as the float model (the int8 logits are within a few hundredths).
    const chars = (s: string) => s.split('\n').slice(1, 6).map((l) => l.split(',')[0]).sort();
    assert.deepEqual(chars(p.out), chars(pf.out));
    const g = carousel(['generate', '--model', out, '--length', '20', '--seed-text', 'ab']);
    assert.equal(g.code, 0, g.err);
    assert.equal(g.out.length, 'ab'.length + 20 + 1);
  });

  it('bf16 forecast: predict runs the batched forward', async () => {
    const dir = await floatDir(fcArch, fcMeta, 5), out = join(tmp(), 'mq');
    assert.equal(carousel(['quantize', dir, '--weights', 'bf16', '--out', out]).code, 0);
    const data = join(tmp(), 'y.csv');
    writeFileSync(data, 'y\n' + Array.from(randArray(rng(1), 10, 3), (v) => (10 + v).toFixed(3)).join('\n') + '\n');
    const p = carousel(['predict', '--model', out, '--data', data]), pf = carousel(['predict', '--model', dir, '--data', data]);
    assert.equal(p.code, 0, p.err);
    const nums = (s: string) => s.trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    const a = nums(p.out), b = nums(pf.out);
    assert.equal(a.length, 2);
    a.forEach((v, k) => assert.ok(Math.abs(v - b[k]) < 0.05, `step ${k + 1}: ${v} vs ${b[k]}`));
  });

  it('refuses bad requests with one line', async () => {
    const dir = await floatDir(fcArch, fcMeta, 6), out = join(tmp(), 'mq');
    userError(carousel(['quantize', dir, '--weights', 'int4', '--out', out]), /--weights: expected one of int8, bf16, f16, got 'int4'/);
    userError(carousel(['quantize', dir, '--out', out]), /--weights is required: one of int8, bf16, f16/);
    userError(carousel(['quantize', dir, '--weights', 'int8']), /--out is required/);
    userError(carousel(['quantize', dir, '--weights', 'int8', '--out', dir]), /--out: expected a directory other than the model's own .*: quantizing is one-way/);
    assert.equal(carousel(['quantize', dir, '--weights', 'int8', '--out', out]).code, 0);
    userError(carousel(['quantize', out, '--weights', 'bf16', '--out', join(tmp(), 'x')]), /is already quantized \(int8\); quantize the float model/);
  });
});
