import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backward, noGrad } from '../src/autograd/tape.js';
import { add, logSoftmax, mul, sum } from '../src/ops/index.js';
import { TMaze } from '../src/rl/envs/tmaze.js';
import { gae, greedySolved, policyLoss, returnsToGo, trainPolicy } from '../src/rl/pg.js';
import { policyConfigFor, RecurrentPolicy } from '../src/rl/policy.js';
import { rollout, type Episode } from '../src/rl/rollout.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;

test('returns-to-go and GAE, computed by hand', () => {
  assert.deepEqual(Array.from(returnsToGo([1, 0, 2], 0.9)).map((v) => +v.toFixed(10)), [2.62, 1.8, 2]);
  // δ = [1 + 0.9*1 - 0.5, 0 + 0.9*1.5 - 1, 2 - 1.5] = [1.4, 0.35, 0.5]; A_t = δ_t + 0.72 A_{t+1}
  assert.deepEqual(Array.from(gae([1, 0, 2], [0.5, 1, 1.5], 0.9, 0.8)).map((v) => +v.toFixed(10)), [1.9112, 0.71, 0.5]);
  // λ = 1: G_t - V_t
  assert.deepEqual(Array.from(gae([1, 0, 2], [0.5, 1, 1.5], 0.9, 1)).map((v) => +v.toFixed(10)), [2.12, 0.8, 0.5]);
});

/** Every episode of a T-maze (length 1, at most 3 steps) with each goal side: the action sequences, replayed. */
function allEpisodes(): { obs: number[][]; actions: number[]; rewards: number[] }[] {
  const out: { obs: number[][]; actions: number[]; rewards: number[] }[] = [];
  const walk = (north: boolean, prefix: number[]) => {
    const env = new TMaze({ length: 1, maxSteps: 3 });
    env.reset(new Rng(0)); env.setGoal(north);
    const obs: number[][] = [north ? [0, 1, 1] : [1, 1, 0]], rewards: number[] = [];
    let done = false;
    for (const a of prefix) { const r = env.step(a); rewards.push(r.reward); done = r.done; obs.push([...r.observation]); }
    if (done) { out.push({ obs: obs.slice(0, prefix.length), actions: prefix, rewards }); return; }
    for (let a = 0; a < 4; a++) walk(north, [...prefix, a]);
  };
  walk(true, []); walk(false, []);
  return out;
}

test('REINFORCE: the estimator\'s exact expectation (every episode, weighted by its probability) is the gradient of the expected return', () => {
  const config = policyConfigFor('tmaze', { length: 1, maxSteps: 3 }, 'lstm', 3, false);
  const policy = new RecurrentPolicy(config, { rng: new Rng(6), forgetBias: 0.5 });
  const all = allEpisodes();
  assert.equal(all.length, 2 * (2 + 4 * 4 * 4 - 2 * 4)); // E then N/S ends at step 2; the rest go to 3
  // J = Σ_τ p(τ) R(τ): p(τ) = ½ Π_t π(a_t | o_1..o_t), straight from the module's log-softmax
  const grads = (fn: () => void) => { policy.zeroGrad(); fn(); return policy.namedParameters().map(([n, p]) => [n, p.grad!.toArray()] as const); };
  const probs: number[] = [];
  const gJ = grads(() => {
    let J: Tensor | null = null;
    for (const e of all) {
      const T = e.actions.length;
      const lp = logSoftmax(policy.forward(tensor(e.obs.flat(), [T, 1, 3])).out, -1).toArray();
      let logp = Math.log(0.5);
      e.actions.forEach((a, t) => { logp += lp[t * 4 + a]; });
      probs.push(Math.exp(logp));
    }
    // the gradient of Σ p R, by autograd through each episode's log-probability: Σ p R ∇log p
    for (const [i, e] of all.entries()) {
      const T = e.actions.length;
      const lp = logSoftmax(policy.forward(tensor(e.obs.flat(), [T, 1, 3])).out, -1);
      const pick = new Float64Array(T * 4);
      e.actions.forEach((a, t) => { pick[t * 4 + a] = probs[i] * e.rewards.reduce((s, r) => s + r, 0); });
      const s = sum(mul(lp, tensor(pick, [T, 1, 4])));
      J = J ? add(J, s) : s;
    }
    backward(J!);
  });
  assert.ok(close(probs.reduce((s, p) => s + p, 0), 1, 1e-5), 'the episodes cover every outcome');
  // the estimator: Σ_t ∇log π(a_t) (G_t - b_t) with per-step baselines b_t, each episode weighted by B p(τ)
  const episodes: Episode[] = all.map((e) => ({
    observations: Float64Array.from(e.obs.flat()), actions: Float64Array.from(e.actions), rewards: e.rewards, values: null,
    length: e.actions.length, return: e.rewards.reduce((s, r) => s + r, 0), success: false,
  }));
  const b = [0.3, -0.2, 1.1];
  const adv = episodes.map((e, i) => Array.from(returnsToGo(e.rewards, 1), (g, t) => all.length * probs[i] * (g - b[t])));
  const gE = grads(() => backward(policyLoss(policy, episodes, adv).loss));
  let worst = 0;
  for (let k = 0; k < gJ.length; k++) {
    const [name, want] = gJ[k], got = gE[k][1];
    for (let j = 0; j < want.length; j++) {
      worst = Math.max(worst, Math.abs(-got[j] - want[j]));
      assert.ok(close(-got[j], want[j], 2e-5 + 1e-3 * Math.abs(want[j])), `${name}[${j}]: estimator ${-got[j]}, exact ${want[j]}`);
    }
  }
  assert.ok(gJ.some(([, g]) => g.some((v) => Math.abs(v) > 1e-3)), 'the gradient is not trivially zero');
});

test('continuous actions: the loss is the Gaussian negative log-likelihood times the advantage; the entropy is the Gaussian\'s', () => {
  const config = policyConfigFor('double-pole', { velocities: false }, 'lstm', 4, false);
  const policy = new RecurrentPolicy(config, { rng: new Rng(8), logStd: Math.log(0.3) });
  const ctrl = policy.controller();
  const eps = rollout(config, ctrl, 2, new Rng(1), new Rng(2));
  for (const e of eps) assert.ok(e.length > 2);
  const adv = eps.map((e) => e.rewards.map((_, t) => Math.sin(t + e.length)));
  const { loss, entropy } = noGrad(() => policyLoss(policy, eps, adv));
  // by hand, with the controller's means: Σ A_t ((a - μ)² / (2σ²) + log σ) / B
  let want = 0;
  const sigma = ctrl.std![0];
  eps.forEach((e, b) => {
    ctrl.reset(1);
    for (let t = 0; t < e.length; t++) {
      const mu = ctrl.step(e.observations.subarray(t * 3, t * 3 + 3)).out[0];
      want += (adv[b][t] * ((e.actions[t] - mu) ** 2 / (2 * sigma * sigma) + Math.log(sigma))) / 2;
    }
  });
  assert.ok(close(loss.item(), want, 1e-4 * (1 + Math.abs(want))), `loss ${loss.item()} vs ${want}`);
  assert.ok(close(entropy, Math.log(sigma) + 0.5 * Math.log(2 * Math.PI * Math.E), 1e-5));
});

test('a2c learns the T-maze with a corridor of 3 within 3,000 episodes; the greedy policy then remembers the sign', () => {
  const config = policyConfigFor('tmaze', { length: 3 }, 'lstm', 8, true);
  const policy = new RecurrentPolicy(config, { rng: new Rng(101), forgetBias: 5 });
  assert.equal(greedySolved(policy), false, 'not solved before training');
  const r = trainPolicy(policy, { algo: 'a2c', episodes: 3000, batch: 16, lr: 0.03, entropy: 0.01, seed: 1 });
  assert.ok(r.solved, `not solved in ${r.episodes} episodes (last success rate ${r.history.at(-1)!.successRate})`);
  assert.ok(greedySolved(policy));
  // greedy episodes reach the goal, whichever side it is on
  const eps = rollout(config, policy.controller(), 8, new Rng(3), new Rng(4), { greedy: true });
  for (const e of eps) assert.ok(e.success && e.rewards.at(-1) === 4, `greedy episode: ${e.length} steps, return ${e.return}`);
});

test('reinforce with a moving-average baseline improves the T-maze success rate from chance', () => {
  const config = policyConfigFor('tmaze', { length: 2 }, 'lstm', 6, false);
  const policy = new RecurrentPolicy(config, { rng: new Rng(7), forgetBias: 5 });
  const r = trainPolicy(policy, { algo: 'reinforce', episodes: 1200, batch: 16, lr: 0.03, entropy: 0.01, seed: 2, solved: () => false });
  const first = r.history.slice(0, 5).reduce((s, u) => s + u.successRate, 0) / 5;
  const last = r.history.slice(-5).reduce((s, u) => s + u.successRate, 0) / 5;
  assert.ok(last > first + 0.2 && last > 0.6, `success rate ${first.toFixed(2)} -> ${last.toFixed(2)}`);
  assert.throws(() => trainPolicy(policy, { algo: 'a2c', episodes: 1 }), /a2c needs a policy with a critic/);
});
