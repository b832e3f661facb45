export { DataError } from './errors.js';
export { parseCsv, columnIndex, numberAt, numericColumns, firstNumericColumn, type CsvTable } from './csv.js';
export { Normalizer, type NormalizerJSON } from './normalize.js';
export { makeWindows, gatherWindows, seasonalNaive, type WindowSet } from './series.js';
export { CharVocab, batchify } from './text.js';
export { parseSequences, padBatch, type SeqDataset, type SeqSample } from './sequences.js';
