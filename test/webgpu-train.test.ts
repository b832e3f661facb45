import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { backward } from '../src/autograd/tape.js';
import { mseLoss } from '../src/loss/mse.js';
import { Linear } from '../src/nn/linear.js';
import { LSTM } from '../src/nn/lstm.js';
import { slice, reshape } from '../src/ops/shape.js';
import { Adam } from '../src/optim/index.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { tidy } from '../src/tensor/tidy.js';
import { testBackends, webgpuForSuite } from './backends.js';

/**
 * Training on webgpu follows wasm: 50 Adam steps of an LSTM with a linear head on h_T (MSE), from
 * the same seed, on each backend; the losses and every parameter at the end agree within 1e-4
 * relative. The steps read nothing back; the losses are read after the loop.
 */
const gpu = webgpuForSuite();
const wasm = testBackends().find((b) => b.name === 'wasm')!;

const T = 6, B = 4, I = 3, H = 8, STEPS = 50;
const X = Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(0.37 * i) + 0.1 * Math.cos(1.3 * i));
const Y = Float32Array.from({ length: B }, (_, b) => (b % 2 ? 0.5 : -0.25) + 0.1 * b);

async function train(backend: Backend): Promise<{ losses: number[]; params: Map<string, Float32Array> }> {
  const rng = new Rng(7);
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend, rng });
  const head = new Linear({ inFeatures: H, outFeatures: 1 }, { backend, rng });
  const params = [...lstm.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: 0.01 });
  const x = tensor(X, [T, B, I], { backend }), y = tensor(Y, [B, 1], { backend });
  const losses: Tensor[] = [];
  for (let s = 0; s < STEPS; s++) {
    losses.push(tidy(() => {
      opt.zeroGrad();
      const hT = reshape(slice(lstm.forward(x).y, 0, T - 1, T), [B, H]);
      const loss = mseLoss(head.forward(hT), y);
      backward(loss);
      opt.step();
      return loss;
    }));
  }
  const values: number[] = [];
  for (const l of losses) values.push((await l.data())[0]);
  const out = new Map<string, Float32Array>();
  for (const [n, d] of [...await lstm.readStateDict(), ...[...await head.readStateDict()].map(([n, d]) => [`head.${n}`, d] as const)]) {
    out.set(n, d.data as Float32Array);
  }
  return { losses: values, params: out };
}

describe('webgpu training', { skip: gpu.skip || (wasm.skip ?? false) }, () => {
  it('50 Adam steps of an LSTM regressor stay within 1e-4 relative of wasm from the same seed', async () => {
    const want = await train(wasm.backend!), got = await train(gpu.backend!);
    assert.ok(want.losses[STEPS - 1] < 0.5 * want.losses[0], `the run learns (loss ${want.losses[0]} -> ${want.losses[STEPS - 1]})`);
    got.losses.forEach((l, s) => {
      const w = want.losses[s];
      assert.ok(Math.abs(l - w) <= 1e-4 * Math.abs(w), `loss at step ${s + 1}: webgpu ${l}, wasm ${w}`);
    });
    for (const [name, w] of want.params) {
      const g = got.params.get(name)!;
      const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      g.forEach((v, i) => assert.ok(Math.abs(v - w[i]) <= 1e-4 * scale, `${name}[${i}]: webgpu ${v}, wasm ${w[i]} (1e-4 of max |value| ${scale})`));
    }
  });
});
