import { KERNEL_SETS, type Backend, type KernelSet, type Kernels, type OptionalKernelName } from '../backend/backend.js';
import { composed } from './composed/index.js';

/** Every optional kernel name, in KERNEL_SETS order. */
export const OPTIONAL_KERNELS: readonly OptionalKernelName[] = Object.values(KERNEL_SETS).flat();

const cache = new WeakMap<Backend, Kernels>();

/**
 * The backend with every optional kernel present: its own where it has one, else the composed
 * fallback from src/ops/composed/ (built from the core kernels, and from the backend's other
 * optional kernels where it has those). A backend that implements them all is returned as is.
 * Ops call optional kernels through this, core kernels on the backend directly.
 */
export function kernels(b: Backend): Kernels {
  let k = cache.get(b);
  if (k) return k;
  if (OPTIONAL_KERNELS.every((n) => typeof b[n] === 'function')) {
    k = b as Kernels;
  } else {
    // A plain object of bound methods (not Object.create(b): a method writing this.x would then
    // write to the wrapper, not the backend).
    const w: Record<string, unknown> = { name: b.name, dtypes: b.dtypes };
    const proto = b as unknown as Record<string, unknown>;
    for (const m of CORE_METHODS) w[m] = (proto[m] as (...a: unknown[]) => unknown).bind(b);
    if (typeof b.readSync === 'function') w.readSync = b.readSync.bind(b);
    const full = w as unknown as Kernels;
    for (const n of OPTIONAL_KERNELS) {
      const own = proto[n];
      const fallback = composed[n] as (k: Kernels, ...a: unknown[]) => unknown;
      // bind, not a rest-parameter closure: a fused step called per time step makes no arguments array
      w[n] = typeof own === 'function' ? (own as (...a: unknown[]) => unknown).bind(b) : fallback.bind(null, full);
    }
    k = full;
  }
  cache.set(b, k);
  return k;
}

/** The 14 required methods of the core (src/backend/backend.ts). */
export const CORE_METHODS = ['alloc', 'upload', 'read', 'dispose', 'fill', 'copyStrided', 'unary', 'unaryBackward',
  'binary', 'affine', 'reduce', 'gemm', 'gatherRows', 'scatterAddRows'] as const satisfies readonly (keyof Backend)[];

/** How each optional kernel runs on a backend: natively (and from which class) or composed. */
export interface KernelListingRow { set: KernelSet; kernel: OptionalKernelName; runs: 'native' | 'composed'; from: string }

export function kernelListing(b: Backend): KernelListingRow[] {
  const rows: KernelListingRow[] = [];
  for (const [set, names] of Object.entries(KERNEL_SETS) as [KernelSet, readonly OptionalKernelName[]][]) {
    for (const kernel of names) {
      const native = typeof b[kernel] === 'function';
      rows.push({ set, kernel, runs: native ? 'native' : 'composed', from: native ? definedBy(b, kernel) : 'src/ops/composed' });
    }
  }
  return rows;
}

/** The class whose prototype defines method `name` (wasm inherits some kernels from reference). */
function definedBy(b: Backend, name: string): string {
  if (Object.prototype.hasOwnProperty.call(b, name)) return b.name;
  for (let p = Object.getPrototypeOf(b); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return (p.constructor as { name: string }).name;
  }
  return b.name;
}
