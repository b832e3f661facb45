/**
 * Step time of a large LSTM-g network: a Carousel/PyTorch-style LSTM layer of `cells` cells over
 * `inputs` inputs built as an LSTM-g graph (torchLstmNetwork), random weights, timed forward only
 * and forward with the learning rule (traces, δ, Δw applied every step). The command that runs
 * printStepTiming is in the README's LSTM-g section.
 */
import { Rng } from '../tensor/random.js';
import { torchLstmNetwork } from './builders.js';
import { Learner } from './learn.js';

export interface StepTiming { units: number; connections: number; extendedTraces: number; forwardMs: number; learnMs: number }

export function stepTiming(cells: number, inputs: number, steps: number): StepTiming {
  const rng = new Rng(1), H = cells, I = inputs, a = 1 / Math.sqrt(H);
  const r = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-a, a));
  const { net } = torchLstmNetwork({ inputSize: I, hiddenSize: H, wIh: r(4 * H * I), wHh: r(4 * H * H), bIh: r(4 * H), bHh: r(4 * H), wci: r(H), wcf: r(H), wco: r(H) });
  const l = new Learner(net);
  const x = Float64Array.from({ length: I }, () => rng.uniform(-1, 1)), target = new Float64Array(H).fill(0.5);
  const time = (f: () => void) => { f(); const t0 = performance.now(); for (let s = 0; s < steps; s++) f(); return (performance.now() - t0) / steps; };
  const forwardMs = time(() => net.step(x));
  const learnMs = time(() => { l.step(x); l.learn(target); l.apply(1e-4); });
  return { units: net.N, connections: net.connections, extendedTraces: l.sizes.extendedTraces, forwardMs, learnMs };
}

export function printStepTiming(cells: number, inputs: number, steps: number): void {
  const t = stepTiming(cells, inputs, steps);
  console.log(`LSTM-g graph of a ${cells}-cell LSTM layer, ${inputs} inputs: ${t.units} units, ${t.connections} connections, ${t.extendedTraces} extended traces; `
    + `forward ${t.forwardMs.toFixed(2)} ms/step, forward + traces + learning ${t.learnMs.toFixed(2)} ms/step (${steps} steps)`);
}
