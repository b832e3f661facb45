import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { DType } from '../backend/dtype.js';
import { defaultRng, type Rng } from '../tensor/random.js';
import { fmt, sizeOf, type Shape } from '../tensor/shape.js';
import { checkOptions } from '../tensor/check.js';
import { Parameter, Tensor } from '../tensor/tensor.js';

export interface ModuleOptions {
  dtype?: DType;
  backend?: Backend;
  /** Generator for parameter initialisation (default: the library's seeded default). */
  rng?: Rng;
}

/** A tensor's values in a state dict: shape and row-major data. */
export interface TensorData {
  shape: readonly number[];
  data: ArrayLike<number>;
}

/**
 * Base of every layer: an ordered tree of named parameters and submodules, with PyTorch's
 * naming (`layer.0.weight_ih_l0`), so state dicts map 1:1 to torch.nn ones.
 */
export abstract class Module {
  training = true;
  readonly dtype: DType;
  readonly backend: Backend;
  protected readonly rng: Rng;
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  constructor(opts: ModuleOptions = {}) {
    this.dtype = opts.dtype ?? 'f32';
    this.backend = opts.backend ?? getBackend();
    this.rng = opts.rng ?? defaultRng;
    if (!this.backend.dtypes.includes(this.dtype)) {
      throw new Error(`backend '${this.backend.name}' does not compute in ${this.dtype}: it supports ${this.backend.dtypes.join(', ')}`);
    }
  }

  /** A new parameter drawn uniform(-bound, bound) (PyTorch's default for recurrent and linear layers). */
  protected addParameter(name: string, shape: Shape, bound: number): Parameter {
    const values = new Float64Array(sizeOf(shape));
    for (let i = 0; i < values.length; i++) values[i] = this.rng.uniform(-bound, bound);
    return this.addParameterValues(name, shape, values);
  }

  /** A new parameter with the given initial values. */
  protected addParameterValues(name: string, shape: Shape, values: ArrayLike<number>): Parameter {
    const p = new Parameter(this.backend.upload(this.dtype, values), shape);
    this.ownParams.set(name, p);
    return p;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [n, p] of this.ownParams) out.push([prefix + n, p]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Parameter[] { return this.namedParameters().map(([, p]) => p); }

  parameter(name: string): Parameter {
    const p = this.namedParameters().find(([n]) => n === name);
    if (!p) throw new Error(`no parameter '${name}': this module has ${this.namedParameters().map(([n]) => n).join(', ')}`);
    return p[1];
  }

  /** Total number of trainable values. */
  numParameters(): number { return this.parameters().reduce((s, p) => s + p.size, 0); }

  zeroGrad(): void { for (const p of this.parameters()) p.zeroGrad(); }

  train(on = true): this {
    this.training = on;
    for (const m of this.children.values()) m.train(on);
    return this;
  }
  eval(): this { return this.train(false); }

  /** Copies of every parameter's values, by PyTorch name, from any backend (what library code uses). */
  async readStateDict(): Promise<Map<string, TensorData>> {
    const out = new Map<string, TensorData>();
    for (const [n, p] of this.namedParameters()) out.set(n, { shape: [...p.shape], data: await p.data() });
    return out;
  }

  /** The same without waiting: CPU backends only (as Tensor.dataSync). */
  stateDict(): Map<string, TensorData> {
    const out = new Map<string, TensorData>();
    for (const [n, p] of this.namedParameters()) out.set(n, { shape: [...p.shape], data: p.dataSync() });
    return out;
  }

  /**
   * Overwrite parameters in place by name. strict: every parameter must be given and nothing
   * else. Shapes must match exactly, and values must be finite unless allowNonFinite; nothing is
   * changed unless everything checks. The parameters keep their buffers (optimizers and streams
   * hold them): each value is uploaded, copied in and the upload freed, so repeated loads leave
   * memory where it was.
   */
  loadStateDict(dict: Map<string, TensorData> | Record<string, TensorData>, options: boolean | LoadStateDictOptions = true): void {
    const { strict = true, allowNonFinite = false } = loadOptions(options);
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = new Map(this.namedParameters());
    const problems: string[] = [];
    for (const [n, v] of entries) {
      const p = own.get(n);
      if (!p) { if (strict) problems.push(`unexpected parameter '${n}'`); continue; }
      if (fmt(v.shape) !== fmt(p.shape)) problems.push(`'${n}': expected shape ${fmt(p.shape)}, got ${fmt(v.shape)}`);
      else if (v.data.length !== p.size) problems.push(`'${n}': expected ${p.size} values, got ${v.data.length}`);
      else if (!allowNonFinite) {
        const i = firstNonFinite(v.data);
        if (i >= 0) problems.push(`'${n}': expected finite values, got ${show(v.data[i])} at index ${i}${p.rank > 1 ? ` (${fmt(unravel(i, p.shape))} of ${fmt(p.shape)})` : ''}`);
      }
    }
    if (strict) for (const n of own.keys()) if (!entries.has(n)) problems.push(`missing parameter '${n}'`);
    if (problems.length) throw new Error(`loadStateDict: ${problems.join('; ')}`);
    for (const [n, v] of entries) {
      const p = own.get(n);
      if (!p) continue;
      const upload = p.backend.upload(p.dtype, v.data); // [p.size] on the device, copied into p's own buffer
      try { p.backend.copyStrided([p.size], upload, 0, [1], p.storage, 0, [1], false); } finally { p.backend.dispose(upload); }
    }
  }
}

/** loadStateDict's options (a boolean: `strict` alone). */
export interface LoadStateDictOptions {
  /** Every parameter must be given and nothing else (default true). */
  strict?: boolean;
  /** Load NaN and infinite values too (default false: refused, naming the parameter and the first bad value). */
  allowNonFinite?: boolean;
}

function loadOptions(o: boolean | LoadStateDictOptions): LoadStateDictOptions {
  if (typeof o === 'boolean') return { strict: o };
  if (typeof o !== 'object' || o === null) throw new Error(`loadStateDict: expected options { strict, allowNonFinite } or a boolean (strict), got ${o === null ? 'null' : typeof o}`);
  checkOptions('loadStateDict', o, ['strict', 'allowNonFinite']);
  for (const k of ['strict', 'allowNonFinite'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new Error(`loadStateDict ${k}: expected true or false, got ${JSON.stringify(o[k])}`);
  }
  return o;
}

function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

function show(v: unknown): string { return typeof v === 'number' ? String(v) : JSON.stringify(v); }

/** The multi-index of row-major flat index i in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { idx[d] = i % shape[d]; i = Math.floor(i / shape[d]); }
  return idx;
}

/** Wrap fixed values as a leaf tensor on a module's backend. */
export function leaf(m: { backend: Backend; dtype: DType }, values: ArrayLike<number>, shape: Shape, requiresGrad = false): Tensor {
  const t = new Tensor(m.backend.upload(m.dtype, values), shape);
  t.requiresGrad = requiresGrad;
  return t;
}
