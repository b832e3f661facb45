// Helpers shared by the LSTM-family kind handlers (highway, convlstm, peephole_lstm, lstm_variant).
import type { Module } from '../../nn/module.js';
import { fmt } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Fixture } from '../fixture.js';
import type { KindContext } from '../kinds.js';

/** A config value that must be a positive integer (or absent, giving `dflt` when one is allowed). */
export function intOpt(fx: Fixture, key: string, dflt?: number): number {
  const v = fx.config[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`${fx.kind}: config.${key}: expected a positive integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A config value that must be a string (or absent, giving `dflt`). */
export function strOpt(fx: Fixture, key: string, dflt?: string): string {
  const v = fx.config[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string') throw new Error(`${fx.kind}: config.${key}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** Load a fixture's params into the module (strict: names and shapes must match exactly). */
export function loadParams(fx: Fixture, m: Module): Record<string, Tensor> {
  m.loadStateDict(fx.params, true);
  return Object.fromEntries(m.namedParameters());
}

/** A fixture input as a differentiable leaf, checked against the expected shape. */
export function inputLeaf(fx: Fixture, ctx: KindContext, name: string, want: readonly number[]): Tensor | undefined {
  const t = fx.inputs[name];
  if (!t) return undefined;
  if (fmt(t.shape) !== fmt(want)) throw new Error(`${fx.kind}: input ${name}: expected shape ${fmt(want)}, got ${fmt(t.shape)}`);
  const leaf = new Tensor(ctx.backend.upload(ctx.dtype, t.data), t.shape);
  leaf.requiresGrad = true;
  return leaf;
}

/** Reject inputs a kind does not know. */
export function checkInputs(fx: Fixture, known: readonly string[]): void {
  const extra = Object.keys(fx.inputs).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`${fx.kind}: unknown input(s) ${extra.join(', ')}; expected some of ${known.join(', ')}`);
}
