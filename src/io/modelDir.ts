import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModuleOptions, TensorData } from '../nn/module.js';
import { SequenceModel, type Architecture } from '../models/sequenceModel.js';
import { parameterShapes } from '../models/parameterShapes.js';
import { removeStaleTemps, syncDir, writeFileAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';
import { faultPoint } from './faults.js';
import { LIMITS } from './limits.js';
import { checkModelMeta } from './modelSchema.js';
import { parseSafetensorsFile, stateDictToSafetensors, tensorsToStateDict } from './pytorch.js';
import { readRegularFile } from './regularFile.js';
import type { Cycle, Spacing } from '../data/calendar.js';
import { QuantizedModel } from '../quant/model.js';
import { quantizedFromSafetensors, quantizedToSafetensors } from '../quant/io.js';
import type { WeightScheme } from '../quant/scheme.js';

/** Task-specific data description saved next to the weights, so predict/evaluate/generate can prepare inputs. */
export interface ForecastInfo {
  /** Input columns, in feature order. */
  features: string[];
  /** Predicted columns (each also an input feature). */
  targets: string[];
  window: number;
  horizon: number;
  normalization: { mean: number[]; std: number[] };
  /** Seasonal periods of the seasonal-naive baseline (detected at training and given with --season), each <= window. */
  seasons?: number[];
  /** The model learned the residual on top of the seasonal-naive forecast of this period (add it back to its outputs). */
  residualSeason?: number;
  /** Periods whose lag inputs the model reads: the value one period before each forecast step (see forecastData.ts). */
  lags?: number[];
  /** [lags x targets]: the scale of each seasonal-difference input (see forecastData.ts). */
  lagScale?: number[];
  /** The column of timestamps, its spacing and the calendar cycles fed as sin/cos inputs. */
  time?: { column: string; spacing: Spacing; cycles: Cycle[] };
  /** Several series, one model: an id column or one column per series; each series' own normalization. */
  series?: { column?: string; columns?: string[]; names: string[]; normalization: { mean: number[]; std: number[] }[] };
  /** Quantiles the model outputs (pinball loss); the point forecast is the 0.5 one. */
  quantiles?: number[];
  /** Per target: the network's outputs are in these units of the normalized target (absent: 1). */
  outputScale?: number[];
}
export interface ClassifyInfo { labels: string[]; features: number }
/** `unknown`: the index of the unknown-character entry (models trained before it have none). */
export interface CharLMInfo { vocabulary: string[]; unknown?: number }

/** The one weights file of a model version: its name in the directory, size and SHA-256 (hex). */
export interface WeightsRef { file: string; bytes: number; sha256: string }

export interface ModelMeta {
  format: 'carousel-model';
  /** 2: "weights" names the weights file; 1 (older directories): the weights are weights.safetensors. */
  version: 1 | 2;
  architecture: Architecture;
  weights?: WeightsRef;
  forecast?: ForecastInfo;
  classify?: ClassifyInfo;
  charlm?: CharLMInfo;
  /** Free-form training summary (epochs, losses, seed, flags). */
  training?: Record<string, unknown>;
  /** A quantized model (src/quant): how its weight matrices are stored. Absent: f32. */
  quantization?: { weights: WeightScheme };
}

export const META_FILE = 'model.json';
/** The weights of a version 1 directory (model.json without a "weights" field). */
export const LEGACY_WEIGHTS_FILE = 'weights.safetensors';
/** Weights files saveModel writes: named by the first 16 hex digits of their SHA-256. */
const VERSIONED_WEIGHTS = /^weights-[0-9a-f]{16}\.safetensors$/;

/**
 * Write a model directory so that it changes as a whole: model.json is the manifest and is
 * written last. The weights go first to a file of their own, `weights-<sha256 prefix>.safetensors`;
 * then model.json, naming that file with its size and SHA-256, replaces the old one in one atomic
 * rename. A crash before that rename leaves the old model.json naming the old weights (still
 * there); after it, the new model. Only then are the previous version's weights and the
 * temporary files of killed writers removed. One writer per directory at a time.
 */
export async function saveModel(dir: string, model: SequenceModel, meta: Omit<ModelMeta, 'format' | 'version' | 'architecture' | 'weights' | 'quantization'>): Promise<void> {
  const q = model instanceof QuantizedModel ? model : null;
  const bytes = q ? quantizedToSafetensors(q) : await stateDictToSafetensors(model, { format: 'pt' });
  const { file, sha256 } = weightsRef(bytes);
  const { quantization: _stale, ...rest } = meta as typeof meta & Pick<ModelMeta, 'quantization'>; // the model says whether it is quantized, not the meta
  const full: ModelMeta = { format: 'carousel-model', version: 2, architecture: model.arch, ...rest, weights: { file, bytes: bytes.length, sha256 },
    ...(q ? { quantization: { weights: q.scheme } } : {}) };
  checkModelMeta(JSON.parse(JSON.stringify(full)), join(dir, META_FILE)); // never publish a model.json that would not load
  publishModelDir(dir, bytes, file, full);
}

/** The weights file name saveModel and saveAppModel give these bytes: `weights-<sha256 prefix>.safetensors`, with its reference. */
export function weightsRef(bytes: Uint8Array): WeightsRef {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { file: `weights-${sha256.slice(0, 16)}.safetensors`, bytes: bytes.length, sha256 };
}

/** The write protocol of a model directory (see saveModel): weights first, then model.json in one rename, then the old versions go. */
export function publishModelDir(dir: string, bytes: Uint8Array, file: string, meta: object): void {
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, file), bytes);
  writeFileAtomic(join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
  removeOldVersions(dir, file);
}

/** After a version is published: every other weights file of ours, and any temporary file of a dead writer. */
function removeOldVersions(dir: string, keep: string): void {
  for (const f of readdirSync(dir)) {
    if (f === keep || !(VERSIONED_WEIGHTS.test(f) || f === LEGACY_WEIGHTS_FILE)) continue;
    rmSync(join(dir, f), { force: true });
    faultPoint();
  }
  removeStaleTemps(dir);
  syncDir(dir);
}

/** model.json of a model directory, read (a regular file within LIMITS.metaBytes) and checked against its schema. */
export function readModelMeta(dir: string): ModelMeta {
  const { raw, path } = readMetaJson(dir);
  return checkModelMeta(raw, path);
}

/** model.json of a model directory as JSON, not yet checked against any schema (a sequence model's or an application's). */
export function readMetaJson(dir: string): { raw: unknown; path: string } {
  let st;
  try { st = statSync(dir); } catch { throw new ModelFileError(`${dir}: no such model directory`, dir); }
  if (!st.isDirectory()) throw new ModelFileError(`${dir}: expected a model directory (with ${META_FILE} and its weights file), got a file`, dir);
  const p = join(dir, META_FILE);
  let text: string;
  try {
    text = readRegularFile(p, LIMITS.metaBytes, META_FILE).toString('utf8');
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new ModelFileError(`${dir}: no ${META_FILE} (not a Carousel model directory?)`, p);
    throw e;
  }
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new ModelFileError(`${p}: not valid JSON (${(e as Error).message})`, p); }
  return { raw, path: p };
}

/** The path of the weights file a model directory's model.json names. */
export function weightsPath(dir: string, meta: ModelMeta = readModelMeta(dir)): string {
  return join(dir, meta.weights?.file ?? LEGACY_WEIGHTS_FILE);
}

/**
 * Rebuild a model from its directory. Everything is checked before the model is built: model.json
 * against its schema and LIMITS, the weights file's size and SHA-256 against model.json, and every
 * tensor's name and shape against the architecture; so a mismatched or hostile directory costs
 * no more than reading its files.
 */
export function loadModel(dir: string, opts: ModuleOptions = {}): { model: SequenceModel; meta: ModelMeta } {
  const meta = readModelMeta(dir);
  const wp = weightsPath(dir, meta);
  const buf = readWeights(wp, meta.weights);
  if (meta.quantization) return { model: quantizedFromSafetensors(meta.architecture, meta.quantization.weights, parseSafetensorsFile(buf, wp), wp, opts), meta };
  const dict = tensorsToStateDict(parseSafetensorsFile(buf, wp));
  const misfit = (msg: string) => new ModelFileError(`${wp} does not fit the architecture in ${META_FILE}: ${msg}`, wp);
  const expected = parameterShapes(meta.architecture);
  if (expected) {
    const problems = shapeProblems(expected, dict);
    if (problems.length) throw misfit(problems.slice(0, 3).join('; ') + (problems.length > 3 ? `; and ${problems.length - 3} more` : ''));
  }
  let model: SequenceModel;
  try { model = new SequenceModel(meta.architecture, opts); } catch (e) { throw new ModelFileError(`${join(dir, META_FILE)}: ${(e as Error).message}`, join(dir, META_FILE)); }
  try { model.loadStateDict(dict, true); } catch (e) { throw misfit((e as Error).message); }
  model.eval();
  return { model, meta };
}

/** A weights file, read and (where model.json records them) checked against its size and SHA-256. */
export function readWeights(wp: string, w: WeightsRef | undefined): Uint8Array {
  const buf = readRegularFile(wp, w?.bytes ?? LIMITS.weightsBytes, 'weights file');
  if (w) {
    const why = `(changed after the model was saved? a file from elsewhere must be named in ${META_FILE} with its size and SHA-256)`;
    if (buf.length !== w.bytes) throw new ModelFileError(`${wp}: ${buf.length} bytes, ${META_FILE} records ${w.bytes} ${why}`, wp);
    const sha = createHash('sha256').update(buf).digest('hex');
    if (sha !== w.sha256) throw new ModelFileError(`${wp}: SHA-256 ${sha}, ${META_FILE} records ${w.sha256} ${why}`, wp);
  }
  return buf;
}

export function shapeProblems(expected: Map<string, number[]>, dict: Map<string, TensorData>): string[] {
  const out: string[] = [];
  const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
  for (const [n, s] of expected) {
    const t = dict.get(n);
    if (!t) out.push(`missing parameter '${n}'`);
    else if (fmt(t.shape) !== fmt(s)) out.push(`'${n}': expected shape ${fmt(s)}, got ${fmt(t.shape)}`);
  }
  for (const n of dict.keys()) if (!expected.has(n)) out.push(`unexpected parameter '${n}'`);
  return out;
}
