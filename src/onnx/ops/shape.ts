import { indexSelect, permute, reshape, slice, concat } from '../../ops/shape.js';
import { fmt, sizeOf } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { intConcat, intPermute, intTake } from '../ints.js';
import type { NodeInfo, OpCompiler } from '../node.js';
import { asFloat, asInts, Ints, type Device, type Value } from '../values.js';
import { axisOf, need } from './util.js';

/** Same values, another shape (host integers or a float view). */
function reshaped(v: Value, shape: readonly number[]): Value {
  return v instanceof Ints ? new Ints(shape, v.data) : reshape(v, shape);
}

const shapeOf = (v: Value): readonly number[] => v.shape;

/** Elements along `axis` at the given (non-negative) indices, the axis replaced by indexShape. */
function take(dev: Device, v: Value, axis: number, indices: readonly number[], indexShape: readonly number[]): Value {
  if (v instanceof Ints) return intTake(v, axis, indices, indexShape);
  const pre = v.shape.slice(0, axis), post = v.shape.slice(axis + 1);
  const idx = new Tensor(dev.backend.upload('i32', indices), [indices.length]);
  if (axis === 0) return reshape(indexSelect(v, idx), [...indexShape, ...post]);
  const moved = permute(v, [axis, ...v.shape.map((_, i) => i).filter((i) => i !== axis)]); // [n, ...pre, ...post]
  const picked = indexSelect(moved, idx); // [k, ...pre, ...post]
  const back = permute(picked, [...pre.map((_, i) => i + 1), 0, ...post.map((_, i) => i + 1 + pre.length)]);
  return reshape(back, [...pre, ...indexShape, ...post]);
}

/** Gather: embeddings (rows of a float table by token ids), hidden states by index, shape entries. */
const gather: OpCompiler = (n) => {
  n.attrs.only('axis');
  const axisAttr = n.attrs.int('axis', 0);
  return ([d, i]) => {
    const data = need(n, d, 0), idx = asInts(need(n, i, 1), n.label);
    const axis = axisOf(n, axisAttr, data.shape.length);
    const size = data.shape[axis];
    const norm = idx.data.map((k) => {
      if (!Number.isInteger(k) || k < -size || k >= size) throw new Error(`${n.label}: index ${k} is out of range for axis ${axis} of size ${size}`);
      return k < 0 ? k + size : k;
    });
    return [take(n.dev, data, axis, norm, idx.shape)];
  };
};

const transposeOp: OpCompiler = (n) => {
  n.attrs.only('perm');
  const permAttr = n.attrs.ints('perm');
  return ([v]) => {
    const x = need(n, v, 0);
    const perm = permAttr ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    if (perm.length !== x.shape.length) throw new Error(`${n.label}: perm ${fmt(perm)} does not fit rank ${x.shape.length}`);
    return [x instanceof Ints ? intPermute(x, perm) : permute(x, perm)];
  };
};

/** Reshape: 0 copies the input's dimension (unless allowzero), one -1 is inferred. */
const reshapeOp: OpCompiler = (n) => {
  n.attrs.only('allowzero');
  const allowZero = n.attrs.int('allowzero', 0) === 1;
  return ([v, s]) => {
    const x = need(n, v, 0), spec = asInts(need(n, s, 1), n.label);
    const shape = spec.data.map((d, i) => (d === 0 && !allowZero ? (i < x.shape.length ? x.shape[i] : 0) : d));
    const free = shape.indexOf(-1);
    if (free >= 0) {
      const known = shape.reduce((p, d, i) => (i === free ? p : p * d), 1);
      const size = sizeOf(shapeOf(x));
      if (known === 0 || size % known !== 0) throw new Error(`${n.label}: cannot reshape ${fmt(x.shape)} to ${fmt(spec.data)}`);
      shape[free] = size / known;
    }
    if (sizeOf(shape) !== sizeOf(x.shape)) throw new Error(`${n.label}: cannot reshape ${fmt(x.shape)} (${sizeOf(x.shape)} elements) to ${fmt(spec.data)}`);
    return [reshaped(x, shape)];
  };
};

/** The axes of Squeeze/Unsqueeze: an attribute before opset 13, an optional input from 13. */
function axesOf(n: NodeInfo, attr: number[] | null, input: Value | null | undefined): number[] | null {
  if (n.opset >= 13) return input ? [...asInts(input, n.label).data] : null;
  return attr;
}

const squeeze: OpCompiler = (n) => {
  n.attrs.only(...(n.opset >= 13 ? [] : ['axes']));
  const attr = n.attrs.ints('axes');
  return ([v, a]) => {
    const x = need(n, v, 0);
    const axesIn = axesOf(n, attr, a);
    const axes = axesIn ? axesIn.map((ax) => axisOf(n, ax, x.shape.length)) : x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
    for (const ax of axes) if (x.shape[ax] !== 1) throw new Error(`${n.label}: cannot squeeze axis ${ax} of shape ${fmt(x.shape)} (size ${x.shape[ax]})`);
    return [reshaped(x, x.shape.filter((_, i) => !axes.includes(i)))];
  };
};

const unsqueeze: OpCompiler = (n) => {
  n.attrs.only(...(n.opset >= 13 ? [] : ['axes']));
  const attr = n.attrs.ints('axes');
  return ([v, a]) => {
    const x = need(n, v, 0);
    const axesIn = axesOf(n, attr, a);
    if (!axesIn) throw new Error(`${n.label}: expected axes`);
    const r = x.shape.length + axesIn.length;
    const axes = axesIn.map((ax) => axisOf(n, ax, r)).sort((p, q) => p - q);
    const shape = [...x.shape];
    for (const ax of axes) shape.splice(ax, 0, 1);
    return [reshaped(x, shape)];
  };
};

const concatOp: OpCompiler = (n) => {
  n.attrs.only('axis');
  if (!n.attrs.has('axis')) throw new Error(`${n.label}: attribute 'axis' is required`);
  const axisAttr = n.attrs.int('axis', 0);
  return (inputs) => {
    const xs = inputs.map((v, i) => need(n, v, i));
    const axis = axisOf(n, axisAttr, xs[0].shape.length);
    if (xs.every((x) => x instanceof Ints)) return [intConcat(xs as Ints[], axis, n.label)];
    return [concat(xs.map((x) => asFloat(n.dev, x)), axis)];
  };
};

/** Slice: starts/ends/axes/steps as inputs (opset 10+) or attributes (before), clamped as ONNX says. */
const sliceOp: OpCompiler = (n) => {
  const modern = n.opset >= 10;
  n.attrs.only(...(modern ? [] : ['starts', 'ends', 'axes']));
  const attrs = modern ? null : { starts: n.attrs.ints('starts'), ends: n.attrs.ints('ends'), axes: n.attrs.ints('axes') };
  return ([v, s, e, a, st]) => {
    let x = need(n, v, 0);
    const list = (w: Value | null | undefined) => (w ? [...asInts(w, n.label).data] : null);
    const starts = attrs ? attrs.starts : list(s), ends = attrs ? attrs.ends : list(e);
    if (!starts || !ends || starts.length !== ends.length) throw new Error(`${n.label}: expected starts and ends of the same length`);
    const axes = (attrs ? attrs.axes : list(a)) ?? starts.map((_, i) => i);
    const steps = (attrs ? null : list(st)) ?? starts.map(() => 1);
    if (axes.length !== starts.length || steps.length !== starts.length) throw new Error(`${n.label}: expected one axis and step per start`);
    axes.forEach((axIn, k) => {
      const ax = axisOf(n, axIn, x.shape.length), size = x.shape[ax], step = steps[k];
      if (step === 0) throw new Error(`${n.label}: a step of 0 is not allowed`);
      const clampIdx = (i: number, lo: number, hi: number) => Math.min(Math.max(i < 0 ? i + size : i, lo), hi);
      if (step > 0) {
        const b = clampIdx(starts[k], 0, size), en = clampIdx(ends[k], 0, size);
        if (step === 1 && !(x instanceof Ints)) { x = slice(x, ax, b, Math.max(b, en)); return; }
        const idx: number[] = [];
        for (let i = b; i < en; i += step) idx.push(i);
        x = take(n.dev, x, ax, idx, [idx.length]);
      } else {
        const b = clampIdx(starts[k], -1, size - 1), en = clampIdx(ends[k], -1, size - 1);
        const idx: number[] = [];
        for (let i = b; i > en; i += step) idx.push(i);
        x = take(n.dev, x, ax, idx, [idx.length]);
      }
    });
    return [x];
  };
};

/** Shape (with opset 15's start/end): the dimensions as integers. */
const shapeOp: OpCompiler = (n) => {
  n.attrs.only('start', 'end');
  const start = n.attrs.int('start', 0), endAttr = n.attrs.has('end') ? n.attrs.int('end', 0) : null;
  return ([v]) => {
    const dims = need(n, v, 0).shape, r = dims.length;
    const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + r : i, 0), r);
    const out = dims.slice(clampIdx(start), endAttr === null ? r : clampIdx(endAttr));
    return [new Ints([out.length], out)];
  };
};

export const shapeOps: Record<string, OpCompiler> = {
  Gather: gather, Transpose: transposeOp, Reshape: reshapeOp, Squeeze: squeeze, Unsqueeze: unsqueeze,
  Concat: concatOp, Slice: sliceOp, Shape: shapeOp,
};
