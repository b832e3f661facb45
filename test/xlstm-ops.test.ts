import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { backward } from '../src/autograd/tape.js';
import { MLSTM } from '../src/nn/mlstm.js';
import { SLSTM } from '../src/nn/slstm.js';
import { mul, add } from '../src/ops/elementwise.js';
import { mlstm, type MlstmForm } from '../src/ops/mlstm.js';
import { sum } from '../src/ops/reduce.js';
import { slstm } from '../src/ops/slstm.js';
import type { DType } from '../src/backend/dtype.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { forEachBackend, hasF64, reference, widest } from './backends.js';
import { checkGradients, randLeaf as randOn } from './util/gradcheck.js';

/** Values as a leaf of the given dtype on a backend (requires grad). */
function leafOf(be: Backend, values: ArrayLike<number>, shape: number[], dtype: DType): Tensor {
  const t = new Tensor(be.upload(dtype, values), shape);
  t.requiresGrad = true;
  return t;
}

/**
 * Random normal values (offset + scale * N(0, 1)), rounded to float32 so that f32 and f64 runs
 * compute the same function of the same inputs (at 1e4 an f32 ulp is 1e-3).
 */
function draw(rng: Rng, n: number, scale = 1, offset = 0): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround(offset + scale * rng.normal()));
}

/** Max over elements of |a - b| / (atol + rtol |b|). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>, atol = 1e-4, rtol = 1e-3): number {
  assert.equal(a.length, b.length);
  let w = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Number.isFinite(a[i]), `element ${i} is not finite: ${a[i]}`);
    w = Math.max(w, Math.abs(a[i] - b[i]) / (atol + rtol * Math.abs(b[i])));
  }
  return w;
}

/**
 * Random mLSTM inputs q, k, v [T, B, H], ig, fg [T, B, NH] as (f32-representable) values;
 * ĩ_t = igAt(t) + igScale N(0, 1), f̃ = fgOff + fgScale N(0, 1).
 */
function mlstmInputs(rng: Rng, T: number, B: number, H: number, NH: number, igAt: (t: number) => number, fgOff: number,
  igScale = 1, fgScale = 1) {
  const ig = new Float64Array(T * B * NH);
  for (let i = 0; i < ig.length; i++) ig[i] = Math.fround(igAt(Math.floor(i / (B * NH))) + igScale * rng.normal());
  return {
    q: draw(rng, T * B * H), k: draw(rng, T * B * H, 0.5), v: draw(rng, T * B * H),
    ig, fg: draw(rng, T * B * NH, fgScale, fgOff),
  };
}

function runMlstm(be: Backend, vals: ReturnType<typeof mlstmInputs>, T: number, B: number, H: number, NH: number, dtype: DType,
  form: MlstmForm, forgetGate: 'exp' | 'sigmoid', chunkSize?: number) {
  const q = leafOf(be, vals.q, [T, B, H], dtype), k = leafOf(be, vals.k, [T, B, H], dtype), v = leafOf(be, vals.v, [T, B, H], dtype);
  const ig = leafOf(be, vals.ig, [T, B, NH], dtype), fg = leafOf(be, vals.fg, [T, B, NH], dtype);
  const r = mlstm(q, k, v, ig, fg, { numHeads: NH, forgetGate, form, chunkSize });
  return { leaves: [q, k, v, ig, fg], outs: [r.h, r.CN, r.nN, r.mN] };
}

forEachBackend('xLSTM ops', (backend) => {
const ref = backend;
const F64 = widest(backend); // f64 on the CPU backends, f32 on webgpu
const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend, F64.dtype);
/** Where this backend has no f64 (webgpu), the f64 side of an f32-vs-f64 comparison runs on the reference. */
const on64 = hasF64(backend) ? backend : reference;

describe('sLSTM op: finite-difference gradients (f64)', () => {
  const cases: [string, number, number, 'exp' | 'sigmoid', number][] = [
    ['1 head, exp forget', 4, 1, 'exp', 0],
    ['2 heads, sigmoid forget', 4, 2, 'sigmoid', 0],
    ['3 heads of size 2, exp forget, large gate biases (stabilizer active)', 6, 3, 'exp', 30],
    ['heads of size 1, sigmoid forget, large input-gate biases', 4, 4, 'sigmoid', 50],
  ];
  for (const [name, H, NH, fg, big] of cases) {
    it(name, () => checkGradients(backend, async (o) => {
      const rng = new Rng(H * 10 + NH);
      const m = new SLSTM({ inputSize: 3, hiddenSize: H, numHeads: NH, forgetGate: fg }, { ...o, rng: new Rng(5) });
      if (big) {
        // input-gate bias in [big, 2 big], forget bias in [big/2, big]: m_t grows to hundreds.
        const b = Float64Array.from(await m.bias.data());
        for (let j = 0; j < H; j++) { b[j] = big * (1 + rng.next()); b[H + j] = big * (0.5 + 0.5 * rng.next()); }
        m.loadStateDict({ bias: { shape: [4 * H], data: b } }, false);
      }
      const x = randOn(rng, [5, 2, 3], 1, true, o.backend, o.dtype);
      return { fn: () => { const r = m.forward(x); return [r.y, r.hN, r.cN, r.nN, r.mN]; }, leaves: [x, ...m.parameters()] };
      // In f32 (webgpu), a pre-activation of size |a| <= 2 big is known to |a| 2^-24, and the
      // exponential gates carry that relatively into the states over the 5 steps.
    }, { tol: 1e-5, rtol: Math.max(1e-5, 5 * 2 * big * 2 ** -24) }));
  }
  it('T = 1 (only the special first step)', () => checkGradients(backend, (o) => {
    const rng = new Rng(1);
    const m = new SLSTM({ inputSize: 2, hiddenSize: 4, numHeads: 2, forgetGate: 'sigmoid' }, { ...o, rng: new Rng(5) });
    const x = randOn(rng, [1, 3, 2], 1, true, o.backend, o.dtype);
    return { fn: () => { const r = m.forward(x); return [r.y, r.cN, r.nN, r.mN]; }, leaves: [x, ...m.parameters()] };
  }));
});

describe('sLSTM op: float32 never overflows', () => {
  it('gate pre-activations ~1e4: f32 outputs finite and equal to f64', async () => {
    const rng = new Rng(9);
    const T = 6, B = 2, I = 3, H = 4, NH = 2, DH = 2;
    const wih = draw(rng, 4 * H * I, 0.5), whh = draw(rng, 4 * NH * DH * DH, 0.5), x = draw(rng, T * B * I);
    const bias = new Float64Array(4 * H);
    for (let j = 0; j < H; j++) { bias[j] = Math.fround(1e4 * (1 + rng.next())); bias[H + j] = Math.fround(5e3 * (1 + rng.next())); bias[2 * H + j] = Math.fround(rng.normal()); bias[3 * H + j] = Math.fround(rng.normal()); }
    const run = async (dtype: DType, be: Backend) => {
      const r = slstm(leafOf(be, x, [T, B, I], dtype), leafOf(be, wih, [4 * H, I], dtype), leafOf(be, whh, [4, NH, DH, DH], dtype), leafOf(be, bias, [4 * H], dtype),
        { numHeads: NH, forgetGate: 'exp' });
      const out: ArrayLike<number>[] = [];
      for (const t of [r.y, r.cN, r.nN, r.mN]) out.push(await t.data());
      return out;
    };
    const [y32, c32, n32, m32] = await run('f32', ref), [y64, c64, n64, m64] = await run('f64', on64);
    assert.ok(relErr(y32, y64) <= 1, 'y');
    // At ~1e4 an f32 pre-activation only has ~1e-3 absolute resolution (the small x W^T terms on
    // top of a 1e4 bias are rounded), and the stabilized states scale with exp(sum of such errors).
    // What is well defined: m_n relative to its size, c_n / n_n (= h_T / σ(õ_T), independent of
    // the stabilizer), and n_n >= 1 (the largest contribution has weight exactly 1).
    assert.ok(relErr(m32, m64, 0, 1e-6) <= 1, 'm_n');
    const ratio = (c: ArrayLike<number>, n: ArrayLike<number>) => Array.from(c, (v, i) => v / n[i]);
    assert.ok(relErr(ratio(c32, n32), ratio(c64, n64)) <= 1, 'c_n / n_n');
    assert.ok(Array.from(n32).every((v) => Number.isFinite(v) && v >= 1 - 1e-2), 'n_n >= 1');
    const b = [y64, c64, n64, m64];
    assert.ok(Array.from(b[3]).every((v) => v > 1e4), 'the stabilizer really was exercised');
  });
});

describe('mLSTM op: finite-difference gradients of each form (f64)', () => {
  const forms: [MlstmForm, number | undefined][] = [['recurrent', undefined], ['parallel', undefined], ['chunkwise', 2], ['chunkwise', 3]];
  for (const [form, cs] of forms) {
    for (const fgk of ['sigmoid', 'exp'] as const) {
      it(`${form}${cs ? ` (chunk ${cs})` : ''}, ${fgk} forget gate, 2 heads, T = 7`, () => checkGradients(backend, (o) => {
        const rng = new Rng(cs ?? 1);
        const T = 7, B = 2, H = 6, NH = 2;
        const vals = mlstmInputs(rng, T, B, H, NH, () => 0, fgk === 'exp' ? -0.5 : 2);
        const { leaves } = runMlstm(o.backend, vals, T, B, H, NH, o.dtype, form, fgk, cs);
        return {
          fn: () => {
            const r = mlstm(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], { numHeads: NH, forgetGate: fgk, form, chunkSize: cs });
            return [r.h, r.CN, r.nN, r.mN];
          },
          leaves,
        };
      }, { tol: 1e-5 }));
    }
  }
  it('the MLSTM module (projections, k scaling, output gate) in the chunkwise form', () => checkGradients(backend, (o) => {
    const rng = new Rng(4);
    const m = new MLSTM({ inputSize: 3, hiddenSize: 4, numHeads: 2, forgetGate: 'sigmoid', form: 'chunkwise', chunkSize: 2 }, { ...o, rng: new Rng(2) });
    const x = randOn(rng, [5, 2, 3], 1, true, o.backend, o.dtype);
    return { fn: () => { const r = m.forward(x); return [r.y, r.CN, r.nN, r.mN]; }, leaves: [x, ...m.parameters()] };
  }, { tol: 1e-5 }));
});

describe('mLSTM: recurrent == parallel == chunkwise', () => {
  // Gates chosen so that several sources mix in each h_t (a single dominant source makes
  // h = v (q·k)/|q·k|, whose conditioning is that of 1/|q·k|, not the stabilizer's).
  const cases: [string, (t: number) => number, number, number, number, number, 'exp' | 'sigmoid', number][] = [
    // name, ĩ offset at t, ĩ scale, f̃ offset, f̃ scale, T, forget gate, heads
    ['moderate gates, sigmoid forget', () => 0, 1, 2, 1, 11, 'sigmoid', 2],
    ['large input gates (60..100), sigmoid forget', () => 80, 3, 3, 1, 13, 'sigmoid', 2],
    ['exp forget gate ~50 (m grows past 710: exp overflows f64 unstabilized)', (t) => 50 * t, 3, 50, 0.3, 16, 'exp', 3],
    ['pre-activations ~1e4', () => 1e4, 2, 2, 1, 9, 'sigmoid', 1],
    ['very negative input gates', () => -60, 2, -0.2, 0.5, 10, 'exp', 2],
    ['input gates ~ -1000 (exp(-m) overflows even f64; h underflows to 0, gradients stay finite)', () => -1000, 2, 2, 1, 8, 'sigmoid', 2],
  ];
  for (const [name, igAt, igScale, fgOff, fgScale, T, fgk, NH] of cases) {
    it(`${name}: outputs and gradients agree to float32 rounding, and f32 == f64`, async () => {
      const rng = new Rng(T + NH);
      const B = 2, H = 3 * NH;
      const vals = mlstmInputs(rng, T, B, H, NH, igAt, fgOff, igScale, fgScale);
      const lossW = [T * B * H, B * NH * 9, B * NH * 3, B * NH].map((n) => draw(rng, n));
      // At m ~ 1e4 an f32 m_n has ~1e-3 absolute resolution and the stabilized C_n, n_n are scaled
      // by exp(-m_n): their values (and gradients through them) are only defined to ~5e-4
      // relative. There the loss weights y and m_n only, and the states are compared rescaled.
      const bigM = igAt(0) > 1e3;
      if (bigM) { lossW[1].fill(0); lossW[2].fill(0); }
      const run = async (dtype: DType, form: MlstmForm, cs?: number) => {
        const be = dtype === 'f64' ? on64 : ref;
        const { leaves, outs } = runMlstm(be, vals, T, B, H, NH, dtype, form, fgk, cs);
        let L: Tensor | null = null;
        outs.forEach((o, i) => { const t = sum(mul(o, new Tensor(be.upload(dtype, lossW[i]), o.shape))); L = L ? add(L, t) : t; });
        backward(L!);
        const got: Float64Array[] = [];
        for (const t of [...outs, ...leaves.map((l) => l.grad!)]) got.push(Float64Array.from(await t.data()));
        return got;
      };
      const want = await run('f64', 'recurrent');
      // Where f64 runs on the reference (webgpu has none), its forms are the reference suite's to compare.
      const variants: [DType, MlstmForm, number?][] = [...(hasF64(backend) ? [['f64', 'parallel'], ['f64', 'chunkwise', 4]] as [DType, MlstmForm, number?][] : []),
        ['f32', 'recurrent'], ['f32', 'parallel'], ['f32', 'chunkwise', 3]];
      for (const [dt, form, cs] of variants) {
        const got = await run(dt, form, cs);
        if (bigM && dt === 'f32') for (const i of [1, 2]) {
          const per = i === 1 ? 9 : 3;
          got[i] = Float64Array.from(got[i], (v, j) => v * Math.exp(got[3][Math.floor(j / per)] - want[3][Math.floor(j / per)]));
        }
        // In f32, m is carried with an absolute resolution of ~|m| 2^-24 per step (as in any f32
        // implementation, PyTorch's included): the relative weights of old and new contributions
        // are then known to ~sqrt(T) |m| 2^-24. Up to |m| ~ 1000 that is below the usual 1e-3.
        const mMax = Math.max(...Array.from(want[3], Math.abs));
        const rtol32 = Math.max(1e-3, 10 * Math.sqrt(T) * mMax * 2 ** -24);
        got.forEach((g, i) => {
          // m itself is compared relative to its magnitude.
          // On the CPU backends an f32 run computes in f64 inside (the composed xLSTM kernels lift f32
          // to f64 where the backend has it); webgpu has no f64 and sums in f32, where a value that
          // is a sum of T * DH terms of up to the tensor's largest size is known to ~3e-6 of that size.
          const atol32 = hasF64(backend) ? 1e-4 : Math.max(1e-4, 1e-5 * Math.max(...Array.from(want[i], Math.abs)));
          const [atol, rtol] = dt === 'f64' ? [1e-9, 1e-9] : (i === 3 ? [1e-4, 1e-6 * Math.sqrt(T)] : [atol32, rtol32]);
          const e = relErr(g, want[i], atol, rtol);
          assert.ok(e <= 1, `${dt} ${form}${cs ? cs : ''}: tensor ${i} differs (${e} of tolerance)`);
        });
      }
    });
  }
});

describe('bad configuration is rejected with a clear message', () => {
  it('SLSTM / MLSTM: hiddenSize not divisible by numHeads, unknown forget gate, bad form', () => {
    assert.throws(() => new SLSTM({ inputSize: 2, hiddenSize: 5, numHeads: 2 }, { backend }), /hiddenSize 5 must be divisible by numHeads 2/);
    assert.throws(() => new SLSTM({ inputSize: 2, hiddenSize: 4, forgetGate: 'tanh' as 'exp' }, { backend }), /forgetGate must be 'exp' or 'sigmoid', got "tanh"/);
    assert.throws(() => new MLSTM({ inputSize: 2, hiddenSize: 6, numHeads: 4 }, { backend }), /divisible by numHeads 4/);
    assert.throws(() => new MLSTM({ inputSize: 2, hiddenSize: 4, form: 'fast' as 'parallel' }, { backend }), /form must be 'recurrent', 'parallel' or 'chunkwise', got "fast"/);
    assert.throws(() => new MLSTM({ inputSize: 2, hiddenSize: 4, form: 'chunkwise', chunkSize: 0 }, { backend }), /chunkSize must be a positive integer, got 0/);
    const m = new SLSTM({ inputSize: 2, hiddenSize: 4 }, { backend });
    assert.throws(() => m.forward(new Tensor(ref.alloc('f32', 6), [3, 2])), /expected input of shape \[T, B, 2\], got \[3, 2\]/);
  });
});

describe('explicit initial states (a long sequence in pieces)', () => {
  // f64 on the CPU backends; on webgpu f32, where pieces and the whole round alike but for the
  // order of a few sums: to some ulps.
  const [pAtol, pRtol] = hasF64(backend) ? [1e-12, 1e-12] : [1e-6, 1e-5];
  it('sLSTM: running [0, 3) then [3, 7) from the returned state equals running [0, 7) at once', async () => {
    const rng = new Rng(31);
    const m = new SLSTM({ inputSize: 3, hiddenSize: 6, numHeads: 3, forgetGate: 'exp' }, { ...F64, rng: new Rng(5) });
    const x = randLeaf(rng, [7, 2, 3], 1, false), xv = await x.data();
    const whole = m.forward(x);
    const a = m.forward(new Tensor(ref.upload(F64.dtype, xv.slice(0, 3 * 6)), [3, 2, 3]));
    const b = slstm(new Tensor(ref.upload(F64.dtype, xv.slice(3 * 6)), [4, 2, 3]), m.weight_ih, m.weight_hh, m.bias,
      { numHeads: 3, forgetGate: 'exp' }, { h: a.hN, c: a.cN, n: a.nN, m: a.mN });
    const y = [...await a.y.data(), ...await b.y.data()];
    assert.ok(relErr(y, await whole.y.data(), pAtol, pRtol) <= 1);
    for (const [got, want] of [[b.cN, whole.cN], [b.nN, whole.nN], [b.mN, whole.mN]]) assert.ok(relErr(await got.data(), await want.data(), pAtol, pRtol) <= 1);
  });
  it('sLSTM: finite-difference gradients with respect to the initial state too', () => checkGradients(backend, (o) => {
    const rng = new Rng(32), leaf = (shape: number[]) => randOn(rng, shape, 1, true, o.backend, o.dtype);
    const m = new SLSTM({ inputSize: 2, hiddenSize: 4, numHeads: 2, forgetGate: 'sigmoid' }, { ...o, rng: new Rng(6) });
    const x = leaf([4, 2, 2]);
    const h0 = leaf([2, 4]), c0 = leaf([2, 4]), m0 = leaf([2, 4]);
    const n0 = new Tensor(o.backend.upload(o.dtype, Array.from({ length: 8 }, () => 1 + Math.abs(rng.normal()))), [2, 4]);
    n0.requiresGrad = true;
    return {
      fn: () => {
        const r = slstm(x, m.weight_ih, m.weight_hh, m.bias, { numHeads: 2, forgetGate: 'sigmoid' }, { h: h0, c: c0, n: n0, m: m0 });
        return [r.y, r.cN, r.nN, r.mN];
      },
      leaves: [x, h0, c0, n0, m0, ...m.parameters()],
    };
  }, { tol: 1e-5 }));
  for (const [form, cs] of [['recurrent', undefined], ['parallel', undefined], ['chunkwise', 2]] as const) {
    it(`mLSTM ${form}: pieces equal the whole, and gradients with respect to the initial state`, async () => {
      const rng = new Rng(33);
      const T = 7, T1 = 3, B = 2, NH = 2, H = 6, dt = F64.dtype;
      const vals = mlstmInputs(rng, T, B, H, NH, () => 1, 2);
      const o = { numHeads: NH, forgetGate: 'sigmoid' as const, form, chunkSize: cs };
      const whole = runMlstm(ref, vals, T, B, H, NH, dt, form, 'sigmoid', cs).outs;
      const part = (v: Float64Array, per: number, from: number, to: number) => new Tensor(ref.upload(dt, v.slice(from * B * per, to * B * per)), [to - from, B, per]);
      const piece = (from: number, to: number, init: ReturnType<typeof mlstm> | null) => mlstm(part(vals.q, H, from, to), part(vals.k, H, from, to), part(vals.v, H, from, to),
        part(vals.ig, NH, from, to), part(vals.fg, NH, from, to), o, init ? { C: init.CN, n: init.nN, m: init.mN } : null);
      const a = piece(0, T1, null), b = piece(T1, T, a);
      const [atol, rtol] = hasF64(backend) ? [1e-12, 1e-10] : [1e-6, 1e-5]; // webgpu: f32, the sums in another order
      assert.ok(relErr([...await a.h.data(), ...await b.h.data()], await whole[0].data(), atol, rtol) <= 1);
      for (const [got, want] of [[b.CN, whole[1]], [b.nN, whole[2]], [b.mN, whole[3]]]) assert.ok(relErr(await got.data(), await want.data(), atol, rtol) <= 1);
      // Gradients through a random (not only reachable) initial state.
      const state = rng.nextU32();
      await checkGradients(backend, (fo) => {
        const r2 = new Rng(state), leaf = (shape: number[]) => randOn(r2, shape, 1, true, fo.backend, fo.dtype);
        const C0 = leaf([B, NH, 3, 3]), n0 = leaf([B, NH, 3]), m0 = leaf([B, NH]);
        const { leaves } = runMlstm(fo.backend, vals, T, B, H, NH, fo.dtype, form, 'sigmoid', cs);
        return {
          fn: () => {
            const r = mlstm(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4], o, { C: C0, n: n0, m: m0 });
            return [r.h, r.CN, r.nN, r.mN];
          },
          leaves: [...leaves, C0, n0, m0],
        };
      }, { tol: 1e-5 });
    });
  }
});
}, { asyncF32: true });
