// Highway layers, on every backend: FD gradient checks (f64), the carry/transform identity at saturated gates,
// rejections, and every highway fixture (ext and ours) through the conformance runner.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConformance } from '../src/conformance/runner.js';
import { Highway } from '../src/nn/highway.js';
import { Rng } from '../src/tensor/random.js';
import { forEachBackend, hasF64, values, widest } from './backends.js';
import { checkGradients, randLeaf as randOn } from './util/gradcheck.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ext = join(root, '..', 'shared', 'fixtures', 'ext');
const own = join(root, 'test', 'fixtures', 'family');

forEachBackend('Highway', (backend) => {
  const F64 = widest(backend); // f64 on the CPU backends, f32 on webgpu
  const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend, F64.dtype);
  for (const [activation, numLayers] of [['tanh', 1], ['tanh', 3], ['relu', 2], ['relu', 4]] as const) {
    it(`FD gradient check: ${numLayers} ${activation} layer(s), 3-D input`, () => checkGradients(backend, (o) => {
      const rng = new Rng(numLayers * 7 + activation.length);
      const m = new Highway({ size: 4, numLayers, activation, transformBias: 0.3 }, { ...o, rng: new Rng(5) });
      const x = randOn(rng, [2, 3, 4], 1, true, o.backend, o.dtype);
      return { fn: () => m.forward(x), leaves: [x, ...m.parameters()] };
    }));
  }
  it('a saturated transform gate carries the input through; an open one gives act(x W_H^T + b_H)', async () => {
    const rng = new Rng(1);
    const x = randLeaf(rng, [3, 5], 1, false);
    const carry = new Highway({ size: 5, numLayers: 2, transformBias: -60 }, F64);
    assert.deepEqual(await values(carry.forward(x)), await values(x));
    const open = new Highway({ size: 5, activation: 'relu', transformBias: 60 }, F64);
    const W = await open.parameter('weight_H_l0').data(), b = await open.parameter('bias_H_l0').data(), xv = await x.data();
    const y = await open.forward(x).data();
    const tol = hasF64(backend) ? 1e-15 : 2e-6; // webgpu: an f32 dot product of 5 terms
    for (let r = 0; r < 3; r++) for (let o = 0; o < 5; o++) {
      let s = b[o];
      for (let i = 0; i < 5; i++) s += xv[r * 5 + i] * W[o * 5 + i];
      assert.ok(Math.abs(y[r * 5 + o] - Math.max(0, s)) < tol);
    }
  });
  it('parameter names and the default carry bias', async () => {
    const m = new Highway({ size: 3, numLayers: 2 }, { backend });
    assert.deepEqual(m.namedParameters().map(([n]) => n),
      ['weight_H_l0', 'bias_H_l0', 'weight_T_l0', 'bias_T_l0', 'weight_H_l1', 'bias_H_l1', 'weight_T_l1', 'bias_T_l1']);
    assert.deepEqual(await values(m.parameter('bias_T_l1')), [-1, -1, -1]);
  });
  it('rejects bad options and inputs', () => {
    assert.throws(() => new Highway({ size: 0 }, { backend }), /Highway: expected size to be a positive integer, got 0/);
    assert.throws(() => new Highway({ size: 3, activation: 'gelu' as never }, { backend }), /expected activation 'tanh' or 'relu', got 'gelu'/);
    assert.throws(() => new Highway({ size: 3, numLayers: 1.5 }, { backend }), /expected numLayers to be a positive integer, got 1.5/);
    const m = new Highway({ size: 3 }, F64);
    assert.throws(() => m.forward(randLeaf(new Rng(1), [2, 4])), /Highway: expected input \[\.\.\., 3\], got \[2, 4\]/);
  });
  for (const dtype of ['f32', 'f64'] as const) {
    const skip = backend.dtypes.includes(dtype) ? false : `${backend.name} has no ${dtype} (the f32 twin of this test runs)`;
    it(`every highway fixture (ext and test/fixtures/family) passes (${dtype})`, { skip }, async () => {
      const s = await runConformance([ext, own], backend, dtype);
      const mine = s.results.filter((r) => r.kind === 'highway');
      assert.equal(mine.length, 3);
      assert.deepEqual(mine.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
    });
  }
}, { asyncF32: true });
