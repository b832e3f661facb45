/**
 * Enforced SubPopulations (ESP; Gomez & Miikkulainen 1999, as used by Evolino, Schmidhuber et
 * al. 2007): the genome is split into blocks (for Evolino: one LSTM cell's weights each) and every
 * block has its own subpopulation of partial solutions. A generation assembles `trials * size`
 * networks: in each trial every subpopulation is shuffled and network k takes the k-th individual
 * of each, so every individual takes part in exactly `trials` networks. An individual's cost is
 * the best (or mean) cost of its networks. Then, in every subpopulation, the best quarter is kept
 * and the rest is replaced by one-point crossovers of two of those parents, each gene mutated with
 * probability `mutationRate` by Cauchy noise of scale `mutation`.
 *
 * Burst mutation: after `burstPatience` generations without a better network, every subpopulation
 * is rebuilt around its block of the best network found so far (that block itself plus Cauchy
 * perturbations of it, scale `burst`). `decay` (default 1: fixed scales, as ESP) multiplies both
 * scales at each burst, so a run can refine below the fixed Cauchy scale.
 *
 * Implements Optimizer, so run.ts's loop and the worker pool evaluate it like CMA-ES: the
 * assembled networks are the genomes of ask(), their costs told back in order; a run is a pure
 * function of the seed and the costs, whatever the number of workers.
 */
import type { Rng } from '../tensor/random.js';
import { checkCosts, rank, type Optimizer } from './optimizer.js';

export interface EspOptions {
  dim: number;
  /** Genome indices of each block (one subpopulation each); together they cover 0..dim-1 once. */
  blocks: readonly (readonly number[])[];
  /** Individuals per subpopulation (default 20). */
  size?: number;
  /** Networks each individual takes part in per generation (default 10). */
  trials?: number;
  /** An individual's cost: the best (default) or the mean cost of its networks. */
  credit?: 'best' | 'mean';
  /** Initial genes uniform in [-init, init] (default 0.1). */
  init?: number;
  /** Cauchy scale of the offspring's mutation (default 0.3). */
  mutation?: number;
  /** Probability that an offspring's gene is mutated (default 0.4). */
  mutationRate?: number;
  /** Generations without a better network before a burst mutation (default 20). */
  burstPatience?: number;
  /** Cauchy scale of a burst mutation (default: mutation). */
  burst?: number;
  /** Factor on both scales at each burst (default 1). */
  decay?: number;
  rng: Rng;
}

export class Esp implements Optimizer {
  readonly name = 'ESP';
  readonly dim: number;
  readonly lambda: number;
  readonly size: number;
  readonly trials: number;
  generation = 0;
  /** Burst mutations so far. */
  bursts = 0;
  private readonly blocks: readonly (readonly number[])[];
  private readonly o: Required<Omit<EspOptions, 'rng' | 'blocks' | 'dim'>>;
  private readonly rng: Rng;
  /** subpops[b][i]: individual i of block b (its genes, in the block's index order). */
  private subpops: Float64Array[][];
  /** picks[net][b]: which individual of block b network `net` of the last ask took. */
  private picks: Int32Array[] = [];
  private bestCost = Infinity;
  private bestGenome: Float64Array;
  private lastImprovement = 0;
  private scale: number;
  private burstScale: number;

  constructor(o: EspOptions) {
    const seen = new Uint8Array(o.dim);
    for (const b of o.blocks) {
      if (b.length < 1) throw new Error('Esp: expected every block to hold at least one index, got an empty block');
      for (const i of b) {
        if (!Number.isInteger(i) || i < 0 || i >= o.dim || seen[i]) throw new Error(`Esp: expected blocks covering 0..${o.dim - 1} once each, got index ${i} ${seen[i] ? 'twice' : 'out of range'}`);
        seen[i] = 1;
      }
    }
    const missing = seen.indexOf(0);
    if (missing >= 0) throw new Error(`Esp: expected blocks covering 0..${o.dim - 1} once each, got index ${missing} in none`);
    this.o = {
      size: o.size ?? 20, trials: o.trials ?? 10, credit: o.credit ?? 'best', init: o.init ?? 0.1,
      mutation: o.mutation ?? 0.3, mutationRate: o.mutationRate ?? 0.4, burstPatience: o.burstPatience ?? 20,
      burst: o.burst ?? o.mutation ?? 0.3, decay: o.decay ?? 1,
    };
    const { size, trials, mutation, mutationRate, burstPatience, decay } = this.o;
    if (!Number.isInteger(size) || size < 4) throw new Error(`Esp: expected a subpopulation size an integer >= 4, got ${size}`);
    if (!Number.isInteger(trials) || trials < 1) throw new Error(`Esp: expected trials an integer >= 1, got ${trials}`);
    if (!(mutation > 0) || !(this.o.burst > 0)) throw new Error(`Esp: expected mutation and burst scales > 0, got ${mutation} and ${this.o.burst}`);
    if (!(mutationRate > 0 && mutationRate <= 1)) throw new Error(`Esp: expected mutationRate in (0, 1], got ${mutationRate}`);
    if (!Number.isInteger(burstPatience) || burstPatience < 1) throw new Error(`Esp: expected burstPatience an integer >= 1, got ${burstPatience}`);
    if (!(decay > 0 && decay <= 1)) throw new Error(`Esp: expected decay in (0, 1], got ${decay}`);
    this.dim = o.dim; this.blocks = o.blocks; this.rng = o.rng;
    this.size = size; this.trials = trials; this.lambda = size * trials;
    this.scale = mutation; this.burstScale = this.o.burst;
    this.subpops = o.blocks.map((b) => Array.from({ length: size }, () => Float64Array.from(b, () => o.rng.uniform(-this.o.init, this.o.init))));
    this.bestGenome = this.assemble(o.blocks.map(() => 0));
  }

  /** The best network found so far (before any tell: the first individuals assembled). */
  get mean(): Float64Array { return this.bestGenome; }
  /** The current Cauchy scale of the offspring's mutation. */
  get sigma(): number { return this.scale; }

  ask(): Float64Array[] {
    this.picks = [];
    const B = this.blocks.length, n = this.size;
    for (let t = 0; t < this.trials; t++) {
      const perms = this.blocks.map(() => this.rng.shuffle(Array.from({ length: n }, (_, i) => i)));
      for (let k = 0; k < n; k++) this.picks.push(Int32Array.from({ length: B }, (_, b) => perms[b][k]));
    }
    return this.picks.map((p) => this.assemble(p));
  }

  tell(costs: readonly number[]): void {
    checkCosts(this.name, costs, this.lambda);
    if (this.picks.length !== this.lambda) throw new Error('Esp.tell: expected a call to ask() first');
    const B = this.blocks.length, n = this.size, best = this.o.credit === 'best';
    // Per-individual credit from the networks it took part in.
    const credit = this.blocks.map(() => new Float64Array(n).fill(best ? Infinity : 0));
    let k = 0;
    for (let i = 1; i < costs.length; i++) if (costs[i] < costs[k]) k = i;
    costs.forEach((c, net) => {
      for (let b = 0; b < B; b++) {
        const i = this.picks[net][b];
        credit[b][i] = best ? Math.min(credit[b][i], c) : credit[b][i] + c / this.trials;
      }
    });
    if (costs[k] < this.bestCost) {
      this.bestCost = costs[k]; this.bestGenome = this.assemble(this.picks[k]); this.lastImprovement = this.generation;
    }
    if (this.generation - this.lastImprovement >= this.o.burstPatience) this.burstMutate();
    else for (let b = 0; b < B; b++) this.recombine(b, credit[b]);
    this.generation++;
  }

  /** The best quarter of subpopulation b stays; the rest are mutated one-point crossovers of two of them. */
  private recombine(b: number, credit: Float64Array): void {
    const n = this.size, q = Math.max(2, n >> 2), order = rank(Array.from(credit));
    const parents = order.slice(0, q).map((i) => this.subpops[b][i]);
    const next = parents.slice();
    while (next.length < n) {
      const a = parents[this.rng.int(q)];
      let c = parents[this.rng.int(q - 1)];
      if (c === a) c = parents[q - 1];
      const cut = a.length > 1 ? 1 + this.rng.int(a.length - 1) : 0; // genes [0, cut) from a, the rest from c
      for (const [x, y] of [[a, c], [c, a]]) {
        if (next.length >= n) break;
        const child = Float64Array.from(x, (v, i) => (i < cut ? v : y[i]));
        for (let i = 0; i < child.length; i++) if (this.rng.next() < this.o.mutationRate) child[i] += this.cauchy(this.scale);
        next.push(child);
      }
    }
    this.subpops[b] = next;
  }

  /** Every subpopulation rebuilt around its block of the best network. */
  private burstMutate(): void {
    this.bursts++;
    this.scale *= this.o.decay; this.burstScale *= this.o.decay;
    this.subpops = this.blocks.map((idx) => {
      const centre = Float64Array.from(idx, (g) => this.bestGenome[g]);
      return Array.from({ length: this.size }, (_, i) => (i === 0 ? centre.slice() : centre.map((v) => v + this.cauchy(this.burstScale))));
    });
    this.lastImprovement = this.generation; // wait burstPatience generations before the next one
  }

  private cauchy(scale: number): number {
    let u = this.rng.next();
    while (u === 0) u = this.rng.next(); // tan(-pi/2) is excluded
    return scale * Math.tan(Math.PI * (u - 0.5));
  }

  private assemble(pick: ArrayLike<number>): Float64Array {
    const g = new Float64Array(this.dim);
    this.blocks.forEach((idx, b) => { const v = this.subpops[b][pick[b]]; idx.forEach((gi, j) => { g[gi] = v[j]; }); });
    return g;
  }
}
