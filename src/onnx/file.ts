import type { ModuleOptions } from '../nn/module.js';
import { LIMITS } from '../io/limits.js';
import { readRegularFile } from '../io/regularFile.js';
import { writeFileAtomic } from '../io/atomic.js';
import { onnxBytes, type Exportable } from './export.js';
import { loadOnnxBytes, type OnnxModel } from './model.js';

/** An ONNX model from a .onnx file's path or its bytes (Node: reads the file). */
export function loadOnnx(pathOrBytes: string | Uint8Array, opts: ModuleOptions = {}): OnnxModel {
  if (typeof pathOrBytes === 'string') {
    const bytes = readRegularFile(pathOrBytes, LIMITS.weightsBytes, 'ONNX model');
    try { return loadOnnxBytes(bytes, opts); } catch (e) { throw new Error(`${pathOrBytes}: ${(e as Error).message}`); }
  }
  return loadOnnxBytes(pathOrBytes, opts);
}

/** Write a model as an ONNX file (atomically: a half-written file never replaces a good one). See export.ts. */
export async function exportOnnx(model: Exportable, path: string): Promise<void> {
  writeFileAtomic(path, await onnxBytes(model));
}
