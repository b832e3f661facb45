import { ctcLoss } from '../../loss/ctc.js';
import { leaf } from '../../nn/module.js';
import { ReferenceBackend } from '../../backend/reference/index.js';
import { checkConfig, registerKind, type KindResult } from '../kinds.js';

registerKind('ctc', (fx, ctx): KindResult => {
  checkConfig(fx, ['blank', 'reduction', 'zeroInfinity']);
  for (const n of ['log_probs', 'targets', 'input_lengths', 'target_lengths']) {
    if (!fx.inputs[n]) throw new Error(`missing input '${n}'`);
  }
  const lp = fx.inputs.log_probs;
  const logProbs = leaf(ctx, lp.data, lp.shape, true);
  const t = fx.inputs.targets;
  // Padded targets as a [N, S] tensor. Labels are host metadata (ctcLoss reads them on the host),
  // so a backend that reads only asynchronously (webgpu) gets them on the CPU, as a user would pass them.
  const home = ctx.backend.readSync ? ctx.backend : new ReferenceBackend();
  const targets = t.shape.length === 2 ? leaf({ backend: home, dtype: 'i32' }, t.data, t.shape) : t.data;
  const loss = ctcLoss(logProbs, targets, fx.inputs.input_lengths.data, fx.inputs.target_lengths.data, fx.config as never);
  return { outputs: { loss }, leaves: { log_probs: logProbs } };
});
