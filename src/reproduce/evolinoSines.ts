/**
 * Evolino on superimposed sine waves (Schmidhuber, Wierstra, Gagliolo & Gomez 2007, "Training
 * Recurrent Networks by Evolino", Neural Computation 19(3), section on multiple superimposed
 * sine waves): an LSTM whose weights are evolved and whose linear readout is solved by the
 * pseudo-inverse learns sin(0.2 t) + sin(0.311 t) from steps 0-400 (the first 100 a washout) with
 * teacher forcing, then generates steps 401-700 free-running, its output fed back as its input.
 * As the paper: ESP with one subpopulation per cell and burst mutation (src/evolve/esp.ts), peephole
 * cells; the fitness runs the net free over the training steps after the washout (the readout
 * solved on the teacher-forced states first). Ours: the readout also sees the input, and the sizes
 * (10 cells, subpopulations of 20, 10 trials, Cauchy scale 0.03) are our choice, not verified
 * against the paper (see the README).
 * Met when the free-running test NRMSE is below 0.1 in every seed.
 */
import { availableParallelism } from 'node:os';
import { evolinoPreset, runEvolino } from '../evolve/evolinoRun.js';
import type { Experiment, Mode, SeedOutcome } from './experiments.js';

const HIDDEN = 10, FREE_RUN = 300, SCALE = 0.03, BUDGET: Record<Mode, number> = { full: 10_000, quick: 200 }, LIMIT = 0.1;

export function evolinoSinesExperiment(): Experiment {
  return {
    name: 'evolino-sines', title: 'Evolino: two superimposed sine waves, generated free-running',
    source: 'Schmidhuber, Wierstra, Gagliolo & Gomez 2007 (Neural Computation 19(3)), superimposed sine waves',
    paper: 'Evolino-LSTM generates sin(0.2t) + sin(0.311t) free-running for 300 steps with a small error (gradient LSTM fails)',
    criterion: `test NRMSE (300 free-running steps after step 400, sqrt(MSE / variance)) below ${LIMIT} in every seed`,
    setup: `peephole LSTM of ${HIDDEN} cells by ESP (a subpopulation of 20 per cell, 10 trials, Cauchy mutation scale ${SCALE}, burst mutation), readout [h, x, 1] by pseudo-inverse; fitness: teacher-forced MSE + free-running MSE over training steps 101-400; ${BUDGET.full.toLocaleString('en-US')} evaluations (quick ${BUDGET.quick.toLocaleString('en-US')})`,
    seeds: { full: 5, quick: 1 }, scoreName: 'test NRMSE',
    async run(seed, mode): Promise<SeedOutcome[]> {
      const task = { ...evolinoPreset('sines', 2, HIDDEN), freeRun: FREE_RUN, peepholes: true };
      const r = await runEvolino({ task, optimizer: 'esp', maxEvaluations: BUDGET[mode], sigma: SCALE, seed, workers: availableParallelism() });
      return [{ solved: r.result.testNrmse < LIMIT, sequences: null, score: r.result.testNrmse, seconds: r.seconds }];
    },
    verdict(outcomes) {
      const s = outcomes.map((o) => o[0].score), solved = outcomes.filter((o) => o[0].solved).length;
      const median = [...s].sort((a, b) => a - b)[s.length >> 1];
      return {
        ours: `${solved}/${s.length} below ${LIMIT}; test NRMSE median ${median.toExponential(2)} (best ${Math.min(...s).toExponential(2)})`,
        met: solved === s.length,
        note: '',
      };
    },
  };
}
