import type { Rng } from '../tensor/random.js';
import { makeEnv, type Env } from './envs/env.js';
import type { PolicyConfig, PolicyController } from './policy.js';

/** One episode as the policy lived it. */
export interface Episode {
  /** What the policy saw before each action: [T, I] row-major. */
  observations: Float64Array;
  /** The actions taken: [T] indices (discrete) or [T, dim] row-major (continuous). */
  actions: Float64Array;
  rewards: number[];
  /** The critic's value at each step (critic policies only). */
  values: number[] | null;
  length: number;
  return: number;
  success: boolean;
  /** Text frames (render()), when asked for: the start and one after each step. */
  frames?: string[];
}

export interface RolloutOptions {
  /** Take the most likely action (discrete) or the mean (continuous) instead of sampling. */
  greedy?: boolean;
  /** Record each environment's render() after reset and after every step. */
  frames?: boolean;
}

/**
 * Run B episodes at once (B environments of the policy's kind, each reset from envRng), the
 * controller stepping all that are still running together; actions are drawn from actRng.
 * Returns when every episode has ended (the environments' own step limits end them).
 */
export function rollout(config: PolicyConfig, ctrl: PolicyController, B: number, envRng: Rng, actRng: Rng, opts: RolloutOptions = {}): Episode[] {
  const envs: Env[] = Array.from({ length: B }, () => makeEnv(config.env, config.envOptions));
  const I = config.observation, A = config.action.kind === 'discrete' ? 1 : config.action.dim;
  const obs = new Float64Array(B * I);
  const hist = envs.map(() => ({ obs: [] as number[], act: [] as number[], rew: [] as number[], val: [] as number[], success: false, frames: [] as string[] }));
  envs.forEach((e, b) => { obs.set(e.reset(envRng), b * I); if (opts.frames) hist[b].frames.push(e.render()); });
  const active = new Array<boolean>(B).fill(true);
  let running = B;
  ctrl.reset(B);
  while (running > 0) {
    const { out, value } = ctrl.step(obs, active);
    const acts = ctrl.act(out, actRng, opts.greedy);
    for (let b = 0; b < B; b++) {
      if (!active[b]) continue;
      const h = hist[b];
      for (let k = 0; k < I; k++) h.obs.push(obs[b * I + k]);
      if (value) h.val.push(value[b]);
      const a = A === 1 && config.action.kind === 'discrete' ? acts[b] : acts.subarray(b * A, (b + 1) * A);
      const r = envs[b].step(typeof a === 'number' ? a : Float64Array.from(a));
      if (typeof a === 'number') h.act.push(a); else h.act.push(...a);
      h.rew.push(r.reward);
      if (opts.frames) h.frames.push(envs[b].render());
      if (r.done) { active[b] = false; running--; h.success = r.success === true; } else obs.set(r.observation, b * I);
    }
  }
  return hist.map((h) => {
    const ep: Episode = {
      observations: Float64Array.from(h.obs), actions: Float64Array.from(h.act), rewards: h.rew,
      values: config.critic ? h.val : null, length: h.rew.length, return: h.rew.reduce((s, r) => s + r, 0), success: h.success,
    };
    if (opts.frames) ep.frames = h.frames;
    return ep;
  });
}

/** Success rate and mean return and length of a set of episodes. */
export function summarize(eps: readonly Episode[]): { successRate: number; meanReturn: number; meanLength: number } {
  const n = eps.length || 1;
  return {
    successRate: eps.filter((e) => e.success).length / n,
    meanReturn: eps.reduce((s, e) => s + e.return, 0) / n,
    meanLength: eps.reduce((s, e) => s + e.length, 0) / n,
  };
}
