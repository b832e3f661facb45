import assert from 'node:assert/strict';
import { backward, noGrad } from '../../src/autograd/tape.js';
import type { Backend } from '../../src/backend/backend.js';
import type { DType } from '../../src/backend/dtype.js';
import { ReferenceBackend, arr } from '../../src/backend/reference/index.js';
import { add, mul } from '../../src/ops/elementwise.js';
import { sum } from '../../src/ops/reduce.js';
import { Rng } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';

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
