import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import { EnvError, makeEnv } from '../../rl/envs/env.js';
import { learningCurveSvg } from '../../rl/curve.js';
import { greedySolved, trainPolicy, type Algo, type UpdateLog } from '../../rl/pg.js';
import { policyConfigFor, RecurrentPolicy, savePolicy } from '../../rl/policy.js';
import { rollout, summarize } from '../../rl/rollout.js';
import { Rng } from '../../tensor/random.js';
import { formatSeconds } from '../../train/progress.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { choiceFlag, intFlag, numFlag, parseFlags, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel rl --env tmaze|cart-pole|double-pole --out DIR [options]

Trains a recurrent (LSTM) policy by policy gradients (Wierstra et al. 2007/2010, "Recurrent policy
gradients"): batches of episodes run at once, backpropagation through time over whole episodes.
Prints progress, then the final success rate; writes the policy (DIR/model.json and its weights,
for carousel play) and the learning curve (DIR/learning-curve.svg). Training stops when the
greedy policy solves the task (T-maze: reaches the goal on both sides; poles: balances to the
step limit) or after --episodes.

Environment:
  --env NAME           tmaze (Bakker 2002), cart-pole (Barto et al. 1983), double-pole (Wieland 1991)
  --length N           T-maze corridor length (default 10)
  --max-steps N        episode step limit (T-maze default 2(N+1)^2; poles 1000)
  --no-velocities      poles: observe positions and angles only (needs memory)

Learning:
  --algo A             a2c (advantage actor-critic, GAE; default) or reinforce (moving-average baseline)
  --cell C             lstm (default) or gru
  --hidden N           recurrent units (default 8)
  --episodes N         episode budget (default 20000)
  --batch N            episodes per update (default 16)
  --lr X               Adam learning rate (default 0.03)
  --gamma X            discount (default 0.98)
  --lambda X           GAE lambda for a2c (default 0.95)
  --entropy X          entropy bonus (default 0.01)
  --clip X             gradient-norm clip (default 1)
  --forget-bias X      added to the LSTM forget-gate bias at init (default 5: memory lasts from the start)
  --seed S             seed of the weights, the environments and the actions (default 1)
  --eval N             episodes of the final sampled evaluation (default 100)
  --out DIR            where the policy and the curve go (required)
  -h, --help           this help

Example: carousel rl --env tmaze --length 50 --out tmaze50/`;

export const rl: Command = {
  name: 'rl',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('rl', argv, {
      help: { type: 'boolean', short: 'h' }, env: { type: 'string' }, length: { type: 'string' }, 'max-steps': { type: 'string' },
      'no-velocities': { type: 'boolean' }, algo: { type: 'string' }, cell: { type: 'string' }, hidden: { type: 'string' },
      episodes: { type: 'string' }, batch: { type: 'string' }, lr: { type: 'string' }, gamma: { type: 'string' }, lambda: { type: 'string' },
      entropy: { type: 'string' }, clip: { type: 'string' }, 'forget-bias': { type: 'string' }, seed: { type: 'string' },
      eval: { type: 'string' }, out: { type: 'string' },
    });
    if (v.help) { console.log(HELP); return 0; }
    const envName = choiceFlag('env', v.env, ['tmaze', 'cart-pole', 'double-pole'] as const);
    const out = requireFlag('out', v.out);
    const envOptions = envOptionsFromFlags(envName, v.length, v['max-steps'], v['no-velocities']);
    const algo = choiceFlag<Algo>('algo', v.algo, ['a2c', 'reinforce'], 'a2c');
    const cell = choiceFlag('cell', v.cell, ['lstm', 'gru'] as const, 'lstm');
    const hidden = intFlag('hidden', v.hidden, 8);
    if (hidden > 1024) throw new UserError(`--hidden: expected an integer <= 1024, got ${hidden}`);
    const episodes = intFlag('episodes', v.episodes, 20000);
    const batch = intFlag('batch', v.batch, 16);
    const lr = numFlag('lr', v.lr, 0.03, 1e-8, 10);
    const gamma = numFlag('gamma', v.gamma, 0.98, 0, 1);
    const lambda = numFlag('lambda', v.lambda, 0.95, 0, 1);
    const entropy = numFlag('entropy', v.entropy, 0.01, 0, 10);
    const clip = numFlag('clip', v.clip, 1, 1e-8, 1e6);
    const forgetBias = numFlag('forget-bias', v['forget-bias'], 5, -20, 20);
    const seed = intFlag('seed', v.seed, 1, 0);
    const evalEpisodes = intFlag('eval', v.eval, 100);
    return userErrors(async () => {
      const config = policyConfigFor(envName, envOptions, cell, hidden, algo === 'a2c');
      const policy = new RecurrentPolicy(config, { rng: new Rng(seed * 7919 + 17), forgetBias });
      const what = describeEnv(envName, envOptions);
      console.log(`carousel rl: ${what}, ${algo}, ${cell.toUpperCase()} ${hidden} (${policy.numParameters()} parameters), budget ${episodes} episodes in batches of ${batch}, seed ${seed}`);
      const progress = progressPrinter(episodes);
      const r = trainPolicy(policy, { algo, episodes, batch, lr, gamma, lambda, entropy, clip, seed, onUpdate: progress.update });
      progress.end();
      const evalRun = rollout(config, policy.controller(), evalEpisodes, new Rng(seed + 1_000_003), new Rng(seed + 2_000_003));
      const ev = summarize(evalRun);
      const greedy = greedySolved(policy);
      const training = {
        algo, episodes: r.episodes, solved: r.solved, seconds: +r.seconds.toFixed(1), seed, batch, lr, gamma, lambda, entropy, clip, forgetBias,
        evaluation: { episodes: evalEpisodes, successRate: ev.successRate, meanReturn: +ev.meanReturn.toFixed(4), greedySolved: greedy },
      };
      await savePolicy(out, policy, training);
      writeFileAtomic(join(out, 'learning-curve.svg'), learningCurveSvg(r.history, `${what}: ${algo}, seed ${seed}`));
      console.log(r.solved ? `solved after ${r.episodes} episodes (${formatSeconds(r.seconds)})` : `not solved within ${r.episodes} episodes (${formatSeconds(r.seconds)})`);
      console.log(`final success rate ${(100 * ev.successRate).toFixed(1)}% over ${evalEpisodes} sampled episodes (mean return ${ev.meanReturn.toFixed(2)}, mean length ${ev.meanLength.toFixed(1)}); greedy policy ${greedy ? 'solves' : 'does not solve'} the task`);
      console.log(`wrote ${out}/model.json, its weights and ${out}/learning-curve.svg (carousel play --model ${out})`);
      return 0;
    });
  },
};

/** The environment options the flags give (shared with carousel play). */
export function envOptionsFromFlags(env: string, length: string | undefined, maxSteps: string | undefined, noVelocities: boolean | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (env === 'tmaze') {
    if (noVelocities) throw new UserError('--no-velocities: only for cart-pole and double-pole, not tmaze');
    o.length = intFlag('length', length, 10);
  } else {
    if (length !== undefined) throw new UserError(`--length: only for tmaze, not ${env}`);
    if (noVelocities) o.velocities = false;
  }
  if (maxSteps !== undefined) o.maxSteps = intFlag('max-steps', maxSteps, 1);
  try { makeEnv(env, o); } catch (e) { if (e instanceof EnvError) throw new UserError(e.message); throw e; }
  return o;
}

export function describeEnv(env: string, o: Record<string, unknown>): string {
  if (env === 'tmaze') return `T-maze N=${o.length}`;
  return `${env}${o.velocities === false ? ' without velocities' : ''}`;
}

/** A line redrawn in place on a terminal; elsewhere one line per twentieth of the budget. */
function progressPrinter(budget: number) {
  const tty = Boolean(process.stderr.isTTY) && process.env.TERM !== 'dumb';
  let nextLine = 0;
  const line = (u: UpdateLog) => `episodes ${u.episodes}/${budget} success ${(100 * u.successRate).toFixed(0)}% return ${u.meanReturn.toFixed(2)} length ${u.meanLength.toFixed(1)} entropy ${u.entropy.toFixed(3)} ${formatSeconds(u.seconds)}`;
  return {
    update(u: UpdateLog) {
      if (tty) process.stderr.write(`\r\x1b[2K${line(u)}`);
      else if (u.episodes >= nextLine) { process.stderr.write(`${line(u)}\n`); nextLine = u.episodes + Math.max(1, Math.floor(budget / 20)); }
    },
    end() { if (tty) process.stderr.write('\n'); },
  };
}
