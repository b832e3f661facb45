import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gelu, silu } from '../src/ops/activation.js';
import { causalConv1d } from '../src/ops/conv1d.js';
import { groupNorm, layerNorm } from '../src/ops/norm.js';
import { MLSTMBlock, SLSTMBlock, XLSTMStack, xlstmRecurrentCore } from '../src/nn/xlstm.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { f64, forEachBackend } from './backends.js';
import { gradcheck, randLeaf as randOn } from './util/gradcheck.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

forEachBackend('xLSTM blocks', (backend) => {
const rng = new Rng(21);
const ref64 = backend;
const F64 = f64(backend);
const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend);

describe('generic ops for the xLSTM blocks: values', () => {
  it('layerNorm and groupNorm normalize each group (biased variance, eps), then scale and shift', () => {
    const x = new Tensor(ref64.upload('f64', [1, 2, 3, 4, 10, 20, 30, 50]), [2, 4]);
    const y = layerNorm(x, null, null, 0).dataSync();
    // row [1, 2, 3, 4]: mean 2.5, var 1.25
    for (let j = 0; j < 4; j++) close(y[j], (j + 1 - 2.5) / Math.sqrt(1.25));
    const w = new Tensor(ref64.upload('f64', [1, 2, 3, 4]), [4]), b = new Tensor(ref64.upload('f64', [0, 0, 1, 1]), [4]);
    const g = groupNorm(x, 2, w, b, 0).dataSync();
    // groups [1, 2] and [3, 4] -> [-1, 1] each; [10, 20] -> [-1, 1]; [30, 50] -> [-1, 1]
    assert.deepEqual(Array.from(g), [-1, 2, -2, 5, -1, 2, -2, 5]);
  });
  it('gelu (tanh form) and silu match known values', () => {
    const x = new Tensor(ref64.upload('f64', [-2, -0.5, 0, 1, 3]), [5]);
    const g = gelu(x).dataSync(), s = silu(x).dataSync();
    const gref = [-2, -0.5, 0, 1, 3].map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    gref.forEach((v, i) => close(g[i], v));
    close(g[3], 0.8411919906082768);
    [-2, -0.5, 0, 1, 3].forEach((v, i) => close(s[i], v / (1 + Math.exp(-v))));
  });
  it('causalConv1d equals an explicit loop and never looks ahead', () => {
    const T = 5, B = 2, C = 3, K = 3;
    const x = randLeaf(rng, [T, B, C], 1, false), w = randLeaf(rng, [C, 1, K], 1, false), b = randLeaf(rng, [C], 1, false);
    const y = causalConv1d(x, w, b).dataSync();
    const xa = x.dataSync(), wa = w.dataSync(), ba = b.dataSync();
    for (let t = 0; t < T; t++) for (let r = 0; r < B; r++) for (let c = 0; c < C; c++) {
      let s = ba[c];
      for (let j = 0; j < K; j++) { const ts = t - K + 1 + j; if (ts >= 0) s += wa[c * K + j] * xa[(ts * B + r) * C + c]; }
      close(y[(t * B + r) * C + c], s);
    }
  });
});

describe('generic ops: finite-difference gradients (f64)', () => {
  it('groupNorm with weight and bias, 1 and 3 groups; layerNorm without affine', () => {
    const x = randLeaf(rng, [3, 2, 6]), w = randLeaf(rng, [6]), b = randLeaf(rng, [6]);
    gradcheck(() => [groupNorm(x, 3, w, b), layerNorm(x, w, b)], [x, w, b]);
    gradcheck(() => layerNorm(x, null, null), [x]);
  });
  it('gelu and silu', () => {
    const x = randLeaf(rng, [4, 5], 2);
    gradcheck(() => [gelu(x), silu(x)], [x]);
  });
  it('causalConv1d: K 3, K 1, and K longer than the sequence', () => {
    for (const [T, K] of [[5, 3], [4, 1], [2, 4]]) {
      const x = randLeaf(rng, [T, 2, 3]), w = randLeaf(rng, [3, 1, K]), b = randLeaf(rng, [3]);
      gradcheck(() => causalConv1d(x, w, b), [x, w, b]);
      gradcheck(() => causalConv1d(x, w, null), [x, w]);
    }
  });
});

describe('xLSTM blocks: finite-difference gradients (f64)', () => {
  for (const form of ['recurrent', 'parallel', 'chunkwise'] as const) {
    it(`mLSTM block (${form})`, () => {
      const m = new MLSTMBlock({ embeddingDim: 4, numHeads: 2, form, chunkSize: 2 }, { ...F64, rng: new Rng(3) });
      const x = randLeaf(rng, [5, 2, 4]);
      gradcheck(() => m.forward(x), [x, ...m.parameters()], { tol: 1e-5 });
    });
  }
  for (const [name, cfg] of [['with causal conv, sigmoid forget', {}], ['no conv, exp forget', { convKernel: 0, forgetGate: 'exp' as const }]] as const) {
    it(`sLSTM block (${name})`, () => {
      const m = new SLSTMBlock({ embeddingDim: 4, numHeads: 2, ...cfg }, { ...F64, rng: new Rng(4) });
      const x = randLeaf(rng, [5, 2, 4]);
      gradcheck(() => m.forward(x), [x, ...m.parameters()], { tol: 1e-5 });
    });
  }
  it('XLSTMStack character LM [m, s]: embedding -> blocks -> norm -> head', () => {
    const m = new XLSTMStack({ vocabSize: 5, embeddingDim: 4, numBlocks: 2, slstmAt: [1], numHeads: 2 }, { ...F64, rng: new Rng(5) });
    const ids = new Tensor(ref64.upload('i32', [0, 4, 2, 2, 1, 3, 4, 0]), [4, 2]);
    assert.deepEqual(m.forward(ids).shape, [4, 2, 5]);
    gradcheck(() => m.forward(ids), m.parameters(), { tol: 1e-5 });
  });
});

describe('XLSTMStack', () => {
  it('PyTorch-style parameter names and a state dict round trip', () => {
    const m = new XLSTMStack({ vocabSize: 7, embeddingDim: 8, numBlocks: 3, slstmAt: [1] }, { backend });
    const names = m.namedParameters().map(([n]) => n);
    for (const n of ['embedding.weight', 'blocks.0.proj_up.weight', 'blocks.0.conv1d.weight', 'blocks.0.igate.bias', 'blocks.0.outnorm.weight',
      'blocks.0.learnable_skip', 'blocks.1.cell.weight_hh', 'blocks.1.cell.bias', 'blocks.1.ffn_up.weight', 'blocks.2.proj_down.weight',
      'post_blocks_norm.weight', 'head.weight', 'head.bias']) assert.ok(names.includes(n), `missing ${n}`);
    assert.ok(m.blocks[1] instanceof SLSTMBlock && m.blocks[0] instanceof MLSTMBlock && m.blocks[2] instanceof MLSTMBlock);
    const m2 = new XLSTMStack({ vocabSize: 7, embeddingDim: 8, numBlocks: 3, slstmAt: [1] }, { rng: new Rng(99), backend });
    m2.loadStateDict(m.stateDict());
    const ids = new Tensor(m.backend.upload('i32', [1, 2, 3, 4, 5, 6]), [3, 2]);
    assert.deepEqual(Array.from(m2.forward(ids).dataSync()), Array.from(m.forward(ids).dataSync()));
  });
  it('is causal: the output at step t does not depend on later inputs', () => {
    const m = new XLSTMStack({ vocabSize: 6, embeddingDim: 8, numBlocks: 2, slstmAt: [0] }, { rng: new Rng(1), backend });
    const a = m.forward(new Tensor(m.backend.upload('i32', [1, 2, 3, 4, 5, 0]), [6, 1])).dataSync();
    const b = m.forward(new Tensor(m.backend.upload('i32', [1, 2, 3, 0, 0, 5]), [6, 1])).dataSync();
    for (let i = 0; i < 3 * 6; i++) assert.equal(a[i], b[i]);
    assert.notEqual(a[3 * 6], b[3 * 6]);
  });
  for (const form of ['recurrent', 'parallel', 'chunkwise'] as const) {
    it(`forwardWithState: pieces (4 + 1 + 4 steps) and single steps give the numbers of one call (mLSTM ${form})`, () => {
      const m = new XLSTMStack({ vocabSize: 5, embeddingDim: 8, numBlocks: 3, slstmAt: [1], numHeads: 2, mlstm: { form, chunkSize: 3 } },
        { ...F64, rng: new Rng(8) });
      const T = 9, B = 2;
      const idsArr = Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % 5);
      const ids = (from: number, to: number) => new Tensor(ref64.upload('i32', idsArr.slice(from * B, to * B)), [to - from, B]);
      const whole = m.forward(ids(0, T)).dataSync();
      for (const cuts of [[0, 4, 5, 9], Array.from({ length: T + 1 }, (_, i) => i)]) {
        let state: Tensor[] | null = null;
        const got: number[] = [];
        for (let i = 0; i + 1 < cuts.length; i++) {
          const r = m.forwardWithState(ids(cuts[i], cuts[i + 1]), state);
          got.push(...r.output.dataSync());
          state = r.state;
        }
        assert.equal(state!.length, m.stateSize);
        got.forEach((v, i) => close(v, whole[i], 1e-10));
      }
    });
  }
  it('forwardWithState: gradients flow through the carried state (finite differences)', () => {
    const m = new XLSTMStack({ vocabSize: 4, embeddingDim: 4, numBlocks: 2, slstmAt: [0], numHeads: 2 }, { ...F64, rng: new Rng(9) });
    const a = new Tensor(ref64.upload('i32', [1, 2, 3, 0]), [2, 2]), b = new Tensor(ref64.upload('i32', [2, 2, 1, 3, 0, 1]), [3, 2]);
    gradcheck(() => {
      const r1 = m.forwardWithState(a, null);
      return m.forwardWithState(b, r1.state).output;
    }, m.parameters(), { tol: 1e-5 });
  });
  it('xlstmRecurrentCore: features [T, B, inputSize] -> [T, B, hiddenSize] with an input projection, state carried, gradients', () => {
    const core = xlstmRecurrentCore({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, { ...F64, rng: new Rng(12) });
    assert.deepEqual((core.module as XLSTMStack).slstmAt, [1]);
    assert.ok(core.module.namedParameters().some(([n]) => n === 'input_proj.weight'));
    const x = randLeaf(rng, [5, 2, 3]);
    const whole = core.forward(x, null);
    assert.deepEqual(whole.y.shape, [5, 2, 4]);
    const xa = new Tensor(ref64.upload('f64', x.dataSync().slice(0, 2 * 6)), [2, 2, 3]);
    const xb = new Tensor(ref64.upload('f64', x.dataSync().slice(2 * 6)), [3, 2, 3]);
    const a = core.forward(xa, null), b = core.forward(xb, a.state);
    [...a.y.dataSync(), ...b.y.dataSync()].forEach((v, i) => close(v, whole.y.dataSync()[i], 1e-10));
    gradcheck(() => core.forward(x, null).y, [x, ...core.module.parameters()], { tol: 1e-5 });
  });
  it('rejects bad configurations with clear messages', () => {
    assert.throws(() => new XLSTMStack({ embeddingDim: 8, numBlocks: 2, slstmAt: [2] }, { backend }), /slstmAt entries must be block indices in \[0, 1\], got 2/);
    assert.throws(() => new XLSTMStack({ embeddingDim: 8, numBlocks: 2, slstmAt: [0, 0] }, { backend }), /repeated/);
    assert.throws(() => new XLSTMStack({ embeddingDim: 6, numBlocks: 1, numHeads: 4, slstmAt: [0] }, { backend }), /width 6 must be divisible by numHeads 4/);
    assert.throws(() => new XLSTMStack({ embeddingDim: 8, numBlocks: 1, depth: 3 } as never, { backend }), /unknown option\(s\) depth/);
    const m = new XLSTMStack({ vocabSize: 4, embeddingDim: 8, numBlocks: 1 }, { backend });
    assert.throws(() => m.forward(new Tensor(m.backend.upload('f32', [1, 2]), [2, 1])), /expected token ids of shape \[T, B\] \(i32\)/);
    assert.throws(() => m.forwardWithState(new Tensor(m.backend.upload('i32', [1, 2]), [2, 1]), []), /expected a state of 4 tensors/);
  });
});
});
