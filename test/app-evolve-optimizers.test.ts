// The evolution strategies against known results: the Jacobi eigensolver against matrices with
// known spectra; CMA-ES (Hansen's defaults) reaching 1e-10 on the sphere and on Rosenbrock (whose
// minimum, 0 at (1, ..., 1), is known, and which needs the covariance to be learned: a strategy
// without it is far slower there), and its published-scale evaluation counts; the (mu, lambda)-ES
// on the sphere.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CmaEs } from '../src/evolve/cmaes.js';
import { symmetricEigen, symmetricEigenQL } from '../src/evolve/eigen.js';
import { MuLambdaEs } from '../src/evolve/es.js';
import type { Optimizer } from '../src/evolve/optimizer.js';
import { Rng } from '../src/tensor/random.js';

const sphere = (x: Float64Array) => x.reduce((s, v) => s + v * v, 0);
const rosenbrock = (x: Float64Array) => {
  let s = 0;
  for (let i = 0; i < x.length - 1; i++) s += 100 * (x[i + 1] - x[i] * x[i]) ** 2 + (1 - x[i]) ** 2;
  return s;
};
/** An ill-conditioned ellipsoid, condition 1e6: sum 1e6^(i/(n-1)) x_i^2. */
const ellipsoid = (x: Float64Array) => x.reduce((s, v, i) => s + 1e6 ** (i / (x.length - 1)) * v * v, 0);

/** Run until the best cost is below target or the budget ends; the evaluations used, and the best. */
function minimise(opt: Optimizer, f: (x: Float64Array) => number, target: number, maxEvals: number): { evals: number; best: number } {
  let evals = 0, best = Infinity;
  while (evals < maxEvals) {
    const xs = opt.ask(), costs = xs.map(f);
    evals += xs.length;
    best = Math.min(best, ...costs);
    if (best < target) break;
    opt.tell(costs);
  }
  return { evals, best };
}

for (const [name, eig] of [['Jacobi', symmetricEigen], ['Householder + QL', symmetricEigenQL]] as const) describe(`evolve: symmetric eigensolver (${name})`, () => {
  it('finds the known spectrum of a rotated diagonal matrix and orthonormal eigenvectors', () => {
    const n = 7, rng = new Rng(5);
    // Q from Gram-Schmidt on random vectors; A = Q diag(lam) Q^T.
    const Q = new Float64Array(n * n);
    for (let j = 0; j < n; j++) {
      const v = Array.from({ length: n }, () => rng.normal());
      for (let k = 0; k < j; k++) { let d = 0; for (let i = 0; i < n; i++) d += v[i] * Q[i * n + k]; for (let i = 0; i < n; i++) v[i] -= d * Q[i * n + k]; }
      const nv = Math.hypot(...v);
      for (let i = 0; i < n; i++) Q[i * n + j] = v[i] / nv;
    }
    const lam = [-3, 1e-9, 0.5, 2, 2, 7, 100];
    const A = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let k = 0; k < n; k++) s += Q[i * n + k] * lam[k] * Q[j * n + k]; A[i * n + j] = s; }
    const { values, vectors: V } = eig(A, n);
    lam.forEach((l, i) => assert.ok(Math.abs(values[i] - l) < 1e-12 * 100, `eigenvalue ${i}: ${values[i]} vs ${l}`));
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        let d = 0; for (let i = 0; i < n; i++) d += V[i * n + a] * V[i * n + b];
        assert.ok(Math.abs(d - (a === b ? 1 : 0)) < 1e-12, `V^T V (${a}, ${b}) = ${d}`);
      }
      // A v = lambda v
      for (let i = 0; i < n; i++) { let s = 0; for (let k = 0; k < n; k++) s += A[i * n + k] * V[k * n + a]; assert.ok(Math.abs(s - values[a] * V[i * n + a]) < 1e-10); }
    }
  });

  it('the 2x2 case by formula, a diagonal matrix, and a bad input is named', () => {
    const { values } = eig([2, 1, 1, 2], 2);
    assert.deepEqual([...values].map((v) => Math.round(v * 1e12) / 1e12), [1, 3]);
    assert.deepEqual([...eig([3, 0, 0, 0, -1, 0, 0, 0, 2], 3).values], [-1, 2, 3]);
    assert.throws(() => eig([1, 2, 3], 2), /expected 4 values for a 2x2 matrix, got 3/);
  });
});

it('evolve: Jacobi and QL agree on a random 40x40 covariance (eigenvalues to 1e-10 relative)', () => {
  const n = 40, rng = new Rng(9), X = Array.from({ length: 60 * n }, () => rng.normal()), A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { let s = 0; for (let r = 0; r < 60; r++) s += X[r * n + i] * X[r * n + j]; A[i * n + j] = s; }
  const a = symmetricEigen(A, n).values, b = symmetricEigenQL(A, n).values;
  for (let i = 0; i < n; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-10 * Math.abs(a[n - 1]), `eigenvalue ${i}: ${a[i]} vs ${b[i]}`);
});

describe('evolve: CMA-ES', () => {
  it("uses the tutorial's default parameters (n = 10: lambda 10, mu 5, mu_eff ~3.17)", () => {
    const es = new CmaEs({ mean: new Float64Array(10), sigma: 1, rng: new Rng(1) });
    assert.equal(es.lambda, 10); assert.equal(es.mu, 5);
    assert.ok(Math.abs(es.muEff - 3.1672) < 1e-3, `mu_eff ${es.muEff}`);
    const pos = es.weights.slice(0, 5).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(pos - 1) < 1e-15);
    assert.ok(es.weights.slice(5).every((v) => v < 0), 'active CMA: negative weights for the worse half');
    assert.ok(Math.abs(es.cSigma - (es.muEff + 2) / (10 + es.muEff + 5)) < 1e-15);
    assert.ok(Math.abs(es.c1 - 2 / (11.3 ** 2 + es.muEff)) < 1e-15);
  });

  it('sphere, n = 10: 1e-10 within the evaluations Hansen reports (about 1,500 at this target)', () => {
    const r = minimise(new CmaEs({ mean: new Float64Array(10).fill(3), sigma: 2, rng: new Rng(7) }), sphere, 1e-10, 4000);
    assert.ok(r.best < 1e-10, `best ${r.best} after ${r.evals}`);
    assert.ok(r.evals < 2500, `${r.evals} evaluations`);
  });

  it('Rosenbrock, n = 6: the known minimum 0 at (1, ..., 1) to 1e-10', () => {
    const es = new CmaEs({ mean: new Float64Array(6), sigma: 0.5, rng: new Rng(3) });
    const r = minimise(es, rosenbrock, 1e-10, 20_000);
    assert.ok(r.best < 1e-10, `best ${r.best} after ${r.evals}`);
    for (const v of es.mean) assert.ok(Math.abs(v - 1) < 1e-3, `mean ${[...es.mean]}`);
  });

  it('learns the covariance: on an ellipsoid of condition 1e6 the axis ratio of C nears 1e3', () => {
    const es = new CmaEs({ mean: new Float64Array(5).fill(1), sigma: 1, rng: new Rng(11) });
    const r = minimise(es, ellipsoid, 1e-10, 20_000);
    assert.ok(r.best < 1e-10, `best ${r.best}`);
    assert.ok(es.conditionSqrt > 300 && es.conditionSqrt < 3000, `sqrt condition ${es.conditionSqrt}`);
  });

  it('tell checks its input', () => {
    const es = new CmaEs({ mean: [0, 0], sigma: 1, rng: new Rng(1) });
    es.ask();
    assert.throws(() => es.tell([1, 2]), /expected 6 costs \(one per genome of the last ask\), got 2/);
    assert.throws(() => new CmaEs({ mean: [0], sigma: 0, rng: new Rng(1) }), /expected sigma > 0, got 0/);
  });
});

describe('evolve: (mu, lambda)-ES', () => {
  it('sphere, n = 5: 1e-8 by self-adapted steps, the step size shrinking with the distance', () => {
    const es = new MuLambdaEs({ mean: new Float64Array(5).fill(2), sigma: 1, lambda: 20, mu: 5, rng: new Rng(2) });
    const r = minimise(es, sphere, 1e-8, 20_000);
    assert.ok(r.best < 1e-8, `best ${r.best} after ${r.evals}`);
    assert.ok(es.sigma < 1e-3, `sigma ${es.sigma}`);
  });

  it('without covariance it is much slower than CMA-ES on the ellipsoid (the reason CMA-ES is the default)', () => {
    const es = minimise(new MuLambdaEs({ mean: new Float64Array(5).fill(1), sigma: 1, lambda: 20, mu: 5, rng: new Rng(4) }), ellipsoid, 1e-8, 30_000);
    const cma = minimise(new CmaEs({ mean: new Float64Array(5).fill(1), sigma: 1, rng: new Rng(4) }), ellipsoid, 1e-8, 30_000);
    assert.ok(cma.best < 1e-8);
    assert.ok(es.evals > 3 * cma.evals, `ES ${es.evals} vs CMA-ES ${cma.evals} evaluations`);
  });
});
