import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { needsGrad, record } from '../autograd/tape.js';
import { broadcastShapes, broadcastStrides, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike, reduceTo, sameDevice } from './util.js';

/** Elementwise a op b with NumPy broadcasting; forward next to backward. */
function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  sameDevice(op, a, b);
  checkFloat(op, a);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const be = a.backend;
  const y = emptyLike(a, shape);
  be.binary(op, shape, a.storage, 0, broadcastStrides(a.shape, shape), b.storage, 0, broadcastStrides(b.shape, shape), y.storage, 0);
  if (needsGrad([a, b])) {
    record({
      name: op, inputs: [a, b], outputs: [y],
      backward([g]) {
        const gs = g!;
        const full = (t: Tensor) => broadcastStrides(t.shape, shape);
        const prod = (x: Tensor, binop: BinaryOp) => {
          const o = be.alloc(a.dtype, sizeOf(shape));
          be.binary(binop, shape, gs, 0, broadcastStrides(shape, shape), x.storage, 0, full(x), o, 0);
          return o;
        };
        switch (op) {
          case 'add': return [a.requiresGrad ? reduceTo(gs, shape, a.shape) : null, b.requiresGrad ? reduceTo(gs, shape, b.shape) : null];
          case 'sub': {
            let gb = null;
            if (b.requiresGrad) { const n = be.alloc(a.dtype, sizeOf(shape)); be.affine(gs, 0, n, 0, sizeOf(shape), -1, 0, false); gb = reduceTo(n, shape, b.shape); }
            return [a.requiresGrad ? reduceTo(gs, shape, a.shape) : null, gb];
          }
          case 'mul': return [a.requiresGrad ? reduceTo(prod(b, 'mul'), shape, a.shape) : null, b.requiresGrad ? reduceTo(prod(a, 'mul'), shape, b.shape) : null];
          case 'div': {
            let gb = null;
            if (b.requiresGrad) {
              // d(a/b)/db = -y/b, so gb = -(g * y) / b, summed back to b's shape.
              const same = broadcastStrides(shape, shape);
              const gy = be.alloc(a.dtype, sizeOf(shape));
              be.binary('mul', shape, gs, 0, same, y.storage, 0, same, gy, 0);
              const q = be.alloc(a.dtype, sizeOf(shape));
              be.binary('div', shape, gy, 0, same, b.storage, 0, full(b), q, 0);
              be.affine(q, 0, q, 0, sizeOf(shape), -1, 0, false);
              gb = reduceTo(q, shape, b.shape);
            }
            return [a.requiresGrad ? reduceTo(prod(b, 'div'), shape, a.shape) : null, gb];
          }
          default: throw new Error(`${op}: no gradient`);
        }
      },
    }, [y]);
  }
  return y;
}

export const add = (a: Tensor, b: Tensor) => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor) => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor) => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor) => binary('div', a, b);

/** Elementwise f(x); forward next to backward. */
export function unary(op: UnaryOp, x: Tensor): Tensor {
  checkFloat(op, x);
  const be = x.backend;
  const y = emptyLike(x);
  be.unary(op, x.storage, 0, y.storage, 0, x.size);
  if (needsGrad([x])) {
    record({
      name: op, inputs: [x], outputs: [y],
      backward([g]) {
        const dx = be.alloc(x.dtype, x.size);
        be.unaryBackward(op, x.storage, y.storage, g!, dx, x.size, false);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

export const neg = (x: Tensor) => unary('neg', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const abs = (x: Tensor) => unary('abs', x);
export const square = (x: Tensor) => unary('square', x);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const relu = (x: Tensor) => unary('relu', x);
export const softplus = (x: Tensor) => unary('softplus', x);
export const logSigmoid = (x: Tensor) => unary('logsigmoid', x);

/** alpha * x + beta, elementwise. */
export function affine(x: Tensor, alpha: number, beta = 0): Tensor {
  checkFloat('affine', x);
  const be = x.backend;
  const y = emptyLike(x);
  be.affine(x.storage, 0, y.storage, 0, x.size, alpha, beta, false);
  if (needsGrad([x])) {
    record({
      name: 'affine', inputs: [x], outputs: [y],
      backward([g]) {
        if (alpha === 1) return [g];
        const dx = be.alloc(x.dtype, x.size);
        be.affine(g!, 0, dx, 0, x.size, alpha, 0, false);
        return [dx];
      },
    }, [y]);
  }
  return y;
}

export const scale = (x: Tensor, s: number) => affine(x, s, 0);
export const addScalar = (x: Tensor, s: number) => affine(x, 1, s);
