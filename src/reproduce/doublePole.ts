/**
 * Double pole balancing without velocities (Wieland 1991; the partially observable benchmark of
 * Gomez & Miikkulainen 1999 and Igel 2003), solved by CMA-ES over an LSTM controller: the net sees
 * only the cart position and the two pole angles, so it must estimate the velocities itself.
 * Fitness: the damping fitness of Gruau et al. (1996) on episodes of 1000 steps, as in those
 * papers; a controller counts as a solution when it balances 100,000 steps (30 simulated minutes).
 * Measured: fitness evaluations until the first solution (the papers' measure), over seeds.
 */
import { availableParallelism } from 'node:os';
import { evolveController } from '../evolve/controlRun.js';
import type { Experiment, Mode, SeedOutcome } from './experiments.js';

const HIDDEN = 3, BUDGET: Record<Mode, number> = { full: 50_000, quick: 20_000 };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function doublePoleExperiment(): Experiment {
  return {
    name: 'double-pole', title: 'Double pole balancing without velocities, CMA-ES over an LSTM controller',
    source: 'Igel 2003 (CMA-ES neuroevolution, CEC); Gomez, Schmidhuber & Miikkulainen 2008 (JMLR 9), the no-velocity double pole with the damping fitness',
    paper: 'solved in thousands of evaluations (ESP, NEAT, CMA-ES, CoSyNE: from about 1,000 to several 10,000; see README)',
    criterion: 'a controller that balances 100,000 steps, within the budget, in every seed; reported: evaluations until then',
    setup: `LSTM policy (${HIDDEN} cells, tanh force head: ${4 * HIDDEN * (3 + HIDDEN + 2) + HIDDEN + 1} weights), CMA-ES (tutorial defaults, sigma 1, zero start) with IPOP restarts, damping fitness on 1000-step episodes, long test of 100,000 steps, budget ${fmt(BUDGET.full)} evaluations (quick ${fmt(BUDGET.quick)})`,
    seeds: { full: 5, quick: 1 }, scoreName: 'evaluations to solve',
    async run(seed, mode): Promise<SeedOutcome[]> {
      const r = await evolveController({
        env: 'double-pole', envOptions: { velocities: false, maxSteps: 1000 }, hidden: HIDDEN, fitness: 'damping', episodes: 1,
        algorithm: 'cma-es', sigma: 1, seed, workers: availableParallelism(), maxEvaluations: BUDGET[mode], balance: 100_000, restarts: true,
      });
      return [{ solved: r.solved, sequences: null, score: r.evaluations, seconds: r.seconds }];
    },
    verdict(outcomes, mode) {
      const outs = outcomes.map((o) => o[0]), solved = outs.filter((o) => o.solved).map((o) => o.score);
      const mean = solved.reduce((a, b) => a + b, 0) / (solved.length || 1);
      return {
        ours: `${solved.length}/${outs.length} solved` + (solved.length ? `, ${fmt(mean)} evaluations (${fmt(Math.min(...solved))}-${fmt(Math.max(...solved))})` : ''),
        met: solved.length === outs.length,
        note: solved.length < outs.length ? `${outs.length - solved.length} not solved within ${fmt(BUDGET[mode])} evaluations` : '',
      };
    },
  };
}
