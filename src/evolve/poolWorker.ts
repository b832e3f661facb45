/** An EvalPool worker (pool.ts): builds the fitness named in its start data, then evaluates each genome sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadFitness, type FitnessSpec } from './pool.js';

const port = parentPort!;
try {
  const fitness = await loadFitness(workerData as FitnessSpec);
  port.on('message', (m: { index: number; genome: Float64Array; seed: number }) => {
    try {
      port.postMessage({ index: m.index, cost: fitness(m.genome, m.seed) });
    } catch (e) {
      port.postMessage({ index: m.index, error: e instanceof Error ? e.message : String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ ready: false, error: e instanceof Error ? e.message : String(e) });
}
