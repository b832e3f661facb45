/**
 * Evolving a recurrent controller end to end, for `carousel evolve --env` and `carousel reproduce
 * double-pole`: CMA-ES (or the (mu, lambda)-ES) over the policy's weights, the population
 * evaluated by the worker pool, each genome that balanced a whole training episode tested on a
 * long one (the literature's 100,000 steps), and, when a run stalls, a restart with twice the
 * population from a new random start (IPOP-CMA-ES, Auger & Hansen 2005), all within one budget of
 * evaluations. The winner is saved as a RecurrentPolicy, which `carousel play` runs.
 */
import { policyConfigFor, RecurrentPolicy, savePolicy, type PolicyConfig } from '../rl/policy.js';
import { Rng } from '../tensor/random.js';
import { CmaEs } from './cmaes.js';
import { balanceSteps, controlLayout, type ControlTask } from './control.js';
import { MuLambdaEs } from './es.js';
import type { Optimizer } from './optimizer.js';
import { EvalPool } from './pool.js';
import { evolve, type GenerationReport } from './run.js';

export type Algorithm = 'cma-es' | 'es';

export interface ControllerRunOptions {
  env: string;
  /** The environment's options for training episodes (the damping fitness: maxSteps 1000). */
  envOptions: Record<string, unknown>;
  hidden: number;
  fitness: ControlTask['fitness'];
  episodes: number;
  algorithm: Algorithm;
  sigma: number;
  /** First run's population (default: the optimizer's). */
  lambda?: number;
  seed: number;
  workers: number;
  maxEvaluations: number;
  /** Pole balancing: a genome that balanced a whole training episode must balance this many steps to count as solved. */
  balance?: number;
  /** Restart stalled runs with twice the population (IPOP). */
  restarts: boolean;
  log?: (line: string) => void;
}

export interface ControllerRunResult {
  solved: boolean;
  /** Fitness evaluations (training episodes) until solved or the budget ran out; the long tests are counted apart. */
  evaluations: number;
  longTests: number;
  genome: Float64Array;
  /** The genome's balance on the long test (when there is one). */
  balanced: number | null;
  bestCost: number;
  runs: number;
  history: (GenerationReport & { run: number })[];
  seconds: number;
  config: PolicyConfig;
}

const FITNESS_MODULE = new URL('./control.js', import.meta.url).href;

export async function evolveController(o: ControllerRunOptions): Promise<ControllerRunResult> {
  const t0 = performance.now();
  const config = policyConfigFor(o.env, o.envOptions, 'lstm', o.hidden, false);
  const layout = controlLayout(o.hidden, config.observation, config.action);
  const task: ControlTask = { env: o.env, envOptions: o.envOptions, hidden: o.hidden, fitness: o.fitness, episodes: o.episodes };
  const pool = await EvalPool.create({ module: FITNESS_MODULE, factory: 'controlFitness', config: task }, o.workers);
  const rng = new Rng(o.seed);
  const history: ControllerRunResult['history'] = [];
  let evaluations = 0, longTests = 0, runs = 0, lambda = o.lambda;
  let best: { genome: Float64Array; cost: number } = { genome: new Float64Array(layout.size), cost: Infinity };
  let solved = null as Float64Array | null, balanced = null as number | null;
  // Pole tasks: one training episode is 1000 steps; a genome reaching it scores at least 0.1.
  const threshold = o.fitness === 'damping' ? -0.1 : -Number(o.envOptions.maxSteps ?? Infinity);
  try {
    while (!solved && evaluations < o.maxEvaluations) {
      runs++;
      const mean = runs === 1 ? new Float64Array(layout.size) : Float64Array.from({ length: layout.size }, () => rng.uniform(-0.5, 0.5));
      const opt: Optimizer = o.algorithm === 'cma-es'
        ? new CmaEs({ mean, sigma: o.sigma, lambda, rng })
        : new MuLambdaEs({ mean, sigma: o.sigma, lambda, rng });
      lambda = opt.lambda;
      const evalSeed = rng.nextU32();
      const r = await evolve({
        optimizer: opt, pool, maxEvaluations: o.maxEvaluations - evaluations,
        // Hansen's stagnation horizon: 120 + 30 n / lambda generations without progress.
        patience: o.restarts ? Math.ceil(120 + (30 * layout.size) / opt.lambda) : undefined,
        seed: (g) => (evalSeed + g) >>> 0, // one seed per generation: every genome meets the same starts
        candidates: o.balance ? {
          threshold,
          accept: (g) => {
            longTests++;
            // Tested as it will be saved: weights rounded to f32 (a saved policy's dtype).
            const g32 = Float64Array.from(g, Math.fround);
            const steps = balanceSteps(o.env, o.envOptions, o.hidden, g32, o.balance!);
            o.log?.(`  a genome balanced a training episode: ${steps.toLocaleString('en-US')} of ${o.balance!.toLocaleString('en-US')} steps on the long test`);
            if (steps >= o.balance!) { balanced = steps; solved = g32; }
            return steps >= o.balance!;
          },
        } : undefined,
        onGeneration: (g) => {
          history.push({ ...g, evaluations: evaluations + g.evaluations, run: runs });
          if (g.generation % 20 === 0) o.log?.(`run ${runs} gen ${g.generation}: ${(evaluations + g.evaluations).toLocaleString('en-US')} evaluations, best fitness ${(-g.bestSoFar).toPrecision(4)}, median ${(-g.median).toPrecision(4)}, sigma ${g.sigma.toPrecision(3)}`);
        },
      });
      evaluations += r.evaluations;
      if (r.best.cost < best.cost) best = { genome: r.best.genome, cost: r.best.cost };
      if (!solved && r.stop === 'stalled') {
        o.log?.(`run ${runs} stalled at best fitness ${(-r.best.cost).toPrecision(4)} after ${evaluations.toLocaleString('en-US')} evaluations${o.restarts ? `: restarting with population ${2 * opt.lambda}` : ''}`);
        if (!o.restarts) break;
        lambda = 2 * opt.lambda;
      }
    }
  } finally {
    await pool.close();
  }
  return {
    solved: solved !== null, evaluations, longTests, genome: solved ?? best.genome, balanced, bestCost: best.cost, runs, history,
    seconds: (performance.now() - t0) / 1000, config,
  };
}

/** Save a genome as a RecurrentPolicy model directory (app 'policy'): `carousel play --model dir` runs it. */
export async function saveController(dir: string, config: PolicyConfig, genome: Float64Array, training: Record<string, unknown>): Promise<void> {
  const policy = new RecurrentPolicy(config, { forgetBias: 0, dtype: 'f32' });
  const layout = controlLayout(config.hidden, config.observation, config.action);
  policy.loadStateDict(new Map(layout.slices.map((s) => [s.name, { shape: s.shape, data: genome.subarray(s.offset, s.offset + s.size) }])), false);
  await savePolicy(dir, policy, training);
}
