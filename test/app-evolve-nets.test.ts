// The pieces under neuroevolution against independent references: the Float64 LSTM step against
// Carousel's nn.LSTM and RecurrentPolicy (reference backend, f64), the genome layouts against the
// modules' own parameter lists, the pseudo-inverse against a direct solve and the Moore-Penrose
// conditions, the Mackey-Glass integration against the equation's known fixed point, its known
// stability threshold and its step-size convergence, and the worker pool's determinism.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadBackend } from '../src/backend/registry.js';
import { Controller, controlFitness, controlLayout, isEvolved } from '../src/evolve/control.js';
import { evolinoEvaluate, evolinoLayout, evolinoSeries, type EvolinoTask } from '../src/evolve/evolino.js';
import { genomeLayout, readGenome, writeGenome } from '../src/evolve/genome.js';
import { LstmNet } from '../src/evolve/lstmNet.js';
import { mackeyGlass } from '../src/evolve/mackeyGlass.js';
import { leastSquares, pinv } from '../src/evolve/pinv.js';
import { EvalPool } from '../src/evolve/pool.js';
import { LSTM } from '../src/nn/lstm.js';
import { policyConfigFor, RecurrentPolicy } from '../src/rl/policy.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/random.js';

const randomGenome = (n: number, seed: number, scale = 1) => { const r = new Rng(seed); return Float64Array.from({ length: n }, () => r.uniform(-scale, scale)); };

describe('evolve: the Float64 LSTM step', () => {
  it('equals nn.LSTM forward with the same weights to 1e-12 (reference backend, f64)', async () => {
    const backend = await loadBackend('reference');
    const I = 3, H = 5, T = 30;
    const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend, dtype: 'f64', rng: new Rng(1) });
    const layout = genomeLayout(lstm);
    const genome = randomGenome(layout.size, 2, 1.5);
    writeGenome(lstm, genome);
    assert.deepEqual([...await readGenome(lstm)], [...genome]);
    const xs = randomGenome(T * I, 3, 2);
    const y = lstm.forward(new Tensor(backend.upload('f64', xs), [T, 1, I])).y.dataSync();
    const net = new LstmNet(genome, layout, { lstm: '' });
    let worst = 0;
    for (let t = 0; t < T; t++) {
      const h = net.step(xs.subarray(t * I, (t + 1) * I));
      for (let j = 0; j < H; j++) worst = Math.max(worst, Math.abs(h[j] - y[t * H + j]));
    }
    assert.ok(worst < 1e-12, `max |difference| ${worst}`);
  });

  it("the evolved controller's actions equal RecurrentPolicy's greedy actions step by step (continuous and discrete)", async () => {
    const backend = await loadBackend('reference');
    for (const [env, options] of [['double-pole', { velocities: false }], ['cart-pole', { velocities: false }]] as const) {
      const config = policyConfigFor(env, options, 'lstm', 4, false);
      const policy = new RecurrentPolicy(config, { backend, dtype: 'f64', rng: new Rng(4) });
      // The genome covers exactly the policy's rnn.* and head.* parameters, in its order.
      const evolved = genomeLayout(policy).slices.filter((s) => isEvolved(s.name));
      const layout = controlLayout(4, config.observation, config.action);
      assert.deepEqual(layout.slices.map((s) => [s.name, s.shape]), evolved.map((s) => [s.name, s.shape]));
      const genome = randomGenome(layout.size, 5, 1);
      policy.loadStateDict(new Map(layout.slices.map((s) => [s.name, { shape: s.shape, data: genome.subarray(s.offset, s.offset + s.size) }])), false);
      const ctrl = new Controller(genome, 4, config.observation, config.action);
      const obs = randomGenome(20 * config.observation, 6, 1);
      const out = policy.forward(new Tensor(backend.upload('f64', obs), [20, 1, config.observation])).out.dataSync();
      const A = config.action.kind === 'discrete' ? config.action.n : 1;
      for (let t = 0; t < 20; t++) {
        const a = ctrl.act(obs.subarray(t * config.observation, (t + 1) * config.observation));
        if (config.action.kind === 'discrete') {
          const row = out.subarray(t * A, (t + 1) * A);
          assert.equal(a, row.indexOf(Math.max(...row)), `step ${t}`);
        } else {
          assert.ok(Math.abs((a as Float64Array)[0] - out[t]) < 1e-12, `step ${t}: ${(a as Float64Array)[0]} vs ${out[t]}`);
        }
      }
    }
  });

  it("Evolino's layout is nn.LSTM(1, H)'s", () => {
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 7 }, { rng: new Rng(1) });
    assert.deepEqual(evolinoLayout(7), genomeLayout(lstm));
  });

  it('a genome of the wrong length is refused by name', () => {
    const lstm = new LSTM({ inputSize: 1, hiddenSize: 2 }, { rng: new Rng(1) });
    assert.throws(() => writeGenome(lstm, new Float64Array(3)), /genome: expected 40 values for this module, got 3/);
  });
});

/** Gaussian elimination with partial pivoting: the direct solve pinv is checked against. */
function solve(A: Float64Array, b: Float64Array, n: number): Float64Array {
  const M = A.slice(), x = b.slice();
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * n + c]) > Math.abs(M[p * n + c])) p = r;
    for (let k = 0; k < n; k++) [M[c * n + k], M[p * n + k]] = [M[p * n + k], M[c * n + k]];
    [x[c], x[p]] = [x[p], x[c]];
    for (let r = c + 1; r < n; r++) { const f = M[r * n + c] / M[c * n + c]; for (let k = c; k < n; k++) M[r * n + k] -= f * M[c * n + k]; x[r] -= f * x[c]; }
  }
  for (let r = n - 1; r >= 0; r--) { let s = x[r]; for (let k = r + 1; k < n; k++) s -= M[r * n + k] * x[k]; x[r] = s / M[r * n + r]; }
  return x;
}

const matmul = (A: Float64Array, B: Float64Array, m: number, k: number, n: number) => {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) C[i * n + j] += A[i * k + p] * B[p * n + j];
  return C;
};
const maxDiff = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('evolve: pseudo-inverse (one-sided Jacobi SVD)', () => {
  it('pinv(A) b equals the direct solve of a square full-rank system', () => {
    const n = 8, A = randomGenome(n * n, 11), b = randomGenome(n, 12);
    const x = matmul(pinv(A, n, n), b, n, n, 1);
    assert.ok(maxDiff(x, solve(A, b, n)) < 1e-10);
  });

  it('meets the four Moore-Penrose conditions on a rank-deficient 30x6 matrix (rank 4)', () => {
    const m = 30, n = 6, L = randomGenome(m * 4, 13), R = randomGenome(4 * n, 14);
    const A = matmul(L, R, m, 4, n), P = pinv(A, m, n);
    assert.ok(maxDiff(matmul(matmul(A, P, m, n, m), A, m, m, n), A) < 1e-10, 'A A+ A = A');
    assert.ok(maxDiff(matmul(matmul(P, A, n, m, n), P, n, n, m), P) < 1e-10, 'A+ A A+ = A+');
    const AP = matmul(A, P, m, n, m), PA = matmul(P, A, n, m, n);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) assert.ok(Math.abs(AP[i * m + j] - AP[j * m + i]) < 1e-10);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) assert.ok(Math.abs(PA[i * n + j] - PA[j * n + i]) < 1e-10);
  });

  it('least squares: the residual is orthogonal to the columns (the normal equations hold)', () => {
    const m = 50, n = 5, A = randomGenome(m * n, 15), y = randomGenome(m, 16);
    const w = leastSquares(A, m, n, y, 1);
    const r = matmul(A, w, m, n, 1).map((v, i) => v - y[i]);
    for (let j = 0; j < n; j++) { let s = 0; for (let i = 0; i < m; i++) s += A[i * n + j] * r[i]; assert.ok(Math.abs(s) < 1e-10, `column ${j}: ${s}`); }
  });
});

describe('evolve: Mackey-Glass', () => {
  it('x = 1 is a fixed point (0.2 / (1 + 1) = 0.1)', () => {
    const x = mackeyGlass({ length: 200, x0: 1 });
    assert.ok(x.every((v) => Math.abs(v - 1) < 1e-14));
  });

  it('the fixed point is stable below the delay tau = 4.71 the linearisation gives, and oscillates above it', () => {
    // x' = -0.1 x - 0.4 x(t - tau) near 1: a Hopf bifurcation at cos(w tau) = -1/4, w = 0.4 sin(w tau), tau = 4.708.
    const below = mackeyGlass({ tau: 4, length: 100, discard: 2000 });
    const above = mackeyGlass({ tau: 5.5, length: 100, discard: 2000 });
    assert.ok(below.every((v) => Math.abs(v - 1) < 1e-3), `tau 4 ends at ${below[99]}`);
    assert.ok(Math.max(...above) - Math.min(...above) > 0.05, `tau 5.5 swings ${Math.max(...above) - Math.min(...above)}`);
  });

  it('tau 17: fourth-order convergence in dt, and the chaotic attractor in its known range (about 0.2 to 1.4)', () => {
    const a = mackeyGlass({ length: 100, dt: 0.1 }), b = mackeyGlass({ length: 100, dt: 0.05 }), c = mackeyGlass({ length: 100, dt: 0.025 });
    const e1 = maxDiff(a, c), e2 = maxDiff(b, c);
    assert.ok(e1 < 1e-3 && e2 < e1 / 4, `errors ${e1}, ${e2}`);
    const x = mackeyGlass({ length: 3000, discard: 1000 });
    assert.ok(Math.min(...x) > 0.15 && Math.min(...x) < 0.5 && Math.max(...x) > 1.2 && Math.max(...x) < 1.45, `range ${Math.min(...x)}..${Math.max(...x)}`);
    assert.throws(() => mackeyGlass({ tau: 17.05, length: 10 }), /expected tau a positive multiple of dt 0.1, got 17.05/);
  });
});

describe('evolve: Evolino readout', () => {
  it('the solved readout is the least-squares one: any change to it raises the teacher-forced error', () => {
    const task: EvolinoTask = { kind: 'sines', waves: 2, hidden: 4, washout: 20, train: 120, freeRun: 20, test: 30 };
    const series = evolinoSeries(task), genome = randomGenome(evolinoLayout(4).size, 21, 0.5);
    const r = evolinoEvaluate(task, series, genome);
    assert.equal(series[5], Math.sin(0.2 * 5) + Math.sin(0.311 * 5));
    // Recompute the teacher-forced error of a perturbed readout from the same states.
    const net = new LstmNet(genome, evolinoLayout(4), { lstm: '' });
    const states: Float64Array[] = [];
    for (let t = 0; t < task.train; t++) { const h = net.step([series[t]]); if (t >= task.washout) states.push(Float64Array.from([...h, series[t], 1])); }
    const mse = (w: Float64Array) => states.reduce((s, h, r) => s + (h.reduce((a, v, k) => a + v * w[k], 0) - series[task.washout + r + 1]) ** 2, 0) / states.length;
    assert.ok(Math.abs(mse(r.readout) - r.trainMse) < 1e-12);
    for (let k = 0; k < 6; k++) for (const d of [1e-3, -1e-3]) { const w = r.readout.slice(); w[k] += d; assert.ok(mse(w) > r.trainMse); }
  });
});

describe('evolve: worker pool', () => {
  it('the same costs with 1 and 2 workers, in genome order; a failing fitness is reported by genome', async () => {
    const spec = { module: new URL('../src/evolve/control.js', import.meta.url).href, factory: 'controlFitness', config: { env: 'cart-pole', envOptions: { velocities: true, maxSteps: 200 }, hidden: 2, fitness: 'return', episodes: 2 } };
    const genomes = Array.from({ length: 9 }, (_, i) => randomGenome(controlLayout(2, 4, { kind: 'discrete', n: 2 }).size, 30 + i, 2));
    const seeds = genomes.map((_, i) => i % 3);
    const one = await EvalPool.create(spec, 1), two = await EvalPool.create(spec, 2);
    try {
      const a = await one.evaluate(genomes, seeds), b = await two.evaluate(genomes, seeds);
      assert.deepEqual(b, a);
      const direct = controlFitness(spec.config as Parameters<typeof controlFitness>[0]);
      assert.deepEqual(a, genomes.map((g, i) => direct(g, seeds[i])));
      assert.ok(new Set(a).size > 1, `costs differ between genomes: ${a}`);
      await assert.rejects(two.evaluate([new Float64Array(3)]), /fitness of genome 0: LstmNet: expected a genome of \d+ values, got 3/);
    } finally { await one.close(); await two.close(); }
  });
});
