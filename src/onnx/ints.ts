import { broadcastShapes, contiguousStrides, fmt } from '../tensor/shape.js';
import { Ints } from './values.js';

/** Host integer arithmetic for shape computations: NumPy broadcasting, ONNX's truncating Div. */
export function intBinary(op: 'Add' | 'Sub' | 'Mul' | 'Div', a: Ints, b: Ints, label: string): Ints {
  const shape = broadcastShapes(a.shape, b.shape, label);
  const at = broadcastIndex(a.shape, shape), bt = broadcastIndex(b.shape, shape);
  const out: number[] = [];
  for (let i = 0; i < at.length; i++) {
    const x = a.data[at[i]], y = b.data[bt[i]];
    if (op === 'Div' && y === 0) throw new Error(`${label}: integer division by zero`);
    out.push(op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : Math.trunc(x / y));
  }
  return new Ints(shape, out);
}

/** For each element of `to` (row-major), the flat index of the element of `from` broadcast onto it. */
function broadcastIndex(from: readonly number[], to: readonly number[]): number[] {
  const n = to.reduce((p, d) => p * d, 1);
  const fs = contiguousStrides(from);
  const off = to.length - from.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let rem = i, idx = 0;
    for (let d = to.length - 1; d >= 0; d--) {
      const c = rem % to[d]; rem = Math.floor(rem / to[d]);
      const fd = d - off;
      if (fd >= 0 && from[fd] !== 1) idx += c * fs[fd];
    }
    out[i] = idx;
  }
  return out;
}

/** Elements of `x` picked along `axis` at `indices` (Gather, and Slice with a step). */
export function intTake(x: Ints, axis: number, indices: readonly number[], indexShape: readonly number[]): Ints {
  const pre = x.shape.slice(0, axis), post = x.shape.slice(axis + 1);
  const outer = pre.reduce((p, d) => p * d, 1), inner = post.reduce((p, d) => p * d, 1), n = x.shape[axis];
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const k of indices) for (let j = 0; j < inner; j++) out.push(x.data[(o * n + k) * inner + j]);
  }
  return new Ints([...pre, ...indexShape, ...post], out);
}

/** Concatenate along axis (same shapes elsewhere). */
export function intConcat(xs: readonly Ints[], axis: number, label: string): Ints {
  const first = xs[0];
  for (const x of xs) {
    if (x.rank !== first.rank || x.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new Error(`${label}: shapes ${fmt(first.shape)} and ${fmt(x.shape)} differ outside axis ${axis}`);
    }
  }
  const outer = first.shape.slice(0, axis).reduce((p, d) => p * d, 1);
  const inners = xs.map((x) => x.shape.slice(axis).reduce((p, d) => p * d, 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) xs.forEach((x, k) => { for (let j = 0; j < inners[k]; j++) out.push(x.data[o * inners[k] + j]); });
  const shape = [...first.shape];
  shape[axis] = xs.reduce((s, x) => s + x.shape[axis], 0);
  return new Ints(shape, out);
}

/** Permute the dimensions of host integers. */
export function intPermute(x: Ints, perm: readonly number[]): Ints {
  const shape = perm.map((p) => x.shape[p]);
  const xs = contiguousStrides(x.shape);
  const n = x.size;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0;
    for (let d = shape.length - 1; d >= 0; d--) { const c = rem % shape[d]; rem = Math.floor(rem / shape[d]); src += c * xs[perm[d]]; }
    out[i] = x.data[src];
  }
  return new Ints(shape, out);
}
