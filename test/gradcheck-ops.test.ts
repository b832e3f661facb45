import { it } from 'node:test';
import * as ops from '../src/ops/index.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { forEachBackend } from './backends.js';
import { gradcheck, randLeaf as randOn } from './util/gradcheck.js';

forEachBackend('finite-difference gradient checks of every op (f64)', (backend) => {
  const rng = new Rng(1);
  const randLeaf = (r: Rng, shape: number[], scale = 1) => randOn(r, shape, scale, true, backend);
  it('add, sub, mul, div with broadcasting', () => {
    const a = randLeaf(rng, [3, 4]), b = randLeaf(rng, [4]), c = randLeaf(rng, [3, 1]);
    const d = new Tensor(backend.upload('f64', [1.5, -2, 2.5]), [3, 1]); d.requiresGrad = true;
    gradcheck(() => [ops.add(a, b), ops.sub(a, c), ops.mul(b, c), ops.div(a, d)], [a, b, c, d]);
  });
  it('unary ops', () => {
    const x = randLeaf(rng, [2, 5]);
    const p = new Tensor(backend.upload('f64', [0.5, 1.5, 2, 3, 0.7]), [5]); p.requiresGrad = true;
    gradcheck(() => [ops.neg(x), ops.exp(x), ops.sigmoid(x), ops.tanh(x), ops.relu(x), ops.softplus(x),
      ops.logSigmoid(x), ops.square(x), ops.log(p), ops.sqrt(p), ops.abs(p), ops.affine(x, 2.5, -1)], [x, p]);
  });
  it('matmul with every transpose combination, folded and batched', () => {
    const a = randLeaf(rng, [3, 4]), b = randLeaf(rng, [4, 5]), at = randLeaf(rng, [4, 3]), bt = randLeaf(rng, [5, 4]);
    const a3 = randLeaf(rng, [2, 3, 4]), b3 = randLeaf(rng, [2, 4, 2]);
    gradcheck(() => [ops.matmul(a, b), ops.matmul(at, b, true), ops.matmul(a, bt, false, true),
      ops.matmul(at, bt, true, true), ops.matmul(a3, b), ops.matmul(a3, b3)], [a, b, at, bt, a3, b3]);
  });
  it('linear with and without bias', () => {
    const x = randLeaf(rng, [2, 3, 4]), w = randLeaf(rng, [5, 4]), b = randLeaf(rng, [5]);
    gradcheck(() => [ops.linear(x, w, b), ops.linear(x, w, null)], [x, w, b]);
  });
  it('sum and mean over axes', () => {
    const x = randLeaf(rng, [2, 3, 4]);
    gradcheck(() => [ops.sum(x), ops.sum(x, 1), ops.mean(x, [0, 2], true), ops.mean(x)], [x]);
  });
  it('reshape, permute, transpose, slice, concat, stack, indexSelect', () => {
    const x = randLeaf(rng, [2, 3, 4]), y = randLeaf(rng, [2, 1, 4]);
    const idx = new Tensor(backend.upload('i32', [2, 0, 2]), [3]);
    gradcheck(() => [ops.reshape(x, [6, -1]), ops.permute(x, [2, 0, 1]), ops.transpose(x), ops.slice(x, 1, 1, 3),
      ops.concat([x, y], 1), ops.stack([y, y], 0), ops.indexSelect(ops.reshape(x, [6, 4]), idx)], [x, y]);
  });
  it('softmax and logSoftmax over every axis', () => {
    const x = randLeaf(rng, [3, 5], 3), x3 = randLeaf(rng, [2, 3, 4], 2);
    gradcheck(() => [ops.softmax(x), ops.logSoftmax(x), ops.softmax(x, 0), ops.logSoftmax(x, -2),
      ops.softmax(x3, 0), ops.softmax(x3, 1), ops.logSoftmax(x3, 1), ops.logSoftmax(x3, -3)], [x, x3]);
  });
});
