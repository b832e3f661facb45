import { needsGrad, record } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { checkFloat, emptyLike, sameDevice } from './util.js';

/**
 * Matrix product with optional transposes. a: [..., M, K] (or [..., K, M] with transA), folded
 * over its leading dimensions when b is 2-D; b: [K, N] (or [N, K] with transB), or batched
 * [..., K, N] with the same leading dimensions as a. Forward next to backward.
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  sameDevice('matmul', a, b);
  checkFloat('matmul', a);
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: expected operands of rank >= 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const batched = b.rank > 2;
  if (batched && (b.rank !== a.rank || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]))) {
    throw new Error(`matmul: batched operands need the same leading dimensions, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1];
  const br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1];
  const lead = a.shape.slice(0, -2);
  const nb = lead.reduce((p, d) => p * d, 1);
  // Fold a's leading dims into M when b is shared (not possible with transA).
  const fold = !batched && !transA;
  const M = fold ? nb * ar : (transA ? ac : ar);
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br, N = transB ? br : bc;
  if (K !== Kb) {
    throw new Error(`matmul: inner dimensions differ: ${fmt(a.shape)}${transA ? '^T' : ''} x ${fmt(b.shape)}${transB ? '^T' : ''} (${K} vs ${Kb})`);
  }
  const reps = fold ? 1 : nb;
  const m = M;
  const outShape = fold ? [...lead, ar, N] : [...lead, M, N];
  const y = emptyLike(a, outShape);
  const be = a.backend;
  const aStep = fold ? 0 : ar * ac, bStep = batched ? br * bc : 0, yStep = m * N;
  for (let r = 0; r < reps; r++) {
    be.gemm(transA, transB, m, N, K, 1, a.storage, r * aStep, ac, b.storage, r * bStep, bc, 0, y.storage, r * yStep, N);
  }
  if (needsGrad([a, b])) {
    record({
      name: 'matmul', inputs: [a, b], outputs: [y],
      backward([g]) {
        let da = null, db = null;
        if (a.requiresGrad) {
          da = be.alloc(a.dtype, a.size);
          for (let r = 0; r < reps; r++) {
            // op(A) = G op(B)^T  ->  A = G op(B)^T, or A = op(B) G^T when transA.
            if (!transA) be.gemm(false, !transB, m, K, N, 1, g!, r * yStep, N, b.storage, r * bStep, bc, 0, da, r * aStep, ac);
            else be.gemm(transB, true, K, m, N, 1, b.storage, r * bStep, bc, g!, r * yStep, N, 0, da, r * aStep, ac);
          }
        }
        if (b.requiresGrad) {
          db = be.alloc(b.dtype, b.size);
          for (let r = 0; r < reps; r++) {
            const beta = batched || r === 0 ? 0 : 1;
            // op(B) = op(A)^T G  ->  B = op(A)^T G, or B = G^T op(A) when transB.
            if (!transB) be.gemm(!transA, false, K, N, m, 1, a.storage, r * aStep, ac, g!, r * yStep, N, beta, db, r * bStep, bc);
            else be.gemm(true, transA, N, K, m, 1, g!, r * yStep, N, a.storage, r * aStep, ac, beta, db, r * bStep, bc);
          }
        }
        return [da, db];
      },
    }, [y]);
  }
  return y;
}

/**
 * y = x W^T + b (torch.nn.functional.linear). x: [..., in], weight [out, in], bias [out] or null.
 * One op: one GEMM forward, two GEMMs and a column sum backward.
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  sameDevice('linear', x, weight, ...(bias ? [bias] : []));
  checkFloat('linear', x);
  if (weight.rank !== 2) throw new Error(`linear: expected weight of shape [out, in], got ${fmt(weight.shape)}`);
  const [O, I] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== I) throw new Error(`linear: expected input [..., ${I}], got ${fmt(x.shape)}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== O)) throw new Error(`linear: expected bias [${O}], got ${fmt(bias.shape)}`);
  const rows = x.size / I;
  const be = x.backend;
  const y = emptyLike(x, [...x.shape.slice(0, -1), O]);
  if (bias) be.copyStrided([rows, O], bias.storage, 0, [0, 1], y.storage, 0, [O, 1], false);
  be.gemm(false, true, rows, O, I, 1, x.storage, 0, I, weight.storage, 0, I, bias ? 1 : 0, y.storage, 0, O);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  if (needsGrad(inputs)) {
    record({
      name: 'linear', inputs, outputs: [y],
      backward([g]) {
        let dx = null, dw = null, db = null;
        if (x.requiresGrad) { dx = be.alloc(x.dtype, x.size); be.gemm(false, false, rows, I, O, 1, g!, 0, O, weight.storage, 0, I, 0, dx, 0, I); }
        if (weight.requiresGrad) { dw = be.alloc(x.dtype, O * I); be.gemm(true, false, O, I, rows, 1, g!, 0, O, x.storage, 0, I, 0, dw, 0, I); }
        if (bias?.requiresGrad) { db = be.alloc(x.dtype, O); be.copyStrided([rows, O], g!, 0, [O, 1], db, 0, [0, 1], true); }
        return bias ? [dx, dw, db] : [dx, dw];
      },
    }, [y]);
  }
  return y;
}

