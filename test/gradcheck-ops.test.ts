import { it } from 'node:test';
import * as ops from '../src/ops/index.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { forEachBackend } from './backends.js';
import { checkGradients, randLeaf as randOn, type Checked, type FloatOpts } from './util/gradcheck.js';

// On the CPU backends: finite differences in f64. On webgpu (f32 only): its gradients against the
// reference's f64 ones, which the finite differences here check (util/gradcheck.ts, checkGradients).
forEachBackend('finite-difference gradient checks of every op (f64)', (backend) => {
  /** A check whose leaves are drawn from its own seeded generator (the same on both builds). */
  const check = (seed: number, build: (leaf: (shape: number[], scale?: number) => Tensor, o: FloatOpts) => Checked) =>
    checkGradients(backend, (o) => {
      const rng = new Rng(seed);
      return build((shape, scale = 1) => randOn(rng, shape, scale, true, o.backend, o.dtype), o);
    });
  /** A leaf of given values. */
  const given = (o: FloatOpts, v: number[], shape: number[]) => { const t = new Tensor(o.backend.upload(o.dtype, v), shape); t.requiresGrad = true; return t; };
  it('add, sub, mul, div with broadcasting', () => check(1, (randLeaf, o) => {
    const a = randLeaf([3, 4]), b = randLeaf([4]), c = randLeaf([3, 1]);
    const d = given(o, [1.5, -2, 2.5], [3, 1]);
    return { fn: () => [ops.add(a, b), ops.sub(a, c), ops.mul(b, c), ops.div(a, d)], leaves: [a, b, c, d] };
  }));
  it('unary ops', () => check(2, (randLeaf, o) => {
    const x = randLeaf([2, 5]);
    const p = given(o, [0.5, 1.5, 2, 3, 0.7], [5]);
    return { fn: () => [ops.neg(x), ops.exp(x), ops.sigmoid(x), ops.tanh(x), ops.relu(x), ops.softplus(x),
      ops.logSigmoid(x), ops.square(x), ops.log(p), ops.sqrt(p), ops.abs(p), ops.affine(x, 2.5, -1)], leaves: [x, p] };
  }));
  it('matmul with every transpose combination, folded and batched', () => check(3, (randLeaf) => {
    const a = randLeaf([3, 4]), b = randLeaf([4, 5]), at = randLeaf([4, 3]), bt = randLeaf([5, 4]);
    const a3 = randLeaf([2, 3, 4]), b3 = randLeaf([2, 4, 2]);
    return { fn: () => [ops.matmul(a, b), ops.matmul(at, b, true), ops.matmul(a, bt, false, true),
      ops.matmul(at, bt, true, true), ops.matmul(a3, b), ops.matmul(a3, b3)], leaves: [a, b, at, bt, a3, b3] };
  }));
  it('linear with and without bias', () => check(4, (randLeaf) => {
    const x = randLeaf([2, 3, 4]), w = randLeaf([5, 4]), b = randLeaf([5]);
    return { fn: () => [ops.linear(x, w, b), ops.linear(x, w, null)], leaves: [x, w, b] };
  }));
  it('sum and mean over axes', () => check(5, (randLeaf) => {
    const x = randLeaf([2, 3, 4]);
    return { fn: () => [ops.sum(x), ops.sum(x, 1), ops.mean(x, [0, 2], true), ops.mean(x)], leaves: [x] };
  }));
  it('reshape, permute, transpose, slice, concat, stack, indexSelect', () => check(6, (randLeaf, o) => {
    const x = randLeaf([2, 3, 4]), y = randLeaf([2, 1, 4]);
    const idx = new Tensor(o.backend.upload('i32', [2, 0, 2]), [3]);
    return { fn: () => [ops.reshape(x, [6, -1]), ops.permute(x, [2, 0, 1]), ops.transpose(x), ops.slice(x, 1, 1, 3),
      ops.concat([x, y], 1), ops.stack([y, y], 0), ops.indexSelect(ops.reshape(x, [6, 4]), idx)], leaves: [x, y] };
  }));
  it('softmax and logSoftmax over every axis', () => check(7, (randLeaf) => {
    const x = randLeaf([3, 5], 3), x3 = randLeaf([2, 3, 4], 2);
    return { fn: () => [ops.softmax(x), ops.logSoftmax(x), ops.softmax(x, 0), ops.logSoftmax(x, -2),
      ops.softmax(x3, 0), ops.softmax(x3, 1), ops.logSoftmax(x3, 1), ops.logSoftmax(x3, -3)], leaves: [x, x3] };
  }));
}, { asyncF32: true });
