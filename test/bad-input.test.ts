import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ctcLoss } from '../src/loss/ctc.js';
import { crossEntropy } from '../src/loss/crossEntropy.js';
import { mseLoss } from '../src/loss/mse.js';
import { GRU } from '../src/nn/gru.js';
import { LSTM } from '../src/nn/lstm.js';
import { Linear } from '../src/nn/linear.js';
import * as ops from '../src/ops/index.js';
import { tensor, zeros } from '../src/tensor/create.js';
import { forEachBackend, values } from './backends.js';

forEachBackend('bad input gets an error naming what was expected and what was given', (backend) => {
  const o = { backend };
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2 }, o);
  it('wrong input rank and size', async () => {
    assert.throws(() => lstm.forward(zeros([5, 3], o)), /expected input of shape \[T, B, I\] \(rank 3\), got \[5, 3\]/);
    assert.throws(() => lstm.forward(zeros([5, 2, 7], o)), /expected input size 3 in the last dimension, got \[5, 2, 7\]/);
  });
  it('state shapes that do not match', async () => {
    assert.throws(() => lstm.forward(zeros([5, 2, 3], o), { h0: zeros([1, 2, 4], o) }), /expected h0 of shape \[2, 2, 4\], got \[1, 2, 4\]/);
    assert.throws(() => lstm.forward(zeros([5, 2, 3], o), { c0: zeros([2, 3, 4], o) }), /expected c0 of shape \[2, 2, 4\], got \[2, 3, 4\]/);
  });
  it('lengths out of range or of the wrong count', async () => {
    assert.throws(() => lstm.forward(zeros([5, 2, 3], o), { lengths: [5, 6] }), /lengths\[1\]: expected an integer in \[1, 5\].*got 6/);
    assert.throws(() => lstm.forward(zeros([5, 2, 3], o), { lengths: [0, 2] }), /lengths\[0\]: expected an integer in \[1, 5\].*got 0/);
    assert.throws(() => lstm.forward(zeros([5, 2, 3], o), { lengths: [5] }), /lengths: expected 2 values/);
    assert.throws(() => ops.lstmLayer(zeros([3, 2, 3], o), zeros([1, 2, 4], o), zeros([1, 2, 4], o),
      [{ wIh: zeros([16, 3], o), wHh: zeros([16, 4], o), bIh: null, bHh: null, wHr: null }], [1, 3]), /sorted in decreasing order/);
  });
  it('NaN in inputs', async () => {
    const x = zeros([2, 1, 3], o);
    x.backend.fill(x.storage, 4, 1, NaN);
    if (backend.readSync) {
      assert.throws(() => lstm.forward(x), /LSTM input: expected finite values, got NaN at flat index 4/);
      assert.throws(() => ctcLoss(tensor([NaN, 0], [1, 1, 2], o), [1], [1], [1]), /ctcLoss logProbs: expected finite values, got NaN/);
      return;
    }
    // Where reads are transfers (webgpu) the check runs on the device and its error comes with the
    // next read, as a device-side assert does (src/backend/checks.ts).
    const y = lstm.forward(x).y;
    await assert.rejects(y.data(), /^Error: LSTM input: expected finite values, got NaN or infinity \(found by a device-side check since the last read\)$/);
    const loss = ctcLoss(tensor([NaN, 0], [1, 1, 2], o), [1], [1], [1]);
    await assert.rejects(loss.data(), /ctcLoss logProbs: expected finite values, got NaN or infinity \(found by a device-side check/);
    assert.equal((await y.data()).length, 2 * 4, 'a failed check is reported once; the next read goes through');
  });
  it('unknown and impossible options', async () => {
    assert.throws(() => new LSTM({ inputSize: 3, hiddenSize: 4, peephole: true } as never, o), /unknown option\(s\) peephole/);
    assert.throws(() => new LSTM({ inputSize: 3, hiddenSize: 4, projSize: 4 }, o), /expected projSize < hiddenSize \(4\), got 4/);
    assert.throws(() => new GRU({ inputSize: 0, hiddenSize: 4 }, o), /GRU.inputSize: expected a positive integer, got 0/);
    assert.throws(() => new GRU({ inputSize: 2, hiddenSize: 4, dropout: 1 }, o), /GRU.dropout: expected a probability in \[0, 1\), got 1/);
    assert.throws(() => lstm.forward(zeros([5, 2, 3], o), { h: zeros([2, 2, 4], o) } as never), /LSTM.forward: unknown option\(s\) h/);
    assert.throws(() => new Linear({ inFeatures: 2, outFeatures: 3, bias: true, act: 'relu' } as never, o), /unknown option\(s\) act/);
  });
  it('CTC: targets containing the blank, bad lengths, bad blank index', async () => {
    const lp = ops.logSoftmax(zeros([4, 2, 3], o));
    assert.throws(() => ctcLoss(lp, [1, 0, 2], [4, 4], [2, 1]), /must not contain the blank index 0 \(found at position 1\)/);
    assert.throws(() => ctcLoss(lp, [1, 2], [4, 5], [1, 1]), /inputLengths\[1\] must be in \[0, 4\], got 5/);
    assert.throws(() => ctcLoss(lp, [1, 2], [4, 4], [1, 2]), /sum\(targetLengths\) = 3 labels, got 2/);
    assert.throws(() => ctcLoss(lp, [1, 2], [4, 4], [1, 1], { blank: 3 }), /blank must be a class index in \[0, 3\), got 3/);
    assert.throws(() => ctcLoss(lp, [1, 7], [4, 4], [1, 1]), /target label 7 at position 1 is outside \[0, 3\)/);
    assert.throws(() => ctcLoss(zeros([4], o), [1], [4], [1]), /expected logProbs of shape \[T, N, C\] \(or \[T, C\] unbatched\), got \[4\]/);
  });
  it('ops: shapes that do not broadcast or multiply, bad targets', async () => {
    assert.throws(() => ops.add(zeros([2, 3], o), zeros([4], o)), /shapes \[2, 3\] and \[4\] do not broadcast/);
    assert.throws(() => ops.matmul(zeros([2, 3], o), zeros([4, 5], o)), /inner dimensions differ: \[2, 3\] x \[4, 5\] \(3 vs 4\)/);
    assert.throws(() => ops.reshape(zeros([2, 3], o), [4, 2]), /cannot view shape \[2, 3\] \(6 elements\) as \[4, 2\]/);
    assert.throws(() => mseLoss(zeros([2, 3], o), zeros([3, 2], o)), /prediction \[2, 3\] and target \[3, 2\] must have the same shape/);
    assert.throws(() => crossEntropy(zeros([2, 3], o), [0, 3]), /target 3 at position 1 is not a class index in \[0, 3\)/);
    assert.throws(() => tensor([1, 2, 3], [2, 2], o), /shape \[2, 2\] needs 4 values, got 3/);
    assert.throws(() => tensor([[1, 2], [3]], undefined, o), /ragged nested array/);
  });
  it('loadStateDict: missing, unexpected and mis-shaped parameters change nothing', async () => {
    const m = new GRU({ inputSize: 2, hiddenSize: 3 }, o);
    const before = await values(m.parameter('weight_ih_l0'));
    const sd = await m.readStateDict();
    sd.set('weight_ih_l0', { shape: [9, 3], data: new Float32Array(27) });
    sd.delete('bias_hh_l0');
    sd.set('weight_hr_l0', { shape: [1], data: [1] });
    assert.throws(() => m.loadStateDict(sd), /'weight_ih_l0': expected shape \[9, 2\], got \[9, 3\].*unexpected parameter 'weight_hr_l0'.*missing parameter 'bias_hh_l0'/);
    assert.deepEqual(await values(m.parameter('weight_ih_l0')), before);
  });
}, { asyncF32: true });
