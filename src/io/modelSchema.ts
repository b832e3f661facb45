import { UNKNOWN_CHAR } from '../data/text.js';
import type { Cycle, Spacing } from '../data/calendar.js';
import { channelCount } from '../data/forecastData.js';
import { checkArchitecture } from '../models/sequenceModel.js';
import { describe, ModelFileError } from './errors.js';
import { LIMITS } from './limits.js';
import type { ModelMeta, WeightsRef } from './modelDir.js';
import { WEIGHT_SCHEMES, type WeightScheme } from '../quant/scheme.js';
import { QUANTIZABLE_CELLS } from '../quant/cells.js';

/**
 * model.json's schema: every field's type and range, and the task section's consistency with
 * the architecture (forecast: features = inputs, targets x horizon = outputs; classify: one label
 * per output; charlm: one character per vocabulary entry, `unknown` the index of U+FFFD), so a hand-edited or hostile file is
 * refused with the field named instead of printing NaN, predicting garbage or allocating
 * gigabytes. Version 1 directories hold weights.safetensors; version 2 model.json names its
 * weights file with its size and SHA-256 (see modelDir.ts).
 */
export function checkModelMeta(raw: unknown, file: string): ModelMeta {
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, field, expected, found); };
  if (!isObject(raw)) bad('(top level)', 'a JSON object', raw);
  const m = raw as Record<string, unknown>;
  if (m.format !== 'carousel-model') throw new ModelFileError(`${file}: expected "format": "carousel-model", got ${describe(m.format)}`, file, 'format');
  if (m.version !== 1 && m.version !== 2) throw new ModelFileError(`${file}: unsupported version ${describe(m.version)} (this Carousel reads versions 1 and 2)`, file, 'version');
  const known = ['format', 'version', 'architecture', 'weights', 'forecast', 'classify', 'charlm', 'training', 'quantization'];
  const extra = Object.keys(m).filter((k) => !known.includes(k));
  if (extra.length) bad(extra[0], `only the fields ${known.join(', ')}`, extra[0]);
  try { checkArchitecture(m.architecture, `${file} architecture`); } catch (e) { throw new ModelFileError((e as Error).message, file, 'architecture'); }
  const a = m.architecture as ModelMeta['architecture'];
  if (m.version === 2) checkWeightsRef(m.weights, file);
  else if (m.weights !== undefined) bad('weights', 'no "weights" field in a version 1 model.json', m.weights);
  for (const t of ['forecast', 'classify', 'charlm'] as const) {
    if (t === a.task && m[t] === undefined) throw new ModelFileError(`${file}: a ${t} model needs a "${t}" section`, file, t);
    if (t !== a.task && m[t] !== undefined) bad(t, `no "${t}" section in a ${a.task} model`, Object.keys(m[t] as object));
  }
  if (m.training !== undefined && !isObject(m.training)) bad('training', 'an object', m.training);
  if (m.quantization !== undefined) checkQuantization(m.quantization, m.version as number, a.cell, file);
  const sec = m[a.task];
  if (!isObject(sec)) bad(a.task, 'an object', sec);
  const s = sec as Record<string, unknown>;
  const f = (k: string) => `${a.task}.${k}`;
  const strings = (k: string, n: number | null) => {
    const v = s[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string') || (n !== null && v.length !== n) || (n === null && v.length === 0)) {
      const expected = n === null ? 'a non-empty array of strings' : `an array of ${n} strings`;
      if (!Array.isArray(v)) bad(f(k), expected, v);
      throw new ModelFileError(`${file}: ${f(k)}: expected ${expected}, got ${(v as unknown[]).length} entries ${describe(v)}`, file, f(k));
    }
    if (new Set(v as string[]).size !== (v as string[]).length) bad(f(k), 'distinct entries', v);
    // A column or class name is never empty (an empty label marks an unlabelled row in data).
    const empty = (v as string[]).indexOf('');
    if (empty >= 0) bad(`${f(k)}[${empty}]`, 'a non-empty name', '');
    return v as string[];
  };
  const int = (k: string, lo: number, hi: number) => {
    const v = s[k];
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) bad(f(k), `an integer in [${lo}, ${hi}]`, v);
    return v as number;
  };
  if (a.task === 'forecast') {
    onlyKeys(s, ['features', 'targets', 'window', 'horizon', 'normalization', 'seasons', 'residualSeason', 'lags', 'lagScale', 'time', 'series', 'quantiles', 'outputScale'], file, 'forecast');
    // Optional sections of later versions (absent in older model.json: none of them).
    const lags = checkLags(s.lags, file);
    const time = checkTime(s.time, file);
    const quantiles = checkQuantiles(s.quantiles, file);
    // The inputs beyond the features: two per lag and target, two per calendar cycle.
    const more = channelCount({ features: [], lags, cycles: time?.cycles ?? [] }, Array.isArray(s.targets) ? s.targets.length : 1);
    const features = strings('features', a.inputSize - more);
    const targets = strings('targets', null);
    for (const t of targets) if (!features.includes(t)) bad(f('targets'), `columns among the features (${features.join(', ')})`, t);
    const window = int('window', 1, 2 ** 31 - 1);
    const Q = Math.max(1, quantiles.length);
    const horizon = int('horizon', 1, a.outputSize);
    if (Q * targets.length * horizon !== a.outputSize) {
      bad(f('horizon'), `${Q > 1 ? 'quantiles x ' : ''}targets x horizon = architecture.outputSize (${a.outputSize} outputs / ${targets.length} target(s)${Q > 1 ? ` / ${Q} quantiles` : ''})`, horizon);
    }
    for (const P of lags) if (P < horizon) bad(f('lags'), `periods >= horizon (${horizon})`, P);
    const ls = s.lagScale;
    if (lags.length && (!Array.isArray(ls) || ls.length !== lags.length * targets.length || !ls.every((x) => Number.isFinite(x) && x > 0))) bad(f('lagScale'), `${lags.length * targets.length} positive finite numbers (lags x targets)`, ls);
    if (!lags.length && ls !== undefined) bad(f('lagScale'), 'no lagScale without lags', ls);
    if (s.outputScale !== undefined && (!Array.isArray(s.outputScale) || s.outputScale.length !== targets.length || !s.outputScale.every((x) => Number.isFinite(x) && x > 0))) bad(f('outputScale'), `${targets.length} positive finite numbers`, s.outputScale);
    if (s.series !== undefined) checkSeries(s.series, features.length, file);
    const n = s.normalization;
    if (!isObject(n)) bad(f('normalization'), '{ mean: number[], std: number[] }', n);
    const { mean, std } = n as Record<string, unknown>;
    if (!Array.isArray(mean) || mean.length !== features.length || !mean.every(Number.isFinite)) bad(f('normalization.mean'), `${features.length} finite numbers`, mean);
    if (!Array.isArray(std) || std.length !== features.length || !std.every((x) => Number.isFinite(x) && x > 0)) bad(f('normalization.std'), `${features.length} positive finite numbers`, std);
    // Optional: the seasonal-naive baseline's periods, read one period back inside the window.
    const seasons = s.seasons;
    if (seasons !== undefined) {
      if (!Array.isArray(seasons) || seasons.length > window) bad(f('seasons'), `an array of at most ${window} periods`, seasons);
      (seasons as unknown[]).forEach((p, i) => { if (!Number.isInteger(p) || (p as number) < 1 || ((p as number) > window && !lags.includes(p as number))) bad(`${f('seasons')}[${i}]`, `an integer in [1, ${window}] (the window) or a lag period`, p); });
      if (new Set(seasons as number[]).size !== (seasons as number[]).length) bad(f('seasons'), 'distinct periods', seasons);
    }
    if (s.residualSeason !== undefined && !lags.includes(s.residualSeason as number)) int('residualSeason', 1, window);
  } else if (a.task === 'classify') {
    onlyKeys(s, ['labels', 'features'], file, 'classify');
    strings('labels', a.outputSize);
    if (s.features !== a.inputSize) bad(f('features'), `architecture.inputSize (${a.inputSize})`, s.features);
  } else {
    onlyKeys(s, ['vocabulary', 'unknown'], file, 'charlm');
    const v = strings('vocabulary', a.vocabSize!);
    const multi = v.findIndex((c) => Array.from(c).length !== 1);
    if (multi >= 0) bad(f(`vocabulary[${multi}]`), 'one character', v[multi]);
    // The unknown-character entry, where there is one: the index of U+FFFD in the vocabulary.
    if (s.unknown !== undefined) {
      const k = int('unknown', 0, v.length - 1);
      if (v[k] !== UNKNOWN_CHAR) bad(f('unknown'), `the index of the unknown-character entry "\\ufffd" (vocabulary[${k}] is ${JSON.stringify(v[k])})`, k);
    }
  }
  return m as unknown as ModelMeta;
}

/**
 * "quantization": { "weights": "int8" | "bf16" | "f16" } (src/quant): the weights file holds the
 * recurrent and head weight matrices in that form. Absent: an f32 model (every older model).
 */
function checkQuantization(q: unknown, version: number, cell: string, file: string): void {
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, field, expected, found); };
  if (!isObject(q)) bad('quantization', '{ "weights": "int8" | "bf16" | "f16" }', q);
  onlyKeys(q as Record<string, unknown>, ['weights'], file, 'quantization');
  const w = (q as Record<string, unknown>).weights;
  if (!WEIGHT_SCHEMES.includes(w as WeightScheme)) bad('quantization.weights', WEIGHT_SCHEMES.map((s) => `"${s}"`).join(', '), w);
  if (version !== 2) bad('version', '2 in a quantized model (its model.json names the weights file)', version);
  if (!QUANTIZABLE_CELLS.includes(cell)) bad('architecture.cell', `a cell with a quantized form (${QUANTIZABLE_CELLS.join(', ')}) in a quantized model`, cell);
}

/** Version 2's "weights": { file, bytes, sha256 }, the file a plain name in the model directory. */
function checkWeightsRef(w: unknown, file: string): WeightsRef {
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, field, expected, found); };
  if (!isObject(w)) bad('weights', '{ file, bytes, sha256 }', w);
  const r = w as Record<string, unknown>;
  onlyKeys(r, ['file', 'bytes', 'sha256'], file, 'weights');
  if (typeof r.file !== 'string' || !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*\.safetensors$/.test(r.file)) bad('weights.file', 'a file name in the model directory ending in .safetensors', r.file);
  if (!Number.isInteger(r.bytes) || (r.bytes as number) < 8 || (r.bytes as number) > LIMITS.weightsBytes) bad('weights.bytes', `an integer in [8, ${LIMITS.weightsBytes}]`, r.bytes);
  if (typeof r.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(r.sha256)) bad('weights.sha256', '64 lowercase hex digits', r.sha256);
  return r as unknown as WeightsRef;
}

function checkLags(v: unknown, file: string): number[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length === 0 || v.length > 16 || !v.every((p) => Number.isInteger(p) && p >= 1 && p <= 2 ** 31 - 1) || new Set(v).size !== v.length) {
    throw ModelFileError.field(file, 'forecast.lags', 'an array of 1 to 16 distinct positive integer periods', v);
  }
  return v as number[];
}

const CYCLES: readonly Cycle[] = ['hour', 'weekday', 'yearday'];

function checkTime(v: unknown, file: string): { column: string; spacing: Spacing; cycles: Cycle[] } | null {
  if (v === undefined) return null;
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, `forecast.time${field}`, expected, found); };
  if (!isObject(v)) bad('', '{ column, spacing, cycles }', v);
  const t = v as Record<string, unknown>;
  onlyKeys(t, ['column', 'spacing', 'cycles'], file, 'forecast.time');
  if (typeof t.column !== 'string' || t.column === '') bad('.column', 'a column name', t.column);
  const sp = t.spacing as Record<string, unknown>;
  if (!isObject(sp) || (sp.unit !== 'ms' && sp.unit !== 'month') || !Number.isInteger(sp.step) || (sp.step as number) < 1 || Object.keys(sp).length !== 2) bad('.spacing', '{ "unit": "ms" or "month", "step": a positive integer }', t.spacing);
  if (!Array.isArray(t.cycles) || !t.cycles.every((c) => CYCLES.includes(c)) || new Set(t.cycles).size !== t.cycles.length) bad('.cycles', `distinct entries among ${CYCLES.join(', ')}`, t.cycles);
  return t as unknown as { column: string; spacing: Spacing; cycles: Cycle[] };
}

function checkQuantiles(v: unknown, file: string): number[] {
  if (v === undefined) return [];
  const ok = Array.isArray(v) && v.length >= 1 && v.length <= 99 && v.every((q, i) => typeof q === 'number' && q > 0 && q < 1 && (i === 0 || q > v[i - 1])) && v.includes(0.5);
  if (!ok) throw ModelFileError.field(file, 'forecast.quantiles', 'increasing numbers in (0, 1), one of them 0.5', v);
  return v as number[];
}

function checkSeries(v: unknown, features: number, file: string): void {
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, `forecast.series${field}`, expected, found); };
  if (!isObject(v)) bad('', '{ column or columns, names, normalization }', v);
  const s = v as Record<string, unknown>;
  onlyKeys(s, ['column', 'columns', 'names', 'normalization'], file, 'forecast.series');
  if ((s.column === undefined) === (s.columns === undefined)) bad('', 'exactly one of "column" (an id column) and "columns" (one column per series)', Object.keys(s));
  if (s.column !== undefined && (typeof s.column !== 'string' || s.column === '')) bad('.column', 'a column name', s.column);
  if (s.columns !== undefined && (!Array.isArray(s.columns) || s.columns.length === 0 || !s.columns.every((c) => typeof c === 'string' && c !== ''))) bad('.columns', 'a non-empty array of column names', s.columns);
  const names = s.names;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string') || new Set(names).size !== names.length) bad('.names', 'a non-empty array of distinct series names', names);
  if (s.columns !== undefined && JSON.stringify(s.columns) !== JSON.stringify(names)) bad('.names', 'the same as "columns" (each column is a series)', names);
  const n = s.normalization;
  if (!Array.isArray(n) || n.length !== (names as unknown[]).length) bad('.normalization', `one { mean, std } per series (${(names as unknown[]).length})`, n);
  (n as unknown[]).forEach((x, i) => {
    const r = x as Record<string, unknown>;
    if (!isObject(x) || !Array.isArray(r.mean) || r.mean.length !== features || !r.mean.every(Number.isFinite) || !Array.isArray(r.std) || r.std.length !== features || !r.std.every((y) => Number.isFinite(y) && y > 0)) {
      bad(`.normalization[${i}]`, `{ mean: ${features} finite numbers, std: ${features} positive finite numbers }`, x);
    }
  });
}

function onlyKeys(o: Record<string, unknown>, keys: string[], file: string, where: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length) throw ModelFileError.field(file, `${where}.${extra[0]}`, `only the fields ${keys.join(', ')}`, extra[0]);
}

function isObject(v: unknown): boolean { return typeof v === 'object' && v !== null && !Array.isArray(v); }
