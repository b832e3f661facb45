import { join } from 'node:path';
import type { Module, TensorData } from '../nn/module.js';
import { describe, ModelFileError } from './errors.js';
import { META_FILE, publishModelDir, readMetaJson, readWeights, shapeProblems, weightsRef, type WeightsRef } from './modelDir.js';
import { parseSafetensorsFile, stateDictToSafetensors, tensorsToStateDict } from './pytorch.js';

/**
 * An application's model directory (speech recognition, translation, nowcasting, a policy...):
 * the same files and write protocol as a sequence model's (weights-<hash>.safetensors with
 * PyTorch parameter names, then model.json naming it, published in one rename; see saveModel),
 * but model.json holds the application's name and its own configuration, which the application
 * checks and uses to rebuild its module before the weights are loaded into it.
 */
export interface AppModelMeta<C = Record<string, unknown>> {
  format: 'carousel-app';
  version: 1;
  /** The application: the name `carousel train --task` takes and `evaluate` dispatches on. */
  app: string;
  /** Everything the application needs to rebuild the module and its inputs (vocabularies, sizes, features). */
  config: C;
  weights: WeightsRef;
  /** Free-form training summary (epochs, losses, seed, times). */
  training?: Record<string, unknown>;
}

const APP_NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** Write an application model directory: the module's weights, then model.json (see AppModelMeta). */
export async function saveAppModel<C extends object>(dir: string, app: string, config: C, module: Module, training?: Record<string, unknown>): Promise<void> {
  if (!APP_NAME.test(app)) throw new Error(`saveAppModel: app name must match ${APP_NAME}, got ${JSON.stringify(app)}`);
  const bytes = await stateDictToSafetensors(module, { format: 'pt' });
  const weights = weightsRef(bytes);
  const meta: AppModelMeta<C> = { format: 'carousel-app', version: 1, app, config, weights, ...(training ? { training } : {}) };
  checkAppMeta(JSON.parse(JSON.stringify(meta)), join(dir, META_FILE)); // never publish a model.json that would not load
  publishModelDir(dir, bytes, weights.file, meta);
}

/** Which kind of model a directory holds: an application's name, or null for a sequence model (readModelMeta/loadModel). */
export function appOf(dir: string): string | null {
  const { raw, path } = readMetaJson(dir);
  if (isObject(raw) && raw.format === 'carousel-app') return checkAppMeta(raw, path).app;
  return null;
}

/**
 * An application model's model.json and its weights as a state dict, both checked (the weights'
 * size and SHA-256 against model.json). `app` names the application the caller expects.
 */
export function readAppModel<C = Record<string, unknown>>(dir: string, app: string): { meta: AppModelMeta<C>; tensors: Map<string, TensorData>; weightsFile: string } {
  const { raw, path } = readMetaJson(dir);
  if (!isObject(raw) || raw.format !== 'carousel-app') {
    throw new ModelFileError(`${dir}: expected a ${app} model, got ${isObject(raw) && raw.format === 'carousel-model' ? 'a sequence model (train --task forecast|classify|charlm)' : `model.json of format ${describe(isObject(raw) ? raw.format : raw)}`}`, path);
  }
  const meta = checkAppMeta(raw, path) as AppModelMeta<C>;
  if (meta.app !== app) throw new ModelFileError(`${dir}: expected a ${app} model, got a ${meta.app} model`, path, 'app');
  const wp = join(dir, meta.weights.file);
  const tensors = tensorsToStateDict(parseSafetensorsFile(readWeights(wp, meta.weights), wp));
  return { meta, tensors, weightsFile: wp };
}

/** Load an application model's weights into the module rebuilt from its config, naming every misfit parameter. */
export function loadAppWeights(module: Module, tensors: Map<string, TensorData>, weightsFile: string): void {
  const expected = new Map(module.namedParameters().map(([n, p]) => [n, [...p.shape]]));
  const problems = shapeProblems(expected, tensors);
  if (problems.length) {
    throw new ModelFileError(`${weightsFile} does not fit the configuration in ${META_FILE}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? `; and ${problems.length - 3} more` : ''}`, weightsFile);
  }
  module.loadStateDict(tensors, true);
  module.eval();
}

function isObject(v: unknown): v is Record<string, unknown> { return typeof v === 'object' && v !== null && !Array.isArray(v); }

/** The envelope's schema; the application checks its own config. */
function checkAppMeta(raw: unknown, file: string): AppModelMeta {
  if (!isObject(raw)) throw ModelFileError.field(file, '(top level)', 'an object', raw);
  if (raw.version !== 1) throw ModelFileError.field(file, 'version', '1 (a newer Carousel wrote it?)', raw.version);
  if (typeof raw.app !== 'string' || !APP_NAME.test(raw.app)) throw ModelFileError.field(file, 'app', 'an application name', raw.app);
  if (!isObject(raw.config)) throw ModelFileError.field(file, 'config', 'an object', raw.config);
  const w = raw.weights;
  if (!isObject(w) || typeof w.file !== 'string' || !/^weights-[0-9a-f]{16}\.safetensors$/.test(w.file)
    || !Number.isSafeInteger(w.bytes) || (w.bytes as number) < 0 || typeof w.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(w.sha256)) {
    throw ModelFileError.field(file, 'weights', '{ file: "weights-<16 hex>.safetensors", bytes, sha256 }', w);
  }
  if (raw.training !== undefined && !isObject(raw.training)) throw ModelFileError.field(file, 'training', 'an object', raw.training);
  return raw as unknown as AppModelMeta;
}
