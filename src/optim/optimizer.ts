import type { Backend, Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import { noGrad } from '../autograd/tape.js';
import type { Parameter } from '../tensor/tensor.js';
import { kernels } from '../ops/kernels.js';

/** An optimizer's complete state, for checkpoints: hyperparameters, counters and moment buffers. */
export interface OptimizerState {
  kind: string;
  lr: number;
  hyper: Record<string, number | boolean>;
  /** Per-parameter step counts (PyTorch keeps one per parameter: a parameter without grad is skipped). */
  steps: number[];
  /** Buffers by `${paramIndex}.${name}` (e.g. "0.exp_avg"), shape [n], row-major copies. */
  buffers: Record<string, Float32Array | Float64Array>;
}

/**
 * Base of the optimizers. Updates run under noGrad with backend kernels on the parameters'
 * storages (affine, binary, unary), never per-element JavaScript, so they run at kernel speed on
 * any backend. Kernels never read and write the same storage in one call (some devices forbid
 * aliased bindings): a buffer is updated by writing into its twin and swapping the two.
 */
export abstract class Optimizer {
  abstract readonly kind: string;
  lr: number;
  readonly params: readonly Parameter[];
  protected steps: number[];
  /** Per parameter: named state buffers (the ones saved) and scratch (not saved). */
  protected bufs: Map<string, Storage>[];
  protected scratch: Map<string, Storage>[];

  constructor(params: Iterable<Parameter>, lr: number) {
    this.params = [...params];
    if (this.params.length === 0) throw new Error('optimizer: expected at least one parameter, got none');
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new Error(`optimizer: expected a learning rate >= 0, got ${lr}`);
    const seen = new Set<Parameter>();
    for (const p of this.params) {
      if (seen.has(p)) throw new Error('optimizer: the same parameter was given twice');
      seen.add(p);
    }
    this.lr = lr;
    this.steps = this.params.map(() => 0);
    this.bufs = this.params.map(() => new Map());
    this.scratch = this.params.map(() => new Map());
  }

  /** Apply one update to every parameter that has a gradient. */
  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        this.steps[i]++;
        this.update(i, p, p.grad.storage);
      });
    });
  }

  zeroGrad(): void { for (const p of this.params) p.zeroGrad(); }

  /** Update parameter i in place given its gradient storage (never modify `grad`). */
  protected abstract update(i: number, p: Parameter, grad: Storage): void;
  protected abstract hyper(): Record<string, number | boolean>;
  protected abstract setHyper(h: Record<string, number | boolean>): void;

  /** A saved buffer of parameter i (zero-filled on first use; `fresh` tells if it was just made). */
  protected buf(i: number, name: string): { s: Storage; fresh: boolean } {
    let s = this.bufs[i].get(name);
    if (s) return { s, fresh: false };
    const p = this.params[i];
    s = p.backend.alloc(p.dtype, p.size);
    keepStorage(s); // optimizer state outlives tidy() scopes
    this.bufs[i].set(name, s);
    return { s, fresh: true };
  }

  /** A scratch buffer of parameter i's size (reused across steps). */
  protected tmp(i: number, name: string): Storage {
    let s = this.scratch[i].get(name);
    if (!s) { const p = this.params[i]; s = p.backend.alloc(p.dtype, p.size); keepStorage(s); this.scratch[i].set(name, s); }
    return s;
  }

  /**
   * Replace saved buffer `name` of parameter i by `out` = sum of coef * x (+ beta), computed into
   * the buffer's twin, which then becomes the buffer. The x must not include `out`'s twin.
   * Subnormal values are flushed to 0: state that decays towards 0 (momentum, square averages of
   * vanishing gradients) would otherwise sit in subnormals for thousands of steps, where every
   * x86 operation on it is tens of times slower; the effect on the parameters is nil.
   */
  protected rewrite(i: number, name: string, terms: [Storage, number][], beta = 0): Storage {
    const twin = this.tmp(i, `${name}~`), be = this.params[i].backend, n = this.params[i].size;
    lin(be, twin, n, terms, beta);
    kernels(be).flushSubnormal(twin, n);
    const old = this.bufs[i].get(name)!;
    this.bufs[i].set(name, twin);
    this.scratch[i].set(`${name}~`, old);
    return twin;
  }

  /** The state with copies of every buffer, from any backend (what library code uses). */
  async readState(): Promise<OptimizerState> {
    const buffers: OptimizerState['buffers'] = {};
    for (let i = 0; i < this.bufs.length; i++) {
      for (const [name, s] of this.bufs[i]) buffers[`${i}.${name}`] = await this.params[i].backend.read(s) as Float32Array | Float64Array;
    }
    return { kind: this.kind, lr: this.lr, hyper: this.hyper(), steps: [...this.steps], buffers };
  }

  /** The same without waiting: CPU backends only. */
  state(): OptimizerState {
    const buffers: OptimizerState['buffers'] = {};
    this.bufs.forEach((m, i) => {
      for (const [name, s] of m) {
        const be = this.params[i].backend;
        if (!be.readSync) throw new Error(`optimizer state(): backend '${be.name}' reads only asynchronously`);
        buffers[`${i}.${name}`] = be.readSync(s) as Float32Array | Float64Array;
      }
    });
    return { kind: this.kind, lr: this.lr, hyper: this.hyper(), steps: [...this.steps], buffers };
  }

  loadState(st: OptimizerState): void {
    if (st.kind !== this.kind) throw new Error(`optimizer state: expected a ${this.kind} state, got ${st.kind}`);
    if (st.steps.length !== this.params.length) {
      throw new Error(`optimizer state: expected ${this.params.length} parameters, got ${st.steps.length}`);
    }
    const fresh = this.params.map(() => new Map<string, Storage>());
    for (const [key, data] of Object.entries(st.buffers)) {
      const dot = key.indexOf('.');
      const i = Number(key.slice(0, dot));
      const p = this.params[i];
      if (!p || dot < 0) throw new Error(`optimizer state: buffer '${key}' names no parameter (have ${this.params.length})`);
      if (data.length !== p.size) throw new Error(`optimizer state: buffer '${key}' has ${data.length} values, parameter ${i} has ${p.size}`);
      const s = p.backend.upload(p.dtype, data);
      keepStorage(s);
      fresh[i].set(key.slice(dot + 1), s);
    }
    this.setHyper(st.hyper);
    this.lr = st.lr;
    this.steps = [...st.steps];
    this.bufs = fresh;
    this.scratch = this.params.map(() => new Map());
  }
}

/** out = sum_k coef_k * x_k + beta over n elements, with affine kernels (out must not be any x_k). */
export function lin(be: Backend, out: Storage, n: number, terms: [Storage, number][], beta = 0): void {
  if (terms.length === 0) { be.fill(out, 0, n, beta); return; }
  terms.forEach(([x, c], k) => {
    if (x === out) throw new Error('optimizer kernel: output aliases an input');
    be.affine(x, 0, out, 0, n, c, k === 0 ? beta : 0, k > 0);
  });
}

/** Number checks shared by the optimizers' constructors. */
export function checkRange(what: string, v: number, lo: number, hi: number, hiOpen = false): void {
  const ok = Number.isFinite(v) && v >= lo && (hiOpen ? v < hi : v <= hi);
  if (!ok) throw new Error(`${what}: expected a number in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
}
