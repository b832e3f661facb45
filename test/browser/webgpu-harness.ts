import { Adam, backward, Linear, LSTM, mseLoss, ops, ReferenceBackend, Rng, setBackend, tensor, tidy, type Backend, type Tensor } from '../../src/browser.js';
import type { WebGpuBackend } from '../../src/backend/webgpu/index.js';

/**
 * What test/browser.test.ts runs in Chromium on WebGPU: a few Adam steps of an LSTM regressor
 * (linear head on h_T, MSE) through the browser entry on `webgpu` (navigator.gpu), and the same
 * steps from the same seed on the reference backend. It reports numbers; the Node side asserts.
 */
export interface WebGpuReport {
  error: string | null;
  adapter: string;
  losses: number[];
  refLosses: number[];
  /** Largest |webgpu - reference| of a parameter after the steps, over the largest |reference| of that parameter. */
  maxParamRel: number;
  ms: number;
}

const T = 5, B = 3, I = 2, H = 6;

async function train(backend: Backend, steps: number): Promise<{ losses: number[]; params: Float32Array[] }> {
  const rng = new Rng(11);
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend, rng });
  const head = new Linear({ inFeatures: H, outFeatures: 1 }, { backend, rng });
  const params = [...lstm.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: 0.02 });
  const x = tensor(Float32Array.from({ length: T * B * I }, (_, i) => Math.sin(0.7 * i)), [T, B, I], { backend });
  const y = tensor(Float32Array.from({ length: B }, (_, b) => 0.3 * b - 0.2), [B, 1], { backend });
  const losses: Tensor[] = [];
  for (let s = 0; s < steps; s++) {
    losses.push(tidy(() => {
      opt.zeroGrad();
      const hT = ops.reshape(ops.slice(lstm.forward(x).y, 0, T - 1, T), [B, H]);
      const loss = mseLoss(head.forward(hT), y);
      backward(loss);
      opt.step();
      return loss;
    }));
  }
  const out: number[] = [];
  for (const l of losses) out.push((await l.data())[0]);
  const values: Float32Array[] = [];
  for (const p of params) values.push(await p.data() as Float32Array);
  return { losses: out, params: values };
}

export async function runWebGpu(steps: number): Promise<WebGpuReport> {
  const t0 = performance.now();
  let gpu: WebGpuBackend;
  try {
    gpu = await setBackend('webgpu') as WebGpuBackend;
  } catch (e) {
    return { error: (e as Error).message, adapter: '', losses: [], refLosses: [], maxParamRel: Infinity, ms: performance.now() - t0 };
  }
  const got = await train(gpu, steps), want = await train(new ReferenceBackend(), steps);
  let maxParamRel = 0;
  want.params.forEach((w, k) => {
    const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    w.forEach((v, i) => { maxParamRel = Math.max(maxParamRel, Math.abs(got.params[k][i] - v) / scale); });
  });
  return {
    error: null, adapter: `${gpu.adapter.vendor} / ${gpu.adapter.architecture}`,
    losses: got.losses, refLosses: want.losses, maxParamRel, ms: performance.now() - t0,
  };
}
