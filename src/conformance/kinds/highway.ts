// Kind 'highway': Highway layers (EXTENDED.md), config {size, numLayers, activation}, input x [B, D].
import { Highway, type HighwayActivation } from '../../nn/highway.js';
import { Rng } from '../../tensor/random.js';
import { checkConfig, registerKind } from '../kinds.js';
import { checkInputs, inputLeaf, intOpt, loadParams, strOpt } from './family-util.js';

registerKind('highway', (fx, ctx) => {
  checkConfig(fx, ['size', 'numLayers', 'activation']);
  checkInputs(fx, ['x']);
  const size = intOpt(fx, 'size');
  const m = new Highway({ size, numLayers: intOpt(fx, 'numLayers', 1), activation: strOpt(fx, 'activation', 'tanh') as HighwayActivation },
    { backend: ctx.backend, dtype: ctx.dtype, rng: new Rng(0) });
  const params = loadParams(fx, m);
  const xs = fx.inputs.x?.shape;
  if (!xs) throw new Error('highway: the fixture has no input x');
  const x = inputLeaf(fx, ctx, 'x', [...xs.slice(0, -1), size])!;
  return { outputs: { y: m.forward(x) }, leaves: { ...params, x } };
});
