/**
 * Evolino (Schmidhuber, Wierstra, Gagliolo & Gomez 2007, "Training Recurrent Networks by
 * Evolino", Neural Computation 19(3)): evolution searches the LSTM's weights; for each candidate
 * the linear readout from the hidden state is not evolved but solved, by least squares through
 * the Moore-Penrose pseudo-inverse, on the states the candidate produces on the training sequence.
 *
 * The tasks are next-value prediction turned into generation: during training the net reads the
 * true series (teacher forcing); after it, its own prediction is fed back as the next input, and
 * the free-running output is compared with the truth. Ours differs from the paper in the evolver
 * (CMA-ES over all of nn.LSTM's weights, instead of ESP's subpopulations per cell) and in the cell
 * (nn.LSTM: forget gate, no peepholes); the readout is the paper's.
 *
 * Fitness (lower is better, training data only): the teacher-forced mean squared error of the
 * solved readout plus the mean squared error of a free run over the training window's last
 * `freeRun` steps (a readout that fits teacher-forced states but diverges when fed back is bad).
 */
import type { GenomeLayout } from './genome.js';
import { LstmNet } from './lstmNet.js';
import { mackeyGlass } from './mackeyGlass.js';
import { leastSquares } from './pinv.js';

/** The superimposed sines' frequencies, in the paper's order: sin(0.2 t) + sin(0.311 t) + ... */
export const SINE_FREQUENCIES = [0.2, 0.311, 0.42, 0.51, 0.74] as const;

export interface EvolinoTask {
  kind: 'sines' | 'mackey-glass';
  /** sines: how many of SINE_FREQUENCIES (2..5). */
  waves?: number;
  /** LSTM cells. */
  hidden: number;
  /** Teacher-forced steps whose states are not used for the readout (the start-up transient). */
  washout: number;
  /** Training steps (washout included). */
  train: number;
  /** Free-running steps in the fitness, at the end of the training window. */
  freeRun: number;
  /** Free-running steps after the training window, for the test error. */
  test: number;
  /** Singular values below rcond times the largest are dropped from the readout's pseudo-inverse (default 1e-12). */
  rcond?: number;
}

/** The series: inputs x[t], targets x[t + 1]; long enough for training and test. */
export function evolinoSeries(task: EvolinoTask): Float64Array {
  const n = task.train + task.test + 1;
  if (task.kind === 'sines') {
    const waves = task.waves ?? 2;
    if (!Number.isInteger(waves) || waves < 1 || waves > SINE_FREQUENCIES.length) throw new Error(`evolino: expected waves in 1..${SINE_FREQUENCIES.length}, got ${waves}`);
    return Float64Array.from({ length: n }, (_, t) => SINE_FREQUENCIES.slice(0, waves).reduce((s, w) => s + Math.sin(w * t), 0));
  }
  // Jaeger & Haas 2004's preprocessing: tanh(x - 1), sampled every time unit, from the attractor.
  return mackeyGlass({ tau: 17, length: n, discard: 1000 }).map((v) => Math.tanh(v - 1));
}

/** nn.LSTM(1, hidden)'s parameters, in its order (genome.ts's layout of that module, without building it). */
export function evolinoLayout(hidden: number): GenomeLayout {
  const H = hidden, shapes: [string, number[]][] = [['weight_ih_l0', [4 * H, 1]], ['weight_hh_l0', [4 * H, H]], ['bias_ih_l0', [4 * H]], ['bias_hh_l0', [4 * H]]];
  let offset = 0;
  const slices = shapes.map(([name, shape]) => { const size = shape.reduce((a, b) => a * b, 1); const s = { name, shape, offset, size }; offset += size; return s; });
  return { slices, size: offset };
}

export interface EvolinoResult {
  /** The readout [H + 2]: weights on h, on the input, then the bias. */
  readout: Float64Array;
  /** Teacher-forced MSE on the training steps after the washout. */
  trainMse: number;
  /** Free-running MSE over the fitness window. */
  freeRunMse: number;
  /** Free-running prediction after the training window [test], and its error. */
  testPrediction: Float64Array;
  testMse: number;
  /** sqrt(test MSE / variance of the series): the papers' normalised error. */
  testNrmse: number;
  /** |error| at the last test step (NRMSE84-style: one trial's error at step `test`, normalised). */
  lastStepNrmse: number;
  /** The fitness (see the file comment). */
  cost: number;
}

/** The readout, errors and fitness of a genome (withTest false: skip the test run, as the fitness does). */
export function evolinoEvaluate(task: EvolinoTask, series: Float64Array, genome: Float64Array, withTest = true): EvolinoResult {
  // Readout features [h (H), x (the input), 1]: the cells' outputs plus the input and a bias, as an ESN readout.
  const H = task.hidden, K = H + 2, { washout, train, freeRun, test } = task;
  const net = new LstmNet(genome, evolinoLayout(H), { lstm: '' });
  const rows = train - washout;
  const states = new Float64Array(rows * K), targets = new Float64Array(rows);
  const x = new Float64Array(1);
  for (let t = 0; t < train; t++) {
    x[0] = series[t];
    const h = net.step(x);
    if (t >= washout) {
      const r = t - washout;
      states.set(h, r * K); states[r * K + H] = x[0]; states[r * K + H + 1] = 1;
      targets[r] = series[t + 1];
    }
  }
  if (!states.every(Number.isFinite)) return failed(K, test);
  const readout = leastSquares(states, rows, K, targets, 1, task.rcond ?? 1e-12);
  const predict = (h: Float64Array) => { let s = readout[H] * x[0] + readout[H + 1]; for (let k = 0; k < H; k++) s += readout[k] * h[k]; return s; };
  let trainSq = 0;
  for (let r = 0; r < rows; r++) { let s = 0; for (let k = 0; k < K; k++) s += readout[k] * states[r * K + k]; trainSq += (s - targets[r]) ** 2; }
  // Free runs: teacher-forced up to `from`, then fed back its own predictions for `steps`.
  const freeRunFrom = (from: number, steps: number, out?: Float64Array) => {
    net.reset();
    let y = 0, sq = 0;
    for (let t = 0; t < from; t++) { x[0] = series[t]; y = predict(net.step(x)); }
    for (let k = 0; k < steps; k++) {
      const e = y - series[from + k];
      sq += e * e;
      if (out) out[k] = y;
      x[0] = y; y = predict(net.step(x));
    }
    return sq / steps;
  };
  const freeRunMse = freeRun > 0 ? freeRunFrom(train - freeRun, freeRun) : 0;
  const testPrediction = new Float64Array(test);
  const testMse = withTest ? freeRunFrom(train, test, testPrediction) : NaN;
  const variance = varianceOf(series);
  const trainMse = trainSq / rows;
  const cost = trainMse + freeRunMse;
  return {
    readout, trainMse, freeRunMse, testPrediction, testMse,
    testNrmse: Math.sqrt(testMse / variance),
    lastStepNrmse: Math.abs(testPrediction[test - 1] - series[train + test - 1]) / Math.sqrt(variance),
    cost: Number.isFinite(cost) ? cost : Number.MAX_VALUE,
  };
}

function failed(K: number, test: number): EvolinoResult {
  const inf = Number.MAX_VALUE;
  return { readout: new Float64Array(K), trainMse: inf, freeRunMse: inf, testPrediction: new Float64Array(test), testMse: inf, testNrmse: inf, lastStepNrmse: inf, cost: inf };
}

function varianceOf(a: Float64Array): number {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
}

/** The pool's fitness factory (pool.ts): the task's series built once per thread. */
export function evolinoFitness(task: EvolinoTask): (genome: Float64Array) => number {
  const series = evolinoSeries(task);
  return (genome) => evolinoEvaluate(task, series, genome, false).cost;
}
