// ConvLSTM2d, on every backend: finite-difference gradient checks (f64) for k = 1, 3, 5, stacked, last-state only,
// without peepholes/bias; the im2col + GEMM convolution against an explicit cross-correlation loop
// and col2im as its exact adjoint; ConvLSTM on a 1x1 image == peephole LSTM with the centre taps;
// rejections; every convlstm fixture (ext and ours) through the conformance runner.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConformance } from '../src/conformance/runner.js';
import { ConvLSTM2d } from '../src/nn/convlstm.js';
import { PeepholeLSTM } from '../src/nn/lstm-variants.js';
import { kernels } from '../src/ops/kernels.js';
import { reshape } from '../src/ops/shape.js';
import { Rng } from '../src/tensor/random.js';
import { forEachBackend, hasF64, values, widest, write } from './backends.js';
import { checkGradients, randLeaf as randOn } from './util/gradcheck.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ext = join(root, '..', 'shared', 'fixtures', 'ext');
const own = join(root, 'test', 'fixtures', 'family');
forEachBackend('ConvLSTM2d', (backend) => {
const F64 = widest(backend); // f64 on the CPU backends, f32 on webgpu
const opts = (seed = 11) => ({ ...F64, rng: new Rng(seed) });
const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend, F64.dtype);
const f32 = !hasF64(backend);

describe('finite-difference gradient checks (f64)', () => {
  const cases: [string, { Cin: number; C: number; k: number; Hg: number; Wd: number; T: number; B: number }, object][] = [
    ['k = 1', { Cin: 2, C: 2, k: 1, Hg: 2, Wd: 3, T: 3, B: 2 }, {}],
    ['k = 3, non-square', { Cin: 1, C: 2, k: 3, Hg: 2, Wd: 3, T: 3, B: 2 }, {}],
    ['k = 5 on a 3x4 image (kernel larger than the image)', { Cin: 1, C: 1, k: 5, Hg: 3, Wd: 4, T: 2, B: 2 }, {}],
    ['2 stacked layers, k = 3', { Cin: 1, C: 2, k: 3, Hg: 2, Wd: 2, T: 3, B: 1 }, { numLayers: 2 }],
    ['last state only, no peepholes, no bias', { Cin: 2, C: 1, k: 3, Hg: 3, Wd: 2, T: 3, B: 2 }, { returnSequences: false, peepholes: false, bias: false }],
  ];
  for (const [name, s, extra] of cases) {
    it(name, () => checkGradients(backend, (o) => {
      const rng = new Rng(name.length), leaf = (shape: number[]) => randOn(rng, shape, 1, true, o.backend, o.dtype);
      const m = new ConvLSTM2d({ inputChannels: s.Cin, hiddenChannels: s.C, kernelSize: s.k, height: s.Hg, width: s.Wd, ...extra }, { ...o, rng: new Rng(11) });
      const L = (extra as { numLayers?: number }).numLayers ?? 1;
      // Larger weights than the default init, so every gate works away from its linear regime.
      for (const p of m.parameters()) write(p, Array.from({ length: p.size }, () => rng.uniform(-0.6, 0.6)));
      const x = leaf([s.T, s.B, s.Cin, s.Hg, s.Wd]);
      const h0 = leaf([L, s.B, s.C, s.Hg, s.Wd]), c0 = leaf([L, s.B, s.C, s.Hg, s.Wd]);
      return { fn: () => { const r = m.forward(x, { h0, c0 }); return [r.y, r.hN, r.cN]; }, leaves: [x, h0, c0, ...m.parameters()] };
    }));
  }
});

describe('convolution and cross-checks', () => {
  const be = backend, k2 = kernels(backend); // the backend's im2col/col2im, or their composed fallbacks
  it('im2col + GEMM equals an explicit zero-padded cross-correlation loop; col2im is its adjoint', async () => {
    // f64 on the CPU backends; on webgpu f32 sums of up to 50 products of N(0, 1) values.
    const [abs, rel] = f32 ? [2e-5, 1e-5] : [1e-12, 1e-10];
    const rng = new Rng(4);
    for (const [n, C, Hg, Wd, k, O] of [[2, 3, 4, 5, 3, 2], [1, 2, 3, 6, 5, 3], [2, 1, 2, 2, 1, 4]]) {
      const pad = (k - 1) / 2, P = Hg * Wd, K = C * k * k;
      const x = Float64Array.from({ length: n * C * P }, () => rng.normal());
      const w = Float64Array.from({ length: O * K }, () => rng.normal());
      // cols [K, n*P] at an offset; one GEMM for the whole batch gives out [O, n, P].
      const off = 3;
      const dt = F64.dtype, xs = be.upload(dt, x), ws = be.upload(dt, w), cols = be.alloc(dt, off + n * K * P), out = be.alloc(dt, n * O * P);
      k2.im2col(n, C, Hg, Wd, k, pad, xs, 0, cols, off);
      be.gemm(false, false, O, n * P, K, 1, ws, 0, K, cols, off, n * P, 0, out, 0, n * P);
      const got = await be.read(out);
      for (let b = 0; b < n; b++) for (let o = 0; o < O; o++) for (let r = 0; r < Hg; r++) for (let s = 0; s < Wd; s++) {
        let want = 0;
        for (let c = 0; c < C; c++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
          const rr = r + u - pad, ss = s + v - pad;
          if (rr >= 0 && rr < Hg && ss >= 0 && ss < Wd) want += w[((o * C + c) * k + u) * k + v] * x[((b * C + c) * Hg + rr) * Wd + ss];
        }
        assert.ok(Math.abs(got[(o * n + b) * P + r * Wd + s] - want) < abs);
      }
      // <im2col(x), y> == <x, col2im(y)>
      const y = Float64Array.from({ length: n * K * P }, () => rng.normal());
      const back = be.alloc(dt, n * C * P);
      k2.col2im(n, C, Hg, Wd, k, pad, be.upload(dt, y), 0, back, 0);
      let lhs = 0, rhs = 0;
      const cs = await be.read(cols), bs = await be.read(back);
      for (let i = 0; i < y.length; i++) lhs += cs[off + i] * y[i];
      for (let i = 0; i < x.length; i++) rhs += x[i] * bs[i];
      assert.ok(Math.abs(lhs - rhs) < rel * Math.max(1, Math.abs(lhs)), `${lhs} vs ${rhs}`);
    }
  });
  it('ConvLSTM on a 1x1 image equals the peephole LSTM with the centre taps', async () => {
    const rng = new Rng(9);
    const I = 3, H = 4, k = 3, T = 5, B = 2;
    const conv = new ConvLSTM2d({ inputChannels: I, hiddenChannels: H, kernelSize: k, height: 1, width: 1 }, opts());
    const lstm = new PeepholeLSTM({ inputSize: I, hiddenSize: H }, opts(3));
    const centre = async (name: string, rows: number, cols: number) => {
      const src = await conv.parameter(name).data(), dst = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) dst[r * cols + c] = src[(r * cols + c) * k * k + 4];
      write(lstm.parameter(`${name}_l0`), dst);
    };
    await centre('weight_ih', 4 * H, I); await centre('weight_hh', 4 * H, H);
    write(lstm.parameter('bias_ih_l0'), await conv.parameter('bias').data());
    write(lstm.parameter('bias_hh_l0'), new Float64Array(4 * H));
    for (const p of ['weight_ci', 'weight_cf', 'weight_co']) write(lstm.parameter(`${p}_l0`), await conv.parameter(p).data());
    const x = randLeaf(rng, [T, B, I], 1, false), h0 = randLeaf(rng, [1, B, H], 1, false), c0 = randLeaf(rng, [1, B, H], 1, false);
    const a = conv.forward(reshape(x, [T, B, I, 1, 1]), { h0: reshape(h0, [1, B, H, 1, 1]), c0: reshape(c0, [1, B, H, 1, 1]) });
    const b = lstm.forward(x, { h0, c0 });
    const ya = await a.y.data(), yb = await b.y.data(), ca = await a.cN.data(), cb = await b.cN.data();
    const tol = f32 ? 1e-6 : 1e-14; // webgpu: the convolution's GEMM and the cell's add the same terms in another order, in f32
    for (let i = 0; i < yb.length; i++) assert.ok(Math.abs(ya[i] - yb[i]) < tol, `y[${i}]: ${ya[i]} vs ${yb[i]}`);
    for (let i = 0; i < cb.length; i++) assert.ok(Math.abs(ca[i] - cb[i]) < tol, `cN[${i}]: ${ca[i]} vs ${cb[i]}`);
  });
  it('parameter names: exactly EXTENDED.md for one layer, _l{l} suffixes when stacked', () => {
    const one = new ConvLSTM2d({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, height: 4, width: 5 }, opts());
    assert.deepEqual(one.namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`),
      ['weight_ih:12x2x3x3', 'weight_hh:12x3x3x3', 'bias:12', 'weight_ci:3x4x5', 'weight_cf:3x4x5', 'weight_co:3x4x5']);
    const two = new ConvLSTM2d({ inputChannels: 2, hiddenChannels: 3, kernelSize: 3, height: 4, width: 5, numLayers: 2 }, opts());
    assert.deepEqual(two.namedParameters().map(([n]) => n).filter((n) => n.startsWith('weight_ih')), ['weight_ih_l0', 'weight_ih_l1']);
    assert.deepEqual(two.parameter('weight_ih_l1').shape, [12, 3, 3, 3]);
  });
  it('returnSequences: false gives the top layer\'s last h', async () => {
    const rng = new Rng(2);
    const cfg = { inputChannels: 1, hiddenChannels: 2, kernelSize: 3, height: 2, width: 3, numLayers: 2 };
    const a = new ConvLSTM2d(cfg, opts()), b = new ConvLSTM2d({ ...cfg, returnSequences: false }, opts());
    const x = randLeaf(rng, [4, 2, 1, 2, 3], 1, false);
    const ya = await a.forward(x).y.data(), yb = b.forward(x);
    assert.deepEqual(yb.y.shape, [2, 2, 2, 3]);
    assert.deepEqual(await values(yb.y), Array.from(ya.subarray(3 * 24)));
    assert.deepEqual(Array.from((await yb.hN.data()).subarray(24)), await values(yb.y));
  });
  it('rejects even kernels, wrong shapes and unknown options', () => {
    const base = { inputChannels: 1, hiddenChannels: 2, kernelSize: 3, height: 2, width: 3 };
    assert.throws(() => new ConvLSTM2d({ ...base, kernelSize: 4 }, { backend }), /ConvLSTM2d\.kernelSize: expected an odd size .* got 4/);
    assert.throws(() => new ConvLSTM2d({ ...base, stride: 2 } as never, { backend }), /unknown option\(s\) stride/);
    const m = new ConvLSTM2d(base, opts());
    const rng = new Rng(1);
    assert.throws(() => m.forward(randLeaf(rng, [3, 2, 1, 3, 2])), /expected input \[T, B, 1, 2, 3\], got \[3, 2, 1, 3, 2\]/);
    assert.throws(() => m.forward(randLeaf(rng, [3, 2, 1, 2, 3]), { h0: randLeaf(rng, [2, 2, 2]) }),
      /expected h0 of shape \[1, 2, 2, 2, 3\] or \[2, 2, 2, 3\], got \[2, 2, 2\]/);
  });
});

describe('conformance fixtures', () => {
  for (const dtype of ['f32', 'f64'] as const) {
    const skip = backend.dtypes.includes(dtype) ? false : `${backend.name} has no ${dtype} (the f32 twin of this test runs)`;
    it(`every convlstm fixture (ext and test/fixtures/family) passes (${dtype})`, { skip }, async () => {
      const s = await runConformance([ext, own], backend, dtype);
      const mine = s.results.filter((r) => r.kind === 'convlstm');
      assert.equal(mine.length, 3);
      assert.deepEqual(mine.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
    });
  }
});
}, { asyncF32: true });
