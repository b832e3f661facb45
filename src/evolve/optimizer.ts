/**
 * What CMA-ES and the (mu, lambda)-ES share: an ask/tell loop over a population of genomes that
 * minimises a cost (lower is better; a fitness to maximise is passed negated).
 */
export interface Optimizer {
  readonly name: string;
  readonly dim: number;
  /** Genomes evaluated per generation. */
  readonly lambda: number;
  /** Generations told so far. */
  readonly generation: number;
  /** The distribution's centre (the best guess when no evaluated genome is better). */
  readonly mean: Float64Array;
  /** The overall step size. */
  readonly sigma: number;
  /** This generation's genomes (lambda of them); evaluate them and pass the costs to tell. */
  ask(): Float64Array[];
  /** The costs of the genomes of the last ask, in the same order. */
  tell(costs: readonly number[]): void;
}

/** The best genome seen and its cost (kept by the caller's loop, see evolve.ts). */
export interface Best { genome: Float64Array; cost: number; generation: number }

export function checkCosts(name: string, costs: readonly number[], lambda: number): void {
  if (costs.length !== lambda) throw new Error(`${name}.tell: expected ${lambda} costs (one per genome of the last ask), got ${costs.length}`);
  const i = costs.findIndex((c) => Number.isNaN(c));
  if (i >= 0) throw new Error(`${name}.tell: expected numbers, got NaN for genome ${i}`);
}

/** Indices 0..n-1 sorted by cost, ties by index (so the ranking never depends on sort stability). */
export function rank(costs: readonly number[]): number[] {
  return Array.from({ length: costs.length }, (_, i) => i).sort((a, b) => costs[a] - costs[b] || a - b);
}
