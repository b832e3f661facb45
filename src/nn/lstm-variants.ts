import type { LstmVariant } from '../ops/lstm-cell.js';
import { LSTM, type LSTMConfig } from './lstm.js';
import type { ModuleOptions } from './module.js';

/**
 * Named entry points to the LSTM family. Both are the standard `LSTM` module (same fused op,
 * same kernels, stacked, bidirectional, variable lengths, batch-first) with a cell option set;
 * `new LSTM({ ..., variant })` or `new LSTM({ ..., peepholes: true })` is the same thing.
 */

export type PeepholeLSTMConfig = Omit<LSTMConfig, 'peepholes' | 'variant'>;

/**
 * Peephole LSTM with forget gate (Gers, Schraudolph & Schmidhuber 2002). Parameters are named as
 * nn.LSTM's plus `weight_ci_l{l}`, `weight_cf_l{l}`, `weight_co_l{l}` [H] (and `_reverse`).
 */
export class PeepholeLSTM extends LSTM {
  constructor(config: PeepholeLSTMConfig, opts?: ModuleOptions) {
    super({ ...config, peepholes: true }, opts);
  }
}

export interface LSTMVariantConfig extends Omit<LSTMConfig, 'peepholes' | 'variant'> {
  variant: LstmVariant;
}

/**
 * One of Greff et al. 2015's variants or the 1997 block (see LSTMConfig.variant). With one layer
 * and one direction, parameter names carry no suffix (`weight_ih`, `weight_hh`, `bias_ih`,
 * `bias_hh`, `weight_ci`/`cf`/`co` of the present gates, `weight_gr` for FGR), as in
 * EXTENDED.md; stacked or bidirectional ones use nn.LSTM's suffixes (`_l0`, `_l0_reverse`).
 * States keep nn.LSTM's layout: h0, c0, hN, cN are [L*D, B, H].
 */
export class LSTMVariant extends LSTM {
  constructor(config: LSTMVariantConfig, opts?: ModuleOptions) {
    if (typeof config !== 'object' || config === null || config.variant === undefined) {
      throw new Error('LSTMVariant: expected a config with a variant (V, NIG, NFG, NOG, NIAF, NOAF, NP, CIFG, FGR or LSTM1997)');
    }
    super(config, opts);
  }

  protected override suffix(l: number, d: number): string {
    return this.numLayers === 1 && this.numDirections === 1 ? '' : super.suffix(l, d);
  }
}
