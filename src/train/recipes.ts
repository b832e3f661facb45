import { numericColumns, firstNumericColumn, parseCsv } from '../data/csv.js';
import { DataError } from '../data/errors.js';
import { Normalizer } from '../data/normalize.js';
import { parseSequences, type SeqDataset, type SeqSample } from '../data/sequences.js';
import { makeWindows, type WindowSet } from '../data/series.js';
import { CharVocab, sprinkleUnknown } from '../data/text.js';
import type { Rng } from '../tensor/random.js';

/**
 * Turning data files into training sets, shared by `carousel train`, `evaluate`, `predict` and the
 * demo, so that every command prepares inputs exactly the same way.
 */
export interface ForecastData {
  features: string[];
  targets: string[];
  /** Raw values per feature. */
  raw: Float64Array[];
  /** Normalized values per feature. */
  z: number[][];
  norm: Normalizer;
  /** Indices of the targets among the features. */
  targetIdx: number[];
  train: WindowSet;
  val: WindowSet | null;
  /** Rows [0, trainRows) fit the normalization and feed the training windows. */
  trainRows: number;
}

export interface ForecastSpec {
  columns?: string[];
  targets?: string[];
  window: number;
  horizon: number;
  /** Fraction of windows (the latest) held out for validation. */
  valFraction: number;
}

export function readSeries(text: string, source: string, features?: string[]): { features: string[]; raw: Float64Array[] } {
  const t = parseCsv(text, source);
  if (t.rows.length === 0) throw new DataError(`${source}: no data rows after the header`);
  const names = features && features.length ? features : [firstNumericColumn(t)];
  return { features: names, raw: numericColumns(t, names) };
}

/**
 * Chronological split: the latest windows validate; training windows end (targets included)
 * before the first validation target, so nothing of the validation period leaks into training.
 */
export function prepareForecast(text: string, source: string, s: ForecastSpec): ForecastData {
  const { features, raw } = readSeries(text, source, s.columns);
  const targets = s.targets && s.targets.length ? s.targets : [features[0]];
  const targetIdx = targets.map((n) => {
    const k = features.indexOf(n);
    if (k < 0) throw new DataError(`target column '${n}' must also be an input column (--column ${features.join(',')})`);
    return k;
  });
  const T = raw[0].length, W = s.window, Hz = s.horizon;
  const total = T - W - Hz + 1;
  if (total < 1) throw new DataError(`${source}: the series has ${T} rows, shorter than window + horizon = ${W} + ${Hz} = ${W + Hz}: use a shorter --window or --horizon, or more data`);
  let nVal = Math.floor(total * s.valFraction);
  let nTrain = total - nVal - (nVal > 0 ? Hz - 1 : 0);
  if (nVal > 0 && nTrain < 1) { nVal = 0; nTrain = total; }
  // Rows seen by training windows: [0, nTrain - 1 + W + Hz).
  const trainRows = nTrain - 1 + W + Hz;
  const norm = Normalizer.fit(raw, trainRows);
  const z = raw.map((col, f) => Array.from(col, (v) => norm.forward(v, f)));
  const train = makeWindows(z, targetIdx, W, Hz, 0, trainRows);
  const val = nVal > 0 ? makeWindows(z, targetIdx, W, Hz, T - (nVal - 1) - W - Hz, T) : null;
  return { features, targets, raw, z, norm, targetIdx, train, val, trainRows };
}

/** Shuffle and split labelled sequences into train and validation. */
export function prepareClassify(text: string, source: string, valFraction: number, rng: Rng): { ds: SeqDataset; train: SeqSample[]; val: SeqSample[] } {
  const ds = parseSequences(text, source);
  const order = rng.shuffle(ds.samples.map((_, i) => i));
  const nVal = Math.floor(ds.samples.length * valFraction);
  return { ds, train: order.slice(nVal).map((i) => ds.samples[i]), val: order.slice(0, nVal).map((i) => ds.samples[i]) };
}

/** Share of the training characters replaced by the unknown-character entry (see sprinkleUnknown). */
export const UNKNOWN_SHARE = 0.002;

/**
 * Character vocabulary with an unknown-character entry, and the text split into training (first
 * part, with UNKNOWN_SHARE of its characters replaced by the unknown entry) and validation (last
 * part, as it is).
 */
export function prepareText(text: string, valFraction: number, rng: Rng): { vocab: CharVocab; train: Int32Array; val: Int32Array } {
  const vocab = CharVocab.fromText(text, { unknown: true });
  const ids = vocab.encode(text);
  const cut = Math.max(2, Math.floor(ids.length * (1 - valFraction)));
  const train = ids.slice(0, cut);
  sprinkleUnknown(train, vocab.unknown!, UNKNOWN_SHARE, rng);
  return { vocab, train, val: ids.subarray(cut) };
}
