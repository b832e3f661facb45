import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gelu, silu } from '../src/ops/activation.js';
import { causalConv1d } from '../src/ops/conv1d.js';
import { groupNorm, layerNorm } from '../src/ops/norm.js';
import { MLSTMBlock, SLSTMBlock, XLSTMStack, xlstmRecurrentCore } from '../src/nn/xlstm.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { forEachBackend, hasF64, values, widest } from './backends.js';
import { checkGradients, randLeaf as randOn, type Checked, type CheckOpts, type FloatOpts } from './util/gradcheck.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

forEachBackend('xLSTM blocks', (backend) => {
const rng = new Rng(21);
const ref64 = backend;
const F64 = widest(backend); // f64 on the CPU backends, f32 on webgpu
const dt = F64.dtype;
const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend, dt);
// Exact values to f64 rounding on the CPU backends; on webgpu to f32's (a few terms of size ~10).
const tight = hasF64(backend) ? 1e-12 : 2e-6;
/** A gradient check whose leaves come from its own seeded generator (the same on both builds). */
const check = (seed: number, build: (leaf: (shape: number[], scale?: number) => Tensor, o: FloatOpts) => Checked, opts: CheckOpts = {}) =>
  checkGradients(backend, (o) => { const r = new Rng(seed); return build((shape, scale = 1) => randOn(r, shape, scale, true, o.backend, o.dtype), o); }, opts);

describe('generic ops for the xLSTM blocks: values', () => {
  it('layerNorm and groupNorm normalize each group (biased variance, eps), then scale and shift', async () => {
    const x = new Tensor(ref64.upload(dt, [1, 2, 3, 4, 10, 20, 30, 50]), [2, 4]);
    const y = await layerNorm(x, null, null, 0).data();
    // row [1, 2, 3, 4]: mean 2.5, var 1.25
    for (let j = 0; j < 4; j++) close(y[j], (j + 1 - 2.5) / Math.sqrt(1.25), tight);
    const w = new Tensor(ref64.upload(dt, [1, 2, 3, 4]), [4]), b = new Tensor(ref64.upload(dt, [0, 0, 1, 1]), [4]);
    const g = await values(groupNorm(x, 2, w, b, 0));
    // groups [1, 2] and [3, 4] -> [-1, 1] each; [10, 20] -> [-1, 1]; [30, 50] -> [-1, 1]
    [-1, 2, -2, 5, -1, 2, -2, 5].forEach((v, i) => close(g[i], v, tight));
  });
  it('gelu (tanh form) and silu match known values', async () => {
    const x = new Tensor(ref64.upload(dt, [-2, -0.5, 0, 1, 3]), [5]);
    const g = await gelu(x).data(), s = await silu(x).data();
    const gref = [-2, -0.5, 0, 1, 3].map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    gref.forEach((v, i) => close(g[i], v, tight));
    close(g[3], 0.8411919906082768, tight);
    [-2, -0.5, 0, 1, 3].forEach((v, i) => close(s[i], v / (1 + Math.exp(-v)), tight));
  });
  it('causalConv1d equals an explicit loop and never looks ahead', async () => {
    const T = 5, B = 2, C = 3, K = 3;
    const x = randLeaf(rng, [T, B, C], 1, false), w = randLeaf(rng, [C, 1, K], 1, false), b = randLeaf(rng, [C], 1, false);
    const y = await causalConv1d(x, w, b).data();
    const xa = await x.data(), wa = await w.data(), ba = await b.data();
    for (let t = 0; t < T; t++) for (let r = 0; r < B; r++) for (let c = 0; c < C; c++) {
      let s = ba[c];
      for (let j = 0; j < K; j++) { const ts = t - K + 1 + j; if (ts >= 0) s += wa[c * K + j] * xa[(ts * B + r) * C + c]; }
      close(y[(t * B + r) * C + c], s, tight);
    }
  });
});

describe('generic ops: finite-difference gradients (f64)', () => {
  it('groupNorm with weight and bias, 1 and 3 groups; layerNorm without affine', async () => {
    const build = (leaf: (shape: number[]) => Tensor) => { const x = leaf([3, 2, 6]), w = leaf([6]), b = leaf([6]); return { x, w, b }; };
    await check(61, (leaf) => { const { x, w, b } = build(leaf); return { fn: () => [groupNorm(x, 3, w, b), layerNorm(x, w, b)], leaves: [x, w, b] }; });
    await check(61, (leaf) => { const { x } = build(leaf); return { fn: () => layerNorm(x, null, null), leaves: [x] }; });
  });
  it('gelu and silu', () => check(62, (leaf) => {
    const x = leaf([4, 5], 2);
    return { fn: () => [gelu(x), silu(x)], leaves: [x] };
  }));
  it('causalConv1d: K 3, K 1, and K longer than the sequence', async () => {
    for (const [T, K] of [[5, 3], [4, 1], [2, 4]]) {
      for (const bias of [true, false]) {
        await check(63 + T * K, (leaf) => {
          const x = leaf([T, 2, 3]), w = leaf([3, 1, K]), b = leaf([3]);
          return { fn: () => causalConv1d(x, w, bias ? b : null), leaves: bias ? [x, w, b] : [x, w] };
        });
      }
    }
  });
});

describe('xLSTM blocks: finite-difference gradients (f64)', () => {
  // On webgpu, against the reference in f32: a block is a dozen f32 ops deep (norms dividing by a
  // small deviation, exponential gates, up- and down-projections), and a stack two of them: its
  // gradients are known to 5e-6 absolute / 5e-5 relative, five times a single op's.
  const deep: CheckOpts = { tol: 1e-5, atol: 5e-6, rtol: 5e-5 };
  for (const form of ['recurrent', 'parallel', 'chunkwise'] as const) {
    it(`mLSTM block (${form})`, () => check(71, (leaf, o) => {
      const m = new MLSTMBlock({ embeddingDim: 4, numHeads: 2, form, chunkSize: 2 }, { ...o, rng: new Rng(3) });
      const x = leaf([5, 2, 4]);
      return { fn: () => m.forward(x), leaves: [x, ...m.parameters()] };
    }, deep));
  }
  for (const [name, cfg] of [['with causal conv, sigmoid forget', {}], ['no conv, exp forget', { convKernel: 0, forgetGate: 'exp' as const }]] as const) {
    it(`sLSTM block (${name})`, () => check(72, (leaf, o) => {
      const m = new SLSTMBlock({ embeddingDim: 4, numHeads: 2, ...cfg }, { ...o, rng: new Rng(4) });
      const x = leaf([5, 2, 4]);
      return { fn: () => m.forward(x), leaves: [x, ...m.parameters()] };
    }, deep));
  }
  it('XLSTMStack character LM [m, s]: embedding -> blocks -> norm -> head', () => check(73, (_, o) => {
    const m = new XLSTMStack({ vocabSize: 5, embeddingDim: 4, numBlocks: 2, slstmAt: [1], numHeads: 2 }, { ...o, rng: new Rng(5) });
    const ids = new Tensor(o.backend.upload('i32', [0, 4, 2, 2, 1, 3, 4, 0]), [4, 2]);
    assert.deepEqual(m.forward(ids).shape, [4, 2, 5]);
    return { fn: () => m.forward(ids), leaves: m.parameters() };
  }, deep));
});

describe('XLSTMStack', () => {
  it('PyTorch-style parameter names and a state dict round trip', async () => {
    const m = new XLSTMStack({ vocabSize: 7, embeddingDim: 8, numBlocks: 3, slstmAt: [1] }, { backend });
    const names = m.namedParameters().map(([n]) => n);
    for (const n of ['embedding.weight', 'blocks.0.proj_up.weight', 'blocks.0.conv1d.weight', 'blocks.0.igate.bias', 'blocks.0.outnorm.weight',
      'blocks.0.learnable_skip', 'blocks.1.cell.weight_hh', 'blocks.1.cell.bias', 'blocks.1.ffn_up.weight', 'blocks.2.proj_down.weight',
      'post_blocks_norm.weight', 'head.weight', 'head.bias']) assert.ok(names.includes(n), `missing ${n}`);
    assert.ok(m.blocks[1] instanceof SLSTMBlock && m.blocks[0] instanceof MLSTMBlock && m.blocks[2] instanceof MLSTMBlock);
    const m2 = new XLSTMStack({ vocabSize: 7, embeddingDim: 8, numBlocks: 3, slstmAt: [1] }, { rng: new Rng(99), backend });
    m2.loadStateDict(await m.readStateDict());
    const ids = new Tensor(m.backend.upload('i32', [1, 2, 3, 4, 5, 6]), [3, 2]);
    assert.deepEqual(await values(m2.forward(ids)), await values(m.forward(ids)));
  });
  it('is causal: the output at step t does not depend on later inputs', async () => {
    const m = new XLSTMStack({ vocabSize: 6, embeddingDim: 8, numBlocks: 2, slstmAt: [0] }, { rng: new Rng(1), backend });
    const a = await m.forward(new Tensor(m.backend.upload('i32', [1, 2, 3, 4, 5, 0]), [6, 1])).data();
    const b = await m.forward(new Tensor(m.backend.upload('i32', [1, 2, 3, 0, 0, 5]), [6, 1])).data();
    for (let i = 0; i < 3 * 6; i++) assert.equal(a[i], b[i]);
    assert.notEqual(a[3 * 6], b[3 * 6]);
  });
  const pieces = hasF64(backend) ? 1e-10 : 1e-5; // webgpu: f32, with sums split differently
  for (const form of ['recurrent', 'parallel', 'chunkwise'] as const) {
    it(`forwardWithState: pieces (4 + 1 + 4 steps) and single steps give the numbers of one call (mLSTM ${form})`, async () => {
      const m = new XLSTMStack({ vocabSize: 5, embeddingDim: 8, numBlocks: 3, slstmAt: [1], numHeads: 2, mlstm: { form, chunkSize: 3 } },
        { ...F64, rng: new Rng(8) });
      const T = 9, B = 2;
      const idsArr = Array.from({ length: T * B }, (_, i) => (i * 7 + 3) % 5);
      const ids = (from: number, to: number) => new Tensor(ref64.upload('i32', idsArr.slice(from * B, to * B)), [to - from, B]);
      const whole = await m.forward(ids(0, T)).data();
      for (const cuts of [[0, 4, 5, 9], Array.from({ length: T + 1 }, (_, i) => i)]) {
        let state: Tensor[] | null = null;
        const got: number[] = [];
        for (let i = 0; i + 1 < cuts.length; i++) {
          const r = m.forwardWithState(ids(cuts[i], cuts[i + 1]), state);
          got.push(...await r.output.data());
          state = r.state;
        }
        assert.equal(state!.length, m.stateSize);
        got.forEach((v, i) => close(v, whole[i], pieces));
      }
    });
  }
  it('forwardWithState: gradients flow through the carried state (finite differences)', () => check(74, (_, o) => {
    const m = new XLSTMStack({ vocabSize: 4, embeddingDim: 4, numBlocks: 2, slstmAt: [0], numHeads: 2 }, { ...o, rng: new Rng(9) });
    const a = new Tensor(o.backend.upload('i32', [1, 2, 3, 0]), [2, 2]), b = new Tensor(o.backend.upload('i32', [2, 2, 1, 3, 0, 1]), [3, 2]);
    return {
      fn: () => {
        const r1 = m.forwardWithState(a, null);
        return m.forwardWithState(b, r1.state).output;
      },
      leaves: m.parameters(),
    };
  }, { tol: 1e-5, atol: 5e-6, rtol: 5e-5 })); // webgpu: two blocks deep in f32, as above
  it('xlstmRecurrentCore: features [T, B, inputSize] -> [T, B, hiddenSize] with an input projection, state carried, gradients', async () => {
    const core = xlstmRecurrentCore({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, { ...F64, rng: new Rng(12) });
    assert.deepEqual((core.module as XLSTMStack).slstmAt, [1]);
    assert.ok(core.module.namedParameters().some(([n]) => n === 'input_proj.weight'));
    const x = randLeaf(rng, [5, 2, 3]), xv = await x.data();
    const whole = core.forward(x, null);
    assert.deepEqual(whole.y.shape, [5, 2, 4]);
    const xa = new Tensor(ref64.upload(dt, xv.slice(0, 2 * 6)), [2, 2, 3]);
    const xb = new Tensor(ref64.upload(dt, xv.slice(2 * 6)), [3, 2, 3]);
    const a = core.forward(xa, null), b = core.forward(xb, a.state);
    const wy = await whole.y.data();
    [...await a.y.data(), ...await b.y.data()].forEach((v, i) => close(v, wy[i], pieces));
    await check(75, (leaf, o) => {
      const c = xlstmRecurrentCore({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, { ...o, rng: new Rng(12) });
      const xx = leaf([5, 2, 3]);
      return { fn: () => c.forward(xx, null).y, leaves: [xx, ...c.module.parameters()] };
    }, { tol: 1e-5, atol: 5e-6, rtol: 5e-5 }); // webgpu: two blocks deep in f32, as above
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
}, { asyncF32: true });
