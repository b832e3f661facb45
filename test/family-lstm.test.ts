// The LSTM family as options of one fused cell: peepholes, Greff et al.'s variants, LSTM1997.
// On every backend: finite-difference gradient checks (f64) for every variant and for stacked,
// bidirectional and variable-length peephole/variant layers; exact cross-checks between
// variants that must coincide; rejections; the ext fixtures of both kinds through the runner.
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConformance } from '../src/conformance/runner.js';
import { LSTM } from '../src/nn/lstm.js';
import { LSTMVariant, PeepholeLSTM } from '../src/nn/lstm-variants.js';
import { gateOrder, LSTM_VARIANTS, peepholeNames, type LstmVariant } from '../src/ops/lstm-cell.js';
import { lstmLayer } from '../src/ops/lstm.js';
import { Rng } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { forEachBackend, hasF64, widest, write } from './backends.js';
import { checkGradients, randLeaf as randOn } from './util/gradcheck.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ext = join(root, '..', 'shared', 'fixtures', 'ext');
const own = join(root, 'test', 'fixtures', 'family');
const VARIANTS = Object.keys(LSTM_VARIANTS) as LstmVariant[];

async function maxDiff(a: Tensor, b: Tensor): Promise<number> {
  assert.deepEqual(a.shape, b.shape);
  const x = await a.data(), y = await b.data();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Copy every parameter of `from` into `to` under the name `rename(name)`. */
async function copyParams(from: { namedParameters(): [string, Tensor][] }, to: { parameter(n: string): Tensor }, rename = (n: string) => n): Promise<void> {
  for (const [n, p] of from.namedParameters()) write(to.parameter(rename(n)), await p.data());
}

/** Set every value of a tensor. */
const fill = (t: Tensor, v: number) => write(t, new Array(t.size).fill(v));

forEachBackend('LSTM family', (backend) => {
const F64 = widest(backend); // f64 on the CPU backends, f32 on webgpu
const opts = (seed = 11) => ({ ...F64, rng: new Rng(seed) });
const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend, F64.dtype);
// Computations that must coincide do so to rounding: f64's on the CPU backends; on webgpu, f32's
// (the variants differ in which terms their kernels add, each rounded to 2^-24 relative).
const exact = hasF64(backend) ? 1e-14 : 1e-6;

describe('finite-difference gradient checks (f64)', () => {
  for (const v of VARIANTS) {
    it(`variant ${v}: 1 layer with initial state`, () => checkGradients(backend, (o) => {
      const rng = new Rng(VARIANTS.indexOf(v) + 1), leaf = (shape: number[]) => randOn(rng, shape, 1, true, o.backend, o.dtype);
      const m = new LSTMVariant({ variant: v, inputSize: 2, hiddenSize: 3 }, { ...o, rng: new Rng(11) });
      const x = leaf([4, 2, 2]), h0 = leaf([1, 2, 3]), c0 = leaf([1, 2, 3]);
      return { fn: () => { const r = m.forward(x, { h0, c0 }); return [r.y, r.hN, r.cN]; }, leaves: [x, h0, c0, ...m.parameters()] };
    }));
  }
  const stacked: [string, object, number[] | undefined][] = [
    ['peephole, 2 layers bidirectional', { peepholes: true, numLayers: 2, bidirectional: true }, undefined],
    ['peephole, bidirectional, unsorted variable lengths, batch first', { peepholes: true, bidirectional: true, batchFirst: true }, [2, 4, 1]],
    ['peephole with projection (LSTMP), bidirectional', { peepholes: true, projSize: 2, bidirectional: true }, undefined],
    ['FGR, 2 layers bidirectional, variable lengths', { variant: 'FGR', numLayers: 2, bidirectional: true }, [3, 4, 2]],
    ['CIFG, 2 layers bidirectional', { variant: 'CIFG', numLayers: 2, bidirectional: true }, undefined],
    ['NIG bidirectional, variable lengths', { variant: 'NIG', bidirectional: true }, [1, 4, 3]],
    ['NOAF without bias', { variant: 'NOAF', bias: false }, undefined],
    ['LSTM1997, 2 layers', { variant: 'LSTM1997', numLayers: 2 }, [4, 2, 3]],
  ];
  for (const [name, cfg, lengths] of stacked) {
    it(name, () => checkGradients(backend, (o) => {
      const rng = new Rng(name.length), leaf = (shape: number[]) => randOn(rng, shape, 1, true, o.backend, o.dtype);
      const c = cfg as { numLayers?: number; bidirectional?: boolean; batchFirst?: boolean; projSize?: number };
      const m = new LSTM({ inputSize: 2, hiddenSize: 3, ...cfg }, { ...o, rng: new Rng(11) });
      const LD = (c.numLayers ?? 1) * (c.bidirectional ? 2 : 1);
      const x = leaf(c.batchFirst ? [3, 4, 2] : [4, 3, 2]);
      const h0 = leaf([LD, 3, c.projSize || 3]), c0 = leaf([LD, 3, 3]);
      return { fn: () => { const r = m.forward(x, { h0, c0, lengths }); return [r.y, r.hN, r.cN]; }, leaves: [x, h0, c0, ...m.parameters()] };
    }));
  }
});

describe('variants that must coincide do, exactly (f64; to f32 rounding on webgpu)', () => {
  const rng = new Rng(5);
  const x = randLeaf(rng, [5, 2, 3], 1, false), h0 = randLeaf(rng, [1, 2, 4], 1, false), c0 = randLeaf(rng, [1, 2, 4], 1, false);
  const run = (m: LSTM) => m.forward(x, { h0, c0 });
  const same = async (a: ReturnType<typeof run>, b: ReturnType<typeof run>) => {
    const dy = await maxDiff(a.y, b.y);
    assert.ok(dy < exact, `y differs by ${dy}`);
    assert.ok(await maxDiff(a.hN, b.hN) < exact && await maxDiff(a.cN, b.cN) < exact, 'final states differ');
  };
  it('peephole LSTM with zero peepholes equals nn.LSTM (2 layers, bidirectional)', async () => {
    const p = new PeepholeLSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }, opts());
    const s = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true }, opts(3));
    await copyParams(s, p);
    for (const [n, t] of p.namedParameters()) if (/weight_c[ifo]/.test(n)) fill(t, 0);
    const h = randLeaf(rng, [4, 2, 4], 1, false), c = randLeaf(rng, [4, 2, 4], 1, false);
    const a = p.forward(x, { h0: h, c0: c }), b = s.forward(x, { h0: h, c0: c });
    assert.ok(await maxDiff(a.y, b.y) < exact && await maxDiff(a.cN, b.cN) < exact);
    // ...and non-zero peepholes do change the result (the comparison above can fail).
    fill(p.parameter('weight_co_l1_reverse'), 0.5);
    assert.ok(await maxDiff(p.forward(x, { h0: h, c0: c }).y, b.y) > 1e-3);
  });
  it('variant V equals the 1-layer peephole LSTM (names without / with the _l0 suffix)', async () => {
    const v = new LSTMVariant({ variant: 'V', inputSize: 3, hiddenSize: 4 }, opts());
    const p = new PeepholeLSTM({ inputSize: 3, hiddenSize: 4 }, opts(2));
    await copyParams(v, p, (n) => `${n}_l0`);
    await same(run(v), run(p));
  });
  it('NP equals nn.LSTM', async () => {
    const v = new LSTMVariant({ variant: 'NP', inputSize: 3, hiddenSize: 4 }, opts());
    const s = new LSTM({ inputSize: 3, hiddenSize: 4 }, opts(2));
    await copyParams(v, s, (n) => `${n}_l0`);
    await same(run(v), run(s));
  });
  it('FGR with weight_gr = 0 equals V, and a non-zero weight_gr changes it', async () => {
    const f = new LSTMVariant({ variant: 'FGR', inputSize: 3, hiddenSize: 4 }, opts());
    const v = new LSTMVariant({ variant: 'V', inputSize: 3, hiddenSize: 4 }, opts(2));
    await copyParams(v, f);
    fill(f.parameter('weight_gr'), 0);
    await same(run(f), run(v));
    write(f.parameter('weight_gr'), [0.7], 5);
    assert.ok(await maxDiff(run(f).y, run(v).y) > 1e-4);
  });
  it('LSTM1997 equals NFG with zero peepholes', async () => {
    const a = new LSTMVariant({ variant: 'LSTM1997', inputSize: 3, hiddenSize: 4 }, opts());
    const b = new LSTMVariant({ variant: 'NFG', inputSize: 3, hiddenSize: 4 }, opts(2));
    await copyParams(a, b);
    fill(b.parameter('weight_ci'), 0); fill(b.parameter('weight_co'), 0);
    await same(run(a), run(b));
  });
  it('CIFG equals V with the forget pre-activation set to minus the input one (σ(-a) = 1 - σ(a))', async () => {
    const c = new LSTMVariant({ variant: 'CIFG', inputSize: 3, hiddenSize: 4 }, opts());
    const v = new LSTMVariant({ variant: 'V', inputSize: 3, hiddenSize: 4 }, opts(2));
    const H = 4;
    // CIFG blocks (i, g, o) -> V blocks (i, f = -i, g, o); peephole cf = -ci.
    for (const n of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']) {
      const src = await c.parameter(n).data(), dst = new Float64Array(v.parameter(n).size);
      const row = src.length / (3 * H); // values per gate unit
      const blk = H * row;
      dst.set(src.subarray(0, blk), 0);
      for (let k = 0; k < blk; k++) dst[blk + k] = -src[k];
      dst.set(src.subarray(blk, 3 * blk), 2 * blk);
      write(v.parameter(n), dst);
    }
    write(v.parameter('weight_ci'), await c.parameter('weight_ci').data());
    write(v.parameter('weight_co'), await c.parameter('weight_co').data());
    write(v.parameter('weight_cf'), Array.from(await c.parameter('weight_ci').data(), (ci) => -ci));
    const a = run(c), b = run(v);
    const tol = hasF64(backend) ? 1e-12 : 1e-6;
    assert.ok(await maxDiff(a.y, b.y) < tol && await maxDiff(a.cN, b.cN) < tol, `CIFG vs V: ${await maxDiff(a.y, b.y)}`);
  });
  it('a variant on the standard cell keeps nn.LSTM parameter names and layout; variants drop absent components', () => {
    const names = (v: LstmVariant) => new LSTMVariant({ variant: v, inputSize: 3, hiddenSize: 4 }, opts()).namedParameters().map(([n, p]) => `${n}:${p.shape.join('x')}`);
    assert.deepEqual(names('NIG'), ['weight_ih:12x3', 'weight_hh:12x4', 'bias_ih:12', 'bias_hh:12', 'weight_cf:4', 'weight_co:4']);
    assert.deepEqual(names('CIFG'), ['weight_ih:12x3', 'weight_hh:12x4', 'bias_ih:12', 'bias_hh:12', 'weight_ci:4', 'weight_co:4']);
    assert.deepEqual(names('FGR').slice(-1), ['weight_gr:12x12']);
    assert.deepEqual(names('LSTM1997'), ['weight_ih:12x3', 'weight_hh:12x4', 'bias_ih:12', 'bias_hh:12']);
    assert.deepEqual(gateOrder(LSTM_VARIANTS.NOG), ['i', 'f', 'g']);
    assert.deepEqual(peepholeNames(LSTM_VARIANTS.NOG), ['ci', 'cf']);
    const bi = new LSTMVariant({ variant: 'NOG', inputSize: 3, hiddenSize: 4, bidirectional: true }, opts());
    assert.ok(bi.namedParameters().some(([n]) => n === 'weight_cf_l0_reverse'));
  });
});

describe('impossible combinations are rejected with the reason', () => {
  const base = { inputSize: 3, hiddenSize: 4 };
  it('unknown variant names', () => {
    assert.throws(() => new LSTM({ ...base, variant: 'NXG' as LstmVariant }, { backend }), /LSTM\.variant: expected one of V, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR, LSTM1997, got "NXG"/);
  });
  it('a variant with a projection', () => {
    assert.throws(() => new LSTM({ ...base, variant: 'CIFG', projSize: 2 }, { backend }), /variant CIFG cannot be combined with projSize \(2\)/);
  });
  it('peepholes that contradict the variant', () => {
    assert.throws(() => new LSTM({ ...base, variant: 'LSTM1997', peepholes: true }, { backend }), /variant LSTM1997 has no peepholes, but peepholes: true was given/);
    assert.throws(() => new LSTM({ ...base, variant: 'CIFG', peepholes: false }, { backend }), /variant CIFG has peepholes, but peepholes: false/);
    assert.throws(() => new LSTM({ ...base, peepholes: 'yes' as unknown as boolean }, { backend }), /LSTM\.peepholes: expected true or false, got "yes"/);
  });
  it('LSTMVariant needs a variant; weights of the wrong layout do not load', () => {
    assert.throws(() => new LSTMVariant({ ...base } as never, { backend }), /expected a config with a variant/);
    const m = new LSTMVariant({ ...base, variant: 'NIG' }, { backend });
    assert.throws(() => m.loadStateDict({ weight_ih: { shape: [16, 3], data: new Float32Array(48) } }, false), /'weight_ih': expected shape \[12, 3\], got \[16, 3\]/);
  });
  it('cell specs that make no sense are rejected by the fused op itself', () => {
    const rng = new Rng(1);
    const x = randLeaf(rng, [2, 1, 2]), z = randLeaf(rng, [1, 1, 3]);
    const w = (G: number) => ({ wIh: randLeaf(rng, [G * 3, 2]), wHh: randLeaf(rng, [G * 3, 3]), bIh: null, bHh: null, wHr: null });
    assert.throws(() => lstmLayer(x, z, z, [w(2)], null, { ...LSTM_VARIANTS.CIFG, inputGate: false }),
      /coupled forget gate \(f = 1 - i, CIFG\) needs the input gate/);
    assert.throws(() => lstmLayer(x, z, z, [w(3)], null, { ...LSTM_VARIANTS.FGR, outputGate: false }), /full gate recurrence \(FGR\) needs all three gates/);
    assert.throws(() => lstmLayer(x, z, z, [w(4)], null, LSTM_VARIANTS.V), /this cell needs peephole weight_ci/);
    assert.throws(() => lstmLayer(x, z, z, [{ ...w(4), wGr: randLeaf(rng, [9, 9]) }], null), /this cell has no weight_gr/);
  });
  it('a lstm_variant fixture whose gateOrder or peepholes disagree with its variant fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carousel-family-'));
    const fx = JSON.parse(readFileSync(join(ext, 'lstm_variant_NIG.json'), 'utf8'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...fx, name: 'bad_order', config: { ...fx.config, gateOrder: ['i', 'f', 'g', 'o'] } }));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...fx, name: 'bad_peep', config: { ...fx.config, peepholes: ['ci', 'cf', 'co'] } }));
    const s = await runConformance([dir], backend, F64.dtype);
    assert.equal(s.failed, 2);
    assert.match(s.results[0].message!, /config\.gateOrder \["i","f","g","o"\] does not match variant NIG, which has \["f","g","o"\]/);
    assert.match(s.results[1].message!, /config\.peepholes \["ci","cf","co"\] does not match variant NIG, which has \["cf","co"\]/);
  });
});

describe('conformance fixtures', () => {
  for (const dtype of ['f32', 'f64'] as const) {
    const skip = backend.dtypes.includes(dtype) ? false : `${backend.name} has no ${dtype} (the f32 twin of this test runs)`;
    it(`every peephole_lstm and lstm_variant fixture in ext passes (${dtype})`, { skip }, async () => {
      const s = await runConformance([ext], backend, dtype);
      const mine = s.results.filter((r) => r.kind === 'peephole_lstm' || r.kind === 'lstm_variant');
      assert.equal(mine.length, 12);
      assert.deepEqual(mine.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
      if (dtype === 'f64') for (const r of mine) assert.ok(r.worst < 1e-3, `${r.name}: ${r.worst}`);
    });
  }
  it('our own PyTorch-generated fixtures (3-layer peephole, FGR with H = 7) pass', async () => {
    const s = await runConformance([own], backend, 'f32');
    const mine = s.results.filter((r) => r.kind === 'peephole_lstm' || r.kind === 'lstm_variant');
    assert.ok(mine.length >= 2, `found ${mine.length} fixtures`);
    assert.deepEqual(mine.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
  });
});
}, { asyncF32: true });
