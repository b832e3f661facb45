import type { Parameter } from '../tensor/tensor.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { keepStorage } from '../backend/scope.js';
import { zeros } from '../tensor/create.js';

/**
 * torch.nn.utils.clip_grad_norm_: scale all gradients by min(1, maxNorm / (total + 1e-6)), where
 * total is the norm (normType 2 or Infinity) of all gradients together. Returns the total norm
 * before clipping, as a one-element tensor (as PyTorch does): everything runs on the device and
 * nothing is read back. Gradients are replaced by scaled copies (grad buffers are never aliased)
 * and the old buffers freed.
 */
export function clipGradNorm(params: Iterable<Parameter>, maxNorm: number, normType: 2 | number = 2): Tensor {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: expected maxNorm > 0, got ${maxNorm}`);
  if (normType !== 2 && normType !== Infinity) throw new Error(`clipGradNorm: normType must be 2 or Infinity, got ${normType}`);
  const ps = [...params].filter((p) => p.grad);
  if (ps.length === 0) return zeros([]);
  return noGrad(() => {
    const be = ps[0].backend, dt = ps[0].dtype;
    const total = be.alloc(dt, 1), part = be.alloc(dt, 1); // [1]
    for (const p of ps) {
      const g = p.grad!.storage, n = p.size;
      if (p.backend !== be) throw new Error(`clipGradNorm: parameters live on different backends (${be.name} and ${p.backend.name})`);
      if (normType === 2) {
        be.gemm(false, true, 1, 1, n, 1, g, 0, n, g, 0, n, 1, total, 0, 1); // total += g . g
      } else {
        const a = be.alloc(dt, n);
        be.unary('abs', g, 0, a, 0, n);
        be.reduce('max', [n], a, 0, [1], part, 0, [0]);
        be.binary('max', [1], total, 0, [1], part, 0, [1], total, 0);
        be.dispose(a);
      }
    }
    if (normType === 2) be.unary('sqrt', total, 0, total, 0, 1);
    // coef = min(1, maxNorm / (total + 1e-6))
    const coef = be.upload(dt, [maxNorm, 1]);
    be.affine(total, 0, part, 0, 1, 1, 1e-6, false);
    be.binary('div', [1], coef, 0, [1], part, 0, [1], coef, 0);
    be.binary('min', [1], coef, 0, [1], coef, 1, [1], coef, 0);
    for (const p of ps) {
      const out = be.alloc(p.dtype, p.size);
      keepStorage(out); // a gradient outlives tidy() scopes
      be.binary('mul', [p.size], p.grad!.storage, 0, [1], coef, 0, [0], out, 0);
      be.dispose(p.grad!.storage);
      p.grad = new Tensor(out, p.shape);
    }
    be.dispose(part); be.dispose(coef);
    return new Tensor(total, []);
  });
}

/** torch.nn.utils.clip_grad_value_: clamp every gradient element to [-clip, clip]. */
export function clipGradValue(params: Iterable<Parameter>, clip: number): void {
  if (!(clip > 0)) throw new Error(`clipGradValue: expected clip > 0, got ${clip}`);
  noGrad(() => {
    for (const p of params) {
      if (!p.grad) continue;
      const be = p.backend, n = p.size;
      const hi = be.upload(p.dtype, [clip]), lo = be.upload(p.dtype, [-clip]);
      const t = be.alloc(p.dtype, n), out = be.alloc(p.dtype, n);
      keepStorage(out); // a gradient outlives tidy() scopes
      be.binary('min', [n], p.grad.storage, 0, [1], hi, 0, [0], t, 0);
      be.binary('max', [n], t, 0, [1], lo, 0, [0], out, 0);
      for (const s of [hi, lo, t, p.grad.storage]) be.dispose(s);
      p.grad = new Tensor(out, p.shape);
    }
  });
}
