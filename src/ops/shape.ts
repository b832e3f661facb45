import { needsGrad, record } from '../autograd/tape.js';
import { contiguousStrides, fmt, sizeOf, validateShape, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { emptyLike, sameDevice } from './util.js';
import { checkIndices } from './checks.js';

/** Same values, new shape (no copy: tensors are contiguous). One dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const s = [...shape];
  const free = s.indexOf(-1);
  if (free >= 0) {
    const known = s.reduce((p, d, i) => (i === free ? p : p * d), 1);
    if (known === 0 || x.size % known !== 0) throw new Error(`reshape: cannot infer -1 in ${fmt(shape)} for ${x.size} elements`);
    s[free] = x.size / known;
  }
  validateShape(s);
  if (sizeOf(s) !== x.size) throw new Error(`reshape: cannot view shape ${fmt(x.shape)} (${x.size} elements) as ${fmt(s)}`);
  const y = new Tensor(x.storage, s);
  if (needsGrad([x])) record({ name: 'reshape', inputs: [x], outputs: [y], backward: ([g]) => [g] }, [y]);
  return y;
}

/** Reorder dimensions: y.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.rank || [...dims].sort().some((d, i) => d !== i)) {
    throw new Error(`permute: expected a permutation of 0..${x.rank - 1}, got [${dims.join(', ')}]`);
  }
  const xs = contiguousStrides(x.shape);
  const shape = dims.map((d) => x.shape[d]);
  const srcStr = dims.map((d) => xs[d]);
  const be = x.backend;
  const y = emptyLike(x, shape);
  be.copyStrided(shape, x.storage, 0, srcStr, y.storage, 0, contiguousStrides(shape), false);
  if (needsGrad([x])) {
    record({
      name: 'permute', inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.copyStrided(shape, g!, 0, contiguousStrides(shape), dx, 0, srcStr, false);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

/** Swap two dimensions. */
export function transpose(x: Tensor, a = -2, b = -1): Tensor {
  const r = x.rank;
  const dims = [...Array(r).keys()];
  const ia = a < 0 ? a + r : a, ib = b < 0 ? b + r : b;
  [dims[ia], dims[ib]] = [dims[ib], dims[ia]];
  return permute(x, dims);
}

/** Elements start..end-1 along one axis. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = axis < 0 ? axis + x.rank : axis;
  if (ax < 0 || ax >= x.rank) throw new Error(`slice: axis ${axis} out of range for shape ${fmt(x.shape)}`);
  if (!(0 <= start && start <= end && end <= x.shape[ax])) {
    throw new Error(`slice: range [${start}, ${end}) out of bounds for axis ${ax} of shape ${fmt(x.shape)}`);
  }
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  const xs = contiguousStrides(x.shape);
  const off = start * xs[ax];
  const be = x.backend;
  const y = emptyLike(x, shape);
  be.copyStrided(shape, x.storage, off, xs, y.storage, 0, contiguousStrides(shape), false);
  if (needsGrad([x])) {
    record({
      name: 'slice', inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.copyStrided(shape, g!, 0, contiguousStrides(shape), dx, off, xs, false);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

/** Join tensors along an axis; all other dimensions must match. */
export function concat(ts: readonly Tensor[], axis = 0): Tensor {
  if (ts.length === 0) throw new Error('concat: expected at least one tensor');
  sameDevice('concat', ...ts);
  const first = ts[0];
  const ax = axis < 0 ? axis + first.rank : axis;
  for (const t of ts) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ outside axis ${ax}`);
    }
  }
  const shape = first.shape.map((d, i) => (i === ax ? ts.reduce((p, t) => p + t.shape[ax], 0) : d));
  const ys = contiguousStrides(shape);
  const be = first.backend;
  const y = emptyLike(first, shape);
  const offs: number[] = [];
  let o = 0;
  for (const t of ts) {
    offs.push(o * ys[ax]);
    be.copyStrided(t.shape, t.storage, 0, contiguousStrides(t.shape), y.storage, o * ys[ax], ys, false);
    o += t.shape[ax];
  }
  if (needsGrad(ts)) {
    record({
      name: 'concat', inputs: ts, outputs: [y],
      backward([g]) {
        return ts.map((t, i) => {
          if (!t.requiresGrad) return null;
          const dx = be.alloc(t.dtype, t.size);
          be.copyStrided(t.shape, g!, offs[i], ys, dx, 0, contiguousStrides(t.shape), false);
          return dx;
        });
      },
    }, [y]);
  }
  return y;
}

/** Stack equal-shaped tensors along a new axis. */
export function stack(ts: readonly Tensor[], axis = 0): Tensor {
  if (ts.length === 0) throw new Error('stack: expected at least one tensor');
  return concat(ts.map((t) => reshape(t, [...t.shape.slice(0, axis), 1, ...t.shape.slice(axis)])), axis);
}

/**
 * Rows of x selected by an i32 index tensor: y[..idx.shape, ...x.shape[1:]] = x[idx[...]].
 * Backward scatters (adds) into the selected rows: the embedding lookup.
 */
export function indexSelect(x: Tensor, idx: Tensor): Tensor {
  if (idx.dtype !== 'i32') throw new Error(`indexSelect: expected an i32 index tensor, got ${idx.dtype}`);
  if (idx.backend !== x.backend) throw new Error('indexSelect: index lives on another backend');
  const rows = x.shape[0];
  checkIndices('indexSelect', idx, rows);
  const rowLen = x.size / Math.max(rows, 1);
  const shape = [...idx.shape, ...x.shape.slice(1)];
  const be = x.backend;
  const y = emptyLike(x, shape);
  be.gatherRows(x.storage, 0, idx.storage, idx.size, rowLen, y.storage, 0);
  if (needsGrad([x])) {
    record({
      name: 'indexSelect', inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.scatterAddRows(g!, 0, idx.storage, idx.size, rowLen, dx, 0);
        return [dx];
      },
    }, [y]);
  }
  return y;
}
