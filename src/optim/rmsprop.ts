import type { Storage } from '../backend/backend.js';
import type { Parameter } from '../tensor/tensor.js';
import { checkRange, lin, Optimizer } from './optimizer.js';

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

/**
 * torch.optim.RMSprop, same update:
 *   g += wd*p;  s = alpha*s + (1-alpha)*g^2;  (centered) a = alpha*a + (1-alpha)*g, avg = sqrt(s - a^2) + eps
 *   else avg = sqrt(s) + eps;  momentum: buf = momentum*buf + g/avg, p -= lr*buf;  else p -= lr*g/avg
 */
export class RMSprop extends Optimizer {
  readonly kind = 'rmsprop';
  alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean;

  constructor(params: Iterable<Parameter>, o: RMSpropOptions = {}) {
    super(params, o.lr ?? 1e-2);
    this.alpha = o.alpha ?? 0.99;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.momentum = o.momentum ?? 0;
    this.centered = o.centered ?? false;
    checkRange('RMSprop alpha', this.alpha, 0, 1);
    checkRange('RMSprop eps', this.eps, 0, Infinity);
    checkRange('RMSprop momentum', this.momentum, 0, Infinity);
    checkRange('RMSprop weightDecay', this.weightDecay, 0, Infinity);
  }

  protected update(i: number, p: Parameter, g: Storage): void {
    const be = p.backend, n = p.size;
    if (this.weightDecay !== 0) { const d = this.tmp(i, 'g'); lin(be, d, n, [[g, 1], [p.storage, this.weightDecay]]); g = d; }
    const sq = this.tmp(i, 'sq');
    be.binary('mul', [n], g, 0, [1], g, 0, [1], sq, 0);
    const s = this.rewrite(i, 'square_avg', [[this.buf(i, 'square_avg').s, this.alpha], [sq, 1 - this.alpha]]);
    const avg = this.tmp(i, 'avg');
    if (this.centered) {
      const a = this.rewrite(i, 'grad_avg', [[this.buf(i, 'grad_avg').s, this.alpha], [g, 1 - this.alpha]]);
      be.binary('mul', [n], a, 0, [1], a, 0, [1], sq, 0);
      const diff = this.tmp(i, 'diff');
      lin(be, diff, n, [[s, 1], [sq, -1]]);
      be.unary('sqrt', diff, 0, sq, 0, n);
    } else {
      be.unary('sqrt', s, 0, sq, 0, n);
    }
    be.affine(sq, 0, avg, 0, n, 1, this.eps, false);
    const q = this.tmp(i, 'q');
    be.binary('div', [n], g, 0, [1], avg, 0, [1], q, 0); // g / avg
    if (this.momentum > 0) {
      const buf = this.rewrite(i, 'momentum_buffer', [[this.buf(i, 'momentum_buffer').s, this.momentum], [q, 1]]);
      be.affine(buf, 0, p.storage, 0, n, -this.lr, 0, true);
    } else {
      be.affine(q, 0, p.storage, 0, n, -this.lr, 0, true);
    }
  }

  protected hyper() { return { alpha: this.alpha, eps: this.eps, weightDecay: this.weightDecay, momentum: this.momentum, centered: this.centered }; }
  protected setHyper(h: Record<string, number | boolean>): void {
    this.alpha = h.alpha as number; this.eps = h.eps as number; this.weightDecay = h.weightDecay as number;
    this.momentum = h.momentum as number; this.centered = h.centered as boolean;
  }
}
