import { GRU } from '../../nn/gru.js';
import { LSTM } from '../../nn/lstm.js';
import { leaf } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Fixture } from '../fixture.js';
import { checkConfig, registerKind, type KindContext, type KindResult } from '../kinds.js';

const lstmKeys = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'projSize', 'dropout'];

/** Differentiable fixture inputs (x, h0, c0) as leaves; lengths as plain integers. */
function inputsOf(fx: Fixture, ctx: KindContext, names: string[]): { leaves: Record<string, Tensor>; lengths: number[] | null } {
  const leaves: Record<string, Tensor> = {};
  for (const n of names) {
    const v = fx.inputs[n];
    if (v) leaves[n] = leaf(ctx, v.data, v.shape, true);
  }
  const unknown = Object.keys(fx.inputs).filter((n) => !names.includes(n) && n !== 'lengths');
  if (unknown.length) throw new Error(`unknown input(s) ${unknown.join(', ')}; expected ${[...names, 'lengths'].join(', ')}`);
  return { leaves, lengths: fx.inputs.lengths ? fx.inputs.lengths.data : null };
}

registerKind('lstm', (fx, ctx): KindResult => {
  checkConfig(fx, lstmKeys);
  const m = new LSTM(fx.config as never, ctx);
  m.loadStateDict(fx.params);
  const { leaves, lengths } = inputsOf(fx, ctx, ['x', 'h0', 'c0']);
  if (!leaves.x) throw new Error("missing input 'x'");
  const { y, hN, cN } = m.forward(leaves.x, { h0: leaves.h0, c0: leaves.c0, lengths });
  return { outputs: { y, h_n: hN, c_n: cN }, leaves: { ...leaves, ...Object.fromEntries(m.namedParameters()) } };
});

registerKind('gru', (fx, ctx): KindResult => {
  checkConfig(fx, lstmKeys.filter((k) => k !== 'projSize'));
  const m = new GRU(fx.config as never, ctx);
  m.loadStateDict(fx.params);
  const { leaves, lengths } = inputsOf(fx, ctx, ['x', 'h0']);
  if (!leaves.x) throw new Error("missing input 'x'");
  const { y, hN } = m.forward(leaves.x, { h0: leaves.h0, lengths });
  return { outputs: { y, h_n: hN }, leaves: { ...leaves, ...Object.fromEntries(m.namedParameters()) } };
});
