import assert from 'node:assert/strict';
import { it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { crossEntropy } from '../src/loss/crossEntropy.js';
import { ctcLoss } from '../src/loss/ctc.js';
import { mseLoss } from '../src/loss/mse.js';
import { Dropout } from '../src/nn/dropout.js';
import { Embedding } from '../src/nn/embedding.js';
import { GRU } from '../src/nn/gru.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM } from '../src/nn/lstm.js';
import { add, mul } from '../src/ops/elementwise.js';
import * as ops from '../src/ops/index.js';
import { sum } from '../src/ops/reduce.js';
import { logSoftmax } from '../src/ops/softmax.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { compareToReference, forEachBackend, values } from './backends.js';
import { checkGradients, randLeaf as randOn, type CheckOpts, type Checked, type FloatOpts } from './util/gradcheck.js';

// On the CPU backends: finite differences in f64 (and in f32 on each backend's own kernels). On
// webgpu (f32 only): its outputs and gradients against the reference's f64 ones, which these
// finite differences check (util/gradcheck.ts, checkGradients).
forEachBackend('finite-difference gradient checks of every module (f64)', (backend, name) => {
  /** A check whose leaves and module weights come from generators it seeds itself (the same on both builds). */
  const check = (seed: number, build: (leaf: (shape: number[], scale?: number) => Tensor, o: FloatOpts & { rng: Rng }) => Checked, opts: CheckOpts = {}) =>
    checkGradients(backend, (o) => {
      const rng = new Rng(seed);
      return build((shape, scale = 1) => randOn(rng, shape, scale, true, o.backend, o.dtype), { ...o, rng: new Rng(11) });
    }, opts);
  const lstmCases: [string, object, { lengths?: number[]; batchFirst?: boolean }][] = [
    ['1 layer', {}, {}],
    ['2 layers bidirectional', { numLayers: 2, bidirectional: true }, {}],
    ['projection', { projSize: 2 }, {}],
    ['projection bidirectional, 2 layers', { projSize: 2, numLayers: 2, bidirectional: true }, {}],
    ['no bias', { bias: false }, {}],
    ['variable lengths, unsorted, bidirectional', { bidirectional: true }, { lengths: [2, 4, 1] }],
    ['batch first with lengths and projection', { batchFirst: true, projSize: 3 }, { lengths: [3, 4, 4], batchFirst: true }],
  ];
  for (const [[label, cfg, o], seed] of lstmCases.map((c, i) => [c, 30 + i] as const)) {
    it(`LSTM: ${label}`, () => check(seed, (randLeaf, mo) => {
      const m = new LSTM({ inputSize: 3, hiddenSize: 4, ...cfg }, mo);
      const D = (cfg as { bidirectional?: boolean }).bidirectional ? 2 : 1;
      const L = (cfg as { numLayers?: number }).numLayers ?? 1;
      const Hout = (cfg as { projSize?: number }).projSize || 4;
      const x = randLeaf(o.batchFirst ? [3, 4, 3] : [4, 3, 3]);
      const h0 = randLeaf([L * D, 3, Hout]), c0 = randLeaf([L * D, 3, 4]);
      return { fn: () => { const r = m.forward(x, { h0, c0, lengths: o.lengths }); return [r.y, r.hN, r.cN]; }, leaves: [x, h0, c0, ...m.parameters()] };
    }));
  }
  for (const [[label, cfg, o], seed] of ([['1 layer', {}, {}], ['2 layers bidirectional', { numLayers: 2, bidirectional: true }, {}],
    ['no bias, batch first, lengths', { bias: false, batchFirst: true }, { lengths: [1, 3, 2] }]] as [string, object, { lengths?: number[] }][]).map((c, i) => [c, 40 + i] as const)) {
    it(`GRU: ${label}`, () => check(seed, (randLeaf, mo) => {
      const m = new GRU({ inputSize: 3, hiddenSize: 4, ...cfg }, mo);
      const D = (cfg as { bidirectional?: boolean }).bidirectional ? 2 : 1;
      const L = (cfg as { numLayers?: number }).numLayers ?? 1;
      const x = randLeaf([3, 3, 3]), h0 = randLeaf([L * D, 3, 4]);
      return { fn: () => { const r = m.forward(x, { h0, lengths: o.lengths }); return [r.y, r.hN]; }, leaves: [x, h0, ...m.parameters()] };
    }));
  }
  it('Linear and Embedding', () => check(50, (_, mo) => {
    const lin = new Linear({ inFeatures: 3, outFeatures: 2 }, mo);
    const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 3 }, mo);
    const ids = new Tensor(mo.backend.upload('i32', [4, 0, 4, 2]), [2, 2]);
    return { fn: () => lin.forward(emb.forward(ids)), leaves: [...lin.parameters(), ...emb.parameters()] };
  }));
  it('Dropout (fixed mask)', () => check(51, (randLeaf, mo) => {
    const x = randLeaf([4, 5]);
    return { fn: () => new Dropout(0.3, { ...mo, rng: new Rng(5) }).forward(x), leaves: [x] };
  }));
  it('MSE and cross-entropy losses, all reductions, ignoreIndex with mean', () => check(52, (randLeaf, mo) => {
    const p = randLeaf([3, 4]), t = randLeaf([3, 4]), logits = randLeaf([3, 5]), l4 = randLeaf([4, 5]);
    t.requiresGrad = false;
    const t4 = new Tensor(mo.backend.upload('i32', [2, 0, 2, 4]), [4]);
    return { fn: () => [mseLoss(p, t), mseLoss(p, t, 'sum'), mseLoss(p, t, 'none'), crossEntropy(logits, [1, 4, 0]),
      crossEntropy(logits, [1, -100, 2], 'sum'), crossEntropy(logits, [3, 3, 0], 'none'),
      crossEntropy(logits, [1, -100, 2]), crossEntropy(l4, [2, 0, 2, 4], 'mean', 2), crossEntropy(l4, t4, 'mean', 2)], leaves: [p, logits, l4] };
  }));
  it('inter-layer dropout of LSTM and GRU stacks (fixed mask: the rng reseeded before each forward)', async () => {
    for (const Cell of [LSTM, GRU]) {
      const stack = (o: FloatOpts, r: Rng) => new Cell({ inputSize: 3, hiddenSize: 4, numLayers: 3, dropout: 0.4, bidirectional: Cell === GRU }, { ...o, rng: r });
      // The mask is in effect (else this would check a plain stack): training differs from eval.
      const r = new Rng(11), m = stack({ backend, dtype: 'f32' }, r);
      const x = randOn(new Rng(53), [4, 2, 3], 1, false, backend, 'f32');
      r.seed(99);
      const train = await values(m.forward(x).y), ev = await values(m.eval().forward(x).y);
      assert.ok(train.some((v, i) => Math.abs(v - ev[i]) > 1e-3), `${Cell.name}: dropout changed nothing`);
      await check(54, (randLeaf, mo) => {
        const rr = new Rng(11), mm = stack(mo, rr), xx = randLeaf([4, 2, 3]);
        return { fn: () => { rr.seed(99); return mm.forward(xx).y; }, leaves: [xx, ...mm.parameters()] };
      });
    }
  });
  // The same checks in f32 on each backend's own kernels (wasm's SIMD cells, GEMMs and softmax;
  // composed's chains of core kernels): f64 on wasm runs the reference kernels. Finite differences
  // in f32 need a larger step and tolerance; a wrong gradient is still off by far more. (On webgpu
  // every check above is already one of its f32 kernels against the reference.)
  const f32: CheckOpts = { f32: true, eps: 1e-2, tol: 2e-3 };
  it('f32: LSTM (2 layers, bidirectional, lengths, inter-layer dropout) and GRU on this backend\'s kernels', async () => {
    await check(12, (leaf32, o) => {
      const r = new Rng(12);
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0.3 }, { ...o, rng: r });
      const x = leaf32([4, 3, 3]), h0 = leaf32([4, 3, 4]), c0 = leaf32([4, 3, 4]);
      return { fn: () => { r.seed(5); const y = lstm.forward(x, { h0, c0, lengths: [4, 2, 3] }); return [y.y, y.hN, y.cN]; }, leaves: [x, h0, c0, ...lstm.parameters()] };
    }, f32);
    await check(13, (leaf32, o) => {
      const gru = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, { ...o, rng: new Rng(13) });
      const xg = leaf32([4, 2, 3]);
      return { fn: () => { const y = gru.forward(xg, { lengths: [4, 3] }); return [y.y, y.hN]; }, leaves: [xg, ...gru.parameters()] };
    }, f32);
  });
  it('f32: softmax on every axis, cross-entropy (mean with ignoreIndex) and CTC on this backend\'s kernels', () => check(14, (leaf32) => {
    const x = leaf32([2, 3, 4], 2), logits = leaf32([4, 5], 2), seq = leaf32([6, 2, 4]);
    return { fn: () => [ops.softmax(x, 0), ops.logSoftmax(x, 1), ops.softmax(x), crossEntropy(logits, [2, 0, 2, 4], 'mean', 2),
      ctcLoss(logSoftmax(seq), [1, 1, 2, 3], [6, 5], [3, 1])], leaves: [x, logits, seq] };
  }, f32));
  it('CTC loss through log-softmax, all reductions, repeats and variable lengths', () => check(15, (randLeaf) => {
    const x = randLeaf([6, 2, 4]);
    const targets = [1, 1, 2, 3], il = [6, 5], tl = [3, 1];
    return {
      fn: () => {
        const lp = logSoftmax(x);
        return [ctcLoss(lp, targets, il, tl, { reduction: 'none' }), ctcLoss(lp, targets, il, tl, { reduction: 'sum' }), ctcLoss(lp, targets, il, tl)];
      },
      leaves: [x],
    };
  }, { tol: 1e-5 }));
  // The checks above run in f64 (on wasm: its reference kernels). In f32 each backend runs its own
  // kernels: outputs and gradients against the reference backend's (skipped on the reference itself).
  it('f32 LSTM (2 layers, bidirectional, projection, lengths), GRU and the losses agree with the reference backend', { skip: name === 'reference' ? 'this is the reference' : false }, async () => {
    const run = (b: Backend) => {
      const o = { backend: b, rng: new Rng(17) };
      const r = new Rng(19);
      const leaf = (shape: number[], g = true) => randOn(r, shape, 1, g, b, 'f32');
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2 }, o);
      const gru = new GRU({ inputSize: 3, hiddenSize: 4, batchFirst: true }, o);
      const x = leaf([6, 3, 3]), xb = leaf([3, 6, 3]), w1 = leaf([6, 3, 4], false), w2 = leaf([3, 6, 4], false);
      const a = lstm.forward(x, { lengths: [6, 2, 4] }), g = gru.forward(xb, { lengths: [5, 6, 1] });
      const logits = leaf([3, 5]), seq = leaf([6, 2, 4]);
      const loss = [sum(mul(a.y, w1)), sum(a.hN), sum(a.cN), sum(mul(g.y, w2)), sum(g.hN), crossEntropy(logits, [1, 4, 0]),
        ctcLoss(logSoftmax(seq), [1, 2, 2, 3], [6, 5], [3, 1]), mseLoss(ops1(logits), leaf([3, 5], false))].reduce((p, q) => add(p, q));
      backward(loss);
      return [a.y, a.hN, a.cN, g.y, g.hN, loss, x.grad!, xb.grad!, logits.grad!, seq.grad!,
        ...lstm.parameters().map((p) => p.grad!), ...gru.parameters().map((p) => p.grad!)];
    };
    const ops1 = (t: Tensor) => mul(t, t);
    await compareToReference(backend, run, 1e-5, 1e-4);
  });
}, { asyncF32: true });
