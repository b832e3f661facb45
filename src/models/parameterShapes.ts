import { gateOrder, LSTM_VARIANTS, peepholeNames, type LstmCellSpec, type LstmVariant } from '../ops/lstm-cell.js';
import type { Architecture } from './sequenceModel.js';

/** Parameter name -> shape, in PyTorch naming, as a SequenceModel of an architecture has them. */
export type ShapeMap = Map<string, number[]>;

/**
 * The parameters a SequenceModel of `arch` will have, computed from the numbers alone, so a
 * model.json can be checked against its limits and its weights file's header before anything is
 * allocated. Mirrors the constructors of the built-in cells (test/validate-model.test.ts builds
 * each one and compares); null for a cell registered from outside (then loadStateDict checks).
 */
export function parameterShapes(arch: Architecture): ShapeMap | null {
  const rnn = recurrentShapes(arch);
  if (!rnn) return null;
  const out: ShapeMap = new Map();
  if (arch.task === 'charlm') out.set('embed.weight', [arch.vocabSize!, arch.inputSize]);
  for (const [n, s] of rnn.shapes) out.set(`rnn.${n}`, s);
  const feat = rnn.outputSize * (arch.task === 'charlm' ? 1 : rnn.directions);
  out.set('head.weight', [arch.outputSize, feat]);
  out.set('head.bias', [arch.outputSize]);
  return out;
}

export function countParameters(shapes: ShapeMap): number {
  let n = 0;
  for (const s of shapes.values()) n += s.reduce((p, d) => p * d, 1);
  return n;
}

interface Core { shapes: [string, number[]][]; outputSize: number; directions: number }

/** The built-in cells of models/cells.ts, by their --cell name. */
function recurrentShapes(a: Architecture): Core | null {
  if (a.cell === 'gru') return rnnShapes(a, ['r', 'z', 'n'], [], false);
  if (a.cell === 'lstm') return lstmShapes(a, undefined);
  if (a.cell === 'peephole') return lstmShapes(a, LSTM_VARIANTS.V);
  const v = a.cell.toUpperCase() as LstmVariant;
  if (Object.prototype.hasOwnProperty.call(LSTM_VARIANTS, v) && a.cell === v.toLowerCase()) return lstmShapes(a, v === 'NP' ? undefined : LSTM_VARIANTS[v]);
  if (a.cell === 'xlstm') return a.bidirectional || a.dropout ? null : xlstmShapes(a);
  return null;
}

function lstmShapes(a: Architecture, cell: LstmCellSpec | undefined): Core {
  return rnnShapes(a, gateOrder(cell), peepholeNames(cell), cell?.gateRecurrence ?? false);
}

/** nn.LSTM / nn.GRU layout: per layer and direction weight_ih, weight_hh, biases (and the LSTM extras). */
function rnnShapes(a: Architecture, gates: string[], peeps: string[], gateRecurrence: boolean): Core {
  const H = a.hiddenSize, D = a.bidirectional ? 2 : 1, G = gates.length * H;
  const shapes: [string, number[]][] = [];
  for (let l = 0; l < a.numLayers; l++) {
    const I = l === 0 ? a.inputSize : H * D;
    for (let d = 0; d < D; d++) {
      const s = `_l${l}${d === 1 ? '_reverse' : ''}`;
      shapes.push([`weight_ih${s}`, [G, I]], [`weight_hh${s}`, [G, H]], [`bias_ih${s}`, [G]], [`bias_hh${s}`, [G]]);
      for (const p of peeps) shapes.push([`weight_${p}${s}`, [H]]);
      if (gateRecurrence) shapes.push([`weight_gr${s}`, [3 * H, 3 * H]]);
    }
  }
  return { shapes, outputSize: H, directions: D };
}

/** xlstmRecurrentCore (nn/xlstm.ts): numLayers residual blocks, sLSTM at the odd positions, default block options. */
function xlstmShapes(a: Architecture): Core {
  const D = a.hiddenSize, NH = [4, 2, 1].find((h) => D % h === 0)!, inner = 2 * D, K = 4;
  const ff = Math.ceil((4 / 3) * D - 1e-9);
  const shapes: [string, number[]][] = [];
  if (a.inputSize !== D) shapes.push(['input_proj.weight', [D, a.inputSize]]);
  for (let i = 0; i < a.numLayers; i++) {
    const b = `blocks.${i}.`;
    if (i % 2 === 1) {
      shapes.push([`${b}norm.weight`, [D]], [`${b}norm.bias`, [D]], [`${b}conv1d.weight`, [D, 1, K]], [`${b}conv1d.bias`, [D]]);
      for (const g of ['igate', 'fgate', 'zgate', 'ogate']) shapes.push([`${b}${g}.weight`, [D, D]]);
      shapes.push([`${b}cell.weight_hh`, [4, NH, D / NH, D / NH]], [`${b}cell.bias`, [4 * D]], [`${b}group_norm.weight`, [D]],
        [`${b}ffn_norm.weight`, [D]], [`${b}ffn_norm.bias`, [D]], [`${b}ffn_up.weight`, [2 * ff, D]], [`${b}ffn_down.weight`, [D, ff]]);
    } else {
      shapes.push([`${b}learnable_skip`, [inner]], [`${b}norm.weight`, [D]], [`${b}norm.bias`, [D]], [`${b}proj_up.weight`, [2 * inner, D]],
        [`${b}conv1d.weight`, [inner, 1, K]], [`${b}conv1d.bias`, [inner]]);
      for (const p of ['q_proj', 'k_proj', 'v_proj']) shapes.push([`${b}${p}.weight`, [inner, inner]]);
      for (const g of ['igate', 'fgate']) shapes.push([`${b}${g}.weight`, [NH, 3 * inner]], [`${b}${g}.bias`, [NH]]);
      shapes.push([`${b}outnorm.weight`, [inner]], [`${b}proj_down.weight`, [D, inner]]);
    }
  }
  shapes.push(['post_blocks_norm.weight', [D]], ['post_blocks_norm.bias', [D]]);
  return { shapes, outputSize: D, directions: 1 };
}
