// Evolino's generation and readout options: the free run continues the teacher-forced state (no
// off-by-one at the switch), ridge is the Tikhonov solution, noise only touches the states the
// readout is solved on; the CLI's flags for them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evolinoEvaluate, evolinoLayout, evolinoNoise, evolinoSeries, generate, type EvolinoTask } from '../src/evolve/evolino.js';
import { LstmNet } from '../src/evolve/lstmNet.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';

const H = 4;
function randomGenome(seed: number, scale: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: evolinoLayout(H).size }, () => rng.uniform(-scale, scale));
}
const net = (g: Float64Array) => new LstmNet(g, evolinoLayout(H), { lstm: '' });

/** Solves (M) w = b by Gaussian elimination with partial pivoting (M [n, n] row-major). */
function solve(m: Float64Array, b: Float64Array): Float64Array {
  const n = b.length, a = Float64Array.from(m), x = Float64Array.from(b);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    for (let k = 0; k < n; k++) [a[c * n + k], a[p * n + k]] = [a[p * n + k], a[c * n + k]];
    [x[c], x[p]] = [x[p], x[c]];
    for (let r = c + 1; r < n; r++) { const f = a[r * n + c] / a[c * n + c]; for (let k = c; k < n; k++) a[r * n + k] -= f * a[c * n + k]; x[r] -= f * x[c]; }
  }
  for (let c = n - 1; c >= 0; c--) { let s = x[c]; for (let k = c + 1; k < n; k++) s -= a[c * n + k] * x[k]; x[c] = s / a[c * n + c]; }
  return x;
}

describe('evolve: Evolino generation', () => {
  it("a series the closed loop produces itself is generated exactly from any step: the fed-back value and the carried state are the teacher-forced ones", () => {
    const genome = randomGenome(5, 0.8), readout = Float64Array.from([0.3, -0.5, 0.2, 0.4, 0.9, 0.05]);
    // The series: the closed loop run from x0 = 0.5, so teacher forcing predicts it exactly.
    const n = 60, series = new Float64Array(n), gen = net(genome);
    series[0] = 0.5;
    for (let t = 0; t + 1 < n; t++) { const h = gen.step([series[t]]); series[t + 1] = readout[H] * series[t] + readout[H + 1] + h.reduce((s, v, k) => s + v * readout[k], 0); }
    const g = net(genome);
    for (const from of [1, 7, 30]) {
      const out = generate(g, readout, series, from, n - from);
      for (let k = 0; k < out.length; k++) assert.ok(Math.abs(out[k] - series[from + k]) < 1e-12, `from ${from}, step ${k}: ${out[k]} vs ${series[from + k]}`);
    }
    assert.throws(() => generate(g, readout, series, 0, 5), /generate: expected from in 1\.\.60, got 0/);
  });
});

describe('evolve: Evolino readout options', () => {
  const task: EvolinoTask = { kind: 'sines', waves: 2, hidden: H, washout: 20, train: 120, freeRun: 20, test: 30 };
  const series = evolinoSeries(task), genome = randomGenome(21, 0.5);
  /** The readout features [h, x, 1] of the teacher-forced steps after the washout, with input noise added. */
  function features(noise: Float64Array): Float64Array[] {
    const g = net(genome), rows: Float64Array[] = [];
    for (let t = 0; t < task.train; t++) { const x = series[t] + noise[t]; const h = g.step([x]); if (t >= task.washout) rows.push(Float64Array.from([...h, x, 1])); }
    return rows;
  }

  it('ridge gives the Tikhonov solution (A^T A / rows + ridge I) w = A^T y / rows and shrinks the readout', () => {
    const ridge = 1e-3, r = evolinoEvaluate({ ...task, ridge }, series, genome);
    const plain = evolinoEvaluate(task, series, genome);
    const A = features(new Float64Array(task.train)), K = H + 2, rows = A.length;
    const m = new Float64Array(K * K), b = new Float64Array(K);
    A.forEach((a, i) => { for (let p = 0; p < K; p++) { b[p] += a[p] * series[task.washout + i + 1] / rows; for (let q = 0; q < K; q++) m[p * K + q] += a[p] * a[q] / rows; } });
    for (let p = 0; p < K; p++) m[p * K + p] += ridge;
    const w = solve(m, b);
    for (let k = 0; k < K; k++) assert.ok(Math.abs(r.readout[k] - w[k]) < 1e-9 * (1 + Math.abs(w[k])), `weight ${k}: ${r.readout[k]} vs ${w[k]}`);
    const norm = (v: Float64Array) => Math.hypot(...v);
    assert.ok(norm(r.readout) < norm(plain.readout), `${norm(r.readout)} < ${norm(plain.readout)}`);
    assert.ok(r.trainMse > plain.trainMse);
    assert.throws(() => evolinoEvaluate({ ...task, ridge: -1 }, series, genome), /evolino: expected ridge >= 0, got -1/);
  });

  it('noise is fixed per task, enters only the states the readout is solved on, and the training error is the clean one', () => {
    const noisy = { ...task, noise: 0.05 }, noise = evolinoNoise(noisy);
    assert.deepEqual(evolinoNoise(noisy), noise);
    assert.ok(Math.abs(Math.hypot(...noise) / Math.sqrt(noise.length) - 0.05) < 0.01);
    const r = evolinoEvaluate(noisy, series, genome);
    // The readout is the least-squares fit on the noisy states: any change raises that error.
    const A = features(noise), sq = (w: Float64Array) => A.reduce((s, a, i) => s + (a.reduce((t, v, k) => t + v * w[k], 0) - series[task.washout + i + 1]) ** 2, 0);
    for (let k = 0; k < H + 2; k++) for (const d of [1e-4, -1e-4]) { const w = r.readout.slice(); w[k] += d; assert.ok(sq(w) > sq(r.readout)); }
    // trainMse is measured on the clean series with that readout.
    const clean = features(new Float64Array(task.train));
    const mse = clean.reduce((s, a, i) => s + (a.reduce((t, v, k) => t + v * r.readout[k], 0) - series[task.washout + i + 1]) ** 2, 0) / clean.length;
    assert.ok(Math.abs(mse - r.trainMse) < 1e-12, `${mse} vs ${r.trainMse}`);
    assert.notDeepEqual(r.readout, evolinoEvaluate(task, series, genome).readout);
    assert.throws(() => evolinoNoise({ ...task, noise: -0.1 }), /evolino: expected noise >= 0, got -0.1/);
  });

  it("the CLI's flags for them: checked, and reported in the run", () => {
    const r = carousel(['evolve', '--task', 'evolino-sines', '--hidden', '2', '--max-evals', '12', '--workers', '1', '--ridge', '1e-6', '--noise', '0.01', '--free-run', '50']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /free-running error at step 1: [-\d.e+]+, 5: /);
    userError(carousel(['evolve', '--task', 'evolino-sines', '--ridge', '-1']), /--ridge: expected a number >= 0, got '-1'/);
    userError(carousel(['evolve', '--task', 'evolino-sines', '--free-run', '301']), /--free-run: expected at most 300 \(the training steps after the washout\), got '301'/);
    userError(carousel(['evolve', '--env', 'cart-pole', '--noise', '0.1']), /--noise is for --task, not --env/);
  });
});
