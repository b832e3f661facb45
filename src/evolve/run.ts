/**
 * The generation loop shared by `carousel evolve` and the reproductions: ask the optimizer, have
 * the pool evaluate the population, keep the best genome seen, tell the costs, until a target
 * cost, a budget of evaluations or a stop check says so.
 */
import type { Best, Optimizer } from './optimizer.js';
import type { EvalPool } from './pool.js';

export interface GenerationReport {
  generation: number;
  evaluations: number;
  /** This generation's best and median cost. */
  best: number;
  median: number;
  /** Best cost so far. */
  bestSoFar: number;
  sigma: number;
}

export interface EvolveOptions {
  optimizer: Optimizer;
  pool: EvalPool;
  /** Stop when the best cost is <= target (default: never). */
  target?: number;
  /** Stop once this many genomes were evaluated. */
  maxEvaluations: number;
  /** Stop ('stalled') after this many generations without a better best cost (default: never). */
  patience?: number;
  /** Evaluation seed of genome i of generation g (default 0: a deterministic task). */
  seed?: (generation: number, index: number) => number;
  /**
   * A harder test for promising genomes: each genome of a generation whose cost is <= threshold is
   * passed to accept (in index order) until one is accepted, which ends the run ('accepted').
   */
  candidates?: { threshold: number; accept(genome: Float64Array): boolean | Promise<boolean> };
  onGeneration?: (r: GenerationReport) => void;
}

export interface EvolveResult {
  best: Best;
  evaluations: number;
  generations: number;
  /** Why it stopped. */
  stop: 'target' | 'accepted' | 'budget' | 'stalled';
  /** The genome accepted by candidates.accept (stop 'accepted'). */
  accepted?: Float64Array;
  /** Genomes given to candidates.accept. */
  tested: number;
  history: GenerationReport[];
}

export async function evolve(o: EvolveOptions): Promise<EvolveResult> {
  const { optimizer: opt, pool } = o;
  let best: Best = { genome: Float64Array.from(opt.mean), cost: Infinity, generation: 0 };
  let evaluations = 0, tested = 0;
  let accepted: Float64Array | undefined;
  const history: GenerationReport[] = [];
  for (;;) {
    const genomes = opt.ask();
    const g = opt.generation;
    const costs = await pool.evaluate(genomes, genomes.map((_, i) => o.seed?.(g, i) ?? 0));
    evaluations += genomes.length;
    const sorted = [...costs].sort((a, b) => a - b);
    // The first best of the generation (lowest index among ties), so runs never depend on sort order.
    let k = 0;
    for (let i = 1; i < costs.length; i++) if (costs[i] < costs[k]) k = i;
    let stop: EvolveResult['stop'] | null = null;
    if (costs[k] < best.cost) best = { genome: genomes[k], cost: costs[k], generation: g };
    else if (o.patience !== undefined && g - best.generation >= o.patience) stop = 'stalled';
    if (o.candidates) {
      for (let i = 0; i < genomes.length && !accepted; i++) { // an accepted genome ends the run even if it stalled
        if (!(costs[i] <= o.candidates.threshold)) continue;
        tested++;
        if (await o.candidates.accept(genomes[i])) { stop = 'accepted'; accepted = genomes[i]; }
      }
    }
    const report: GenerationReport = { generation: g, evaluations, best: sorted[0], median: sorted[sorted.length >> 1], bestSoFar: best.cost, sigma: opt.sigma };
    history.push(report);
    o.onGeneration?.(report);
    if (!stop && o.target !== undefined && best.cost <= o.target) stop = 'target';
    if (!stop && evaluations >= o.maxEvaluations) stop = 'budget';
    if (stop) return { best, evaluations, generations: g + 1, stop, accepted, tested, history };
    opt.tell(costs);
  }
}
