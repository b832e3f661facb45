import { UNKNOWN_CHAR } from '../data/text.js';
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
    onlyKeys(s, ['features', 'targets', 'window', 'horizon', 'normalization', 'seasons', 'residualSeason'], file, 'forecast');
    const features = strings('features', a.inputSize);
    const targets = strings('targets', null);
    for (const t of targets) if (!features.includes(t)) bad(f('targets'), `columns among the features (${features.join(', ')})`, t);
    const window = int('window', 1, 2 ** 31 - 1);
    const horizon = int('horizon', 1, a.outputSize);
    if (targets.length * horizon !== a.outputSize) {
      bad(f('horizon'), `targets x horizon = architecture.outputSize (${a.outputSize} outputs / ${targets.length} target(s))`, horizon);
    }
    const n = s.normalization;
    if (!isObject(n)) bad(f('normalization'), '{ mean: number[], std: number[] }', n);
    const { mean, std } = n as Record<string, unknown>;
    if (!Array.isArray(mean) || mean.length !== features.length || !mean.every(Number.isFinite)) bad(f('normalization.mean'), `${features.length} finite numbers`, mean);
    if (!Array.isArray(std) || std.length !== features.length || !std.every((x) => Number.isFinite(x) && x > 0)) bad(f('normalization.std'), `${features.length} positive finite numbers`, std);
    // Optional: the seasonal-naive baseline's periods, read one period back inside the window.
    const seasons = s.seasons;
    if (seasons !== undefined) {
      if (!Array.isArray(seasons) || seasons.length > window) bad(f('seasons'), `an array of at most ${window} periods`, seasons);
      (seasons as unknown[]).forEach((p, i) => { if (!Number.isInteger(p) || (p as number) < 1 || (p as number) > window) bad(`${f('seasons')}[${i}]`, `an integer in [1, ${window}] (the window)`, p); });
      if (new Set(seasons as number[]).size !== (seasons as number[]).length) bad(f('seasons'), 'distinct periods', seasons);
    }
    if (s.residualSeason !== undefined) int('residualSeason', 1, window);
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

function onlyKeys(o: Record<string, unknown>, keys: string[], file: string, where: string): void {
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length) throw ModelFileError.field(file, `${where}.${extra[0]}`, `only the fields ${keys.join(', ')}`, extra[0]);
}

function isObject(v: unknown): boolean { return typeof v === 'object' && v !== null && !Array.isArray(v); }
