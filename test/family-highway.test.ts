// Highway layers, on every backend: FD gradient checks (f64), the carry/transform identity at saturated gates,
// rejections, and every highway fixture (ext and ours) through the conformance runner.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { arr } from '../src/backend/reference/index.js';
import { runConformance } from '../src/conformance/runner.js';
import { Highway } from '../src/nn/highway.js';
import { Rng } from '../src/tensor/random.js';
import { f64, forEachBackend } from './backends.js';
import { gradcheck, randLeaf as randOn } from './util/gradcheck.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ext = join(root, '..', 'shared', 'fixtures', 'ext');
const own = join(root, 'test', 'fixtures', 'family');

forEachBackend('Highway', (backend) => {
  const F64 = f64(backend);
  const randLeaf = (r: Rng, shape: number[], scale = 1, requiresGrad = true) => randOn(r, shape, scale, requiresGrad, backend);
  for (const [activation, numLayers] of [['tanh', 1], ['tanh', 3], ['relu', 2], ['relu', 4]] as const) {
    it(`FD gradient check: ${numLayers} ${activation} layer(s), 3-D input`, () => {
      const rng = new Rng(numLayers * 7 + activation.length);
      const m = new Highway({ size: 4, numLayers, activation, transformBias: 0.3 }, { ...F64, rng: new Rng(5) });
      const x = randLeaf(rng, [2, 3, 4]);
      gradcheck(() => m.forward(x), [x, ...m.parameters()]);
    });
  }
  it('a saturated transform gate carries the input through; an open one gives act(x W_H^T + b_H)', () => {
    const rng = new Rng(1);
    const x = randLeaf(rng, [3, 5], 1, false);
    const carry = new Highway({ size: 5, numLayers: 2, transformBias: -60 }, F64);
    assert.deepEqual(Array.from(carry.forward(x).dataSync()), Array.from(x.dataSync()));
    const open = new Highway({ size: 5, activation: 'relu', transformBias: 60 }, F64);
    const W = arr(open.parameter('weight_H_l0').storage), b = arr(open.parameter('bias_H_l0').storage), xv = x.dataSync();
    const y = open.forward(x).dataSync();
    for (let r = 0; r < 3; r++) for (let o = 0; o < 5; o++) {
      let s = b[o];
      for (let i = 0; i < 5; i++) s += xv[r * 5 + i] * W[o * 5 + i];
      assert.ok(Math.abs(y[r * 5 + o] - Math.max(0, s)) < 1e-15);
    }
  });
  it('parameter names and the default carry bias', () => {
    const m = new Highway({ size: 3, numLayers: 2 }, { backend });
    assert.deepEqual(m.namedParameters().map(([n]) => n),
      ['weight_H_l0', 'bias_H_l0', 'weight_T_l0', 'bias_T_l0', 'weight_H_l1', 'bias_H_l1', 'weight_T_l1', 'bias_T_l1']);
    assert.deepEqual(Array.from(m.parameter('bias_T_l1').dataSync()), [-1, -1, -1]);
  });
  it('rejects bad options and inputs', () => {
    assert.throws(() => new Highway({ size: 0 }, { backend }), /Highway: expected size to be a positive integer, got 0/);
    assert.throws(() => new Highway({ size: 3, activation: 'gelu' as never }, { backend }), /expected activation 'tanh' or 'relu', got 'gelu'/);
    assert.throws(() => new Highway({ size: 3, numLayers: 1.5 }, { backend }), /expected numLayers to be a positive integer, got 1.5/);
    const m = new Highway({ size: 3 }, F64);
    assert.throws(() => m.forward(randLeaf(new Rng(1), [2, 4])), /Highway: expected input \[\.\.\., 3\], got \[2, 4\]/);
  });
  for (const dtype of ['f32', 'f64'] as const) {
    it(`every highway fixture (ext and test/fixtures/family) passes (${dtype})`, async () => {
      const s = await runConformance([ext, own], backend, dtype);
      const mine = s.results.filter((r) => r.kind === 'highway');
      assert.equal(mine.length, 3);
      assert.deepEqual(mine.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
    });
  }
});
