// The nowcasting models against PyTorch (an independent implementation written here in torch
// ops: peephole ConvLSTM by F.conv2d, the encoder-forecaster wiring, nn.LSTM for the FC-LSTM,
// BCE-with-logits): logits, the per-frame loss and every parameter's gradient, in f64. And the
// host-side per-frame cross-entropy, the patch layout and the FC-LSTM sizing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { EncoderForecaster, type NowcastModel } from '../src/nowcast/model.js';
import { FcLstm, fcHiddenFor, fcLstmParameters } from '../src/nowcast/fcLstm.js';
import { fromPatches, toPatches } from '../src/nowcast/patches.js';
import { frameCrossEntropy, frameCrossEntropyHost, NowcastTask, type NowcastSample } from '../src/nowcast/task.js';
import { startAtMeanIntensity } from '../src/nowcast/run.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { F64 } from './util/gradcheck.js';

const PY = '/usr/bin/python3';
const hasTorch = spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const skip = hasTorch || process.env.CAROUSEL_NO_TORCH !== '1' ? false : 'CAROUSEL_NO_TORCH=1: PyTorch comparisons skipped on purpose';

const REFERENCE = String.raw`
import json, sys, torch
import torch.nn.functional as F
torch.set_default_dtype(torch.float64)
def run(d):
  P = {k: torch.tensor(v['data']).reshape(v['shape']).requires_grad_() for k, v in d['params'].items()}
  x = torch.tensor(d['x']).reshape(d['xShape']); y = torch.tensor(d['y']).reshape(d['yShape'])
  K, B = d['yShape'][0], d['yShape'][1]

  def convlstm(seq, h, c, p):
      w = P[p + 'weight_ih']; k = w.shape[-1]; ys = []
      for t in range(seq.shape[0]):
          a = F.conv2d(seq[t], w, P[p + 'bias'], padding=k // 2) + F.conv2d(h, P[p + 'weight_hh'], padding=k // 2)
          ai, af, ag, ao = a.chunk(4, 1)
          i = torch.sigmoid(ai + P[p + 'weight_ci'] * c); f = torch.sigmoid(af + P[p + 'weight_cf'] * c)
          c = f * c + i * torch.tanh(ag); o = torch.sigmoid(ao + P[p + 'weight_co'] * c); h = o * torch.tanh(c)
          ys.append(h)
      return torch.stack(ys), h, c

  if d['kind'] == 'convlstm':
      L, C = d['layers'], d['hidden']; G = x.shape[-1]
      seq, states = x, []
      for l in range(L):
          z = torch.zeros(B, C, G, G)
          seq, h, c = convlstm(seq, z, z, f'encoder.{l}.'); states.append((h, c))
      seq, outs = torch.zeros(K, B, 1, G, G), []
      for l in range(L):
          seq, _, _ = convlstm(seq, states[l][0], states[l][1], f'forecaster.{l}.'); outs.append(seq)
      allh = torch.cat(outs, 2)
      logits = torch.einsum('kbcyx,oc->kboyx', allh, P['head.weight']) + P['head.bias'][None, None, :, None, None]
  else:
      T = x.shape[0]; L, H = d['layers'], d['hidden']
      enc = torch.nn.LSTM(x[0, 0].numel(), H, L); fore = torch.nn.LSTM(1, H, L); head = torch.nn.Linear(H, x[0, 0].numel())
      with torch.no_grad():
          for name, mod in (('encoder', enc), ('forecaster', fore), ('head', head)):
              for n, t in mod.named_parameters(): t.copy_(P[name + '.' + n])
      params = {'encoder.' + n: t for n, t in enc.named_parameters()} | {'forecaster.' + n: t for n, t in fore.named_parameters()} | {'head.' + n: t for n, t in head.named_parameters()}
      P = params
      _, (h, c) = enc(x.reshape(T, B, -1))
      out, _ = fore(torch.zeros(K, B, 1), (h, c))
      logits = head(out).reshape(y.shape)
  loss = F.binary_cross_entropy_with_logits(logits, y, reduction='sum') / (K * B)
  loss.backward()
  return {'logits': logits.detach().flatten().tolist(), 'loss': loss.item(), 'grads': {k: t.grad.flatten().tolist() for k, t in P.items()}}

print(json.dumps([run(d) for d in json.load(sys.stdin)]))
`;

interface Case { model: NowcastModel; extra: Record<string, unknown>; shape: { Tin: number; K: number; B: number; C: number; G: number } }

/** Each case's forward and backward here, the same in PyTorch (one python run for all), compared. */
function compareWithTorch(cases: Case[]) {
  const mine = cases.map(({ model, extra, shape: { Tin, K, B, C, G } }) => {
    const rng = new Rng(5);
    const xv = Array.from({ length: Tin * B * C * G * G }, () => rng.next());
    const yv = Array.from({ length: K * B * C * G * G }, () => (rng.next() < 0.3 ? rng.next() : 0)); // soft and zero targets
    const x = tensor(xv, [Tin, B, C, G, G], F64), y = tensor(yv, [K, B, C, G, G], F64);
    const logits = model.forward(x);
    const loss = frameCrossEntropy(logits, y);
    backward(loss);
    const params = Object.fromEntries(model.namedParameters().map(([n, p]) => [n, { shape: p.shape, data: [...p.dataSync()] }]));
    return { model, logits, loss, input: { ...extra, params, x: xv, xShape: x.shape, y: yv, yShape: y.shape } };
  });
  const r = spawnSync(PY, ['-c', REFERENCE], { input: JSON.stringify(mine.map((m) => m.input)), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const refs = JSON.parse(r.stdout) as { logits: number[]; loss: number; grads: Record<string, number[]> }[];
  const close = (a: ArrayLike<number>, b: number[], what: string) => {
    assert.equal(a.length, b.length, what);
    for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-9 * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs PyTorch ${b[i]}`);
  };
  mine.forEach(({ model, logits, loss }, i) => {
    const ref = refs[i], kind = model.kind;
    close(logits.dataSync(), ref.logits, `${kind} logits`);
    close([loss.dataSync()[0]], [ref.loss], `${kind} loss`);
    assert.deepEqual(Object.keys(ref.grads).sort(), model.namedParameters().map(([n]) => n).sort());
    for (const [n, p] of model.namedParameters()) close(p.grad!.dataSync(), ref.grads[n], `${kind} d loss / d ${n}`);
  });
}

test('EncoderForecaster (2 stacked ConvLSTMs, states copied, no forecaster input, 1x1 head) and FcLstm (nn.LSTM encoder and forecaster, Linear head) match PyTorch: logits, loss, gradients', { skip }, () => {
  compareWithTorch([
    {
      model: new EncoderForecaster({ channels: 4, grid: 3, hidden: 2, layers: 2, kernel: 3, horizon: 2 }, { ...F64, rng: new Rng(3) }),
      extra: { kind: 'convlstm', layers: 2, hidden: 2 }, shape: { Tin: 3, K: 2, B: 2, C: 4, G: 3 },
    },
    {
      model: new FcLstm({ channels: 4, grid: 2, hidden: 3, layers: 2, horizon: 2 }, { ...F64, rng: new Rng(4) }),
      extra: { kind: 'fc-lstm', layers: 2, hidden: 3 }, shape: { Tin: 3, K: 2, B: 2, C: 4, G: 2 },
    },
  ]);
});

test('the host per-frame cross-entropy: known values, and stable for large logits', () => {
  // -(y log σ(z) + (1-y) log(1-σ(z))) at z = 0 is log 2 whatever y; at y = 1, z = 50: about e^-50.
  assert.deepEqual(frameCrossEntropyHost([0, 0, 0, 0], [0, 1, 0.5, 0.25], 2).map((v) => +v.toFixed(12)), [+(2 * Math.log(2)).toFixed(12), +(2 * Math.log(2)).toFixed(12)]);
  const big = frameCrossEntropyHost([50, -800], [1, 0], 1)[0];
  assert.ok(big > 0 && big < 1e-20, `got ${big}`);
  assert.equal(frameCrossEntropyHost([-800], [1], 1)[0], 800);
});

test('NowcastTask.evaluate: per-frame sums over pixels averaged over examples equal the training loss on the same batch', async () => {
  const shape = { size: 4, patch: 2, input: 2, horizon: 3 };
  const m = new EncoderForecaster({ channels: 4, grid: 2, hidden: 2, layers: 1, kernel: 3, horizon: 3 }, { ...F64, rng: new Rng(8) });
  const rng = new Rng(9);
  const samples: NowcastSample[] = [0, 1, 2].map((i) => ({ source: `s${i}`, data: Float32Array.from({ length: 5 * 16 }, () => rng.next()) }));
  const task = new NowcastTask(m, samples, null, shape, 2);
  const e = await task.evaluate(samples);
  assert.equal(e.perFrame.length, 3);
  const { x, y } = task.batch(samples, [0, 1, 2]);
  const loss = frameCrossEntropy(m.forward(x), y).dataSync()[0];
  assert.ok(Math.abs(e.mean - loss) < 1e-9 * loss, `${e.mean} vs ${loss}`);
});

test('patches: channel py*p+px of cell (Y, X) is pixel (Y*p+py, X*p+px), and fromPatches inverts toPatches', () => {
  const S = 6, p = 3, T = 2, G = S / p;
  const frames = Float32Array.from({ length: T * S * S }, (_, i) => i);
  const pt = toPatches(frames, T, { size: S, patch: p });
  for (let t = 0; t < T; t++) for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const ch = (y % p) * p + (x % p), Y = Math.floor(y / p), X = Math.floor(x / p);
    assert.equal(pt[((t * p * p + ch) * G + Y) * G + X], frames[(t * S + y) * S + x]);
  }
  assert.deepEqual(fromPatches(pt, T, { size: S, patch: p }), frames);
});

test('FC-LSTM sizing: the parameter formula counts the module, and fcHiddenFor picks the closest width', () => {
  for (const [H, L] of [[3, 1], [5, 2]]) {
    const m = new FcLstm({ channels: 16, grid: 4, hidden: H, layers: L, horizon: 2 });
    assert.equal(fcLstmParameters(256, H, L), m.numParameters());
  }
  const target = fcLstmParameters(256, 7, 1) + 10;
  assert.equal(fcHiddenFor(target, 256, 1), 7);
});

test('startAtMeanIntensity: the untrained model scores about the trivial per-frame cross-entropy, not 0.5 for every pixel', async () => {
  const shape = { size: 8, patch: 4, input: 2, horizon: 2 };
  const rng = new Rng(12);
  // Sparse ink, as moving digits: about 10% of the pixels lit.
  const samples: NowcastSample[] = [0, 1, 2, 3].map((i) => ({ source: `s${i}`, data: Float32Array.from({ length: 4 * 64 }, () => (rng.next() < 0.1 ? 1 : 0)) }));
  for (const make of [
    () => new EncoderForecaster({ channels: 16, grid: 2, hidden: 2, layers: 1, kernel: 3, horizon: 2 }, { rng: new Rng(1) }),
    () => new FcLstm({ channels: 16, grid: 2, hidden: 2, layers: 1, horizon: 2 }, { rng: new Rng(1) }),
  ]) {
    const m = make();
    const task = new NowcastTask(m, samples, null, shape, 4);
    const before = (await task.evaluate(samples)).mean;
    startAtMeanIntensity(m, samples, shape);
    const after = (await task.evaluate(samples)).mean, trivial = task.trivialLoss();
    assert.ok(before > 1.5 * trivial, `${m.kind}: before ${before}, trivial ${trivial}`);
    assert.ok(Math.abs(after - trivial) < 0.1 * trivial, `${m.kind}: after ${after}, trivial ${trivial}`);
  }
});
