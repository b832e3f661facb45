import assert from 'node:assert/strict';
import { backward, noGrad } from '../../src/autograd/tape.js';
import type { Backend } from '../../src/backend/backend.js';
import type { DType } from '../../src/backend/dtype.js';
import { ReferenceBackend, arr } from '../../src/backend/reference/index.js';
import { add, mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { assertClose } from '../backends.js';

/** The f64 reference backend that gradient checks run on. */
export const ref64 = new ReferenceBackend();
export const F64 = { backend: ref64, dtype: 'f64' as const };

/** A leaf tensor of random normal values (on `backend`, default ref64; f64 by default) that requires grad. */
export function randLeaf(rng: Rng, shape: number[], scale = 1, requiresGrad = true, backend: Backend = ref64, dtype: DType = 'f64'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float64Array.from({ length: n }, () => rng.normal() * scale);
  const t = new Tensor(backend.upload(dtype, v), shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/**
 * Finite-difference check (float64; float32 with a larger eps and tol, for a backend's own f32
 * kernels): compare the tape's gradient of L = sum_k sum(out_k * w_k)
 * (random fixed weights w_k, so every output element matters) with central differences for every
 * element of every leaf. `fn` must be deterministic. Runs on whatever backend the leaves live on
 * (the weights are made on each output's backend); leaves must be CPU storages (perturbed in place).
 */
export function gradcheck(fn: () => Tensor | Tensor[], leaves: Tensor[], opts: { eps?: number; tol?: number; seed?: number } = {}): void {
  const eps = opts.eps ?? 1e-6, tol = opts.tol ?? 1e-6;
  const rng = new Rng(opts.seed ?? 7);
  const asList = (o: Tensor | Tensor[]) => (Array.isArray(o) ? o : [o]);
  const outs0 = asList(fn());
  const weights = outs0.map((o) => randLeaf(rng, [...o.shape], 1, false, o.backend, o.dtype));
  const lossOf = (outs: Tensor[]) => outs.reduce<Tensor | null>((acc, o, k) => {
    const term = sum(mul(o, weights[k]));
    return acc ? add(acc, term) : term;
  }, null)!;
  for (const l of leaves) l.zeroGrad();
  backward(lossOf(asList(fn())));
  for (const [li, l] of leaves.entries()) {
    const a = arr(l.storage);
    const g = l.grad ? l.grad.dataSync() : new Float64Array(l.size);
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      // The step actually taken (in f32, v +- eps rounds): divide by it, not by 2 eps.
      a[i] = v + eps; const hi = a[i]; const up = noGrad(() => lossOf(asList(fn())).item());
      a[i] = v - eps; const lo = a[i]; const dn = noGrad(() => lossOf(asList(fn())).item());
      a[i] = v;
      const num = (up - dn) / (hi - lo);
      const err = Math.abs(num - g[i]) / Math.max(1, Math.abs(num));
      assert.ok(err < tol, `leaf ${li} [${l.shape}] element ${i}: analytic ${g[i]} vs numeric ${num} (error ${err})`);
    }
  }
}

/** Tensor and module options: a backend and a float dtype. */
export interface FloatOpts { backend: Backend; dtype: 'f32' | 'f64' }

/** A function of some leaves, as a gradient check takes it. */
export interface Checked { fn: () => Tensor | Tensor[]; leaves: Tensor[] }

/** What checkGradients takes beyond gradcheck's options. */
export interface CheckOpts {
  eps?: number; tol?: number; seed?: number;
  /** Finite differences in f32 on the backend's own kernels (a larger eps and tol), not f64. */
  f32?: boolean;
  /** Tolerance of an f32 backend's values against the reference's f64 ones: atol + rtol |want|. */
  atol?: number; rtol?: number;
}

/**
 * The gradient check of the suites that run on every backend. Where `backend` computes in f64:
 * finite differences (gradcheck) of the function `build` makes, in f64 (or in f32 with opts.f32).
 * On an f32-only backend (webgpu), where finite differences in f32 are too noisy to find a small
 * error: its outputs and analytic gradients in f32 against the reference backend's in f64 from
 * the same inputs, within an f32 tolerance. So "the reference is right (finite differences, on
 * the CPU backends) and webgpu equals the reference" holds. `build(o)` makes the function and its
 * leaves with the options o; it must draw its random values from generators it seeds itself, so
 * that both builds get the same values.
 */
export async function checkGradients(backend: Backend, build: (o: FloatOpts) => Checked | Promise<Checked>, opts: CheckOpts = {}): Promise<void> {
  if (backend.dtypes.includes('f64')) {
    const { fn, leaves } = await build({ backend, dtype: opts.f32 ? 'f32' : 'f64' });
    gradcheck(fn, leaves, opts.f32 ? { eps: opts.eps ?? 1e-2, tol: opts.tol ?? 2e-3, seed: opts.seed } : opts);
    return;
  }
  // f32 sums of a few dozen O(1) products, through a few recurrent steps: errors of some 1e-7 relative.
  const atol = opts.atol ?? 1e-6, rtol = opts.rtol ?? 1e-5;
  const got = await analytic(await build({ backend, dtype: 'f32' }), opts.seed), want = await analytic(await build({ backend: ref64, dtype: 'f64' }), opts.seed);
  assert.equal(got.outs.length, want.outs.length, 'outputs');
  got.outs.forEach((g, k) => assertClose(g, want.outs[k], atol, rtol, `output ${k} on ${backend.name} vs reference (f64)`));
  got.grads.forEach((g, k) => assertClose(g, want.grads[k], atol, rtol, `gradient of leaf ${k} on ${backend.name} vs reference (f64)`));
}

/** The outputs of `fn` and the gradients of its leaves for L = sum_k sum(out_k * w_k), as gradcheck weighs them. */
async function analytic({ fn, leaves }: Checked, seed = 7): Promise<{ outs: ArrayLike<number>[]; grads: ArrayLike<number>[] }> {
  const rng = new Rng(seed);
  const outs = [fn()].flat();
  // Weights representable in f32, so that both backends weigh by exactly the same numbers.
  const weights = outs.map((o) => new Tensor(o.backend.upload(o.dtype, Float64Array.from({ length: o.size }, () => Math.fround(rng.normal()))), o.shape));
  for (const l of leaves) l.zeroGrad();
  backward(outs.map((o, k) => sum(mul(o, weights[k]))).reduce((a, b) => add(a, b)));
  const read: ArrayLike<number>[] = [], grads: ArrayLike<number>[] = [];
  for (const o of outs) read.push(await o.data());
  for (const l of leaves) grads.push(l.grad ? await l.grad.data() : new Float64Array(l.size));
  return { outs: read, grads };
}
