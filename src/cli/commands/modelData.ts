import { DataError } from '../../data/errors.js';
import { Normalizer } from '../../data/normalize.js';
import { parseSequences, type SeqDataset } from '../../data/sequences.js';
import { makeWindows, type WindowSet } from '../../data/series.js';
import { CharVocab } from '../../data/text.js';
import { join } from 'node:path';
import { ModelFileError } from '../../io/errors.js';
import { loadModel, META_FILE, type ModelMeta } from '../../io/modelDir.js';
import type { SequenceModel } from '../../models/sequenceModel.js';
import { readSeries } from '../../train/recipes.js';

/**
 * A model directory for predict, evaluate, generate and info: loaded, and its task section
 * (columns, normalization, labels, vocabulary) checked against the architecture, so that a
 * damaged model.json is refused here, naming the file and the field, not halfway through a run.
 */
export function openModel(dir: string): { model: SequenceModel; meta: ModelMeta } {
  const { model, meta } = loadModel(dir);
  try {
    checkTaskSection(meta);
  } catch (e) {
    throw new ModelFileError(`${join(dir, META_FILE)}: ${(e as Error).message}`);
  }
  return { model, meta };
}

const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 60) ?? String(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const posInt = (v: unknown, name: string) => {
  if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`${name}: expected a positive integer, got ${shown(v)}`);
};

function checkTaskSection(meta: ModelMeta): void {
  const a = meta.architecture;
  const sec = (meta as unknown as Record<string, unknown>)[a.task];
  if (typeof sec !== 'object' || sec === null || Array.isArray(sec)) throw new Error(`"${a.task}": expected an object, got ${shown(sec)}`);
  if (a.task === 'forecast') {
    const f = sec as Record<string, unknown>;
    if (!isStrings(f.features) || f.features.length !== a.inputSize) throw new Error(`forecast.features: expected ${a.inputSize} column names (the input size), got ${shown(f.features)}`);
    const features = f.features;
    if (!isStrings(f.targets) || f.targets.length < 1 || !f.targets.every((t) => features.includes(t))) throw new Error(`forecast.targets: expected column names among forecast.features, got ${shown(f.targets)}`);
    posInt(f.window, 'forecast.window');
    posInt(f.horizon, 'forecast.horizon');
    if ((f.horizon as number) * f.targets.length !== a.outputSize) throw new Error(`forecast: horizon ${f.horizon} x ${f.targets.length} target(s) does not match the output size ${a.outputSize}`);
    const norm = Normalizer.fromJSON(f.normalization as never);
    if (norm.features !== features.length) throw new Error(`forecast.normalization: has ${norm.features} features, the model reads ${features.length}`);
  } else if (a.task === 'classify') {
    const c = sec as Record<string, unknown>;
    if (!isStrings(c.labels) || c.labels.length !== a.outputSize || new Set(c.labels).size !== c.labels.length) throw new Error(`classify.labels: expected ${a.outputSize} distinct class names (the output size), got ${shown(c.labels)}`);
    if (c.features !== a.inputSize) throw new Error(`classify.features: expected ${a.inputSize} (the input size), got ${shown(c.features)}`);
  } else {
    const v = (sec as Record<string, unknown>).vocabulary;
    if (!isStrings(v) || v.length !== a.outputSize || !v.every((c) => Array.from(c).length === 1) || new Set(v).size !== v.length) {
      throw new Error(`charlm.vocabulary: expected ${a.outputSize} distinct single characters (the vocabulary size), got ${shown(v)}`);
    }
  }
}

/** Inputs for a saved model, prepared exactly as at training time (columns, normalization, vocabulary). */
export function forecastInputs(meta: ModelMeta, text: string, source: string): { z: number[][]; raw: Float64Array[]; norm: Normalizer; targetIdx: number[] } {
  const f = meta.forecast!;
  const { raw } = readSeries(text, source, f.features);
  const norm = Normalizer.fromJSON(f.normalization);
  if (norm.features !== f.features.length) throw new DataError(`model.json: normalization has ${norm.features} features, the model reads ${f.features.length}`);
  const z = raw.map((col, k) => Array.from(col, (v) => norm.forward(v, k)));
  return { z, raw, norm, targetIdx: f.targets.map((t) => f.features.indexOf(t)) };
}

export function forecastWindows(meta: ModelMeta, text: string, source: string): { w: WindowSet; norm: Normalizer; targetIdx: number[] } {
  const f = meta.forecast!;
  const { z, norm, targetIdx } = forecastInputs(meta, text, source);
  return { w: makeWindows(z, targetIdx, f.window, f.horizon), norm, targetIdx };
}

export function classifyInputs(meta: ModelMeta, text: string, source: string, requireLabels: boolean): SeqDataset {
  const c = meta.classify!;
  const ds = parseSequences(text, source, c.labels, requireLabels);
  if (ds.features !== c.features) throw new DataError(`${source}: sequences have ${ds.features} features per step, the model expects ${c.features}`);
  return ds;
}

export function vocabOf(meta: ModelMeta): CharVocab { return new CharVocab(meta.charlm!.vocabulary); }
