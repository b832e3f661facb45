import type { Storage } from '../backend/backend.js';
import type { Parameter } from '../tensor/tensor.js';
import { checkRange, lin, Optimizer } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/**
 * torch.optim.SGD, same update:
 *   d = g + wd*p;  buf = d (first step) | momentum*buf + (1-dampening)*d
 *   d = nesterov ? d + momentum*buf : buf;  p -= lr*d
 */
export class SGD extends Optimizer {
  readonly kind = 'sgd';
  momentum: number; dampening: number; weightDecay: number; nesterov: boolean;

  constructor(params: Iterable<Parameter>, o: SGDOptions) {
    super(params, o.lr);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    checkRange('SGD momentum', this.momentum, 0, Infinity);
    checkRange('SGD weightDecay', this.weightDecay, 0, Infinity);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error(`SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${this.momentum}, dampening ${this.dampening}`);
    }
  }

  protected update(i: number, p: Parameter, g: Storage): void {
    const be = p.backend, n = p.size;
    let d = g;
    if (this.weightDecay !== 0) { d = this.tmp(i, 'd'); lin(be, d, n, [[g, 1], [p.storage, this.weightDecay]]); }
    if (this.momentum !== 0) {
      const { s, fresh } = this.buf(i, 'momentum_buffer');
      const buf = fresh
        ? (lin(be, s, n, [[d, 1]]), s)
        : this.rewrite(i, 'momentum_buffer', [[s, this.momentum], [d, 1 - this.dampening]]);
      if (this.nesterov) { const e = this.tmp(i, 'e'); lin(be, e, n, [[d, 1], [buf, this.momentum]]); d = e; } else d = buf;
    }
    be.affine(d, 0, p.storage, 0, n, -this.lr, 0, true);
  }

  protected hyper() { return { momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov }; }
  protected setHyper(h: Record<string, number | boolean>): void {
    this.momentum = h.momentum as number; this.dampening = h.dampening as number;
    this.weightDecay = h.weightDecay as number; this.nesterov = h.nesterov as boolean;
  }
}
