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
import { compareToReference, f64, forEachBackend } from './backends.js';
import { gradcheck, randLeaf as randOn } from './util/gradcheck.js';

forEachBackend('finite-difference gradient checks of every module (f64)', (backend, name) => {
  const rng = new Rng(3);
  const F64 = f64(backend);
  const opts = () => ({ ...F64, rng: new Rng(11) });
  const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend);
  const lstmCases: [string, object, { lengths?: number[]; batchFirst?: boolean }][] = [
    ['1 layer', {}, {}],
    ['2 layers bidirectional', { numLayers: 2, bidirectional: true }, {}],
    ['projection', { projSize: 2 }, {}],
    ['projection bidirectional, 2 layers', { projSize: 2, numLayers: 2, bidirectional: true }, {}],
    ['no bias', { bias: false }, {}],
    ['variable lengths, unsorted, bidirectional', { bidirectional: true }, { lengths: [2, 4, 1] }],
    ['batch first with lengths and projection', { batchFirst: true, projSize: 3 }, { lengths: [3, 4, 4], batchFirst: true }],
  ];
  for (const [name, cfg, o] of lstmCases) {
    it(`LSTM: ${name}`, () => {
      const m = new LSTM({ inputSize: 3, hiddenSize: 4, ...cfg }, opts());
      const D = (cfg as { bidirectional?: boolean }).bidirectional ? 2 : 1;
      const L = (cfg as { numLayers?: number }).numLayers ?? 1;
      const Hout = (cfg as { projSize?: number }).projSize || 4;
      const x = randLeaf(rng, o.batchFirst ? [3, 4, 3] : [4, 3, 3]);
      const h0 = randLeaf(rng, [L * D, 3, Hout]), c0 = randLeaf(rng, [L * D, 3, 4]);
      gradcheck(() => { const r = m.forward(x, { h0, c0, lengths: o.lengths }); return [r.y, r.hN, r.cN]; }, [x, h0, c0, ...m.parameters()]);
    });
  }
  for (const [name, cfg, o] of [['1 layer', {}, {}], ['2 layers bidirectional', { numLayers: 2, bidirectional: true }, {}],
    ['no bias, batch first, lengths', { bias: false, batchFirst: true }, { lengths: [1, 3, 2] }]] as [string, object, { lengths?: number[] }][]) {
    it(`GRU: ${name}`, () => {
      const m = new GRU({ inputSize: 3, hiddenSize: 4, ...cfg }, opts());
      const D = (cfg as { bidirectional?: boolean }).bidirectional ? 2 : 1;
      const L = (cfg as { numLayers?: number }).numLayers ?? 1;
      const x = randLeaf(rng, [3, 3, 3]), h0 = randLeaf(rng, [L * D, 3, 4]);
      gradcheck(() => { const r = m.forward(x, { h0, lengths: o.lengths }); return [r.y, r.hN]; }, [x, h0, ...m.parameters()]);
    });
  }
  it('Linear and Embedding', () => {
    const lin = new Linear({ inFeatures: 3, outFeatures: 2 }, opts());
    const emb = new Embedding({ numEmbeddings: 5, embeddingDim: 3 }, opts());
    const ids = new Tensor(backend.upload('i32', [4, 0, 4, 2]), [2, 2]);
    gradcheck(() => lin.forward(emb.forward(ids)), [...lin.parameters(), ...emb.parameters()]);
  });
  it('Dropout (fixed mask)', () => {
    const x = randLeaf(rng, [4, 5]);
    gradcheck(() => new Dropout(0.3, { ...F64, rng: new Rng(5) }).forward(x), [x]);
  });
  it('MSE and cross-entropy losses, all reductions, ignoreIndex with mean', () => {
    const p = randLeaf(rng, [3, 4]), t = randLeaf(rng, [3, 4], 1, false), logits = randLeaf(rng, [3, 5]), l4 = randLeaf(rng, [4, 5]);
    const t4 = new Tensor(backend.upload('i32', [2, 0, 2, 4]), [4]);
    gradcheck(() => [mseLoss(p, t), mseLoss(p, t, 'sum'), mseLoss(p, t, 'none'), crossEntropy(logits, [1, 4, 0]),
      crossEntropy(logits, [1, -100, 2], 'sum'), crossEntropy(logits, [3, 3, 0], 'none'),
      crossEntropy(logits, [1, -100, 2]), crossEntropy(l4, [2, 0, 2, 4], 'mean', 2), crossEntropy(l4, t4, 'mean', 2)], [p, logits, l4]);
  });
  it('inter-layer dropout of LSTM and GRU stacks (fixed mask: the rng reseeded before each forward)', () => {
    for (const Cell of [LSTM, GRU]) {
      const r = new Rng(11);
      const m = new Cell({ inputSize: 3, hiddenSize: 4, numLayers: 3, dropout: 0.4, bidirectional: Cell === GRU }, { ...F64, rng: r });
      const x = randLeaf(rng, [4, 2, 3]);
      const run = () => { r.seed(99); return m.forward(x).y; };
      // The mask is in effect (else this would check a plain stack): training differs from eval.
      const train = run().toArray(), ev = m.eval().forward(x).y.toArray();
      m.train();
      assert.ok(train.some((v, i) => Math.abs(v - ev[i]) > 1e-3), `${Cell.name}: dropout changed nothing`);
      gradcheck(run, [x, ...m.parameters()]);
    }
  });
  // The same checks in f32 on each backend's own kernels (wasm's SIMD cells, GEMMs and softmax;
  // composed's chains of core kernels): f64 on wasm runs the reference kernels. Finite differences
  // in f32 need a larger step and tolerance; a wrong gradient is still off by far more.
  const f32Check = (fn: () => Tensor | Tensor[], leaves: Tensor[]) => gradcheck(fn, leaves, { eps: 1e-2, tol: 2e-3 });
  const leaf32 = (shape: number[], scale = 1) => randOn(rng, shape, scale, true, backend, 'f32');
  it('f32: LSTM (2 layers, bidirectional, lengths, inter-layer dropout) and GRU on this backend\'s kernels', () => {
    const r = new Rng(12);
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, dropout: 0.3 }, { backend, rng: r });
    const x = leaf32([4, 3, 3]), h0 = leaf32([4, 3, 4]), c0 = leaf32([4, 3, 4]);
    f32Check(() => { r.seed(5); const o = lstm.forward(x, { h0, c0, lengths: [4, 2, 3] }); return [o.y, o.hN, o.cN]; }, [x, h0, c0, ...lstm.parameters()]);
    const gru = new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, { backend, rng: new Rng(13) });
    const xg = leaf32([4, 2, 3]);
    f32Check(() => { const o = gru.forward(xg, { lengths: [4, 3] }); return [o.y, o.hN]; }, [xg, ...gru.parameters()]);
  });
  it('f32: softmax on every axis, cross-entropy (mean with ignoreIndex) and CTC on this backend\'s kernels', () => {
    const x = leaf32([2, 3, 4], 2), logits = leaf32([4, 5], 2), seq = leaf32([6, 2, 4]);
    f32Check(() => [ops.softmax(x, 0), ops.logSoftmax(x, 1), ops.softmax(x), crossEntropy(logits, [2, 0, 2, 4], 'mean', 2),
      ctcLoss(logSoftmax(seq), [1, 1, 2, 3], [6, 5], [3, 1])], [x, logits, seq]);
  });
  it('CTC loss through log-softmax, all reductions, repeats and variable lengths', () => {
    const x = randLeaf(rng, [6, 2, 4]);
    const targets = [1, 1, 2, 3], il = [6, 5], tl = [3, 1];
    gradcheck(() => {
      const lp = logSoftmax(x);
      return [ctcLoss(lp, targets, il, tl, { reduction: 'none' }), ctcLoss(lp, targets, il, tl, { reduction: 'sum' }), ctcLoss(lp, targets, il, tl)];
    }, [x], { tol: 1e-5 });
  });
  // The checks above run in f64 (on wasm: its reference kernels). In f32 each backend runs its own
  // kernels: outputs and gradients against the reference backend's (skipped on the reference itself).
  it('f32 LSTM (2 layers, bidirectional, projection, lengths), GRU and the losses agree with the reference backend', { skip: name === 'reference' ? 'this is the reference' : false }, () => {
    const run = (b: Backend) => {
      const o = { backend: b, rng: new Rng(17) };
      const r = new Rng(19);
      const leaf = (shape: number[], g = true) => { const t = randOn(r, shape, 1, false, b); const f = new Tensor(b.upload('f32', t.dataSync()), shape); f.requiresGrad = g; return f; };
      const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2 }, o);
      const gru = new GRU({ inputSize: 3, hiddenSize: 4, batchFirst: true }, o);
      const x = leaf([6, 3, 3]), xb = leaf([3, 6, 3]), w1 = leaf([6, 3, 4], false), w2 = leaf([3, 6, 4], false);
      const a = lstm.forward(x, { lengths: [6, 2, 4] }), g = gru.forward(xb, { lengths: [5, 6, 1] });
      const logits = leaf([3, 5]), seq = leaf([6, 2, 4]);
      const loss = [sum(mul(a.y, w1)), sum(a.hN), sum(a.cN), sum(mul(g.y, w2)), sum(g.hN), crossEntropy(logits, [1, 4, 0]),
        ctcLoss(logSoftmax(seq), [1, 2, 2, 3], [6, 5], [3, 1]), mseLoss(ops1(logits), leaf([3, 5], false))].reduce((p, q) => add(p, q));
      backward(loss);
      return [a.y, a.hN, a.cN, g.y, g.hN, loss, x.grad!, xb.grad!, logits.grad!, seq.grad!,
        ...lstm.parameters().map((p) => p.grad!), ...gru.parameters().map((p) => p.grad!)].map((t) => t.dataSync());
    };
    const ops1 = (t: Tensor) => mul(t, t);
    compareToReference(backend, run, 1e-5, 1e-4);
  });
});
