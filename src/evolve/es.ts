/**
 * The (mu/mu_I, lambda)-ES with self-adaptive step sizes (Schwefel; Beyer & Schwefel 2002,
 * "Evolution strategies: a comprehensive introduction", section 4): each offspring's step size is
 * the parents' (geometric) mean times exp(tau N(0, 1)), tau = 1 / sqrt(2 n), and its genome the
 * parents' mean plus that step times N(0, I). The mu best offspring are the next parents (comma
 * selection: parents never survive). Minimises. A baseline beside CMA-ES: no covariance learned.
 */
import type { Rng } from '../tensor/random.js';
import { checkCosts, rank, type Optimizer } from './optimizer.js';

export interface EsOptions {
  mean: ArrayLike<number>;
  sigma: number;
  /** Offspring per generation (default 4 + floor(3 ln n), as CMA-ES). */
  lambda?: number;
  /** Parents (default lambda / 4, at least 1). */
  mu?: number;
  rng: Rng;
}

export class MuLambdaEs implements Optimizer {
  readonly name = '(mu,lambda)-ES';
  readonly dim: number;
  readonly lambda: number;
  readonly mu: number;
  readonly tau: number;
  generation = 0;
  /** The parents' centroid. */
  mean: Float64Array;
  /** The parents' step size (geometric mean of theirs). */
  sigma: number;
  private readonly rng: Rng;
  private sigmas: number[] = [];
  private xs: Float64Array[] = [];

  constructor(o: EsOptions) {
    const n = o.mean.length;
    if (n < 1) throw new Error('MuLambdaEs: expected a mean of at least one coordinate, got none');
    if (!(o.sigma > 0) || !Number.isFinite(o.sigma)) throw new Error(`MuLambdaEs: expected sigma > 0, got ${o.sigma}`);
    this.lambda = o.lambda ?? 4 + Math.floor(3 * Math.log(n));
    this.mu = o.mu ?? Math.max(1, Math.floor(this.lambda / 4));
    if (!Number.isInteger(this.lambda) || !Number.isInteger(this.mu) || this.mu < 1 || this.mu >= this.lambda) {
      throw new Error(`MuLambdaEs: expected integers 1 <= mu < lambda, got mu ${this.mu}, lambda ${this.lambda}`);
    }
    this.dim = n; this.rng = o.rng; this.tau = 1 / Math.sqrt(2 * n);
    this.mean = Float64Array.from(o.mean); this.sigma = o.sigma;
  }

  ask(): Float64Array[] {
    this.xs = []; this.sigmas = [];
    for (let k = 0; k < this.lambda; k++) {
      const s = this.sigma * Math.exp(this.tau * this.rng.normal());
      const x = new Float64Array(this.dim);
      for (let i = 0; i < this.dim; i++) x[i] = this.mean[i] + s * this.rng.normal();
      this.xs.push(x); this.sigmas.push(s);
    }
    return this.xs.map((x) => x.slice());
  }

  tell(costs: readonly number[]): void {
    checkCosts(this.name, costs, this.lambda);
    if (this.xs.length !== this.lambda) throw new Error('MuLambdaEs.tell: call ask() first');
    const best = rank(costs).slice(0, this.mu);
    this.mean = new Float64Array(this.dim);
    let logS = 0;
    for (const k of best) {
      for (let i = 0; i < this.dim; i++) this.mean[i] += this.xs[k][i] / this.mu;
      logS += Math.log(this.sigmas[k]) / this.mu;
    }
    this.sigma = Math.exp(logS);
    this.generation++;
    this.xs = []; this.sigmas = [];
  }
}
