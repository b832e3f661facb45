/**
 * Neuroevolution of a recurrent controller (src/rl's environments and RecurrentPolicy): the genome
 * is the policy's LSTM and action head (rnn.* and head.*, PyTorch names, in the module's order;
 * log_std plays no part in the greedy action and is not evolved), stepped by lstmNet.ts in plain
 * numbers. The action is the policy's greedy one: the head's argmax (discrete) or its tanh-squashed
 * mean (continuous), exactly as `carousel play` runs a saved policy.
 *
 * Fitness for the double pole without velocities is Gruau, Whitley & Pyeatt's (1996) "damping"
 * fitness, the one Gomez & Miikkulainen (1999), Igel (2003) and Gomez et al. (2008) use:
 *   f = 0.1 t / 1000 + 0.9 f_stable,  f_stable = 0 if t < 100, else 0.75 / sum over the last 100
 *   steps of (|x| + |x'| + |theta1| + |theta1'|),
 * from one episode of at most 1000 steps (t: steps balanced), so a controller that merely swings
 * the poles up scores low. Other environments: the mean return over `episodes` episodes.
 */
import { makeEnv, type ActionSpace } from '../rl/envs/env.js';
import type { GenomeLayout } from './genome.js';
import { LstmNet } from './lstmNet.js';
import type { Fitness } from './pool.js';
import { Rng } from '../tensor/random.js';

export interface ControlTask {
  env: string;
  envOptions: Record<string, unknown>;
  hidden: number;
  fitness: 'damping' | 'return';
  /** Episodes per evaluation ('return'; each reset from the evaluation's seed). */
  episodes: number;
}

/** The evolved parameters of RecurrentPolicy (cell lstm, no critic), as genome.ts lays them out. */
export function controlLayout(hidden: number, observation: number, action: ActionSpace): GenomeLayout {
  const H = hidden, A = action.kind === 'discrete' ? action.n : action.dim;
  const shapes: [string, number[]][] = [
    ['rnn.weight_ih_l0', [4 * H, observation]], ['rnn.weight_hh_l0', [4 * H, H]], ['rnn.bias_ih_l0', [4 * H]], ['rnn.bias_hh_l0', [4 * H]],
    ['head.weight', [A, H]], ['head.bias', [A]],
  ];
  let offset = 0;
  const slices = shapes.map(([name, shape]) => { const size = shape.reduce((a, b) => a * b, 1); const s = { name, shape, offset, size }; offset += size; return s; });
  return { slices, size: offset };
}

/** Parameter names the genome covers (the policy's others keep their values). */
export const isEvolved = (name: string): boolean => name.startsWith('rnn.') || name.startsWith('head.');

/** The greedy controller of a genome: reset() then act(observation) -> the env's action. */
export class Controller {
  private readonly net: LstmNet;
  private readonly action: ActionSpace;
  private readonly a1 = new Float64Array(1);
  constructor(genome: Float64Array, hidden: number, observation: number, action: ActionSpace) {
    this.net = new LstmNet(genome, controlLayout(hidden, observation, action), { lstm: 'rnn.', head: 'head.' });
    this.action = action;
  }

  reset(): void { this.net.reset(); }

  act(observation: Float64Array): number | Float64Array {
    const out = this.net.step(observation), a = this.action;
    if (a.kind === 'discrete') { let k = 0; for (let i = 1; i < out.length; i++) if (out[i] > out[k]) k = i; return k; }
    const mid = (a.high + a.low) / 2, half = (a.high - a.low) / 2;
    if (a.dim === 1) { this.a1[0] = mid + half * Math.tanh(out[0]); return this.a1; }
    return Float64Array.from(out, (v) => mid + half * Math.tanh(v));
  }
}

/** The pool's fitness factory (pool.ts): cost = -fitness. */
export function controlFitness(task: ControlTask): Fitness {
  const env = makeEnv(task.env, task.envOptions);
  const damping = task.fitness === 'damping';
  if (damping && (task.env !== 'double-pole' || task.envOptions.maxSteps !== 1000)) {
    throw new Error(`controlFitness: the damping fitness is defined on double-pole episodes of 1000 steps, got ${task.env} with maxSteps ${String(task.envOptions.maxSteps)}`);
  }
  const state = damping ? () => (env as unknown as { state: number[] }).state : null;
  return (genome, seed) => {
    const ctrl = new Controller(genome, task.hidden, env.observationSize, env.action);
    const rng = new Rng(seed);
    if (damping) {
      // The last 100 steps' |x| + |x'| + |theta1| + |theta1'|, in a ring.
      const ring = new Float64Array(100);
      let obs = env.reset(rng), t = 0;
      ctrl.reset();
      for (;;) {
        const r = env.step(ctrl.act(obs));
        if (r.reward > 0) {
          const s = state!();
          ring[t % 100] = Math.abs(s[0]) + Math.abs(s[1]) + Math.abs(s[2]) + Math.abs(s[3]);
          t++;
        }
        if (r.done) break;
        obs = r.observation;
      }
      const sum = ring.reduce((a, b) => a + b, 0);
      const stable = t < 100 ? 0 : 0.75 / sum;
      return -(0.1 * (t / 1000) + 0.9 * stable);
    }
    let total = 0;
    for (let e = 0; e < task.episodes; e++) {
      let obs = env.reset(rng);
      ctrl.reset();
      for (;;) {
        const r = env.step(ctrl.act(obs));
        total += r.reward;
        if (r.done) break;
        obs = r.observation;
      }
    }
    return -total / task.episodes;
  };
}

/** Steps the greedy controller keeps the environment going (at most maxSteps; one episode from `seed`). */
export function balanceSteps(env: string, envOptions: Record<string, unknown>, hidden: number, genome: Float64Array, maxSteps: number, seed = 0): number {
  const e = makeEnv(env, { ...envOptions, maxSteps });
  const ctrl = new Controller(genome, hidden, e.observationSize, e.action);
  let obs = e.reset(new Rng(seed)), t = 0;
  for (;;) {
    const r = e.step(ctrl.act(obs));
    if (r.reward > 0) t++;
    if (r.done) return t;
    obs = r.observation;
  }
}
