import { needsGrad, record } from '../autograd/tape.js';
import type { Storage } from '../backend/backend.js';
import { contiguousStrides, fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike } from './util.js';
import { kernels } from './kernels.js';

/**
 * Softmax or log-softmax over axis `dim` (negative counts from the end, as torch's dim); forward
 * next to backward. The kernels work on rows of a [rows, cols] matrix, so another axis is moved
 * last (a strided copy into [outer..., inner..., n]), run there, and moved back.
 */
function softmaxOp(x: Tensor, dim: number, log: boolean): Tensor {
  const op = log ? 'logSoftmax' : 'softmax';
  checkFloat(op, x);
  const rank = Math.max(x.rank, 1); // a scalar has one axis of one element, as in torch
  if (!Number.isInteger(dim) || dim < -rank || dim >= rank) {
    throw new Error(`${op}: expected dim in [${-rank}, ${rank - 1}] for shape ${fmt(x.shape)}, got ${dim}`);
  }
  const ax = dim < 0 ? dim + rank : dim;
  const shape = x.rank === 0 ? [1] : x.shape;
  const cols = shape[ax];
  const rows = cols === 0 ? 0 : x.size / cols;
  const be = kernels(x.backend);
  const y = emptyLike(x);

  // The axis moved last: `moved` is shape with ax taken out and appended; `str` reads (or writes)
  // the original layout in that order.
  const last = ax === shape.length - 1;
  const xs = contiguousStrides(shape);
  const order = [...shape.keys()].filter((i) => i !== ax).concat(ax);
  const moved = order.map((i) => shape[i]), movedStr = contiguousStrides(moved), str = order.map((i) => xs[i]);
  const toLast = (s: Storage): Storage => {
    const t = be.alloc(x.dtype, x.size);
    be.copyStrided(moved, s, 0, str, t, 0, movedStr, false);
    return t;
  };
  const fromLast = (t: Storage, out: Storage): void => { be.copyStrided(moved, t, 0, movedStr, out, 0, str, false); };

  let yLast: Storage; // [rows, cols]: y with the axis last (y itself when it already is)
  if (last) {
    yLast = y.storage;
    be.softmax(x.storage, y.storage, rows, cols, log);
  } else {
    const xLast = toLast(x.storage);
    yLast = be.alloc(x.dtype, x.size);
    be.softmax(xLast, yLast, rows, cols, log);
    fromLast(yLast, y.storage);
    be.dispose(xLast);
  }
  if (needsGrad([x])) {
    record({
      name: op, inputs: [x], outputs: [y],
      release() { if (!last) be.dispose(yLast); },
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        if (last) { be.softmaxBackward(yLast, g!, dx, rows, cols, log, false); return [dx]; }
        const gLast = toLast(g!), dLast = be.alloc(x.dtype, x.size);
        be.softmaxBackward(yLast, gLast, dLast, rows, cols, log, false);
        fromLast(dLast, dx);
        be.dispose(gLast); be.dispose(dLast);
        return [dx];
      },
    }, [y]);
  } else if (!last) {
    be.dispose(yLast);
  }
  return y;
}

/** softmax(x, dim = -1): exp(x) / sum exp(x) along `dim`. */
export const softmax = (x: Tensor, dim = -1) => softmaxOp(x, dim, false);
/** logSoftmax(x, dim = -1): x - log sum exp(x) along `dim`. */
export const logSoftmax = (x: Tensor, dim = -1) => softmaxOp(x, dim, true);
