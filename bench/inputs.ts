// What the bench scripts share for making their inputs: seeded values and integer options.
import type { Rng } from '../src/tensor/random.js';

/** n values drawn uniformly from [-1, 1) by rng: the benches' inputs and weights, the same for every library. */
export function uniformArray(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** The positive integer after `name` on the command line, or dflt when it is absent. */
export function intArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${name}: expected a positive integer, got '${process.argv[i + 1]}'`);
  return v;
}
