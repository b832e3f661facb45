import type { Storage } from '../backend/backend.js';
import type { Parameter } from '../tensor/tensor.js';
import { checkRange, Optimizer } from './optimizer.js';
import { kernels } from '../ops/kernels.js';

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

  /** One fused kernel per parameter (Backend.adamStep): moments updated in place. */
  protected update(i: number, p: Parameter, g: Storage): void {
    const m = this.buf(i, 'exp_avg').s, v = this.buf(i, 'exp_avg_sq').s;
    const vmax = this.amsgrad ? this.buf(i, 'max_exp_avg_sq').s : null;
    kernels(p.backend).adamStep(p.storage, g, m, v, vmax, p.size, this.lr, this.beta1, this.beta2, this.eps, this.weightDecay,
      this.decoupled, this.steps[i]);
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
