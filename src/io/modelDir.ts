import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModuleOptions } from '../nn/module.js';
import { checkArchitecture, SequenceModel, type Architecture } from '../models/sequenceModel.js';
import { writeFileAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';
import { readSafetensorsFile, stateDictToSafetensors, tensorsToStateDict } from './pytorch.js';

/** Task-specific data description saved next to the weights, so predict/evaluate/generate can prepare inputs. */
export interface ForecastInfo {
  /** Input columns, in feature order. */
  features: string[];
  /** Predicted columns (each also an input feature). */
  targets: string[];
  window: number;
  horizon: number;
  normalization: { mean: number[]; std: number[] };
}
export interface ClassifyInfo { labels: string[]; features: number }
export interface CharLMInfo { vocabulary: string[] }

export interface ModelMeta {
  format: 'carousel-model';
  version: 1;
  architecture: Architecture;
  forecast?: ForecastInfo;
  classify?: ClassifyInfo;
  charlm?: CharLMInfo;
  /** Free-form training summary (epochs, losses, seed, flags). */
  training?: Record<string, unknown>;
}

export const WEIGHTS_FILE = 'weights.safetensors';
export const META_FILE = 'model.json';

/** Write a model directory: weights.safetensors (PyTorch names) and model.json, each atomically. */
export async function saveModel(dir: string, model: SequenceModel, meta: Omit<ModelMeta, 'format' | 'version' | 'architecture'>): Promise<void> {
  const weights = await stateDictToSafetensors(model, { format: 'pt' });
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, WEIGHTS_FILE), weights);
  const full: ModelMeta = { format: 'carousel-model', version: 1, architecture: model.arch, ...meta };
  writeFileAtomic(join(dir, META_FILE), JSON.stringify(full, null, 2) + '\n');
}

export function readModelMeta(dir: string): ModelMeta {
  if (!existsSync(dir)) throw new ModelFileError(`${dir}: no such model directory`);
  if (!statSync(dir).isDirectory()) throw new ModelFileError(`${dir}: expected a model directory (with ${META_FILE} and ${WEIGHTS_FILE}), got a file`);
  const p = join(dir, META_FILE);
  let text: string;
  try { text = readFileSync(p, 'utf8'); } catch { throw new ModelFileError(`${dir}: no ${META_FILE} (not a Carousel model directory?)`); }
  let meta: ModelMeta;
  try { meta = JSON.parse(text); } catch (e) { throw new ModelFileError(`${p}: not valid JSON (${(e as Error).message})`); }
  if (meta?.format !== 'carousel-model') throw new ModelFileError(`${p}: expected "format": "carousel-model", got ${JSON.stringify(meta?.format)}`);
  if (meta.version !== 1) throw new ModelFileError(`${p}: unsupported version ${JSON.stringify(meta.version)} (this Carousel reads version 1)`);
  try { checkArchitecture(meta.architecture, `${p} architecture`); } catch (e) { throw new ModelFileError((e as Error).message); }
  const task = meta.architecture.task;
  if (!meta[task]) throw new ModelFileError(`${p}: a ${task} model needs a "${task}" section`);
  return meta;
}

/** Rebuild a model from its directory, checking that the weights match the architecture. */
export function loadModel(dir: string, opts: ModuleOptions = {}): { model: SequenceModel; meta: ModelMeta } {
  const meta = readModelMeta(dir);
  let model: SequenceModel;
  try { model = new SequenceModel(meta.architecture, opts); } catch (e) { throw new ModelFileError(`${join(dir, META_FILE)}: ${(e as Error).message}`); }
  const wp = join(dir, WEIGHTS_FILE);
  const dict = tensorsToStateDict(readSafetensorsFile(wp));
  try { model.loadStateDict(dict, true); } catch (e) { throw new ModelFileError(`${wp} does not fit the architecture in ${META_FILE}: ${(e as Error).message}`); }
  model.eval();
  return { model, meta };
}
