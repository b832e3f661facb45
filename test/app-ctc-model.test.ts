import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { CtcModel, stackFrames, batchInput, featureStats } from '../src/asr/model.js';
import { alignable, CtcTask, maskFrames, type Utterance } from '../src/asr/task.js';
import { Rng } from '../src/tensor/random.js';

describe('CTC model and task', () => {
  it('stacks k standardized frames per step, zero-padding the last', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // 5 frames x 2
    const x = stackFrames(data, 5, 2, 2, [0, 0], [1, 2]);
    assert.deepEqual([...x], [1, 1, 3, 2, 5, 3, 7, 4, 9, 5, 0, 0]); // [3 steps, 4]
    const { mean, std } = featureStats([{ data, frames: 5 }], 2);
    assert.deepEqual(mean, [5, 6]);
    assert.ok(Math.abs(std[0] - Math.sqrt(8)) < 1e-12);
  });

  it('batches time-major with padding: x [T, B, width]', () => {
    const b = batchInput([{ x: Float32Array.from([1, 2, 3, 4]), steps: 2 }, { x: Float32Array.from([5, 6]), steps: 1 }], 2);
    assert.equal(b.T, 2);
    assert.deepEqual([...b.x], [1, 2, 5, 6, 3, 4, 0, 0]);
    assert.deepEqual(b.lengths, [2, 1]);
  });

  it('leaves out the utterances CTC cannot align (repeats need a blank) before any loss is computed', () => {
    const u = (steps: number, labels: number[]): Utterance => ({ x: new Float32Array(steps * 2), steps, labels, text: '', where: `line ${steps}` });
    const { kept, tooShort } = alignable([u(3, [1, 2, 3]), u(3, [1, 1, 2]), u(4, [1, 1, 2]), u(5, [])]);
    assert.deepEqual(kept.map((k) => k.where), ['line 3', 'line 4']);
    assert.deepEqual(tooShort.map((t) => [t.where, t.needed]), [['line 3', 4], ['line 5', 0]]);
  });

  it('SpecAugment zeroes whole bands and spans, deterministic by seed, and never touches the original', () => {
    const dim = 10, k = 2, steps = 30, x = new Float32Array(steps * k * dim).fill(1);
    const s = { freqMasks: 1, freqWidth: 0.5, timeMasks: 1, timeWidth: 10, timeFraction: 0.2 };
    const a = maskFrames(x, steps, dim, k, s, new Rng(3)), b = maskFrames(x, steps, dim, k, s, new Rng(3));
    assert.deepEqual(a, b);
    assert.ok(x.every((v) => v === 1));
    // A masked band is zero in every frame; a masked frame is zero in every band.
    const frames = steps * k;
    const bandZero = Array.from({ length: dim }, (_, d) => Array.from({ length: frames }, (_, f) => a[f * dim + d]).every((v) => v === 0));
    const frameZero = Array.from({ length: frames }, (_, f) => a.subarray(f * dim, (f + 1) * dim).every((v) => v === 0));
    for (let f = 0; f < frames; f++) for (let d = 0; d < dim; d++) assert.equal(a[f * dim + d] === 0, bandZero[d] || frameZero[f]);
    assert.ok(bandZero.filter(Boolean).length <= 5 && frameZero.filter(Boolean).length <= 10);
    assert.ok(Array.from({ length: 20 }, (_, i) => maskFrames(x, steps, dim, k, s, new Rng(i))).some((m) => m.some((v) => v === 0)));
  });

  it('a training step gives a finite loss and gradients for every parameter (PyTorch names)', () => {
    const rng = new Rng(1);
    const m = new CtcModel({ kind: 'audio', melBins: 4, inputDim: 4, subsample: 2, hidden: 6, layers: 2, proj: 3, dropout: 0, alphabet: ['a', 'b'], mean: [0, 0, 0, 0], std: [1, 1, 1, 1] }, { rng });
    assert.deepEqual(m.namedParameters().map(([n]) => n).filter((n) => n.endsWith('_l0') || n.startsWith('out')), ['lstm.weight_ih_l0', 'lstm.weight_hh_l0', 'lstm.bias_ih_l0', 'lstm.bias_hh_l0', 'lstm.weight_hr_l0', 'out.weight', 'out.bias']);
    const utt = (steps: number, labels: number[]): Utterance => ({ x: Float32Array.from({ length: steps * 8 }, () => rng.normal()), steps, labels, text: '', where: '' });
    const task = new CtcTask(m, [utt(5, [1, 2]), utt(3, [2]), utt(6, [1, 1, 2])], null, 3, rng, null);
    const r = task.trainBatch([0], 0);
    const loss = r.loss.dataSync()[0];
    assert.ok(Number.isFinite(loss) && loss > 0);
    backward(r.loss);
    for (const [n, p] of m.namedParameters()) assert.ok(p.grad && p.grad.dataSync().some((v) => v !== 0), `${n} has a gradient`);
  });
});
