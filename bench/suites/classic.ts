/**
 * The classic JavaScript libraries: neataptic, synaptic, brain.js. None has a batch dimension,
 * a linear head on h_T, Adam, or PyTorch's LSTM wiring, so each runs the NEAREST configuration
 * it can express, and every row says how it differs:
 *  - neataptic architect.LSTM(I, H, 1) / synaptic Architect.LSTM(I, H, 1): memory blocks with
 *    self-connected cells (no full h_{t-1} -> gates matrix by default), trained by their own
 *    eligibility-trace rule with plain SGD: one training step = clear, activate every time step,
 *    propagate the target once at the end (the loss is on the last output, as in B1).
 *  - brain.js recurrent.LSTMTimeStep: its loss is on every step (it predicts the next input, so
 *    outputSize = inputSize), its own RMSProp-style update; one training step = trainPattern.
 * A batch of B sequences is B sequential sequences; where that is too slow to run whole, a
 * measured fraction is scaled up and the row's metric is 'time_extrapolated'.
 */
import { performance } from 'node:perf_hooks';
import { Rng } from '../../src/tensor/random.js';
import { fitUnits, measure, skipRow, timeRows, valueRow, type Origin } from '../measure.js';
import { loadOptional } from '../optional.js';
import type { BenchName, Result, SuiteSpec, Timing } from '../types.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

function seq(rng: Rng, T: number, I: number): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < T; t++) { const x: number[] = []; for (let i = 0; i < I; i++) x.push(rng.uniform(-1, 1)); out.push(x); }
  return out;
}

/** A library's network of one size, and what it can do with it. */
interface Net {
  params: number;
  /** One training sequence (length T), loss as the library allows. */
  trainSeq(xs: number[][], target: number): void;
  /** Inference over one sequence from a cleared state. */
  inferSeq?(xs: number[][]): void;
  /** One streaming step with the state carried (null: the library has no such API). */
  step?(x: number[]): void;
  reset(): void;
}

function neatapticNet(lib: any, I: number, H: number): Net {
  const n = lib.architect.LSTM(I, H, 1);
  return {
    params: n.connections.length + n.selfconns.length + n.nodes.length,
    trainSeq(xs, y) { n.clear(); for (const x of xs) n.activate(x, true); n.propagate(0.01, 0, true, [y]); },
    inferSeq(xs) { n.clear(); for (const x of xs) n.noTraceActivate(x); },
    step(x) { n.noTraceActivate(x); },
    reset() { n.clear(); },
  };
}

function synapticNet(lib: any, I: number, H: number): Net {
  const n = new lib.Architect.LSTM(I, H, 1);
  // No clear() between sequences: synaptic's clear() throws away its compiled ("optimized")
  // network, which it then rebuilds on the next call, costing far more than the step itself.
  // The work per step is the same whatever state the sequence starts from.
  return {
    params: (() => {
      try {
        return n.neurons().reduce((s: number, x: any) => s + Object.keys(x.neuron.connections.inputs).length
          + Object.keys(x.neuron.connections.gated).length + (x.neuron.selfconnection?.weight ? 1 : 0) + 1, 0);
      } catch { return NaN; }
    })(),
    trainSeq(xs, y) { for (const x of xs) n.activate(x); n.propagate(0.01, [y]); },
    inferSeq(xs) { for (const x of xs) n.activate(x); },
    step(x) { n.activate(x); },
    reset() { /* see above */ },
  };
}

function brainNet(lib: any, I: number, H: number, T: number, rng: Rng): Net {
  const n = new lib.recurrent.LSTMTimeStep({ inputSize: I, hiddenLayers: [H], outputSize: I });
  const toF32 = (xs: number[][]) => xs.map((x) => Float32Array.from(x));
  n.train([toF32(seq(rng, T, I))], { iterations: 1 }); // builds the model (its equations) once
  const cache = new Map<number[][], Float32Array[]>();
  const f32 = (xs: number[][]) => { let v = cache.get(xs); if (!v) { v = toF32(xs); cache.set(xs, v); } return v; };
  return {
    params: (() => { try { return n.model.allMatrices.reduce((s: number, m: any) => s + m.weights.length, 0); } catch { return NaN; } })(),
    trainSeq(xs) { n.trainPattern(f32(xs)); },
    inferSeq(xs) { n.run(f32(xs)); },
    reset() { /* run() starts every sequence from a zero state */ },
  };
}

/** How each library's configuration differs from the bench's (printed under the table). */
export const CLASSIC_NOTES: Record<string, string> = {
  'neataptic': 'architect.LSTM, SGD eligibility traces, batch as sequential sequences',
  'synaptic': 'Architect.LSTM, SGD eligibility traces, batch as sequential sequences, state not cleared between sequences (its clear() discards the compiled network)',
  'brain.js': 'LSTMTimeStep, loss on every step, its RMSProp update, batch as sequential sequences',
};

/** Networks built so far in this process, by library and size (a child runs one bench per call). */
const nets = new Map<string, Net>();

/** Network sizes past which a library's construction alone takes minutes here: skip, and say so. */
const MAX_HIDDEN: Record<string, number> = { 'neataptic': 256, 'synaptic': 32, 'brain.js': 256 };

export async function runClassic(spec: SuiteSpec): Promise<Result[]> {
  const o: Origin = { lib: spec.suite, backend: spec.backend, threads: 1 };
  const pkg = spec.suite;
  const l = loadOptional(pkg);
  if (!l.ok) return spec.benches.map((b) => skipRow(o, b, l.reason));
  const rng = new Rng(31);
  const net = (I: number, H: number, T: number): Net => {
    const key = `${pkg}:${I}x${H}`;
    let n = nets.get(key);
    if (!n) {
      const t0 = performance.now();
      n = pkg === 'neataptic' ? neatapticNet(l.mod, I, H) : pkg === 'synaptic' ? synapticNet(l.mod, I, H) : brainNet(l.mod, I, H, T, rng);
      process.stderr.write(`  ${pkg}: built LSTM(${I}, ${H}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
      nets.set(key, n);
    }
    return n;
  };
  const out: Result[] = [];
  for (const bench of spec.benches) {
    const t0 = performance.now();
    try { out.push(...await runOne(o, bench, spec, net, rng)); } catch (e) {
      out.push(skipRow(o, bench, `failed: ${(e as Error).message.split('\n')[0]}`));
    }
    process.stderr.write(`  ${pkg} ${bench}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return out;
}

async function runOne(o: Origin, bench: BenchName, spec: SuiteSpec, net: (I: number, H: number, T: number) => Net, rng: Rng): Promise<Result[]> {
  const t: Timing = spec.timing;
  const lib = o.lib;
  const tooBig = (H: number) => H > MAX_HIDDEN[lib]
    ? [skipRow(o, bench, `skipped: ${lib} builds hidden ${H} as per-neuron/per-connection objects; construction alone takes minutes here, beyond the time cap`)]
    : null;
  switch (bench) {
    case 'B1': case 'B1-small': {
      const s = spec.sizes[bench];
      const skip = tooBig(s.hidden); if (skip) return skip;
      const n = net(s.input, s.hidden, s.length);
      const batch = Array.from({ length: s.batch }, () => seq(rng, s.length, s.input));
      const targets = batch.map(() => rng.uniform(-1, 1));
      // Sequences per repetition: the whole batch when it fits a quarter of the cap.
      const k = await fitUnits(() => n.trainSeq(batch[0], targets[0]), s.batch, t.capMs / 4);
      const st = await measure(() => { for (let i = 0; i < k; i++) n.trainSeq(batch[i], targets[i]); }, { ...t, warmup: k < s.batch ? 0 : t.warmup });
      const rows = timeRows(o, bench, st, 'ms', s.batch / k, k < s.batch ? 'time_extrapolated' : 'time');
      if (k < s.batch) rows.push(valueRow(o, bench, 'sequences_per_rep', k, 'count'));
      return [...rows, valueRow(o, bench, 'params', n.params, 'count')];
    }
    case 'B2-256': case 'B2-1024': {
      const s = spec.sizes[bench];
      const skip = tooBig(s.hidden); if (skip) return skip;
      if (lib === 'brain.js') return [skipRow(o, bench, 'skipped: brain.js has no single-step API with carried state (run() replays the whole sequence from a zero state)')];
      const n = net(s.input, s.hidden, 1);
      const xs = seq(rng, s.steps, s.input);
      const steps = await fitUnits(() => n.step!(xs[0]), s.steps, t.capMs / 4);
      const st = await measure(() => { n.reset(); for (let i = 0; i < steps; i++) n.step!(xs[i]); }, t);
      const rows = timeRows(o, bench, st, 'us', 1000 / steps);
      if (steps < s.steps) rows.push(valueRow(o, bench, 'steps_per_rep', steps, 'count'));
      return [...rows, valueRow(o, bench, 'params', n.params, 'count')];
    }
    case 'B3': {
      const s = spec.sizes.B3;
      const skip = tooBig(s.hidden); if (skip) return skip;
      const n = net(s.input, s.hidden, s.length);
      const batch = Array.from({ length: s.batch }, () => seq(rng, s.length, s.input));
      const k = await fitUnits(() => n.inferSeq!(batch[0]), s.batch, t.capMs / 4);
      const st = await measure(() => { for (let i = 0; i < k; i++) n.inferSeq!(batch[i]); }, { ...t, warmup: k < s.batch ? 0 : t.warmup });
      const rows = timeRows(o, bench, st, 'ms', s.batch / k, k < s.batch ? 'time_extrapolated' : 'time');
      if (k < s.batch) rows.push(valueRow(o, bench, 'sequences_per_rep', k, 'count'));
      return rows;
    }
    case 'B4':
      return [skipRow(o, bench, `skipped: ${lib} has no CTC loss`)];
    case 'GEMM':
      return [skipRow(o, bench, `skipped: ${lib} has no matrix product API (per-connection objects)`)];
    case 'B1-memory':
      return [skipRow(o, bench, 'skipped: memory is compared between Carousel and PyTorch only')];
     case 'B5-big': case 'GEMM-4096':
      return [skipRow(o, bench, 'skipped: a GPU bench (run with --backends webgpu beside the GPU peers)')];
  }
}
