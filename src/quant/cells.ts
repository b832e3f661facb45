import type { LSTMConfig } from '../nn/lstm.js';
import { LSTM_VARIANTS, type LstmVariant } from '../ops/lstm-cell.js';

/** The LSTM config of a built-in LSTM-family cell name (models/cells.ts), or null for another cell. */
export function lstmConfigOf(cell: string): Partial<LSTMConfig> | null {
  if (cell === 'lstm') return {};
  if (cell === 'peephole') return { peepholes: true };
  const v = cell.toUpperCase() as LstmVariant;
  return Object.prototype.hasOwnProperty.call(LSTM_VARIANTS, v) && cell === v.toLowerCase() ? { variant: v } : null;
}

/** Cells quantized inference covers, by --cell name: the LSTM family and GRU (not xLSTM). */
export const QUANTIZABLE_CELLS: readonly string[] = ['lstm', 'peephole', ...Object.keys(LSTM_VARIANTS).map((v) => v.toLowerCase()), 'gru'];
