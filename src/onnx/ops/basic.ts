import { add, affine, div, mul, relu, sigmoid, sub, tanh } from '../../ops/elementwise.js';
import { logSoftmax, softmax } from '../../ops/softmax.js';
import { reshape } from '../../ops/shape.js';
import { fmt, sizeOf } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { intBinary } from '../ints.js';
import type { NodeInfo, OpCompiler } from '../node.js';
import { asFloat, asInts, dataTypeName, floatTensor, Ints, isFloatType, isIntType, type Value } from '../values.js';
import { axisOf, need, needFloat } from './util.js';

/** Add, Sub, Mul, Div: on floats with the tape (broadcasting); on integers (shape arithmetic) on the host. */
function binaryOp(op: 'Add' | 'Sub' | 'Mul' | 'Div'): OpCompiler {
  const f = { Add: add, Sub: sub, Mul: mul, Div: div }[op];
  return (n) => {
    n.attrs.only();
    return ([a, b]) => {
      const x = need(n, a, 0), y = need(n, b, 1);
      if (x instanceof Ints && y instanceof Ints) return [intBinary(op, x, y, n.label)];
      return [f(asFloat(n.dev, x), asFloat(n.dev, y))];
    };
  };
}

function unaryOp(f: (x: Tensor) => Tensor): OpCompiler {
  return (n) => { n.attrs.only(); return ([x]) => [f(needFloat(n, x, 0))]; };
}

/** Softmax / LogSoftmax: along `axis` from opset 13; before, over the 2-D coercion at axis (default 1). */
function softmaxOp(log: boolean): OpCompiler {
  const f = log ? logSoftmax : softmax;
  return (n) => {
    n.attrs.only('axis');
    const modern = n.opset >= 13;
    const axisAttr = n.attrs.int('axis', modern ? -1 : 1);
    return ([v]) => {
      const x = needFloat(n, v, 0);
      const axis = axisOf(n, axisAttr, x.rank);
      if (modern || axis === x.rank - 1) return [f(x, axis)];
      const rows = sizeOf(x.shape.slice(0, axis));
      return [reshape(f(reshape(x, [rows, x.size / Math.max(rows, 1)]), 1), x.shape)];
    };
  };
}

const identity: OpCompiler = (n) => { n.attrs.only(); return ([x]) => [need(n, x, 0)]; };

/** Constant: its one value attribute, made once at load (float constants carry no gradient). */
const constant: OpCompiler = (n) => {
  const set = n.attrs.names();
  if (set.length !== 1) throw new Error(`${n.label}: expected exactly one value attribute, got ${set.length ? set.join(', ') : 'none'}`);
  let v: Value;
  switch (set[0]) {
    case 'value': {
      const t = n.attrs.tensor('value')!;
      v = t.kind === 'float' ? floatTensor(n.dev, t.data, t.shape) : new Ints(t.shape, t.data as number[]);
      break;
    }
    case 'value_float': v = floatTensor(n.dev, [n.attrs.float('value_float', 0)], []); break;
    case 'value_floats': { const f = n.attrs.floats('value_floats')!; v = floatTensor(n.dev, f, [f.length]); break; }
    case 'value_int': v = new Ints([], [n.attrs.int('value_int', 0)]); break;
    case 'value_ints': { const i = n.attrs.ints('value_ints')!; v = new Ints([i.length], i); break; }
    default: throw new Error(`${n.label}: attribute '${set[0]}' is not supported (expected value, value_float(s) or value_int(s))`);
  }
  return () => [v];
};

/** ConstantOfShape: a tensor of the given (runtime) shape filled with `value` (default float 0). */
const constantOfShape: OpCompiler = (n) => {
  n.attrs.only('value');
  const t = n.attrs.tensor('value');
  if (t && t.data.length !== 1) throw new Error(`${n.label}: expected a one-element value, got ${t.data.length} elements`);
  const kind = t?.kind ?? 'float', fill = t ? Number(t.data[0]) : 0;
  return ([s]) => {
    const shape = asInts(need(n, s, 0), n.label);
    if (shape.rank !== 1 || shape.data.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${n.label}: expected a 1-D shape of non-negative sizes, got ${fmt(shape.data)}`);
    const size = sizeOf(shape.data);
    if (kind === 'int') return [new Ints(shape.data, new Array<number>(size).fill(fill))];
    const out = new Tensor(n.dev.backend.alloc(n.dev.dtype, size), shape.data);
    if (fill !== 0) n.dev.backend.fill(out.storage, 0, size, fill);
    return [out];
  };
};

/** Cast between floats (on the backend) and integers (on the host). */
const cast: OpCompiler = (n) => {
  n.attrs.only('to', 'saturate');
  const to = n.attrs.int('to', 0);
  if (!isFloatType(to) && !isIntType(to)) throw new Error(`${n.label}: cast to ${dataTypeName(to)} is not supported (expected a float or integer type)`);
  return ([x]) => [isFloatType(to) ? asFloat(n.dev, need(n, x, 0)) : asInts(need(n, x, 0), n.label)];
};

export const basicOps: Record<string, OpCompiler> = {
  Add: binaryOp('Add'), Sub: binaryOp('Sub'), Mul: binaryOp('Mul'), Div: binaryOp('Div'),
  Tanh: unaryOp(tanh), Sigmoid: unaryOp(sigmoid), Relu: unaryOp(relu),
  Neg: unaryOp((x) => affine(x, -1, 0)),
  Softmax: softmaxOp(false), LogSoftmax: softmaxOp(true),
  Identity: identity, Constant: constant, ConstantOfShape: constantOfShape, Cast: cast,
};

export type { NodeInfo };
