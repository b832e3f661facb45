import { EnvError } from '../../rl/envs/env.js';
import { loadPolicy, type PolicyConfig } from '../../rl/policy.js';
import { rollout, summarize } from '../../rl/rollout.js';
import { Rng } from '../../tensor/random.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { choiceFlag, intFlag, parseFlags, requireFlag, userErrors } from './shared.js';
import { describeEnv } from './rl.js';

const HELP = `Usage: carousel play --model DIR [--env NAME] [options]

Runs a saved policy (from carousel rl, or carousel evolve: any model of app "policy") in its
environment and prints the episodes as text frames, then each episode's return.

Options:
  --model DIR      the policy's directory (required)
  --env NAME       the environment; must be the one the policy was trained in (default: that one)
  --length N       T-maze: another corridor length than the training one
  --max-steps N    another step limit
  --episodes N     episodes to run (default 1)
  --seed S         seed of the environments and the sampled actions (default 1)
  --sample         sample actions from the policy (default: the most likely action / the mean force)
  --every K        print every K-th frame (default 1 for tmaze, 25 for the poles); 0: no frames
  -h, --help       this help`;

export const play: Command = {
  name: 'play',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('play', argv, {
      help: { type: 'boolean', short: 'h' }, model: { type: 'string' }, env: { type: 'string' }, length: { type: 'string' },
      'max-steps': { type: 'string' }, episodes: { type: 'string' }, seed: { type: 'string' }, sample: { type: 'boolean' }, every: { type: 'string' },
    });
    if (v.help) { console.log(HELP); return 0; }
    const dir = requireFlag('model', v.model);
    const episodes = intFlag('episodes', v.episodes, 1);
    const seed = intFlag('seed', v.seed, 1, 0);
    return userErrors(() => {
      const { policy, config: saved } = loadPolicy(dir);
      if (v.env !== undefined) {
        const env = choiceFlag('env', v.env, ['tmaze', 'cart-pole', 'double-pole'] as const);
        if (env !== saved.env) throw new UserError(`--env: the policy in ${dir} acts in ${saved.env}, got ${env}`);
      }
      const envOptions = { ...saved.envOptions };
      if (v.length !== undefined) {
        if (saved.env !== 'tmaze') throw new UserError(`--length: only for tmaze, not ${saved.env}`);
        envOptions.length = intFlag('length', v.length, 10);
        if (saved.envOptions.maxSteps === undefined) delete envOptions.maxSteps;
      }
      if (v['max-steps'] !== undefined) envOptions.maxSteps = intFlag('max-steps', v['max-steps'], 1);
      const config: PolicyConfig = { ...saved, envOptions };
      const every = intFlag('every', v.every, saved.env === 'tmaze' ? 1 : 25, 0);
      let eps;
      try {
        eps = rollout(config, policy.controller(), episodes, new Rng(seed), new Rng(seed + 1), { greedy: !v.sample, frames: every > 0 });
      } catch (e) { if (e instanceof EnvError) throw new UserError(e.message); throw e; }
      console.log(`${describeEnv(config.env, envOptions)}: policy ${dir}, ${v.sample ? 'sampled' : 'greedy'} actions`);
      eps.forEach((e, i) => {
        console.log(`\nepisode ${i + 1}`);
        if (e.frames) {
          e.frames.forEach((f, t) => { if (t % every === 0 || t === e.frames!.length - 1) console.log(`${f}\n`); });
        }
        console.log(`episode ${i + 1}: ${e.success ? 'success' : 'failure'}, return ${+e.return.toFixed(4)} in ${e.length} steps`);
      });
      const s = summarize(eps);
      if (episodes > 1) console.log(`\n${episodes} episodes: success rate ${(100 * s.successRate).toFixed(1)}%, mean return ${s.meanReturn.toFixed(2)}, mean length ${s.meanLength.toFixed(1)}`);
      return 0;
    });
  },
};
