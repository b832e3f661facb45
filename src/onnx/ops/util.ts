import type { Tensor } from '../../tensor/tensor.js';
import type { NodeInfo } from '../node.js';
import { Ints, type Value } from '../values.js';

/** Input i, which the operator requires. */
export function need(n: NodeInfo, v: Value | null | undefined, i: number): Value {
  if (v === null || v === undefined) throw new Error(`${n.label}: input ${i} is required`);
  return v;
}

/** Input i as a float tensor (an integer value there is a graph that does not type-check). */
export function needFloat(n: NodeInfo, v: Value | null | undefined, i: number): Tensor {
  const x = need(n, v, i);
  if (x instanceof Ints) throw new Error(`${n.label}: expected a float tensor as input ${i}, got integers of shape [${x.shape.join(', ')}]`);
  return x;
}

/** A possibly negative axis for rank r, checked. */
export function axisOf(n: NodeInfo, axis: number, r: number): number {
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(a) || a < 0 || a >= r) throw new Error(`${n.label}: axis ${axis} is out of range for rank ${r}`);
  return a;
}
