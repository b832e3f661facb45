import { createHash } from 'node:crypto';
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
 * The metadata entry "carousel-sha256" is the SHA-256 of the whole file with those 64 hex digits
 * read as zeros, so any changed byte (header, state or tensors) is refused at load, never resumed.
 */
/** A training run's checkpoint in its output folder, whatever the task (train --resume reads it there). */
export const CHECKPOINT_FILE = 'checkpoint.safetensors';

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
  const bytes = serializeSafetensors(entries, { carousel: JSON.stringify(ck.meta), [SUM_KEY]: ZEROS });
  const at = digestOffset(bytes);
  bytes.set(new TextEncoder().encode(fileDigest(bytes, at)), at);
  writeFileAtomic(path, bytes);
}

const SUM_KEY = 'carousel-sha256';
const ZEROS = '0'.repeat(64);
const METADATA_KEYS = new Set(['carousel', SUM_KEY]);

/** Where the 64 digits of "carousel-sha256" start in the header, or -1. */
function digestOffset(bytes: Uint8Array): number {
  const n = bytes.length >= 8 ? Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)) : 0;
  const key = Buffer.from(`"${SUM_KEY}":"`);
  const i = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 8 + n)).indexOf(key);
  return i < 0 ? -1 : i + key.length;
}

/** SHA-256 of the file with the 64 digits at `at` read as zeros. */
function fileDigest(bytes: Uint8Array, at: number): string {
  return createHash('sha256').update(bytes.subarray(0, at)).update(ZEROS).update(bytes.subarray(at + 64)).digest('hex');
}

export function loadCheckpoint(path: string): CheckpointData {
  const buf = readRegularFile(path, LIMITS.checkpointBytes, 'checkpoint');
  let f;
  try { f = parseSafetensors(buf, path); } catch (e) { throw new ModelFileError((e as Error).message); }
  const raw = f.metadata.carousel;
  if (raw === undefined) throw new ModelFileError(`${path}: not a Carousel checkpoint (no "carousel" metadata)`);
  const unknown = Object.keys(f.metadata).filter((k) => !METADATA_KEYS.has(k));
  if (unknown.length) throw ModelFileError.field(path, 'metadata', `only "carousel" and "${SUM_KEY}"`, unknown);
  // Checkpoints written before the checksum have none; any written since must match it.
  const sum = f.metadata[SUM_KEY];
  if (sum !== undefined) {
    const at = digestOffset(buf);
    if (!/^[0-9a-f]{64}$/.test(sum) || at < 0) throw ModelFileError.field(path, `metadata "${SUM_KEY}"`, '64 hex digits', sum);
    const actual = fileDigest(buf, at);
    if (actual !== sum) throw new ModelFileError(`${path}: the checkpoint was changed after it was written (SHA-256 ${actual}, the file records ${sum}); it cannot be resumed`, path);
  }
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
