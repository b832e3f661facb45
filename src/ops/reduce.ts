import { needsGrad, record } from '../autograd/tape.js';
import { contiguousStrides, fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { scale } from './elementwise.js';
import { checkFloat, emptyLike } from './util.js';

function normAxes(op: string, rank: number, axis?: number | number[]): number[] {
  if (axis === undefined) return [...Array(rank).keys()];
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a));
  for (const a of axes) if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`${op}: axis ${a} out of range for rank ${rank}`);
  return axes;
}

/** Sum over the given axes (all by default); keepDims keeps them as size 1. */
export function sum(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  checkFloat('sum', x);
  const axes = normAxes('sum', x.rank, axis);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  const be = x.backend;
  const y = emptyLike(x, outShape);
  const keptStr = contiguousStrides(kept).map((s, i) => (axes.includes(i) ? 0 : s));
  be.copyStrided(x.shape, x.storage, 0, contiguousStrides(x.shape), y.storage, 0, keptStr, true);
  if (needsGrad([x])) {
    record({
      name: 'sum', inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.copyStrided(x.shape, g!, 0, keptStr, dx, 0, contiguousStrides(x.shape), false);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

/** Mean over the given axes (all by default). */
export function mean(x: Tensor, axis?: number | number[], keepDims = false): Tensor {
  const axes = normAxes('mean', x.rank, axis);
  const n = axes.reduce((p, a) => p * x.shape[a], 1);
  if (n === 0) throw new Error(`mean: no elements to average over in shape ${fmt(x.shape)}`);
  return scale(sum(x, axes, keepDims), 1 / n);
}
