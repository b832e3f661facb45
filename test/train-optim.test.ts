import { it as test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parameter } from '../src/tensor/create.js';
import { Tensor, type Parameter } from '../src/tensor/tensor.js';
import { forEachBackend, hasF64, itemOf, values } from './backends.js';
import { SGD, Adam, AdamW, RMSprop, clipGradNorm, clipGradValue, StepLR, CosineAnnealingLR, ReduceLROnPlateau, type Optimizer } from '../src/optim/index.js';

// Reference trajectories from PyTorch (test/data/gen_optim.py, float64).
const ref = JSON.parse(readFileSync(new URL('../../test/data/optim-ref.json', import.meta.url), 'utf8'));
const A: number[] = ref.A, B: number[] = ref.B;

async function setGrad(p: Parameter): Promise<void> {
  // loss = sum(a p^2 + b p)  =>  grad = 2 a p + b
  const v = await p.data();
  const g = v.map((x, i) => 2 * A[i] * x + B[i]);
  p.grad = new Tensor(p.backend.upload(p.dtype, g), p.shape);
}

const makers: Record<string, (p: Parameter[]) => Optimizer> = {
  sgd: (ps) => new SGD(ps, { lr: 0.1 }),
  sgd_momentum_wd: (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
  sgd_nesterov: (ps) => new SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true, weightDecay: 0.02 }),
  adam: (ps) => new Adam(ps, { lr: 0.1 }),
  adam_wd_amsgrad: (ps) => new Adam(ps, { lr: 0.05, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1, amsgrad: true }),
  adamw: (ps) => new AdamW(ps, { lr: 0.1, weightDecay: 0.05 }),
  rmsprop: (ps) => new RMSprop(ps, { lr: 0.01 }),
  rmsprop_centered_momentum: (ps) => new RMSprop(ps, { lr: 0.02, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.01 }),
};

forEachBackend('optimizers, schedules and clipping', (backend) => {
for (const [name, make] of Object.entries(makers)) {
  // In f64 on the CPU backends; on webgpu (f32 only) its fused f32 updates, where each step
  // rounds p, its gradient and the moments to f32 (2^-24 relative): over these 6 steps the CPU
  // backends' f32 runs stay within 2.5e-7 of PyTorch's f64 trajectories.
  const [dtype, atol, rtol] = hasF64(backend) ? ['f64', 1e-12, 1e-10] as const : ['f32', 5e-7, 1e-6] as const;
  test(`optim ${name} matches PyTorch step by step (${dtype})`, async () => {
    const p = parameter(ref.P0, [6], { dtype, backend });
    const opt = make([p]);
    const traj: number[][] = ref.optim[name];
    for (const [step, want] of traj.entries()) {
      await setGrad(p);
      opt.step();
      const got = await p.data();
      want.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= atol + rtol * Math.abs(w), `${name} step ${step + 1} [${i}]: ${got[i]} vs ${w}`));
    }
  });

  test(`optim ${name}: readState()/loadState() resumes bit-identically`, async () => {
    const p1 = parameter(ref.P0, [6], { dtype: 'f32', backend });
    const o1 = make([p1]);
    for (let s = 0; s < 3; s++) { await setGrad(p1); o1.step(); }
    const saved = JSON.parse(JSON.stringify(await o1.readState(), (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v)));
    for (const k of Object.keys(saved.buffers)) saved.buffers[k] = Float32Array.from(saved.buffers[k]);
    const p2 = parameter(await p1.data(), [6], { dtype: 'f32', backend });
    const o2 = make([p2]);
    o2.loadState(saved);
    for (let s = 0; s < 3; s++) { await setGrad(p1); o1.step(); await setGrad(p2); o2.step(); }
    assert.deepEqual(await values(p2), await values(p1));
  });
}

test('optim: parameter without grad is skipped; zeroGrad clears', async () => {
  const p = parameter([1, 2], [2], { backend });
  const opt = new Adam([p], { lr: 0.1 });
  opt.step();
  assert.deepEqual(await values(p), [1, 2]);
  p.grad = new Tensor(p.backend.upload('f32', [1, 1]), [2]);
  opt.zeroGrad();
  assert.equal(p.grad, null);
});

test('optim: bad hyperparameters are rejected with the value', () => {
  const p = parameter([1], [1], { backend });
  assert.throws(() => new SGD([p], { lr: -1 }), /learning rate >= 0, got -1/);
  assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov momentum needs momentum > 0/);
  assert.throws(() => new Adam([p], { betas: [1.2, 0.9] }), /beta1.*got 1.2/);
  assert.throws(() => new Adam([p]).loadState({ kind: 'sgd', lr: 1, hyper: {}, steps: [0], buffers: {} }), /expected a adam state, got sgd/);
});

test('LR schedules match PyTorch', () => {
  const close = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-12, `epoch ${i + 1}: ${x} vs ${b[i]}`));
  const run = (mk: (o: Optimizer) => { step(m?: number): void }, n: number, metrics?: number[]) => {
    const o = new SGD([parameter([0], [1], { backend })], { lr: 0.1 });
    const s = mk(o);
    return Array.from({ length: n }, (_, i) => { s.step(metrics?.[i]); return o.lr; });
  };
  close(run((o) => new StepLR(o, 3, 0.5), 12), ref.sched.step);
  close(run((o) => new CosineAnnealingLR(o, 5, 0.01), 23), ref.sched.cosine);
  const m = ref.sched.plateau_metrics;
  close(run((o) => new ReduceLROnPlateau(o, { factor: 0.5, patience: 2, cooldown: 1 }), m.length, m), ref.sched.plateau);
});

test('LR schedules: state round trip continues identically', () => {
  const o1 = new SGD([parameter([0], [1], { backend })], { lr: 0.1 });
  const s1 = new CosineAnnealingLR(o1, 7, 0.001);
  for (let i = 0; i < 4; i++) s1.step();
  const o2 = new SGD([parameter([0], [1], { backend })], { lr: o1.lr });
  const s2 = new CosineAnnealingLR(o2, 7, 0.001);
  s2.loadState(JSON.parse(JSON.stringify(s1.state())));
  for (let i = 0; i < 6; i++) { s1.step(); s2.step(); assert.equal(o2.lr, o1.lr); }
  const p = new ReduceLROnPlateau(o1);
  p.step(1);
  const st = JSON.parse(JSON.stringify(p.state()));
  const p2 = new ReduceLROnPlateau(o2);
  p2.loadState(st);
  assert.equal(p2.best, 1);
  assert.throws(() => p2.step(), /expected the monitored metric/);
});

test('clipGradNorm and clipGradValue match PyTorch', async () => {
  const g1 = parameter([0, 0], [2], { backend }), g2 = parameter([0, 0, 0, 0], [2, 2], { backend });
  g1.grad = new Tensor(g1.backend.upload('f32', [3, -4]), [2]);
  g2.grad = new Tensor(g2.backend.upload('f32', [1, 2, -2, 0.5]), [2, 2]);
  const before = g1.grad;
  const total = await itemOf(clipGradNorm([g1, g2], 2.0));
  assert.ok(Math.abs(total - ref.clip.total) < 1e-5);
  (await values(g1.grad!)).forEach((v, i) => assert.ok(Math.abs(v - ref.clip.g1[i]) < 1e-6));
  (await values(g2.grad!)).forEach((v, i) => assert.ok(Math.abs(v - ref.clip.g2[i]) < 1e-6));
  // The old gradient was replaced by a scaled copy and its buffer freed: on wasm, reading it is an error.
  if (before.backend.name === 'wasm') assert.throws(() => before.dataSync(), /used after it was freed/);
  if (before.backend.name === 'webgpu') await assert.rejects(before.data(), /used after it was freed/);
  // Under the limit nothing changes.
  assert.ok(Math.abs(await itemOf(clipGradNorm([g1, g2], 100)) - 2) < 1e-5);
  clipGradValue([g2], 0.5);
  (await values(g2.grad!)).forEach((v, i) =>
    assert.ok(Math.abs(v - Math.max(-0.5, Math.min(0.5, ref.clip.g2[i]))) < 1e-6, `clipped [${i}] = ${v}`));
});
}, { asyncF32: true });
