// Kind 'lstm_variant' (EXTENDED.md): Greff et al.'s variants and LSTM1997, one layer, one direction.
// config {variant, inputSize, hiddenSize, gateOrder, peepholes}: the two lists must describe the
// variant's own layout (checked, never trusted); inputs x [T, B, I], h0, c0 [B, H].
import { LSTMVariant } from '../../nn/lstm-variants.js';
import { gateOrder, isLstmVariant, LSTM_VARIANTS, peepholeNames } from '../../ops/lstm-cell.js';
import { reshape } from '../../ops/shape.js';
import { Rng } from '../../tensor/random.js';
import { checkConfig, registerKind } from '../kinds.js';
import { checkInputs, inputLeaf, intOpt, loadParams, strOpt } from './family-util.js';

function checkList(key: string, got: unknown, want: string[], variant: string): void {
  if (got === undefined) return;
  if (!Array.isArray(got) || got.join(',') !== want.join(',')) {
    throw new Error(`lstm_variant: config.${key} ${JSON.stringify(got)} does not match variant ${variant}, which has ${JSON.stringify(want)}`);
  }
}

registerKind('lstm_variant', (fx, ctx) => {
  checkConfig(fx, ['variant', 'inputSize', 'hiddenSize', 'gateOrder', 'peepholes']);
  checkInputs(fx, ['x', 'h0', 'c0']);
  const variant = strOpt(fx, 'variant');
  if (!isLstmVariant(variant)) throw new Error(`lstm_variant: config.variant: expected one of ${Object.keys(LSTM_VARIANTS).join(', ')}, got '${variant}'`);
  const spec = LSTM_VARIANTS[variant];
  checkList('gateOrder', fx.config.gateOrder, gateOrder(spec), variant);
  checkList('peepholes', fx.config.peepholes, peepholeNames(spec), variant);
  const I = intOpt(fx, 'inputSize'), H = intOpt(fx, 'hiddenSize');
  const m = new LSTMVariant({ variant, inputSize: I, hiddenSize: H }, { backend: ctx.backend, dtype: ctx.dtype, rng: new Rng(0) });
  const params = loadParams(fx, m);
  const xs = fx.inputs.x?.shape;
  if (!xs || xs.length !== 3) throw new Error(`lstm_variant: expected input x [T, B, I], got ${xs ? JSON.stringify(xs) : 'none'}`);
  const B = xs[1];
  const x = inputLeaf(fx, ctx, 'x', [xs[0], B, I])!;
  const h0 = inputLeaf(fx, ctx, 'h0', [B, H]), c0 = inputLeaf(fx, ctx, 'c0', [B, H]);
  const { y, hN, cN } = m.forward(x, { h0: h0 && reshape(h0, [1, B, H]), c0: c0 && reshape(c0, [1, B, H]) });
  return {
    outputs: { y, h_n: reshape(hN, [B, H]), c_n: reshape(cN, [B, H]) },
    leaves: { ...params, x, ...(h0 ? { h0 } : {}), ...(c0 ? { c0 } : {}) },
  };
});
