/**
 * Evolino (Schmidhuber, Wierstra, Gagliolo & Gomez 2007, "Training Recurrent Networks by
 * Evolino", Neural Computation 19(3)): evolution searches the LSTM's weights; for each candidate
 * the linear readout from the hidden state is not evolved but solved, by least squares through
 * the Moore-Penrose pseudo-inverse, on the states the candidate produces on the training sequence.
 *
 * The tasks are next-value prediction turned into generation: during training the net reads the
 * true series (teacher forcing); after it, its own prediction is fed back as the next input, and
 * the free-running output is compared with the truth. The evolver is CMA-ES over all weights or,
 * as in the paper, ESP with one subpopulation per cell (esp.ts, evolinoBlocks); the cell is
 * nn.LSTM's or, as in the paper, the peephole cell (`peepholes`); the readout is the paper's.
 *
 * Fitness (lower is better, training data only): the teacher-forced mean squared error of the
 * solved readout plus the mean squared error of a free run over the training window's last
 * `freeRun` steps (a readout that fits teacher-forced states but diverges when fed back is bad).
 *
 * Two closed-loop remedies from echo state networks are options (both off by default, as in the
 * paper's pseudo-inverse): `ridge`, Tikhonov regularisation of the readout, and `noise`, Gaussian
 * noise added to the teacher-forced input while the states are collected (the echo state network
 * trick for readouts that must be stable when fed back); the targets stay clean. Measured on two
 * sines (see the README): neither makes the free run hold.
 */
import type { GenomeLayout } from './genome.js';
import { LstmNet } from './lstmNet.js';
import { mackeyGlass } from './mackeyGlass.js';
import { leastSquares } from './pinv.js';
import { Rng } from '../tensor/random.js';

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
  /** Tikhonov regularisation of the readout: minimise |A w - y|^2 / rows + ridge |w|^2 (default 0: the pseudo-inverse). */
  ridge?: number;
  /** Standard deviation of Gaussian noise added to the teacher-forced inputs while the readout's states are collected (default 0). */
  noise?: number;
  /** Peephole cells, the paper's (nn.LSTM({ peepholes: true })'s cell; default false: nn.LSTM's). */
  peepholes?: boolean;
}

/** The fixed noise sequence of a task (the same for every genome, so the fitness stays a function of the genome). */
export function evolinoNoise(task: EvolinoTask): Float64Array {
  const sd = task.noise ?? 0;
  if (!(sd >= 0)) throw new Error(`evolino: expected noise >= 0, got ${task.noise}`);
  if (sd === 0) return new Float64Array(task.train);
  const rng = new Rng(0x5eed);
  return Float64Array.from({ length: task.train }, () => sd * rng.normal());
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

/** nn.LSTM(1, hidden)'s parameters (with peepholes: nn.LSTM({ peepholes: true })'s), in its order (genome.ts's layout of that module, without building it). */
export function evolinoLayout(hidden: number, peepholes = false): GenomeLayout {
  const H = hidden, shapes: [string, number[]][] = [['weight_ih_l0', [4 * H, 1]], ['weight_hh_l0', [4 * H, H]], ['bias_ih_l0', [4 * H]], ['bias_hh_l0', [4 * H]]];
  if (peepholes) shapes.push(['weight_ci_l0', [H]], ['weight_cf_l0', [H]], ['weight_co_l0', [H]]);
  let offset = 0;
  const slices = shapes.map(([name, shape]) => { const size = shape.reduce((a, b) => a * b, 1); const s = { name, shape, offset, size }; offset += size; return s; });
  return { slices, size: offset };
}

/**
 * ESP's blocks (esp.ts): one per cell, the genome indices of everything that feeds cell j (its
 * four gate rows' weights from the input and from all cells, both biases, its peepholes).
 */
export function evolinoBlocks(hidden: number, peepholes = false): number[][] {
  const H = hidden, layout = evolinoLayout(H, peepholes), at = (n: string) => layout.slices.find((s) => s.name === n)!.offset;
  return Array.from({ length: H }, (_, j) => {
    const idx: number[] = [];
    for (let gate = 0; gate < 4; gate++) {
      const r = gate * H + j;
      idx.push(at('weight_ih_l0') + r);
      for (let k = 0; k < H; k++) idx.push(at('weight_hh_l0') + r * H + k);
      idx.push(at('bias_ih_l0') + r, at('bias_hh_l0') + r);
    }
    if (peepholes) for (const n of ['weight_ci_l0', 'weight_cf_l0', 'weight_co_l0']) idx.push(at(n) + j);
    return idx;
  });
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

/** The readout's prediction from features [h, x, 1]. */
function predict(readout: Float64Array, h: Float64Array, x: number): number {
  const H = h.length;
  let s = readout[H] * x + readout[H + 1];
  for (let k = 0; k < H; k++) s += readout[k] * h[k];
  return s;
}

/**
 * Generation: the net (from its reset state) reads series[0..from-1] (teacher forcing), then its
 * own prediction is fed back for `steps` steps. Returns the outputs, out[k] the prediction of
 * series[from + k]: out[0] is the teacher-forced prediction after reading series[from - 1], and
 * the state is the teacher-forced one carried over, not reset.
 */
export function generate(net: LstmNet, readout: Float64Array, series: Float64Array, from: number, steps: number): Float64Array {
  if (from < 1 || from > series.length) throw new Error(`generate: expected from in 1..${series.length}, got ${from}`);
  net.reset();
  const x = new Float64Array(1);
  let y = 0;
  for (let t = 0; t < from; t++) { x[0] = series[t]; y = predict(readout, net.step(x), x[0]); }
  const out = new Float64Array(steps);
  for (let k = 0; k < steps; k++) { out[k] = y; x[0] = y; y = predict(readout, net.step(x), y); }
  return out;
}

/** The readout, errors and fitness of a genome (withTest false: skip the test run, as the fitness does). */
export function evolinoEvaluate(task: EvolinoTask, series: Float64Array, genome: Float64Array, withTest = true, noise = evolinoNoise(task)): EvolinoResult {
  // Readout features [h (H), x (the input), 1]: the cells' outputs plus the input and a bias, as an ESN readout.
  const H = task.hidden, K = H + 2, { washout, train, freeRun, test } = task, ridge = task.ridge ?? 0;
  if (!(ridge >= 0)) throw new Error(`evolino: expected ridge >= 0, got ${task.ridge}`);
  const net = new LstmNet(genome, evolinoLayout(H, task.peepholes), { lstm: '' });
  const rows = train - washout, extra = ridge > 0 ? K : 0;
  // Ridge as least squares on A stacked over sqrt(ridge rows) I (targets 0): the SVD keeps its accuracy.
  const states = new Float64Array((rows + extra) * K), targets = new Float64Array(rows + extra);
  const x1 = new Float64Array(1);
  for (let t = 0; t < train; t++) {
    const x = x1[0] = series[t] + noise[t];
    const h = net.step(x1);
    if (t >= washout) {
      const r = t - washout;
      states.set(h, r * K); states[r * K + H] = x; states[r * K + H + 1] = 1;
      targets[r] = series[t + 1];
    }
  }
  if (!states.every(Number.isFinite)) return failed(K, test);
  for (let k = 0; k < extra; k++) states[(rows + k) * K + k] = Math.sqrt(ridge * rows);
  const readout = leastSquares(states, rows + extra, K, targets, 1, task.rcond ?? 1e-12);
  // The teacher-forced error on the clean series (with noise, the states above were not).
  let trainSq = 0;
  if (noise.some((v) => v !== 0)) { // a second, clean teacher-forced pass
    net.reset();
    for (let t = 0; t < train; t++) { x1[0] = series[t]; const y = predict(readout, net.step(x1), series[t]); if (t >= washout) trainSq += (y - series[t + 1]) ** 2; }
  } else { // the states collected above are the clean ones: the fit's residuals
    for (let r = 0; r < rows; r++) { let y = 0; for (let k = 0; k < K; k++) y += readout[k] * states[r * K + k]; trainSq += (y - targets[r]) ** 2; }
  }
  const mse = (from: number, out: Float64Array) => out.reduce((s, y, k) => s + (y - series[from + k]) ** 2, 0) / out.length;
  const freeRunMse = freeRun > 0 ? mse(train - freeRun, generate(net, readout, series, train - freeRun, freeRun)) : 0;
  const testPrediction = withTest ? generate(net, readout, series, train, test) : new Float64Array(test);
  const testMse = withTest ? mse(train, testPrediction) : NaN;
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
  const series = evolinoSeries(task), noise = evolinoNoise(task);
  return (genome) => evolinoEvaluate(task, series, genome, false, noise).cost;
}
