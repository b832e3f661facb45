import type { Storage } from '../backend/backend.js';
import type { Parameter } from '../tensor/tensor.js';
import { checkRange, lin, Optimizer } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

/**
 * torch.optim.Adam (single-tensor path), same update:
 *   g += wd*p (Adam) | p *= 1 - lr*wd (AdamW, decoupled)
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2;  vmax = max(vmax, v) (amsgrad)
 *   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 */
export class Adam extends Optimizer {
  readonly kind: string = 'adam';
  beta1: number; beta2: number; eps: number; weightDecay: number; amsgrad: boolean;
  protected decoupled = false;

  constructor(params: Iterable<Parameter>, o: AdamOptions = {}) {
    super(params, o.lr ?? 1e-3);
    [this.beta1, this.beta2] = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.amsgrad = o.amsgrad ?? false;
    checkRange('Adam beta1', this.beta1, 0, 1, true);
    checkRange('Adam beta2', this.beta2, 0, 1, true);
    checkRange('Adam eps', this.eps, 0, Infinity);
    checkRange('Adam weightDecay', this.weightDecay, 0, Infinity);
  }

  protected update(i: number, p: Parameter, g: Storage): void {
    const be = p.backend, n = p.size, t = this.steps[i];
    if (this.weightDecay !== 0) {
      if (this.decoupled) {
        const d = this.tmp(i, 'd');
        be.affine(p.storage, d, n, -this.lr * this.weightDecay, 0, false);
        be.affine(d, p.storage, n, 1, 0, true);
      } else {
        const d = this.tmp(i, 'g');
        lin(be, d, n, [[g, 1], [p.storage, this.weightDecay]]);
        g = d;
      }
    }
    const sq = this.tmp(i, 'sq');
    be.binary('mul', [n], g, [1], g, [1], sq); // g^2
    const m = this.rewrite(i, 'exp_avg', [[this.buf(i, 'exp_avg').s, this.beta1], [g, 1 - this.beta1]]);
    let v = this.rewrite(i, 'exp_avg_sq', [[this.buf(i, 'exp_avg_sq').s, this.beta2], [sq, 1 - this.beta2]]);
    if (this.amsgrad) {
      const prev = this.buf(i, 'max_exp_avg_sq').s;
      const twin = this.tmp(i, 'max_exp_avg_sq~');
      be.binary('max', [n], prev, [1], v, [1], twin);
      this.bufs[i].set('max_exp_avg_sq', twin);
      this.scratch[i].set('max_exp_avg_sq~', prev);
      v = twin;
    }
    const bc1 = 1 - this.beta1 ** t, bc2 = 1 - this.beta2 ** t;
    const denom = this.tmp(i, 'denom');
    be.unary('sqrt', v, sq, n);
    be.affine(sq, denom, n, 1 / Math.sqrt(bc2), this.eps, false); // sqrt(v)/sqrt(bc2) + eps
    be.binary('div', [n], m, [1], denom, [1], sq);
    be.affine(sq, p.storage, n, -this.lr / bc1, 0, true);
  }

  protected hyper() { return { beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, amsgrad: this.amsgrad }; }
  protected setHyper(h: Record<string, number | boolean>): void {
    this.beta1 = h.beta1 as number; this.beta2 = h.beta2 as number; this.eps = h.eps as number;
    this.weightDecay = h.weightDecay as number; this.amsgrad = h.amsgrad as boolean;
  }
}

/** torch.optim.AdamW: Adam with decoupled weight decay (default 0.01). */
export class AdamW extends Adam {
  override readonly kind: string = 'adamw';
  constructor(params: Iterable<Parameter>, o: AdamOptions = {}) {
    super(params, { ...o, weightDecay: o.weightDecay ?? 1e-2 });
    this.decoupled = true;
  }
}
