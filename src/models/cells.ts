import { GRU } from '../nn/gru.js';
import { LSTM, type LSTMConfig } from '../nn/lstm.js';
import type { RecurrentStream } from '../nn/lstmStream.js';
import type { Module, ModuleOptions } from '../nn/module.js';
import { xlstmRecurrentCore } from '../nn/xlstm.js';
import { LSTM_VARIANTS, type LstmVariant } from '../ops/lstm-cell.js';
import type { Tensor } from '../tensor/tensor.js';

/** What a task model needs to know to build its recurrent core. */
export interface RecurrentSpec {
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  dropout: number;
}

/**
 * A recurrent core seen uniformly by the task models: the module (registered under the name
 * `rnn`, so parameter names stay PyTorch's) and a forward over a whole time-major sequence whose
 * state is a list of tensors ([h] for GRU, [h, c] for LSTM, each [layers*directions, B, size]).
 */
export interface RecurrentBlock {
  readonly module: Module;
  /** Size of each direction's output (hN's last dimension). */
  readonly outputSize: number;
  readonly numDirections: number;
  readonly numLayers: number;
  forward(x: Tensor, state: readonly Tensor[] | null, lengths?: readonly number[] | null): { y: Tensor; state: Tensor[] };
  /**
   * Where sequence-to-one heads read: 'state' (default): state[0] is h_n [L*D, B, H] at each
   * sequence's last valid step; 'output': y at each sequence's last valid step (a causal core
   * whose state holds something other than h, such as xLSTM's convolution prefix).
   */
  readonly summary?: 'state' | 'output';
  /**
   * One time step per call on buffers made once (src/ops/step.ts: lstmStep / gruStep), whose
   * `state` is forward's list (FGR adds its last gate activations) and whose y is forward's y at
   * that step. Absent: a
   * streaming model runs forward on length-1 sequences instead.
   */
  stream?(batch: number): RecurrentStream;
}

export type CellFactory = (spec: RecurrentSpec, opts: ModuleOptions) => RecurrentBlock;

/**
 * The cells `--cell` can name. Extension point: another cell kind plugs in with one line,
 * `registerCell('peephole', (spec, opts) => ...)`, returning a RecurrentBlock.
 */
export const cellFactories = new Map<string, CellFactory>([
  ['lstm', (spec, opts) => lstmBlock({ ...spec }, opts)],
  ['gru', (spec, opts) => {
    const m = new GRU({ ...spec }, opts);
    return {
      module: m, outputSize: m.hiddenSize, numDirections: m.numDirections, numLayers: m.numLayers,
      forward(x, state, lengths) {
        const r = m.forward(x, { h0: state?.[0] ?? null, lengths: lengths ?? null });
        return { y: r.y, state: [r.hN] };
      },
      stream: (batch) => m.stream(batch),
    };
  }],
  // The LSTM family (one fused op, ops/lstm-cell.ts): peepholes, and each of Greff et al.'s variants.
  ['peephole', (spec, opts) => lstmBlock({ ...spec, peepholes: true }, opts)],
  ...(Object.keys(LSTM_VARIANTS) as LstmVariant[]).map((v): [string, CellFactory] =>
    [v.toLowerCase(), (spec, opts) => lstmBlock({ ...spec, variant: v }, opts)]),
  // xLSTM (Beck et al. 2024): a stack of residual mLSTM / sLSTM blocks, sLSTM at the odd positions.
  ['xlstm', (spec, opts) => {
    if (spec.bidirectional) throw new Error('cell xlstm: a causal stack, it cannot be bidirectional');
    if (spec.dropout) throw new Error('cell xlstm: dropout between layers is not an option of the xLSTM stack');
    return { ...xlstmRecurrentCore(spec, opts), summary: 'output' };
  }],
]);

function lstmBlock(config: LSTMConfig, opts: ModuleOptions): RecurrentBlock {
  const m = new LSTM(config, opts);
  return {
    module: m, outputSize: m.outputSize, numDirections: m.numDirections, numLayers: m.numLayers,
    forward(x, state, lengths) {
      const r = m.forward(x, { h0: state?.[0] ?? null, c0: state?.[1] ?? null, lengths: lengths ?? null });
      return { y: r.y, state: [r.hN, r.cN] };
    },
    stream: (batch) => m.stream(batch),
  };
}

export function registerCell(name: string, factory: CellFactory): void { cellFactories.set(name, factory); }

export function makeCell(name: string, spec: RecurrentSpec, opts: ModuleOptions): RecurrentBlock {
  const f = cellFactories.get(name);
  if (!f) throw new Error(`unknown cell '${name}': expected one of ${[...cellFactories.keys()].join(', ')}`);
  return f(spec, opts);
}
