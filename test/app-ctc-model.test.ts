import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { CtcModel, stackFrames, batchInput, featureStats } from '../src/asr/model.js';
import { alignable, CtcTask, maskFrames, stretchFrames, type Utterance } from '../src/asr/task.js';
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

  it('speed perturbation resamples the frames in time and stacks them again', () => {
    // 7 frames of a ramp (frame f, band d: 10 f + d), stacked by 2 (the 8th frame is padding, 0).
    const dim = 3, k = 2, steps = 4;
    const x = Float32Array.from({ length: steps * k * dim }, (_, i) => (i < 7 * dim ? 10 * Math.floor(i / dim) + (i % dim) : 0));
    assert.deepEqual(stretchFrames(x, steps, dim, k, 1), { x, steps });
    // Slower (speed 0.8): 10 frames spread over the 8, so output frame j lies at input position j * 7 / 9.
    const slow = stretchFrames(x, steps, dim, k, 0.8);
    assert.equal(slow.steps, 5);
    for (let j = 0; j < 10; j++) {
      const pos = (j * 7) / 9, i = Math.floor(pos), w = pos - i;
      const at = (f: number, d: number) => (f < 7 ? 10 * f + d : 0); // the padding frame interpolates toward 0
      for (let d = 0; d < dim; d++) assert.ok(Math.abs(slow.x[j * dim + d] - ((1 - w) * at(i, d) + w * at(Math.min(i + 1, 7), d))) < 1e-5, `frame ${j} band ${d}`);
    }
    // Faster (speed 2): 4 frames, 2 steps; the first and last input frames are kept.
    const fast = stretchFrames(x, steps, dim, k, 2);
    assert.equal(fast.steps, 2);
    assert.deepEqual([...fast.x.subarray(0, dim)], [0, 1, 2]);
    assert.deepEqual([...fast.x.subarray(3 * dim, 4 * dim)], [0, 0, 0]); // input frame 8 of 8: the padding
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
    // With speed perturbation up to 1.5x faster, an utterance with just enough frames (4 for [1, 1, 2])
    // is never squeezed below what its labels need: the loss stays finite and not zeroed (as an impossible alignment is), batch after batch.
    const tight = new CtcTask(m, [utt(4, [1, 1, 2])], null, 1, new Rng(5), null, 0.5);
    for (let i = 0; i < 8; i++) { const l = tight.trainBatch([0], 0).loss.dataSync()[0]; assert.ok(Number.isFinite(l) && l > 0, `batch ${i}: loss ${l} (0: an impossible alignment, zeroed)`); }
  });
});
