import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { loadPolicy, policyConfigFor, RecurrentPolicy, savePolicy, type PolicyConfig, type RecurrentState } from '../src/rl/policy.js';
import { rollout } from '../src/rl/rollout.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';

const configs: [string, PolicyConfig][] = [
  ['lstm, discrete, critic', policyConfigFor('tmaze', { length: 3 }, 'lstm', 5, true)],
  ['gru, discrete', policyConfigFor('cart-pole', { velocities: false }, 'gru', 4, false)],
  ['lstm, continuous', policyConfigFor('double-pole', { velocities: false }, 'lstm', 6, true)],
  ['gru, continuous', policyConfigFor('cart-pole', { continuous: true }, 'gru', 3, true)],
];

function randomObs(T: number, B: number, I: number, seed: number): number[] {
  const r = new Rng(seed);
  return Array.from({ length: T * B * I }, () => r.uniform(-1, 1));
}

test('the plain-number controller computes what the module computes, step by step with a carried state', () => {
  for (const [what, config] of configs) {
    const policy = new RecurrentPolicy(config, { rng: new Rng(3) });
    const T = 6, B = 3, I = config.observation;
    const x = randomObs(T, B, I, 9);
    const { out, value } = noGrad(() => policy.forward(tensor(x, [T, B, I])));
    const want = out.toArray(), wantV = value?.toArray();
    const ctrl = policy.controller();
    ctrl.reset(B);
    const A = out.shape[2];
    for (let t = 0; t < T; t++) {
      const r = ctrl.step(Float64Array.from(x.slice(t * B * I, (t + 1) * B * I)));
      for (let k = 0; k < B * A; k++) assert.ok(Math.abs(r.out[k] - want[t * B * A + k]) < 2e-5, `${what} t=${t} out[${k}]: ${r.out[k]} vs ${want[t * B * A + k]}`);
      for (let b = 0; b < B; b++) if (wantV) assert.ok(Math.abs(r.value![b] - wantV[t * B + b]) < 2e-5, `${what} value`);
    }
    // the module's own step() with a carried state gives the same as the whole sequence
    let state: RecurrentState | null = null;
    for (let t = 0; t < T; t++) {
      const s = noGrad(() => policy.step(tensor(x.slice(t * B * I, (t + 1) * B * I), [B, I]), state));
      state = s.state;
      const got = s.out.toArray();
      for (let k = 0; k < B * A; k++) assert.ok(Math.abs(got[k] - want[t * B * A + k]) < 1e-5, `${what} step() t=${t}`);
    }
  }
});

test('continuous actions: the mean lies in [low, high], the std is exp(log_std) times half the range', () => {
  const config = configs[2][1];
  const policy = new RecurrentPolicy(config, { rng: new Rng(1), logStd: Math.log(0.25) });
  assert.ok(Math.abs(policy.std().item() - 0.25 * 10) < 1e-5);
  const ctrl = policy.controller();
  assert.ok(Math.abs(ctrl.std![0] - 2.5) < 1e-5);
  ctrl.reset(2);
  const { out } = ctrl.step(Float64Array.from([50, -50, 50, -50, 50, -50]));
  for (const v of out) assert.ok(v >= -10 && v <= 10);
});

test('forget-gate bias: added to the f rows only', () => {
  const config = policyConfigFor('tmaze', { length: 3 }, 'lstm', 4, false);
  const a = new RecurrentPolicy(config, { rng: new Rng(5), forgetBias: 0 }).parameter('rnn.bias_hh_l0').toArray();
  const b = new RecurrentPolicy(config, { rng: new Rng(5), forgetBias: 2 }).parameter('rnn.bias_hh_l0').toArray();
  assert.deepEqual(b.map((v, j) => Math.round((v - a[j]) * 1e5) / 1e5), [0, 0, 0, 0, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
});

test('saved and loaded: the same weights, config and actions; flat vectors round-trip', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-policy-'));
  try {
    const config = configs[0][1];
    const policy = new RecurrentPolicy(config, { rng: new Rng(2) });
    await savePolicy(join(dir, 'm'), policy, { episodes: 3 });
    const { policy: back, training } = loadPolicy(join(dir, 'm'));
    assert.deepEqual(back.config, config);
    assert.deepEqual(training, { episodes: 3 });
    assert.deepEqual(Array.from(back.getFlat()), Array.from(policy.getFlat()));
    const run = (p: RecurrentPolicy) => rollout(config, p.controller(), 4, new Rng(1), new Rng(2)).map((e) => [...e.actions]);
    assert.deepEqual(run(back), run(policy));
    const v = policy.getFlat().map((x, i) => x + i * 1e-3);
    back.setFlat(v);
    assert.deepEqual(Array.from(back.getFlat()), Array.from(Float32Array.from(v)));
    assert.throws(() => back.setFlat([1, 2]), /setFlat: expected \d+ values, got 2/);
    // a config that no longer fits its environment is refused, naming the field
    const meta = JSON.parse(readFileSync(join(dir, 'm', 'model.json'), 'utf8'));
    meta.config.observation = 7;
    writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(meta));
    assert.throws(() => loadPolicy(join(dir, 'm')), /config: observation: expected 3 \(what tmaze observes\), got 7/);
    meta.config.observation = 3; meta.config.envOptions = { length: -1 };
    writeFileSync(join(dir, 'm', 'model.json'), JSON.stringify(meta));
    assert.throws(() => loadPolicy(join(dir, 'm')), /envOptions: tmaze length: expected an integer/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('rollout: B episodes at once, deterministic by seed, each ending on its own', () => {
  const config = policyConfigFor('tmaze', { length: 2, maxSteps: 30 }, 'lstm', 4, true);
  const ctrl = new RecurrentPolicy(config, { rng: new Rng(4) }).controller();
  const a = rollout(config, ctrl, 8, new Rng(10), new Rng(11));
  const b = rollout(config, ctrl, 8, new Rng(10), new Rng(11));
  assert.deepEqual(a, b);
  assert.equal(a.length, 8);
  for (const e of a) {
    assert.equal(e.observations.length, 3 * e.length);
    assert.equal(e.actions.length, e.length);
    assert.equal(e.values!.length, e.length);
    assert.ok(e.length >= 3 && e.length <= 30);
    assert.equal(e.success, e.rewards[e.length - 1] === 4);
  }
  assert.ok(new Set(a.map((e) => e.length)).size > 1, 'episodes end at different steps');
  const greedy = rollout(config, ctrl, 2, new Rng(10), new Rng(11), { greedy: true, frames: true });
  assert.equal(greedy[0].frames!.length, greedy[0].length + 1);
});
