import type { Backend } from '../backend/backend.js';
import type { DType } from '../backend/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Fixture } from './fixture.js';

export interface KindContext { backend: Backend; dtype: DType }

/**
 * What a kind handler returns: the module's outputs by fixture name, and every tensor whose
 * gradient a fixture may list (parameters and differentiable inputs), by fixture name.
 */
export interface KindResult {
  outputs: Record<string, Tensor>;
  leaves: Record<string, Tensor>;
}

/** Builds the module of a fixture from its config and params, and runs it on its inputs. */
export type KindHandler = (fx: Fixture, ctx: KindContext) => KindResult;

const handlers = new Map<string, KindHandler>();

export function registerKind(kind: string, h: KindHandler): void { handlers.set(kind, h); }
export function kindHandler(kind: string): KindHandler | undefined { return handlers.get(kind); }
export function supportedKinds(): string[] { return [...handlers.keys()]; }

/** Reject config keys a kind does not know: an unknown option must never be silently ignored. */
export function checkConfig(fx: Fixture, known: readonly string[]): void {
  const extra = Object.keys(fx.config).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`${fx.kind}: unknown config option(s) ${extra.join(', ')}; expected some of ${known.join(', ')}`);
}
