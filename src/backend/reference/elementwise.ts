import type { TypedArray } from '../dtype.js';
import type { BinaryOp, UnaryOp } from '../backend.js';

export function sigmoid(x: number): number {
  // Two branches so that exp never overflows.
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + exp(x)) without overflow or loss of precision for large |x|. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function unaryFn(op: UnaryOp): (x: number) => number {
  switch (op) {
    case 'neg': return (x) => -x;
    case 'exp': return Math.exp;
    case 'log': return Math.log;
    case 'sqrt': return Math.sqrt;
    case 'abs': return Math.abs;
    case 'square': return (x) => x * x;
    case 'sigmoid': return sigmoid;
    case 'tanh': return Math.tanh;
    case 'relu': return (x) => (x > 0 ? x : 0);
    case 'softplus': return softplus;
    case 'logsigmoid': return (x) => -softplus(-x);
  }
}

/** f'(x) given x and y = f(x). */
export function unaryDerivative(op: UnaryOp): (x: number, y: number) => number {
  switch (op) {
    case 'neg': return () => -1;
    case 'exp': return (_x, y) => y;
    case 'log': return (x) => 1 / x;
    case 'sqrt': return (_x, y) => 0.5 / y;
    case 'abs': return (x) => (x > 0 ? 1 : x < 0 ? -1 : 0);
    case 'square': return (x) => 2 * x;
    case 'sigmoid': return (_x, y) => y * (1 - y);
    case 'tanh': return (_x, y) => 1 - y * y;
    case 'relu': return (x) => (x > 0 ? 1 : 0);
    case 'softplus': return (x) => sigmoid(x);
    case 'logsigmoid': return (x) => sigmoid(-x);
  }
}

export function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'max': return (a, b) => (a >= b ? a : b);
    case 'min': return (a, b) => (a <= b ? a : b);
    case 'eq': return (a, b) => (a === b ? 1 : 0);
    case 'ne': return (a, b) => (a !== b ? 1 : 0);
    case 'lt': return (a, b) => (a < b ? 1 : 0);
    case 'le': return (a, b) => (a <= b ? 1 : 0);
    case 'gt': return (a, b) => (a > b ? 1 : 0);
    case 'ge': return (a, b) => (a >= b ? 1 : 0);
  }
}

/**
 * Walk every index of `shape`, calling visit(srcIndex, dstIndex). Odometer over dimensions, so
 * any rank works without recursion; the innermost dimension is a plain loop.
 */
export function walkStrided(shape: readonly number[], sOff: number, sStr: readonly number[],
  dOff: number, dStr: readonly number[], visit: (si: number, di: number) => void): void {
  const rank = shape.length;
  if (rank === 0) { visit(sOff, dOff); return; }
  for (const d of shape) if (d === 0) return;
  const idx = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const n = shape[last], ss = sStr[last], ds = dStr[last];
  let si = sOff, di = dOff;
  for (;;) {
    for (let j = 0; j < n; j++) visit(si + j * ss, di + j * ds);
    let r = last - 1;
    for (; r >= 0; r--) {
      idx[r]++;
      si += sStr[r]; di += dStr[r];
      if (idx[r] < shape[r]) break;
      si -= sStr[r] * shape[r]; di -= dStr[r] * shape[r];
      idx[r] = 0;
    }
    if (r < 0) return;
  }
}

export function copyStridedRef(shape: readonly number[], src: TypedArray, sOff: number, sStr: readonly number[],
  dst: TypedArray, dOff: number, dStr: readonly number[], accumulate: boolean): void {
  if (accumulate) walkStrided(shape, sOff, sStr, dOff, dStr, (si, di) => { dst[di] += src[si]; });
  else walkStrided(shape, sOff, sStr, dOff, dStr, (si, di) => { dst[di] = src[si]; });
}

/**
 * dst[view] = op over the src values landing on each dst element (dst strides 0 on reduced axes),
 * in row-major index order. Each dst element is written from its first value on, so no identity
 * value is needed and 'max'/'min' of a NaN stay NaN.
 */
export function reduceRef(op: 'sum' | 'max' | 'min', shape: readonly number[], src: TypedArray, sOff: number,
  sStr: readonly number[], dst: TypedArray, dOff: number, dStr: readonly number[]): void {
  const seen = new Set<number>();
  walkStrided(shape, sOff, sStr, dOff, dStr, (si, di) => {
    const v = src[si];
    if (!seen.has(di)) { seen.add(di); dst[di] = v; return; }
    const d = dst[di];
    if (op === 'sum') dst[di] = d + v;
    else if (Number.isNaN(d) || Number.isNaN(v)) dst[di] = NaN;
    else dst[di] = op === 'max' ? (v > d ? v : d) : (v < d ? v : d);
  });
}
