import type { TensorData } from '../nn/module.js';
import { writeFileAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';
import { LIMITS } from './limits.js';
import { readRegularFile } from './regularFile.js';
import { parseSafetensors, serializeSafetensors, type StInput } from './safetensors.js';

/**
 * A training checkpoint in ONE safetensors file (so a single atomic rename publishes it):
 * tensors grouped by prefix ("model.", "optim.", "carry.", "best."), and everything else
 * (counters, RNG state, data order, optimizer hyperparameters, history) as JSON in the
 * metadata entry "carousel". Float values are stored bit-exactly (F32/F64), and JSON numbers
 * round-trip doubles exactly, so a resumed run continues exactly as an uninterrupted one.
 */
export interface CheckpointData {
  /** JSON-serializable training state. */
  meta: Record<string, unknown>;
  /** Named groups of tensors: groups.model, groups.optim, ... */
  groups: Record<string, Map<string, TensorData>>;
  /** The file it was read from (set by loadCheckpoint), for error messages. */
  path?: string;
}

export function saveCheckpoint(path: string, ck: CheckpointData): void {
  const entries: [string, StInput][] = [];
  for (const [g, m] of Object.entries(ck.groups)) {
    if (g.includes('.')) throw new Error(`checkpoint: group name '${g}' must not contain '.'`);
    for (const [n, t] of m) {
      const dtype = t.data instanceof Float64Array ? 'F64' : t.data instanceof Int32Array ? 'I32' : 'F32';
      entries.push([`${g}.${n}`, { dtype, shape: t.shape, data: t.data }]);
    }
  }
  writeFileAtomic(path, serializeSafetensors(entries, { carousel: JSON.stringify(ck.meta) }));
}

export function loadCheckpoint(path: string): CheckpointData {
  const buf = readRegularFile(path, LIMITS.checkpointBytes, 'checkpoint');
  let f;
  try { f = parseSafetensors(buf, path); } catch (e) { throw new ModelFileError((e as Error).message); }
  const raw = f.metadata.carousel;
  if (raw === undefined) throw new ModelFileError(`${path}: not a Carousel checkpoint (no "carousel" metadata)`);
  let meta: Record<string, unknown>;
  try { meta = JSON.parse(raw); } catch (e) { throw new ModelFileError(`${path}: checkpoint metadata is not valid JSON (${(e as Error).message})`); }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw ModelFileError.field(path, 'metadata "carousel"', 'a JSON object', meta);
  // No prototype: a group named "__proto__" or "constructor" is just a name.
  const groups: Record<string, Map<string, TensorData>> = Object.create(null);
  for (const [name, t] of f.tensors) {
    const dot = name.indexOf('.');
    if (dot < 0) throw new ModelFileError(`${path}: tensor '${name}' has no group prefix`);
    const g = name.slice(0, dot);
    (groups[g] ??= new Map()).set(name.slice(dot + 1), { shape: t.shape, data: t.data });
  }
  return { meta, groups, path };
}
