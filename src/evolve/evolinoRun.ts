/**
 * One Evolino run, for `carousel evolve --task evolino-*` and `carousel reproduce evolino-sines`:
 * CMA-ES over nn.LSTM(1, H)'s weights (a small random start) or ESP with one subpopulation per
 * cell (esp.ts, initial genes uniform in [-0.1, 0.1]), the readout solved per genome
 * (evolino.ts), the population evaluated by the worker pool, for a budget of evaluations; then the
 * best genome's errors on the training window and on the free-running test after it.
 */
import { Rng } from '../tensor/random.js';
import { CmaEs } from './cmaes.js';
import { Esp, type EspOptions } from './esp.js';
import { evolinoBlocks, evolinoEvaluate, evolinoLayout, evolinoSeries, type EvolinoResult, type EvolinoTask } from './evolino.js';
import type { Optimizer } from './optimizer.js';
import { EvalPool } from './pool.js';
import { evolve, type GenerationReport } from './run.js';

export interface EvolinoRunOptions {
  task: EvolinoTask;
  maxEvaluations: number;
  /** CMA-ES's initial step size, or ESP's Cauchy mutation scale. */
  sigma: number;
  /** 'cma-es' (default) or 'esp'. */
  optimizer?: 'cma-es' | 'esp';
  /** ESP's settings (esp.ts's defaults where absent). */
  esp?: Pick<EspOptions, 'size' | 'trials' | 'credit' | 'mutationRate' | 'burstPatience' | 'burst' | 'decay' | 'init'>;
  lambda?: number;
  seed: number;
  workers: number;
  log?: (line: string) => void;
}

export interface EvolinoRunResult {
  result: EvolinoResult;
  series: Float64Array;
  genome: Float64Array;
  evaluations: number;
  history: GenerationReport[];
  seconds: number;
}

export async function runEvolino(o: EvolinoRunOptions): Promise<EvolinoRunResult> {
  const t0 = performance.now();
  const rng = new Rng(o.seed), layout = evolinoLayout(o.task.hidden, o.task.peepholes);
  let opt: Optimizer;
  if (o.optimizer === 'esp') {
    opt = new Esp({ dim: layout.size, blocks: evolinoBlocks(o.task.hidden, o.task.peepholes), mutation: o.sigma, ...o.esp, rng });
  } else {
    const mean = Float64Array.from({ length: layout.size }, () => rng.uniform(-0.1, 0.1));
    opt = new CmaEs({ mean, sigma: o.sigma, lambda: o.lambda, rng });
  }
  const pool = await EvalPool.create({ module: new URL('./evolino.js', import.meta.url).href, factory: 'evolinoFitness', config: o.task }, o.workers);
  let r;
  try {
    r = await evolve({
      optimizer: opt, pool, maxEvaluations: o.maxEvaluations,
      onGeneration: (g) => { if (g.generation % 25 === 0) o.log?.(`gen ${g.generation}: ${g.evaluations.toLocaleString('en-US')} evaluations, best cost ${g.bestSoFar.toExponential(3)}, median ${g.median.toExponential(3)}, sigma ${g.sigma.toPrecision(3)}`); },
    });
  } finally {
    await pool.close();
  }
  const series = evolinoSeries(o.task);
  return { result: evolinoEvaluate(o.task, series, r.best.genome), series, genome: r.best.genome, evaluations: r.evaluations, history: r.history, seconds: (performance.now() - t0) / 1000 };
}

/** The paper's task settings as we use them (see evolino.ts and the README for what differs). */
export function evolinoPreset(kind: 'sines' | 'mackey-glass', waves = 2, hidden?: number): EvolinoTask {
  return kind === 'sines'
    // Superimposed sines: train on steps 0..400 (first 100 washout), test free-running on 401..700.
    ? { kind, waves, hidden: hidden ?? 10, washout: 100, train: 400, freeRun: 100, test: 300 }
    // Mackey-Glass (tau 17): 3000 training steps after a 100-step washout, then 84 free-running steps (NRMSE84).
    : { kind, hidden: hidden ?? 10, washout: 100, train: 3100, freeRun: 84, test: 84 };
}
