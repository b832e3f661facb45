import type { LoadStateDictOptions, Module, TensorData } from '../nn/module.js';
import { writeFileAtomic } from './atomic.js';
import { ModelFileError } from './errors.js';
import { LIMITS } from './limits.js';
import { readRegularFile } from './regularFile.js';
import { parseSafetensors, serializeSafetensors, type StFile, type StInput } from './safetensors.js';

/**
 * PyTorch interchange: a module's state_dict as safetensors with PyTorch's parameter names
 * (`rnn.weight_ih_l0`, `head.bias`, ...), as `safetensors.torch.save_file(model.state_dict())`
 * writes and `load_file` reads. Float tensors of any width load (F64/F16/BF16 are converted).
 */
export async function stateDictToSafetensors(m: Module, metadata?: Record<string, string>): Promise<Uint8Array> {
  const entries: [string, StInput][] = [];
  for (const [n, t] of await m.readStateDict()) entries.push([n, { dtype: 'F32', shape: t.shape, data: t.data }]);
  return serializeSafetensors(entries, metadata);
}

export async function exportStateDict(m: Module, path: string, metadata?: Record<string, string>): Promise<void> {
  writeFileAtomic(path, await stateDictToSafetensors(m, metadata));
}

/** A safetensors file (a regular file of at most LIMITS.weightsBytes), parsed and checked. */
export function readSafetensorsFile(path: string): StFile {
  return parseSafetensorsFile(readRegularFile(path, LIMITS.weightsBytes, 'safetensors file'), path);
}

export function parseSafetensorsFile(buf: Uint8Array, path: string): StFile {
  try { return parseSafetensors(buf, path); } catch (e) { throw new ModelFileError((e as Error).message, path); }
}

/** Tensors of a safetensors file whose names start with `prefix` (prefix removed), as a state dict. */
export function tensorsToStateDict(f: StFile, prefix = ''): Map<string, TensorData> {
  const out = new Map<string, TensorData>();
  for (const [name, t] of f.tensors) {
    if (!name.startsWith(prefix)) continue;
    if (!['F32', 'F64', 'F16', 'BF16'].includes(t.dtype)) throw new ModelFileError(`tensor '${name}': expected a floating-point parameter, got ${t.dtype}`);
    out.set(name.slice(prefix.length), { shape: t.shape, data: t.data });
  }
  return out;
}

/**
 * Load a PyTorch state_dict (safetensors) into a module, checking every name, shape and value
 * (finite unless allowNonFinite; options as Module.loadStateDict, a boolean: strict). The
 * parameters keep their buffers: repeated imports into one model leave memory where it was.
 */
export function importStateDict(m: Module, path: string, options: boolean | LoadStateDictOptions = true): void {
  const dict = tensorsToStateDict(readSafetensorsFile(path));
  try { m.loadStateDict(dict, options); } catch (e) { throw new ModelFileError(`${path}: ${(e as Error).message}`); }
}
