/**
 * CMA-ES, as in Hansen's tutorial ("The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772,
 * 2016), with its default parameters (Table 1): recombination weights w'_i = ln((lambda+1)/2) - ln i,
 * the negative ones included (active CMA, scaled by alpha_mu^-, alpha_mueff^- and alpha_posdef^-),
 * c_sigma, d_sigma, c_c, c_1, c_mu, the h_sigma stall of p_c, and the eigendecomposition of C
 * only every max(1, floor(1 / (10 n (c_1 + c_mu)))) generations (it costs O(n^3), the rest O(n^2)
 * per genome). Minimises.
 */
import type { Rng } from '../tensor/random.js';
import { symmetricEigenQL } from './eigen.js';
import { checkCosts, rank, type Optimizer } from './optimizer.js';

export interface CmaEsOptions {
  /** Starting mean (its length is the dimension). */
  mean: ArrayLike<number>;
  /** Starting step size (> 0): about a quarter of the range the optimum may lie in, per coordinate. */
  sigma: number;
  /** Population size (default 4 + floor(3 ln n)). */
  lambda?: number;
  rng: Rng;
}

export class CmaEs implements Optimizer {
  readonly name = 'CMA-ES';
  readonly dim: number;
  readonly lambda: number;
  readonly mu: number;
  /** Recombination weights [lambda]: the first mu positive, summing to 1; the rest negative (active update). */
  readonly weights: Float64Array;
  readonly muEff: number;
  readonly cSigma: number;
  readonly dSigma: number;
  readonly cc: number;
  readonly c1: number;
  readonly cMu: number;
  /** Generations between eigendecompositions of C. */
  readonly eigenEvery: number;
  generation = 0;
  mean: Float64Array;
  sigma: number;
  /** [n, n] row-major covariance. */
  readonly C: Float64Array;
  /** C = B diag(D^2) B^T: B [n, n] (columns eigenvectors), D [n] (square roots of the eigenvalues). */
  private B: Float64Array;
  private D: Float64Array;
  private readonly pSigma: Float64Array;
  private readonly pc: Float64Array;
  private readonly chiN: number;
  private readonly rng: Rng;
  private eigenAt = 0;
  /** The last ask's standard normal draws z [lambda][n] and genomes, for tell. */
  private z: Float64Array[] = [];
  private xs: Float64Array[] = [];

  constructor(o: CmaEsOptions) {
    const n = o.mean.length;
    if (n < 1) throw new Error('CmaEs: expected a mean of at least one coordinate, got none');
    if (!(o.sigma > 0) || !Number.isFinite(o.sigma)) throw new Error(`CmaEs: expected sigma > 0, got ${o.sigma}`);
    const lambda = o.lambda ?? 4 + Math.floor(3 * Math.log(n));
    if (!Number.isInteger(lambda) || lambda < 2) throw new Error(`CmaEs: expected lambda an integer >= 2, got ${o.lambda}`);
    this.dim = n; this.lambda = lambda; this.rng = o.rng;
    this.mean = Float64Array.from(o.mean); this.sigma = o.sigma;
    const mu = this.mu = Math.floor(lambda / 2);
    const raw = Array.from({ length: lambda }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
    const pos = raw.slice(0, mu), neg = raw.slice(mu);
    const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
    const muEff = this.muEff = sum(pos) ** 2 / sum(pos.map((v) => v * v));
    const muEffMinus = neg.length ? sum(neg) ** 2 / sum(neg.map((v) => v * v)) : 0;
    const alphaCov = 2;
    this.cc = (4 + muEff / n) / (n + 4 + (2 * muEff) / n);
    this.cSigma = (muEff + 2) / (n + muEff + 5);
    this.dSigma = 1 + 2 * Math.max(0, Math.sqrt((muEff - 1) / (n + 1)) - 1) + this.cSigma;
    this.c1 = alphaCov / ((n + 1.3) ** 2 + muEff);
    this.cMu = Math.min(1 - this.c1, (alphaCov * (muEff - 2 + 1 / muEff)) / ((n + 2) ** 2 + (alphaCov * muEff) / 2));
    const alphaMuMinus = 1 + this.c1 / this.cMu;
    const alphaMuEffMinus = 1 + (2 * muEffMinus) / (muEff + 2);
    const alphaPosDef = (1 - this.c1 - this.cMu) / (n * this.cMu);
    const negScale = Math.min(alphaMuMinus, alphaMuEffMinus, alphaPosDef) / -sum(neg);
    this.weights = Float64Array.from(raw, (v, i) => (i < mu ? v / sum(pos) : v * negScale));
    this.eigenEvery = Math.max(1, Math.floor(1 / (10 * n * (this.c1 + this.cMu))));
    this.chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
    this.C = new Float64Array(n * n); this.B = new Float64Array(n * n); this.D = new Float64Array(n).fill(1);
    for (let i = 0; i < n; i++) { this.C[i * n + i] = 1; this.B[i * n + i] = 1; }
    this.pSigma = new Float64Array(n); this.pc = new Float64Array(n);
  }

  /** The axis lengths' ratio sqrt(max eigenvalue / min eigenvalue) of C (at the last decomposition). */
  get conditionSqrt(): number { return Math.max(...this.D) / Math.min(...this.D); }

  ask(): Float64Array[] {
    const n = this.dim, { B, D } = this;
    this.z = []; this.xs = [];
    const bdz = new Float64Array(n);
    for (let k = 0; k < this.lambda; k++) {
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) z[i] = this.rng.normal();
      for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += B[i * n + j] * D[j] * z[j]; bdz[i] = s; }
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = this.mean[i] + this.sigma * bdz[i];
      this.z.push(z); this.xs.push(x);
    }
    return this.xs.map((x) => x.slice());
  }

  tell(costs: readonly number[]): void {
    checkCosts(this.name, costs, this.lambda);
    if (this.xs.length !== this.lambda) throw new Error('CmaEs.tell: call ask() first');
    const n = this.dim, { B, D, weights: w, C } = this;
    const order = rank(costs);
    // y_i = (x_i - m) / sigma = B D z_i, sorted by cost.
    const y = order.map((k) => { const v = new Float64Array(n); for (let i = 0; i < n; i++) v[i] = (this.xs[k][i] - this.mean[i]) / this.sigma; return v; });
    const zs = order.map((k) => this.z[k]);
    const yw = new Float64Array(n), zw = new Float64Array(n);
    for (let r = 0; r < this.mu; r++) for (let i = 0; i < n; i++) { yw[i] += w[r] * y[r][i]; zw[i] += w[r] * zs[r][i]; }
    for (let i = 0; i < n; i++) this.mean[i] += this.sigma * yw[i]; // c_m = 1
    // C^(-1/2) y_w = B z_w (z_w is D^-1 B^T y_w, the weighted draws themselves).
    const csn = Math.sqrt(this.cSigma * (2 - this.cSigma) * this.muEff);
    for (let i = 0; i < n; i++) { let s = 0; for (let j = 0; j < n; j++) s += B[i * n + j] * zw[j]; this.pSigma[i] = (1 - this.cSigma) * this.pSigma[i] + csn * s; }
    const psNorm = Math.hypot(...this.pSigma);
    this.generation++;
    const hSigma = psNorm / Math.sqrt(1 - (1 - this.cSigma) ** (2 * this.generation)) < (1.4 + 2 / (n + 1)) * this.chiN ? 1 : 0;
    const ccn = Math.sqrt(this.cc * (2 - this.cc) * this.muEff);
    for (let i = 0; i < n; i++) this.pc[i] = (1 - this.cc) * this.pc[i] + hSigma * ccn * yw[i];
    // Negative weights are rescaled by n / ||C^(-1/2) y_i||^2 = n / ||z_i||^2, so they never make C indefinite.
    const wc = Float64Array.from(w, (v, r) => (v >= 0 ? v : (v * n) / zs[r].reduce((s, t) => s + t * t, 0)));
    const sumW = w.reduce((s, v) => s + v, 0);
    const decay = 1 + this.c1 * (1 - hSigma) * this.cc * (2 - this.cc) - this.c1 - this.cMu * sumW;
    for (let i = 0; i < n; i++) {
      for (let j = i; j < n; j++) {
        let rankMu = 0;
        for (let r = 0; r < this.lambda; r++) rankMu += wc[r] * y[r][i] * y[r][j];
        const v = decay * C[i * n + j] + this.c1 * this.pc[i] * this.pc[j] + this.cMu * rankMu;
        C[i * n + j] = C[j * n + i] = v;
      }
    }
    this.sigma *= Math.exp((this.cSigma / this.dSigma) * (psNorm / this.chiN - 1));
    if (!Number.isFinite(this.sigma) || this.sigma <= 0) throw new Error(`CmaEs: step size left (0, inf): ${this.sigma} at generation ${this.generation}`);
    if (this.generation - this.eigenAt >= this.eigenEvery) this.decompose();
    this.xs = []; this.z = [];
  }

  private decompose(): void {
    const { values, vectors } = symmetricEigenQL(this.C, this.dim);
    // Rounding can leave a tiny negative eigenvalue; C is positive definite in exact arithmetic.
    const floor = Math.max(...values) * 1e-20;
    this.D = Float64Array.from(values, (v) => Math.sqrt(Math.max(v, floor)));
    this.B = vectors;
    this.eigenAt = this.generation;
  }
}
