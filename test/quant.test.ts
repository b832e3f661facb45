// Quantized inference (src/quant): the numbers of scheme.ts, the wasm kernels against the
// TypeScript reference (int8 bit for bit, 16-bit within rounding), quantized models against
// their float models (batched and streaming, every LSTM cell and GRU), and the refusal to train.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { loadBackend } from '../src/backend/registry.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { StreamingModel } from '../src/models/stream.js';
import { GRU } from '../src/nn/gru.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM, type LSTMConfig } from '../src/nn/lstm.js';
import { LSTMVariant } from '../src/nn/lstm-variants.js';
import { LSTM_VARIANTS, type LstmVariant } from '../src/ops/lstm-cell.js';
import { kernels } from '../src/ops/kernels.js';
import { quantize, quantizeLayer, QuantizedModel } from '../src/quant/model.js';
import { F16_MAX, fromBf16, fromF16, nearestEven, quantizeInt8, to16, toBf16, toF16 } from '../src/quant/scheme.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { forEachBackend, reference } from './backends.js';
import { randArray, rng } from './util/random.js';

const wasm = await loadBackend('wasm');

/** Packed weights as the kernels take them: int8 four and 16-bit two to an i32 element. */
function packed(be: Backend, v: Int8Array | Uint16Array) {
  const p = new Int32Array(Math.ceil(v.byteLength / 4));
  new Uint8Array(p.buffer).set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  return be.upload('i32', p);
}

describe('quantization numbers (scheme.ts)', () => {
  it('rounds ties to even as f32.nearest does', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, 126.5].map(nearestEven), [0, 2, 2, -0, -2, -2, 2, 126]);
  });

  it('f16 and bf16 bits: known values, subnormals, ties to even, range', () => {
    assert.equal(toF16(1), 0x3c00); assert.equal(toF16(-2), 0xc000); assert.equal(toF16(F16_MAX), 0x7bff);
    assert.equal(toF16(2 ** -24), 0x0001); assert.equal(toF16(2 ** -25), 0); assert.equal(toF16(1.5 * 2 ** -24), 0x0002);
    assert.equal(toF16(1 + 2 ** -11), 0x3c00); assert.equal(toF16(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(toBf16(1), 0x3f80); assert.equal(toBf16(1 + 2 ** -8), 0x3f80); assert.equal(toBf16(1 + 3 * 2 ** -8), 0x3f82);
    for (let h = 0; h < 0x7c00; h += 37) { assert.equal(toF16(fromF16(h)), h); assert.equal(toF16(-fromF16(h)), h | 0x8000); }
    for (let h = 0; h < 0x7f80; h += 101) assert.equal(toBf16(fromBf16(h)), h);
    assert.throws(() => to16('f16', [1, 70000], 'w'), /^Error: quantize: w: weight 70000 at index 1 is beyond f16's range \(largest 65504\); use bf16$/);
    assert.throws(() => to16('bf16', [NaN], 'w'), /expected finite weights, got NaN at index 0/);
  });

  it('quantize-dequantize error: int8 within half a step per row, bf16 2^-8 and f16 2^-11 relative (their unit roundoff)', () => {
    const r = rng(7), rows = 37, cols = 53;
    const w = randArray(r, rows * cols, 3);
    for (let i = 0; i < rows; i++) w[i * cols + (i % cols)] *= 10; // rows with an outlier: a coarser step
    const { q, scales } = quantizeInt8(w, rows, cols);
    for (let i = 0; i < rows; i++) {
      let amax = 0;
      for (let j = 0; j < cols; j++) amax = Math.max(amax, Math.abs(w[i * cols + j]));
      assert.ok(Math.abs(scales[i] - amax / 127) <= 1e-7 * amax, `scale of row ${i}`);
      for (let j = 0; j < cols; j++) {
        const e = Math.abs(q[i * cols + j] * scales[i] - w[i * cols + j]);
        assert.ok(e <= 0.5 * scales[i] * (1 + 1e-6), `row ${i} col ${j}: error ${e} > half a step ${scales[i] / 2}`);
      }
    }
    const b = to16('bf16', w, 'w'), h = to16('f16', w, 'w');
    for (let i = 0; i < w.length; i++) {
      assert.ok(Math.abs(fromBf16(b[i]) - w[i]) <= 2 ** -8 * Math.abs(w[i]), `bf16 [${i}]`);
      assert.ok(Math.abs(fromF16(h[i]) - w[i]) <= 2 ** -11 * Math.abs(w[i]) + 2 ** -25, `f16 [${i}]`); // + half the subnormal step
    }
    assert.deepEqual(Array.from(quantizeInt8([0, 0, 0], 1, 3).q), [0, 0, 0]); // an all-zero row: scale 0, values 0
  });
});

describe('quantized GEMM kernels: wasm against the TypeScript reference', () => {
  // m past the panel of 64 rows and not a multiple of 4; k around the 8- and 16-lane blocks.
  const shapes = [[1, 5, 1], [1, 9, 8], [3, 7, 17], [4, 4, 16], [5, 11, 33], [70, 13, 24], [2, 3, 301]];
  const cases = shapes.flatMap(([m, n, k]) => [
    { m, n, k, bias: true, acc: false, ldx: k, xOff: 0 },
    { m, n, k, bias: false, acc: true, ldx: k + 3, xOff: 2 },
  ]);

  function run(be: Backend, scheme: 'int8' | 'bf16' | 'f16', c: typeof cases[0], seed: number): Float32Array {
    const r = rng(seed), { m, n, k } = c, ldo = n + 1;
    const x = randArray(r, c.xOff + (m - 1) * c.ldx + k, 2);
    const w = randArray(r, n * k, 0.5), bias = randArray(r, n), out0 = randArray(r, m * ldo);
    const xs = be.upload('f32', x), bs = c.bias ? be.upload('f32', bias) : null, os = be.upload('f32', out0);
    const K = kernels(be);
    if (scheme === 'int8') {
      const { q, scales } = quantizeInt8(w, n, k);
      K.qgemmInt8(m, n, k, xs, c.xOff, c.ldx, packed(be, q), be.upload('f32', scales), bs, os, 0, ldo, c.acc);
    } else {
      K.qgemm16(scheme, m, n, k, xs, c.xOff, c.ldx, packed(be, to16(scheme, w, 'w')), bs, os, 0, ldo, c.acc);
    }
    return Float32Array.from(be.readSync!(os));
  }

  cases.forEach((c, i) => {
    const label = `m ${c.m} n ${c.n} k ${c.k}${c.bias ? ', bias' : ''}${c.acc ? ', accumulating, strided' : ''}`;
    it(`int8 ${label}: the same bits`, () => {
      assert.ok(typeof (wasm as unknown as Record<string, unknown>).qgemmInt8 === 'function', 'wasm runs the quant set natively');
      assert.deepEqual(run(wasm, 'int8', c, 100 + i), run(reference, 'int8', c, 100 + i));
    });
    for (const s of ['bf16', 'f16'] as const) {
      it(`${s} ${label}: within f32 rounding`, () => {
        const got = run(wasm, s, c, 200 + i), want = run(reference, s, c, 200 + i);
        // |error| of an f32 sum of k products of |x| <= 2, |w| <= 0.5: k ulp-scale terms
        for (let j = 0; j < want.length; j++) assert.ok(Math.abs(got[j] - want[j]) <= 1e-6 * (c.k + 4), `[${j}] ${got[j]} vs ${want[j]}`);
      });
    }
  });

  it('the int8 product is the integer product of the quantized values, scaled', () => {
    // x = [1, -2, 3] quantizes to codes [76, 0, 127] with zero point 51 (127/5 per unit over [-2, 3]),
    // W row [0.5, 0.25, -1] to [64, 32, -127].
    const K = kernels(wasm), x = wasm.upload('f32', [1, -2, 3]), out = wasm.alloc('f32', 1);
    const { q, scales } = quantizeInt8([0.5, 0.25, -1], 1, 3);
    assert.deepEqual(Array.from(q), [64, 32, -127]);
    K.qgemmInt8(1, 1, 3, x, 0, 3, packed(wasm, q), wasm.upload('f32', scales), null, out, 0, 1, false);
    const acc = (76 - 51) * 64 + (0 - 51) * 32 - (127 - 51) * 127, f = Math.fround;
    assert.equal(wasm.readSync!(out)[0], f(f(acc) * f(f(5 / 127) * scales[0])));
  });
});

const arch = (task: 'forecast' | 'charlm', cell: string, extra: Partial<Architecture> = {}): Architecture => ({
  task, cell, inputSize: 6, hiddenSize: 24, numLayers: 2, bidirectional: false, dropout: 0, outputSize: task === 'charlm' ? 11 : 3,
  ...(task === 'charlm' ? { vocabSize: 11 } : {}), ...extra,
});

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Errors against the float model: int8 a few hundredths here (24 hidden units, random weights), 16-bit far less.
const TOL = { int8: 0.06, bf16: 0.02, f16: 0.003 } as const;

forEachBackend('quantized models', (be, name) => {
  const cells = ['lstm', 'gru', 'peephole', ...(Object.keys(LSTM_VARIANTS) as LstmVariant[]).map((v) => v.toLowerCase())];
  for (const cell of cells) {
    for (const scheme of ['int8', 'bf16', 'f16'] as const) {
      if (name === 'composed' && scheme !== 'int8' && cell !== 'lstm') continue; // the slow backend: one cell per 16-bit scheme
      it(`${cell} ${scheme}: batched forward near the float model, streaming equal to batched`, async () => {
        const m = new SequenceModel(arch('forecast', cell), { backend: be, rng: new Rng(3) });
        const q = quantize(m, { weights: scheme });
        assert.ok(q instanceof QuantizedModel);
        const T = 5, B = 3, I = 6, x = randArray(rng(9), T * B * I);
        const [w, g] = noGrad(() => [m.forwardLast(m.input(x, [T, B, I])), q.forwardLast(q.input(x, [T, B, I]))]);
        const want = await w.data(), got = await g.data();
        const err = maxAbs(got, want);
        assert.ok(err > 0 && err < TOL[scheme], `max |quantized - float| = ${err}`);
        // Streaming: the same model step by step gives the batched model's last output.
        const s = new StreamingModel(q);
        let y: ArrayLike<number> = [];
        for (let t = 0; t < T; t++) { const o = noGrad(() => s.push(x.subarray(t * B * I, (t + 1) * B * I))); y = await o.data(); }
        s.dispose();
        assert.ok(maxAbs(y, got) < 1e-5, `stream vs forward: ${maxAbs(y, got)}`);
      });
    }
  }

  it('variable lengths and a bidirectional stack (classify-style forward) stay near the float model', async () => {
    const a = { ...arch('forecast', 'lstm'), bidirectional: true };
    const m = new SequenceModel(a, { backend: be, rng: new Rng(4) }), q = quantize(m, { weights: 'int8' });
    const T = 6, B = 4, x = randArray(rng(2), T * B * 6), lengths = [6, 2, 5, 3];
    const [got, want] = noGrad(() => [q.forwardLast(q.input(x, [T, B, 6]), lengths), m.forwardLast(m.input(x, [T, B, 6]), lengths)]);
    assert.ok(maxAbs(await got.data(), await want.data()) < TOL.int8);
  });

  it('charlm: logits of the embedded ids near the float model', async () => {
    const m = new SequenceModel(arch('charlm', 'lstm'), { backend: be, rng: new Rng(5) }), q = quantize(m, { weights: 'int8' });
    const ids = new Tensor(be.upload('i32', [1, 4, 7, 10, 0, 3]), [3, 2]);
    const [got, want] = noGrad(() => [q.forwardLM(ids, null).logits, m.forwardLM(ids, null).logits]);
    assert.ok(maxAbs(await got.data(), await want.data()) < 0.1);
  });
}, { asyncF32: true, syncReads: 'quantize() reads the float weights with dataSync (src/quant/model.ts)' });

describe('quantized layers: LSTM with a projection, LSTMVariant naming, Linear', () => {
  const x = randArray(rng(11), 4 * 2 * 5);
  const cases: [string, () => LSTM][] = [
    ['projSize 3, 2 layers', () => new LSTM({ inputSize: 5, hiddenSize: 8, projSize: 3, numLayers: 2 } as LSTMConfig, { rng: new Rng(1) })],
    ['LSTMVariant FGR (weights without _l0)', () => new LSTMVariant({ inputSize: 5, hiddenSize: 8, variant: 'FGR' }, { rng: new Rng(2) })],
    ['bidirectional peepholes', () => new LSTM({ inputSize: 5, hiddenSize: 8, peepholes: true, bidirectional: true }, { rng: new Rng(3) })],
  ];
  for (const [label, make] of cases) {
    it(label, () => noGrad(() => {
      const f = make(), q = quantizeLayer(f, { weights: 'int8' });
      const xt = tensor(x, [4, 2, 5]), a = f.forward(xt), b = q.forward(xt);
      assert.ok(maxAbs(b.y.dataSync(), a.y.dataSync()) < 0.05);
      assert.ok(maxAbs(b.cN.dataSync(), a.cN.dataSync()) < 0.05);
      if (f.numDirections === 1) {
        const s = q.stream(2);
        let y: ArrayLike<number> = [];
        for (let t = 0; t < 4; t++) y = s.step(tensor(x.subarray(t * 10, (t + 1) * 10), [2, 5])).dataSync();
        assert.ok(maxAbs(y, b.y.dataSync().subarray(3 * 2 * f.outputSize)) < 1e-6);
      }
    }));
  }
  it('Linear and GRU', () => noGrad(() => {
    const l = new Linear({ inFeatures: 5, outFeatures: 4 }, { rng: new Rng(6) }), ql = quantizeLayer(l, { weights: 'bf16' });
    const xt = tensor(x.subarray(0, 15), [3, 5]);
    assert.ok(maxAbs(ql.forward(xt).dataSync(), l.forward(xt).dataSync()) < 0.01);
    const g = new GRU({ inputSize: 5, hiddenSize: 6 }, { rng: new Rng(7) }), qg = quantizeLayer(g, { weights: 'f16' });
    const xs = tensor(x, [4, 2, 5]);
    assert.ok(maxAbs(qg.forward(xs).y.dataSync(), g.forward(xs).y.dataSync()) < 0.003);
  }));
});

describe('quantized streaming allocates nothing per step', () => {
  it('wasm: 200 pushes of an int8 charlm take no fresh linear memory after the first', () => {
    const m = new SequenceModel(arch('charlm', 'lstm'), { backend: wasm, rng: new Rng(12) }), q = quantize(m, { weights: 'int8' });
    const s = new StreamingModel(q), w = wasm as unknown as { freshAllocations: number; heap: { inUse: number } };
    noGrad(() => {
      for (let i = 0; i < 5; i++) s.push(i % 11);
      const fresh = w.freshAllocations, inUse = w.heap.inUse;
      for (let i = 0; i < 200; i++) s.push((i * 7) % 11);
      assert.equal(w.freshAllocations, fresh, 'fresh blocks');
      assert.equal(w.heap.inUse, inUse, 'bytes in use');
    });
    s.dispose();
  });
});

describe('a quantized model refuses what it cannot do', () => {
  const m = new SequenceModel(arch('forecast', 'lstm'), { rng: new Rng(8) });
  const q = quantize(m, { weights: 'int8' });
  it('training: train() (which fit() calls before every epoch) refuses with the reason; its layers too', () => {
    assert.throws(() => q.train(), /^Error: train: a quantized model runs inference only: train the float model, then quantize it \(carousel quantize\)$/);
    assert.throws(() => q.rnn.module.train(), /quantized LSTM: a quantized model runs inference only/);
    assert.throws(() => q.head.train(true), /QuantLinear: a quantized model runs inference only/);
    assert.equal(q.training, false);
    q.eval(); // eval() is train(false): allowed
  });
  it('bad options and models', () => {
    assert.throws(() => quantize(m, { weights: 'int4' as never }), /^Error: quantize weights: expected one of int8, bf16, f16, got "int4"$/);
    assert.throws(() => quantize(m, {} as never), /expected one of int8, bf16, f16, got undefined/);
    assert.throws(() => quantize(q, { weights: 'bf16' }), /already quantized \(int8\); quantize the float model/);
    const x = new SequenceModel({ ...arch('forecast', 'xlstm'), numLayers: 1 }, { rng: new Rng(1) });
    assert.throws(() => quantize(x, { weights: 'int8' }), /cell 'xlstm' has no quantized form: expected one of lstm, peephole, .*gru/);
  });
});
