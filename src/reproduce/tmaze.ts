/**
 * The T-maze of Bakker (2002) solved by recurrent policy gradients (Wierstra et al. 2007/2010):
 * the largest corridor length N that every seed solves within a fixed budget of episodes.
 * Papers: RL-LSTM (Bakker 2002, advantage learning with an LSTM) about 70; recurrent policy
 * gradients (Wierstra, Foerster, Peters & Schmidhuber 2007/2010) 100 and beyond. Our goal: N >= 50.
 */
import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import { trainPolicy } from '../rl/pg.js';
import { policyConfigFor, RecurrentPolicy } from '../rl/policy.js';
import { Rng } from '../tensor/random.js';
import type { Experiment, Mode, SeedOutcome } from './experiments.js';

/** Corridor lengths tried, shortest first; a seed stops at the first it fails. */
export const TMAZE_LADDER: Record<Mode, number[]> = { full: [10, 20, 30, 50, 70, 100], quick: [10] };
export const TMAZE_BUDGET = 20_000;
const GOAL = 50;

/** One seed on one corridor length: a2c, LSTM 8, forget bias 5, batches of 16, Adam 0.03, entropy 0.01, γ 0.98. */
export function tmazeRun(length: number, seed: number, budget = TMAZE_BUDGET, backend?: Backend): SeedOutcome {
  const config = policyConfigFor('tmaze', { length }, 'lstm', 8, true);
  const policy = new RecurrentPolicy(config, { rng: new Rng(seed * 7919 + 17), forgetBias: 5, backend: backend ?? getBackend() });
  const r = trainPolicy(policy, { algo: 'a2c', episodes: budget, batch: 16, lr: 0.03, gamma: 0.98, lambda: 0.95, entropy: 0.01, clip: 1, seed });
  return { label: `N=${length}`, solved: r.solved, sequences: r.solved ? r.episodes : null, score: r.history.at(-1)?.successRate ?? 0, seconds: r.seconds };
}

/** The largest N a seed solved, counting up the ladder until its first failure (0: none). */
export function largestSolved(outs: readonly SeedOutcome[]): number {
  let best = 0;
  for (const o of outs) { if (!o.solved) break; best = Number(o.label!.slice(2)); }
  return best;
}

export function tmazeExperiment(): Experiment {
  return {
    name: 'tmaze', title: 'T-maze: the longest corridor a recurrent policy-gradient LSTM learns',
    source: 'Bakker 2002 (RL-LSTM, Fig. 3); Wierstra, Foerster, Peters & Schmidhuber 2007/2010 (recurrent policy gradients)',
    paper: 'RL-LSTM: corridors up to about N = 70; recurrent policy gradients: N = 100 and longer',
    criterion: `per seed, the largest N of ${TMAZE_LADDER.full.join(', ')} whose greedy policy reaches the goal on both sides within ${TMAZE_BUDGET.toLocaleString('en-US')} episodes (going up until the first failure); the row: the largest N every seed solves, met at N >= ${GOAL}`,
    setup: 'advantage actor-critic (GAE 0.95, γ 0.98), LSTM 8 with forget-gate bias +5, BPTT over whole episodes, 16 episodes per update, Adam 0.03, entropy 0.01, clip 1 (src/rl); quick: N = 10 only',
    seeds: { full: 5, quick: 1 }, scoreName: 'last batch success rate',
    async run(seed, mode, backend) {
      const out: SeedOutcome[] = [];
      for (const N of TMAZE_LADDER[mode]) {
        const o = tmazeRun(N, seed, TMAZE_BUDGET, backend);
        out.push(o);
        if (!o.solved) break;
      }
      return out;
    },
    verdict(outcomes, mode) {
      const per = outcomes.map(largestSolved);
      const all = Math.min(...per);
      const eps = outcomes.map((o) => o.find((x) => x.label === `N=${all}`)?.sequences).filter((v): v is number => v != null);
      const goal = mode === 'quick' ? TMAZE_LADDER.quick.at(-1)! : GOAL;
      return {
        ours: `N = ${all} by every seed (per seed: ${per.join(', ')})`,
        met: all >= goal,
        note: eps.length ? `N = ${all} took ${eps.map((e) => e.toLocaleString('en-US')).join(', ')} episodes` : '',
      };
    },
  };
}
