// Kind 'convlstm': ConvLSTM2d with Hadamard peepholes (EXTENDED.md). config {inputChannels,
// hiddenChannels, kernelSize, height, width} (+ numLayers, default 1: states then [L, B, C, H, W]
// and parameters suffixed _l{l}); inputs x [T, B, Cin, H, W], h0, c0 [B, C, H, W].
import { ConvLSTM2d } from '../../nn/convlstm.js';
import { reshape } from '../../ops/shape.js';
import { Rng } from '../../tensor/random.js';
import { checkConfig, registerKind } from '../kinds.js';
import { checkInputs, inputLeaf, intOpt, loadParams } from './family-util.js';

registerKind('convlstm', (fx, ctx) => {
  checkConfig(fx, ['inputChannels', 'hiddenChannels', 'kernelSize', 'height', 'width', 'numLayers']);
  checkInputs(fx, ['x', 'h0', 'c0']);
  const cfg = {
    inputChannels: intOpt(fx, 'inputChannels'), hiddenChannels: intOpt(fx, 'hiddenChannels'), kernelSize: intOpt(fx, 'kernelSize'),
    height: intOpt(fx, 'height'), width: intOpt(fx, 'width'), numLayers: intOpt(fx, 'numLayers', 1),
  };
  const m = new ConvLSTM2d(cfg, { backend: ctx.backend, dtype: ctx.dtype, rng: new Rng(0) });
  const params = loadParams(fx, m);
  const xs = fx.inputs.x?.shape;
  if (!xs || xs.length !== 5) throw new Error(`convlstm: expected input x [T, B, Cin, H, W], got ${xs ? JSON.stringify(xs) : 'none'}`);
  const L = cfg.numLayers, B = xs[1];
  const state = [...(L === 1 ? [] : [L]), B, cfg.hiddenChannels, cfg.height, cfg.width];
  const x = inputLeaf(fx, ctx, 'x', [xs[0], B, cfg.inputChannels, cfg.height, cfg.width])!;
  const h0 = inputLeaf(fx, ctx, 'h0', state), c0 = inputLeaf(fx, ctx, 'c0', state);
  const { y, hN, cN } = m.forward(x, { h0, c0 });
  const leaves = { ...params, x, ...(h0 ? { h0 } : {}), ...(c0 ? { c0 } : {}) };
  return { outputs: { y, h_n: reshape(hN, state), c_n: reshape(cN, state) }, leaves };
});
