// Kind 'slstm': xLSTM's sLSTM cell (EXTENDED.md), config {inputSize, hiddenSize, numHeads, forgetGate},
// params weight_ih, weight_hh, bias; input x [T, B, I]; outputs y, h_n, c_n, n_n, m_n.
import { SLSTM } from '../../nn/slstm.js';
import type { ForgetGate } from '../../ops/slstm.js';
import { Rng } from '../../tensor/random.js';
import { fmt } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Fixture } from '../fixture.js';
import { checkConfig, registerKind, type KindContext } from '../kinds.js';

/** An integer config option (or its default); a clear error otherwise. */
export function configInt(fx: Fixture, key: string, dflt?: number): number {
  const v = fx.config[key] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Error(`${fx.kind}: config.${key} must be an integer, got ${JSON.stringify(fx.config[key])}`);
  return v;
}

/** The module's parameters, loaded by name from the fixture (strict: same names, same shapes). */
export function loadParamsByName(fx: Fixture, m: { loadStateDict(d: Record<string, { shape: number[]; data: number[] }>): void;
  namedParameters(): [string, Tensor][] }): Record<string, Tensor> {
  m.loadStateDict(fx.params);
  return Object.fromEntries(m.namedParameters());
}

/** The fixture's input x [T, B, inputSize] as a leaf that requires grad. */
export function sequenceInput(fx: Fixture, ctx: KindContext, inputSize: number): Tensor {
  const extra = Object.keys(fx.inputs).filter((k) => k !== 'x');
  if (extra.length) throw new Error(`${fx.kind}: unknown input(s) ${extra.join(', ')}; this kind takes only x (the initial states are fixed)`);
  const x = fx.inputs.x;
  if (!x) throw new Error(`${fx.kind}: the fixture has no input x`);
  if (x.shape.length !== 3 || x.shape[2] !== inputSize) throw new Error(`${fx.kind}: expected input x of shape [T, B, ${inputSize}], got ${fmt(x.shape)}`);
  const t = new Tensor(ctx.backend.upload(ctx.dtype, x.data), x.shape);
  t.requiresGrad = true;
  return t;
}

registerKind('slstm', (fx, ctx) => {
  checkConfig(fx, ['inputSize', 'hiddenSize', 'numHeads', 'forgetGate']);
  const inputSize = configInt(fx, 'inputSize');
  const m = new SLSTM({
    inputSize, hiddenSize: configInt(fx, 'hiddenSize'), numHeads: configInt(fx, 'numHeads', 1),
    forgetGate: (fx.config.forgetGate ?? 'exp') as ForgetGate,
  }, { backend: ctx.backend, dtype: ctx.dtype, rng: new Rng(0) });
  const params = loadParamsByName(fx, m);
  const x = sequenceInput(fx, ctx, inputSize);
  const { y, hN, cN, nN, mN } = m.forward(x);
  return { outputs: { y, h_n: hN, c_n: cN, n_n: nN, m_n: mN }, leaves: { ...params, x } };
});
