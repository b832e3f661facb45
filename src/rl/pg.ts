import { backward, noGrad } from '../autograd/tape.js';
import { add, addScalar, exp, logSoftmax, mul, scale, softmax, square, sub, sum } from '../ops/index.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { tensor } from '../tensor/create.js';
import { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/tidy.js';
import type { RecurrentPolicy } from './policy.js';
import { rollout, summarize, type Episode } from './rollout.js';

/** G_t = r_t + γ r_{t+1} + γ² r_{t+2} + ... to the end of the episode. */
export function returnsToGo(rewards: readonly number[], gamma: number): Float64Array {
  const g = new Float64Array(rewards.length);
  let acc = 0;
  for (let t = rewards.length - 1; t >= 0; t--) g[t] = acc = rewards[t] + gamma * acc;
  return g;
}

/**
 * Generalized advantage estimation (Schulman et al. 2016): A_t = Σ_k (γλ)^k δ_{t+k},
 * δ_t = r_t + γ V_{t+1} - V_t, with V after the last step 0 (the episode ended; a step limit
 * counts as an end too). λ = 1 gives G_t - V_t (REINFORCE with a learned baseline); λ = 0 the
 * one-step actor-critic advantage.
 */
export function gae(rewards: readonly number[], values: readonly number[], gamma: number, lambda: number): Float64Array {
  const T = rewards.length, a = new Float64Array(T);
  let acc = 0;
  for (let t = T - 1; t >= 0; t--) {
    const next = t + 1 < T ? values[t + 1] : 0;
    acc = rewards[t] + gamma * next - values[t] + gamma * lambda * acc;
    a[t] = acc;
  }
  return a;
}

export interface LossTerms {
  /** The surrogate whose gradient is the policy-gradient estimate plus the other terms. */
  loss: Tensor;
  /** Mean entropy of the action distribution per step (a number, for the log). */
  entropy: number;
}

/**
 * The loss of one batch of episodes, by BPTT through the recurrent policy over whole episodes:
 *   - (1/B) Σ_b Σ_t log π(a_t | o_1..o_t) A_t        (the policy gradient: REINFORCE, Williams 1992)
 *   - β (1/B) Σ_b Σ_t H(π(· | o_1..o_t))             (entropy bonus)
 *   + c (1/B) Σ_b Σ_t (V(o_1..o_t) - target_t)²      (the critic, when targets are given)
 * advantages[b] and valueTargets[b] hold one number per step of episode b.
 */
export function policyLoss(policy: RecurrentPolicy, episodes: readonly Episode[], advantages: readonly ArrayLike<number>[],
  opts: { entropy?: number; valueTargets?: readonly ArrayLike<number>[] | null; valueCoef?: number } = {}): LossTerms {
  const B = episodes.length, T = Math.max(...episodes.map((e) => e.length));
  const cfg = policy.config, I = cfg.observation, a = cfg.action;
  const lengths = episodes.map((e) => e.length);
  const steps = lengths.reduce((s, n) => s + n, 0);
  const x = new Float64Array(T * B * I); // [T, B, I], zero past each episode
  const mask = new Float64Array(T * B); // [T, B]
  const w = new Float64Array(T * B); // [T, B] A_t / B
  episodes.forEach((e, b) => {
    for (let t = 0; t < e.length; t++) {
      x.set(e.observations.subarray(t * I, (t + 1) * I), (t * B + b) * I);
      mask[t * B + b] = 1;
      w[t * B + b] = advantages[b][t] / B;
    }
  });
  const { out, value } = policy.forward(tensor(x, [T, B, I]), { lengths });
  let loss: Tensor, entropy: number;
  const beta = opts.entropy ?? 0;
  if (a.kind === 'discrete') {
    const n = a.n;
    const pick = new Float64Array(T * B * n); // [T, B, n]: A_t / B at the action taken
    const ent = new Float64Array(T * B * n); // [T, B, n]: β / B on every real step
    episodes.forEach((e, b) => {
      for (let t = 0; t < e.length; t++) {
        pick[(t * B + b) * n + e.actions[t]] = w[t * B + b];
        ent.fill(beta / B, (t * B + b) * n, (t * B + b + 1) * n);
      }
    });
    const lp = logSoftmax(out, -1);
    loss = scale(sum(mul(lp, tensor(pick, [T, B, n]))), -1);
    const plp = mul(softmax(out, -1), lp); // Σ_a p log p = -H
    entropy = noGrad(() => -sum(mul(plp, tensor(mask, [T, B, 1]))).item() / Math.max(1, steps));
    if (beta > 0) loss = add(loss, sum(mul(plp, tensor(ent, [T, B, n]))));
  } else {
    const d = a.dim, half = (a.high - a.low) / 2;
    const acts = new Float64Array(T * B * d);
    episodes.forEach((e, b) => { for (let t = 0; t < e.length; t++) acts.set(e.actions.subarray(t * d, (t + 1) * d), (t * B + b) * d); });
    const logStd = policy.logStd!; // σ = half exp(log_std)
    const inv2var = scale(exp(scale(logStd, -2)), 0.5 / (half * half)); // 1 / (2σ²) [d]
    const nll = add(mul(square(sub(tensor(acts, [T, B, d]), out)), inv2var), addScalar(logStd, Math.log(half))); // -log N + const [T, B, d]
    loss = sum(mul(nll, tensor(w, [T, B, 1])));
    // the Gaussian's entropy per step: Σ_d (log σ_d + ½ log 2πe)
    const perStep = noGrad(() => sum(logStd).item()) + d * (Math.log(half) + 0.5 * Math.log(2 * Math.PI * Math.E));
    entropy = perStep;
    if (beta > 0) loss = sub(loss, scale(sum(logStd), (beta * steps) / B));
  }
  if (opts.valueTargets && value) {
    const tgt = new Float64Array(T * B);
    episodes.forEach((e, b) => { for (let t = 0; t < e.length; t++) tgt[t * B + b] = opts.valueTargets![b][t]; });
    const err = mul(sub(value, tensor(tgt, [T, B])), tensor(mask, [T, B]));
    loss = add(loss, scale(sum(square(err)), (opts.valueCoef ?? 0.5) / B));
  }
  return { loss, entropy };
}

export type Algo = 'reinforce' | 'a2c';

export interface TrainOptions {
  algo: Algo;
  /** Episode budget: training stops after this many (or when solved). */
  episodes: number;
  /** Episodes per update (run at once). */
  batch?: number;
  lr?: number;
  gamma?: number;
  /** GAE λ of the advantage actor-critic (default 0.95). */
  lambda?: number;
  entropy?: number;
  /** Gradient-norm clipping (default 1). */
  clip?: number;
  /** Divide the advantages of each batch by their standard deviation (default true). */
  normalize?: boolean;
  seed?: number;
  /**
   * Checked after each update with the current policy; training stops when it says solved. The
   * default runs the greedy policy on one episode per goal side or start (see greedySolved).
   */
  solved?: (policy: RecurrentPolicy) => boolean;
  onUpdate?: (u: UpdateLog) => void;
}

export interface UpdateLog {
  update: number;
  episodes: number;
  successRate: number;
  meanReturn: number;
  meanLength: number;
  entropy: number;
  loss: number;
  seconds: number;
}

export interface TrainResult {
  solved: boolean;
  /** Episodes run until solved (or the whole budget). */
  episodes: number;
  history: UpdateLog[];
  seconds: number;
}

/**
 * Train a recurrent policy by policy gradients (Wierstra et al. 2007/2010): each update runs a
 * batch of episodes with the current policy, then backpropagates through the LSTM over the whole
 * episodes. 'reinforce': advantages G_t - b_t, b_t the critic's value when the policy has one
 * (trained towards G_t), else a moving average of the returns at step t. 'a2c': advantage
 * actor-critic, GAE(λ) advantages from the critic (which it needs), the critic trained towards
 * A_t + V_t. Adam, gradient-norm clipping, optional entropy bonus.
 */
export function trainPolicy(policy: RecurrentPolicy, o: TrainOptions): TrainResult {
  const B = o.batch ?? 16, gamma = o.gamma ?? 0.98, lambda = o.lambda ?? 0.95, clip = o.clip ?? 1, normalize = o.normalize ?? true;
  if (o.algo === 'a2c' && !policy.config.critic) throw new Error('trainPolicy: a2c needs a policy with a critic (critic: true)');
  const seed = o.seed ?? 0;
  const envRng = new Rng(seed * 2 + 1), actRng = new Rng(seed * 2 + 2);
  const opt = new Adam(policy.parameters(), { lr: o.lr ?? 0.01 });
  const solved = o.solved ?? ((p: RecurrentPolicy) => greedySolved(p));
  const baseline: number[] = []; // moving average of G_t per step t (REINFORCE without a critic)
  const history: UpdateLog[] = [];
  const t0 = Date.now();
  let done = 0, isSolved = false;
  policy.train();
  while (done < o.episodes && !isSolved) {
    const n = Math.min(B, o.episodes - done);
    const eps = rollout(policy.config, policy.controller(), n, envRng, actRng);
    done += n;
    const returns = eps.map((e) => returnsToGo(e.rewards, gamma));
    let adv: Float64Array[], targets: Float64Array[] | null = null;
    if (o.algo === 'a2c') {
      adv = eps.map((e) => gae(e.rewards, e.values!, gamma, lambda));
      targets = adv.map((a, b) => a.map((v, t) => v + eps[b].values![t]));
    } else if (policy.config.critic) {
      adv = returns.map((g, b) => g.map((v, t) => v - eps[b].values![t]));
      targets = returns;
    } else {
      adv = returns.map((g) => g.map((v, t) => v - (baseline[t] ?? 0)));
      const T = Math.max(...returns.map((g) => g.length));
      for (let t = 0; t < T; t++) {
        const at = returns.filter((g) => g.length > t).map((g) => g[t]);
        const m = at.reduce((s, v) => s + v, 0) / at.length;
        baseline[t] = baseline[t] === undefined ? m : 0.9 * baseline[t] + 0.1 * m;
      }
    }
    if (normalize) {
      const all = adv.flatMap((a) => [...a]);
      const sd = Math.sqrt(all.reduce((s, v) => s + v * v, 0) / Math.max(1, all.length));
      if (sd > 1e-8) adv = adv.map((a) => a.map((v) => v / sd));
    }
    let lossValue = 0, entropy = 0;
    tidy(() => {
      opt.zeroGrad();
      const r = policyLoss(policy, eps, adv, { entropy: o.entropy ?? 0, valueTargets: targets });
      backward(r.loss);
      lossValue = r.loss.item(); entropy = r.entropy;
      clipGradNorm(policy.parameters(), clip);
      opt.step();
    });
    if (!Number.isFinite(lossValue)) throw new Error(`trainPolicy: the loss became ${lossValue} after ${done} episodes (try a smaller --lr)`);
    const s = summarize(eps);
    const log: UpdateLog = { update: history.length + 1, episodes: done, ...s, entropy, loss: lossValue, seconds: (Date.now() - t0) / 1000 };
    history.push(log);
    o.onUpdate?.(log);
    isSolved = solved(policy);
  }
  policy.eval();
  return { solved: isSolved, episodes: done, history, seconds: (Date.now() - t0) / 1000 };
}

/**
 * The greedy policy (most likely action; the mean force) succeeds in every case the environment
 * can start in: for the T-maze both goal sides (the maze is otherwise deterministic); for the
 * poles, `starts` episodes from seeded starts.
 */
export function greedySolved(policy: RecurrentPolicy, starts = 2, seed = 12345): boolean {
  const ctrl = policy.controller();
  if (policy.config.env === 'tmaze') {
    // envRng draws the goal side first: find a seed for each side once
    return [true, false].every((north) => {
      const rng = seedForGoal(north);
      return rollout(policy.config, ctrl, 1, rng, new Rng(0), { greedy: true })[0].success;
    });
  }
  const eps = rollout(policy.config, ctrl, starts, new Rng(seed), new Rng(seed + 1), { greedy: true });
  return eps.every((e) => e.success);
}

/** A generator whose first draw puts the T-maze's goal North (or South). */
export function seedForGoal(north: boolean): Rng {
  for (let s = 1; ; s++) {
    if ((new Rng(s).next() < 0.5) === north) return new Rng(s);
  }
}
