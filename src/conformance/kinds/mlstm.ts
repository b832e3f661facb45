// Kind 'mlstm': xLSTM's mLSTM cell (EXTENDED.md), config {inputSize, hiddenSize, numHeads, forgetGate};
// params weight_/bias_ q, k, v, i, f, o; input x [T, B, I]; outputs y, C_n, n_n, m_n.
// Optional config (not in EXTENDED.md, for our own fixtures): form, chunkSize.
import { MLSTM } from '../../nn/mlstm.js';
import type { MlstmForm } from '../../ops/mlstm.js';
import type { ForgetGate } from '../../ops/slstm.js';
import { Rng } from '../../tensor/random.js';
import { checkConfig, registerKind } from '../kinds.js';
import { configInt, loadParamsByName, sequenceInput } from './slstm.js';

registerKind('mlstm', (fx, ctx) => {
  checkConfig(fx, ['inputSize', 'hiddenSize', 'numHeads', 'forgetGate', 'form', 'chunkSize']);
  const inputSize = configInt(fx, 'inputSize');
  const m = new MLSTM({
    inputSize, hiddenSize: configInt(fx, 'hiddenSize'), numHeads: configInt(fx, 'numHeads', 1),
    forgetGate: (fx.config.forgetGate ?? 'sigmoid') as ForgetGate,
    form: (fx.config.form ?? 'recurrent') as MlstmForm,
    chunkSize: fx.config.chunkSize === undefined ? undefined : configInt(fx, 'chunkSize'),
  }, { backend: ctx.backend, dtype: ctx.dtype, rng: new Rng(0) });
  const params = loadParamsByName(fx, m);
  const x = sequenceInput(fx, ctx, inputSize);
  const { y, CN, nN, mN } = m.forward(x);
  return { outputs: { y, C_n: CN, n_n: nN, m_n: mN }, leaves: { ...params, x } };
});
