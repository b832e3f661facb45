import type { Parameter } from '../tensor/tensor.js';
import { Tensor } from '../tensor/tensor.js';
import { noGrad } from '../autograd/tape.js';
import { keepStorage } from '../backend/scope.js';

/**
 * torch.nn.utils.clip_grad_norm_: scale all gradients by min(1, maxNorm / (total + 1e-6)), where
 * total is the norm (normType 2 or Infinity) of all gradients together. Returns the total norm
 * before clipping. Gradients are replaced by scaled copies (grad buffers are never aliased) and the
 * old buffers freed.
 */
export function clipGradNorm(params: Iterable<Parameter>, maxNorm: number, normType: 2 | number = 2): number {
  if (!(maxNorm > 0)) throw new Error(`clipGradNorm: expected maxNorm > 0, got ${maxNorm}`);
  if (normType !== 2 && normType !== Infinity) throw new Error(`clipGradNorm: normType must be 2 or Infinity, got ${normType}`);
  const ps = [...params].filter((p) => p.grad);
  if (ps.length === 0) return 0;
  return noGrad(() => {
    let total = 0;
    for (const p of ps) {
      const g = p.grad!.storage, be = p.backend, n = p.size;
      if (normType === 2) {
        const r = be.alloc(p.dtype, 1);
        be.gemm(false, true, 1, 1, n, 1, g, 0, n, g, 0, n, 0, r, 0, 1); // g . g
        total += be.readSync(r)[0];
        be.dispose(r);
      } else {
        // The backend has no max-reduction kernel: read the gradient back once.
        const vals = be.readSync(g);
        let m = 0;
        for (let i = 0; i < n; i++) { const v = Math.abs(vals[i]); if (v > m || Number.isNaN(v)) m = v; }
        total = Math.max(total, m);
      }
    }
    if (normType === 2) total = Math.sqrt(total);
    const coef = Math.min(1, maxNorm / (total + 1e-6));
    if (coef < 1) {
      for (const p of ps) {
        const be = p.backend, out = be.alloc(p.dtype, p.size);
        keepStorage(out); // a gradient outlives tidy() scopes
        be.affine(p.grad!.storage, out, p.size, coef, 0, false);
        be.dispose(p.grad!.storage);
        p.grad = new Tensor(out, p.shape);
      }
    }
    return total;
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
      be.binary('min', [n], p.grad.storage, [1], hi, [0], t);
      be.binary('max', [n], t, [1], lo, [0], out);
      for (const s of [hi, lo, t, p.grad.storage]) be.dispose(s);
      p.grad = new Tensor(out, p.shape);
    }
  });
}
