/**
 * Fitness evaluation of a population over worker threads (node:worker_threads). A fitness is named,
 * not passed: a module URL, the name of a factory it exports and a JSON config, so every worker
 * builds the same function (task data included) once and then evaluates genomes sent to it.
 * Genomes are handed out one at a time to whichever worker is free (episodes differ in length
 * by orders of magnitude), and each cost is stored at its genome's index. A fitness is a pure
 * function of (genome, seed), so the costs are identical for 1 and N workers; with 1 worker
 * everything runs in this thread. Workers are unref'd (they never keep the process alive).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** A cost (lower is better) of a genome; seed is the evaluation's, for tasks with random starts. */
export type Fitness = (genome: Float64Array, seed: number) => number;

export interface FitnessSpec {
  /** URL (import.meta.url style) of the module that exports the factory. */
  module: string;
  /** Name of the export: (config) => Fitness (or a promise of one). */
  factory: string;
  /** Structured-cloneable configuration handed to the factory in every thread. */
  config: unknown;
}

export async function loadFitness(spec: FitnessSpec): Promise<Fitness> {
  const mod = await import(spec.module) as Record<string, unknown>;
  const make = mod[spec.factory];
  if (typeof make !== 'function') throw new Error(`fitness: ${spec.module} does not export a function '${spec.factory}'`);
  return await (make as (c: unknown) => Fitness | Promise<Fitness>)(spec.config);
}

/** The default worker count: every core this process may use. */
export function defaultWorkers(): number { return availableParallelism(); }

interface Job { index: number; genome: Float64Array; seed: number }
type Reply = { index: number; cost: number } | { index: number; error: string } | { ready: true } | { ready: false; error: string };

export class EvalPool {
  private constructor(
    readonly workers: number,
    private readonly local: Fitness | null,
    private readonly threads: Worker[],
  ) {}

  /** A pool of `workers` threads (1: evaluate in this thread), each with the fitness built from spec. */
  static async create(spec: FitnessSpec, workers = defaultWorkers()): Promise<EvalPool> {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`EvalPool: expected workers an integer >= 1, got ${workers}`);
    if (workers === 1) return new EvalPool(1, await loadFitness(spec), []);
    const threads: Worker[] = [];
    try {
      await Promise.all(Array.from({ length: workers }, () => new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL('./poolWorker.js', import.meta.url), { workerData: spec, execArgv: [] });
        threads.push(w);
        w.once('error', reject);
        w.once('message', (m: Reply) => ('ready' in m && m.ready ? resolve() : reject(new Error((m as { error: string }).error))));
      })));
    } catch (e) {
      for (const w of threads) void w.terminate();
      throw e;
    }
    for (const w of threads) w.unref();
    return new EvalPool(workers, null, threads);
  }

  /** The costs of the genomes, in order; seeds[i] is genome i's evaluation seed (default 0). */
  async evaluate(genomes: readonly Float64Array[], seeds?: readonly number[]): Promise<number[]> {
    if (seeds && seeds.length !== genomes.length) throw new Error(`EvalPool.evaluate: expected ${genomes.length} seeds (one per genome), got ${seeds.length}`);
    const seed = (i: number) => seeds?.[i] ?? 0;
    if (this.local) return genomes.map((g, i) => this.local!(g, seed(i)));
    const costs = new Array<number>(genomes.length);
    let next = 0, done = 0;
    return new Promise<number[]>((resolve, reject) => {
      if (genomes.length === 0) { resolve(costs); return; }
      let failed = false;
      const cleanups: (() => void)[] = [];
      const finish = (e?: Error) => {
        for (const c of cleanups) c();
        if (e) { failed = true; reject(e); } else resolve(costs);
      };
      const send = (w: Worker) => {
        if (next >= genomes.length || failed) return;
        const i = next++;
        w.postMessage({ index: i, genome: genomes[i], seed: seed(i) } satisfies Job);
      };
      for (const w of this.threads) {
        const onMessage = (m: Reply) => {
          if (failed || !('index' in m)) return;
          if ('error' in m) { finish(new Error(`fitness of genome ${m.index}: ${m.error}`)); return; }
          costs[m.index] = m.cost;
          if (++done === genomes.length) finish(); else send(w);
        };
        const onError = (e: Error) => finish(e);
        w.on('message', onMessage); w.on('error', onError);
        w.ref(); // keep the process alive while this generation is being evaluated
        cleanups.push(() => { w.off('message', onMessage); w.off('error', onError); w.unref(); });
      }
      for (const w of this.threads) send(w);
    });
  }

  async close(): Promise<void> { await Promise.all(this.threads.map((w) => w.terminate())); }
}
