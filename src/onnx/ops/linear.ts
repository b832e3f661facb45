import { add, affine } from '../../ops/elementwise.js';
import { matmul } from '../../ops/matmul.js';
import { reshape } from '../../ops/shape.js';
import { fmt } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { OpCompiler } from '../node.js';
import { asFloat } from '../values.js';
import { needFloat } from './util.js';

/** Gemm: alpha * A' B' + beta * C, A and B 2-D (transposed with transA / transB), C broadcast. */
const gemm: OpCompiler = (n) => {
  n.attrs.only('alpha', 'beta', 'transA', 'transB');
  const alpha = n.attrs.float('alpha', 1), beta = n.attrs.float('beta', 1);
  const transA = n.attrs.int('transA', 0) === 1, transB = n.attrs.int('transB', 0) === 1;
  return ([a, b, c]) => {
    const A = needFloat(n, a, 0), B = needFloat(n, b, 1);
    if (A.rank !== 2 || B.rank !== 2) throw new Error(`${n.label}: expected 2-D A and B, got ${fmt(A.shape)} and ${fmt(B.shape)}`);
    let y = matmul(A, B, transA, transB);
    if (alpha !== 1) y = affine(y, alpha, 0);
    if (c && beta !== 0) y = add(y, beta === 1 ? asFloat(n.dev, c) : affine(asFloat(n.dev, c), beta, 0));
    return [y];
  };
};

/** MatMul with NumPy semantics for the shapes exporters emit: [..., M, K] x [K, N], batched equal leading dims, 1-D operands. */
const matmulOp: OpCompiler = (n) => {
  n.attrs.only();
  return ([a, b]) => {
    let A = needFloat(n, a, 0), B = needFloat(n, b, 1);
    const aVec = A.rank === 1, bVec = B.rank === 1;
    if (aVec) A = reshape(A, [1, A.shape[0]]);
    if (bVec) B = reshape(B, [B.shape[0], 1]);
    if (B.rank > 2 && A.rank !== B.rank) throw new Error(`${n.label}: batched MatMul needs operands of the same rank, got ${fmt(A.shape)} and ${fmt(B.shape)}`);
    let y: Tensor = matmul(A, B);
    if (aVec) y = reshape(y, [...y.shape.slice(0, -2), y.shape[y.rank - 1]]);
    if (bVec) y = reshape(y, y.shape.slice(0, -1));
    return [y];
  };
};

export const linearOps: Record<string, OpCompiler> = { Gemm: gemm, MatMul: matmulOp };
