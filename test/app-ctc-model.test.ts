import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { ctcLoss } from '../src/loss/ctc.js';
import { checkCtcConfig, CtcModel, stackFrames, batchInput, featureStats } from '../src/asr/model.js';
import { alignable, CtcTask, maskFrames, stretchFrames, warpFrames, type Utterance } from '../src/asr/task.js';
import { hzToMel, melToHz } from '../src/audio/melspec.js';
import { Rng } from '../src/tensor/random.js';
import { PhonemeSet } from '../src/asr/phonemes.js';
import { F64 } from './util/gradcheck.js';

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const skipTorch = hasTorch || process.env.CAROUSEL_NO_TORCH !== '1' ? false : 'CAROUSEL_NO_TORCH=1: PyTorch comparisons skipped on purpose';

// Hierarchical CTC written independently in PyTorch: two nn.LSTMs over packed sequences (the lower
// stack, then the rest), a Linear to the characters on top and one to the phonemes below, each
// log-softmaxed into F.ctc_loss (mean, zero_infinity), summed with the phonemes' weight; in f64.
const HIERARCHICAL = String.raw`
import json, sys, torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
torch.set_default_dtype(torch.float64)
d = json.load(sys.stdin)
P = {k: torch.tensor(v['data']).reshape(v['shape']).requires_grad_() for k, v in d['params'].items()}
I, H, L, K = d['inputSize'], d['hidden'], d['layers'], d['phonemeLayer']
low = torch.nn.LSTM(I, H, K, bidirectional=True)
up = torch.nn.LSTM(2 * H, H, L - K, bidirectional=True) if K < L else None
mods = {'lstm': low, **({'upper': up} if up else {})}
with torch.no_grad():
    for name, m in mods.items():
        for n, t in m.named_parameters(): t.copy_(P[name + '.' + n])
params = {name + '.' + n: t for name, m in mods.items() for n, t in m.named_parameters()}
params |= {k: P[k] for k in ('out.weight', 'out.bias', 'phon.weight', 'phon.bias')}
x = torch.tensor(d['x']).reshape(d['xShape']); lengths = torch.tensor(d['lengths'])
def run(m, seq):
    y, _ = m(pack_padded_sequence(seq, lengths, enforce_sorted=False))
    return pad_packed_sequence(y, total_length=seq.shape[0])[0]
a = run(low, x); top = run(up, a) if up else a
lc = F.log_softmax(top @ params['out.weight'].T + params['out.bias'], -1)
lp = F.log_softmax(a @ params['phon.weight'].T + params['phon.bias'], -1)
ctc = lambda lp_, t, tl: F.ctc_loss(lp_, torch.tensor(t), lengths, torch.tensor(tl), reduction='mean', zero_infinity=True)
loss = ctc(lc, d['labels'], d['labelLengths']) + d['weight'] * ctc(lp, d['phonemes'], d['phonemeLengths'])
loss.backward()
print(json.dumps({'loss': loss.item(), 'grads': {k: t.grad.flatten().tolist() for k, t in params.items()}}))
`;

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

  it('vocal tract length perturbation moves the spectrum up by alpha: a bump at F Hz comes out at alpha F', () => {
    // Frames of log-spectra drawn as functions of frequency: frame f is a bump at F_f (300 Hz to
    // 6 kHz), sampled at the 40 bands' centres (HTK mel, 20 Hz to 8 kHz, as the front end's).
    const dim = 40, k = 2, steps = 10, frames = steps * k, lo = hzToMel(20), hi = hzToMel(8000);
    const centre = (b: number) => melToHz(lo + ((hi - lo) * (b + 1)) / (dim + 1));
    const bump = (f: number, hz: number) => Math.exp(-(((hzToMel(hz) - hzToMel(300 + 300 * f)) / 120) ** 2) / 2);
    const x = Float32Array.from({ length: frames * dim }, (_, i) => bump(Math.floor(i / dim), centre(i % dim)));
    // Each column standardized: warpFrames gives each band back its mean and spread, so compare shapes.
    const standardized = (a: ArrayLike<number>) => {
      const out = Float64Array.from(a);
      for (let b = 0; b < dim; b++) {
        let m = 0, v = 0;
        for (let f = 0; f < frames; f++) m += out[f * dim + b] / frames;
        for (let f = 0; f < frames; f++) v += (out[f * dim + b] - m) ** 2 / frames;
        for (let f = 0; f < frames; f++) out[f * dim + b] = (out[f * dim + b] - m) / Math.sqrt(v);
      }
      return out;
    };
    const err = (a: ArrayLike<number>, want: ArrayLike<number>, bands: number) => {
      const sa = standardized(a), sw = standardized(want);
      let e = 0;
      for (let f = 0; f < frames; f++) for (let b = 0; b < bands; b++) e = Math.max(e, Math.abs(sa[f * dim + b] - sw[f * dim + b]));
      return e;
    };
    for (const alpha of [0.9, 1.1]) {
      // The speaker whose formants sit alpha times higher: band b hears what was at centre(b) / alpha.
      const want = Float32Array.from({ length: frames * dim }, (_, i) => bump(Math.floor(i / dim), centre(i % dim) / alpha));
      const warped = warpFrames(x, steps, dim, k, alpha);
      const below = Array.from({ length: dim }, (_, b) => b).filter((b) => centre(b) <= 0.85 * 8000 * Math.min(alpha, 1)).length;
      assert.ok(err(warped, want, below) < 0.2, `alpha ${alpha}: ${err(warped, want, below)}`);
      assert.ok(err(x, want, below) > 1, 'unwarped, the frames differ (else this test shows nothing)');
      assert.ok(err(warpFrames(x, steps, dim, k, 1 / alpha), want, below) > 1, 'the other direction differs too');
      // Each band keeps its mean and spread.
      for (let b = 0; b < dim; b++) {
        const col = (a: Float32Array) => Array.from({ length: frames }, (_, f) => a[f * dim + b]);
        const m = (c: number[]) => c.reduce((s, v) => s + v, 0) / frames;
        const sd = (c: number[]) => Math.sqrt(c.reduce((s, v) => s + (v - m(c)) ** 2, 0) / frames);
        assert.ok(Math.abs(m(col(warped)) - m(col(x))) < 1e-5 && Math.abs(sd(col(warped)) - sd(col(x))) < 1e-4, `band ${b}`);
      }
    }
    // At 1 it changes nothing.
    const same = warpFrames(x, steps, dim, k, 1);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(same[i] - x[i]) < 1e-5);
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

  it('trivialLoss: the uniform distribution\'s CTC loss, on the host, as training reduces it (a known count of alignments, and ctcLoss itself)', () => {
    const rng = new Rng(3);
    const m = new CtcModel({ kind: 'audio', melBins: 2, inputDim: 2, subsample: 1, hidden: 3, layers: 1, proj: 0, dropout: 0, alphabet: ['a', 'b'], mean: [0, 0], std: [1, 1] }, { rng });
    const C = m.alphabet.classes;
    const utt = (steps: number, labels: number[]): Utterance => ({ x: new Float32Array(steps * 2), steps, labels, text: '', where: '' });
    // One label over T frames: its run of frames starts and ends anywhere, T (T + 1) / 2 alignments of
    // probability C^-T each. Two equal labels in 2 frames cannot align (they need a blank between): 0, as zeroInfinity.
    const val = [utt(5, [1]), utt(2, [1, 1])];
    const task = new CtcTask(m, [utt(5, [1])], val, 2, rng, null);
    const expected = (5 * Math.log(C) - Math.log(15)) / 2;
    assert.ok(Math.abs(task.trivialLoss() - expected) < 1e-5, `${task.trivialLoss()} vs ${expected}`);
    // The same as ctcLoss (mean over label lengths, zeroInfinity) on uniform log-probabilities, on longer random labels.
    const many = [utt(9, [1, 2, 2]), utt(6, [2]), utt(12, [1, 1, 2, 1]), utt(3, [2, 2, 2])];
    const t2 = new CtcTask(m, many, many, 4, rng, null), T = 12;
    const lp = m.tensor(new Float32Array(T * many.length * C).fill(-Math.log(C)), [T, many.length, C]);
    const ref = ctcLoss(lp, many.flatMap((u) => u.labels), many.map((u) => u.steps), many.map((u) => u.labels.length), { zeroInfinity: true }).dataSync()[0];
    assert.ok(Math.abs(t2.trivialLoss() - ref) < 1e-4 * ref, `${t2.trivialLoss()} vs ctcLoss ${ref}`);
  });

  for (const phonemeLayer of [2, 3]) {
    it(`hierarchical CTC, phonemes after layer ${phonemeLayer} of 3: the loss and every gradient match PyTorch (two nn.LSTMs, two F.ctc_loss)`, { skip: skipTorch }, () => {
      const rng = new Rng(7), I = 3, k = 2, H = 4, weight = 0.7;
      const phon = new PhonemeSet(['@', "'V", 'tS']);
      const m = new CtcModel({ kind: 'audio', melBins: I, inputDim: I, subsample: k, hidden: H, layers: 3, proj: 0, dropout: 0, alphabet: ['a', 'b', 'c'], mean: [0, 0, 0], std: [1, 1, 1], phonemes: [...phon.tokens], phonemeLayer }, { ...F64, rng });
      const names = m.namedParameters().map(([n]) => n);
      assert.deepEqual(names.filter((n) => n.includes('weight_ih') || n.endsWith('.weight')), [
        'lstm.weight_ih_l0', 'lstm.weight_ih_l0_reverse', 'lstm.weight_ih_l1', 'lstm.weight_ih_l1_reverse',
        ...(phonemeLayer === 2 ? ['upper.weight_ih_l0', 'upper.weight_ih_l0_reverse'] : ['lstm.weight_ih_l2', 'lstm.weight_ih_l2_reverse']), 'out.weight', 'phon.weight']);
      const utt = (steps: number, labels: number[], phonemes: string): Utterance => ({ x: Float32Array.from({ length: steps * I * k }, () => rng.normal()), steps, labels, phonemes: phon.encode(phonemes), text: '', where: '' });
      // Lengths unsorted; the last utterance's phonemes ('V 'V 'V needs 5 steps) cannot align in 4 steps: zero, as zero_infinity.
      const utts = [utt(5, [1, 2], "tS 'V"), utt(7, [3, 3, 1], "@ tS @ 'V"), utt(4, [2], "'V 'V 'V")];
      const task = new CtcTask(m, utts, null, 3, rng, null, 0, weight);
      const r = task.trainBatch([0], 0);
      backward(r.loss);
      // The task's batch: sorted by length (4, 5, 7), so the reference gets that order too.
      const order = [2, 0, 1].map((i) => utts[i]), T = 7;
      const x = new Array<number>(T * 3 * I * k).fill(0);
      order.forEach((u, b) => { for (let t = 0; t < u.steps; t++) for (let j = 0; j < I * k; j++) x[(t * 3 + b) * I * k + j] = u.x[t * I * k + j]; });
      const input = {
        params: Object.fromEntries(m.namedParameters().map(([n, p]) => [n, { shape: p.shape, data: [...p.dataSync()] }])),
        inputSize: I * k, hidden: H, layers: 3, phonemeLayer, weight, x, xShape: [T, 3, I * k], lengths: order.map((u) => u.steps),
        labels: order.flatMap((u) => u.labels), labelLengths: order.map((u) => u.labels.length), phonemes: order.flatMap((u) => u.phonemes!), phonemeLengths: order.map((u) => u.phonemes!.length),
      };
      const py = spawnSync(PY, ['-c', HIERARCHICAL], { input: JSON.stringify(input), encoding: 'utf8' });
      assert.equal(py.status, 0, py.stderr);
      const ref = JSON.parse(py.stdout) as { loss: number; grads: Record<string, number[]> };
      const close = (a: ArrayLike<number>, b: number[], what: string) => {
        assert.equal(a.length, b.length, what);
        for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-9 * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs PyTorch ${b[i]}`);
      };
      close(r.loss.dataSync(), [ref.loss], 'loss');
      assert.deepEqual(Object.keys(ref.grads).sort(), [...names].sort());
      for (const [n, p] of m.namedParameters()) close(p.grad!.dataSync(), ref.grads[n], `d loss / d ${n}`);
    });
  }

  it('a model with phonemes decodes from its characters alone: forward equals the same weights as one unsplit stack', () => {
    const base = { kind: 'audio' as const, melBins: 2, inputDim: 2, subsample: 1, hidden: 3, layers: 3, proj: 0, dropout: 0.3, alphabet: ['a', 'b'], mean: [0, 0], std: [1, 1] };
    const split = new CtcModel({ ...base, phonemes: ['p', 'q'], phonemeLayer: 1 }, { rng: new Rng(2) }), whole = new CtcModel(base, { rng: new Rng(9) });
    // upper.X_l0 is the unsplit stack's lstm.X_l1 (its layer after the lower one); the rest keep their names.
    const dict = new Map([...split.stateDict()].filter(([n]) => !n.startsWith('phon.')).map(([n, t]) => [n.replace(/^upper\.(\w+)_l(\d+)/, (_, a: string, l: string) => `lstm.${a}_l${+l + 1}`), t]));
    whole.loadStateDict(dict, true);
    split.eval(); whole.eval();
    const rng = new Rng(4), x = split.tensor(Float32Array.from({ length: 5 * 2 * 2 }, () => rng.normal()), [5, 2, 2]);
    assert.deepEqual([...split.forward(x, [5, 3]).dataSync()], [...whole.forward(x, [5, 3]).dataSync()]);
    assert.throws(() => whole.forwardBoth(x, [5, 3]), /no phoneme output/);
  });

  it('model.json: phonemes and phonemeLayer come together, the layer within the stack, the tokens distinct', () => {
    const ok = { kind: 'audio', melBins: 2, inputDim: 2, subsample: 1, hidden: 3, layers: 2, proj: 0, dropout: 0, alphabet: ['a'], mean: [0, 0], std: [1, 1] };
    assert.doesNotThrow(() => checkCtcConfig({ ...ok, phonemes: ['p', 'q'], phonemeLayer: 2 }, 'm.json'));
    const bad = (extra: Record<string, unknown>, re: RegExp) => assert.throws(() => checkCtcConfig({ ...ok, ...extra }, 'm.json'), (e: Error) => e.name === 'ModelFileError' && re.test(e.message), JSON.stringify(extra));
    bad({ phonemes: ['p'] }, /config\.phonemeLayer.*both, or neither/);
    bad({ phonemeLayer: 1 }, /config\.phonemes.*both, or neither/);
    bad({ phonemes: ['p'], phonemeLayer: 3 }, /config\.phonemeLayer.*an integer in \[1, layers = 2\]/);
    bad({ phonemes: ['p', 'p'], phonemeLayer: 1 }, /config\.phonemes: PhonemeSet: token "p" appears twice/);
    bad({ phonemes: [], phonemeLayer: 1 }, /config\.phonemes.*a list of sound tokens/);
  });
});
