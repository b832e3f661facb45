// Kind 'peephole_lstm' (EXTENDED.md): config {inputSize, hiddenSize, numLayers}; inputs x [T, B, I],
// h0, c0 [L, B, H]; outputs y, h_n, c_n. The standard LSTM module with peepholes.
import { PeepholeLSTM } from '../../nn/lstm-variants.js';
import { Rng } from '../../tensor/random.js';
import { checkConfig, registerKind } from '../kinds.js';
import { checkInputs, inputLeaf, intOpt, loadParams } from './family-util.js';

registerKind('peephole_lstm', (fx, ctx) => {
  checkConfig(fx, ['inputSize', 'hiddenSize', 'numLayers']);
  checkInputs(fx, ['x', 'h0', 'c0']);
  const I = intOpt(fx, 'inputSize'), H = intOpt(fx, 'hiddenSize'), L = intOpt(fx, 'numLayers', 1);
  const m = new PeepholeLSTM({ inputSize: I, hiddenSize: H, numLayers: L }, { backend: ctx.backend, dtype: ctx.dtype, rng: new Rng(0) });
  const params = loadParams(fx, m);
  const xs = fx.inputs.x?.shape;
  if (!xs || xs.length !== 3) throw new Error(`peephole_lstm: expected input x [T, B, I], got ${xs ? JSON.stringify(xs) : 'none'}`);
  const x = inputLeaf(fx, ctx, 'x', [xs[0], xs[1], I])!;
  const h0 = inputLeaf(fx, ctx, 'h0', [L, xs[1], H]), c0 = inputLeaf(fx, ctx, 'c0', [L, xs[1], H]);
  const { y, hN, cN } = m.forward(x, { h0, c0 });
  return { outputs: { y, h_n: hN, c_n: cN }, leaves: { ...params, x, ...(h0 ? { h0 } : {}), ...(c0 ? { c0 } : {}) } };
});
