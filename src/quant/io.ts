import type { ModuleOptions } from '../nn/module.js';
import type { Architecture } from '../models/sequenceModel.js';
import { serializeSafetensors, type StFile, type StInput } from '../io/safetensors.js';
import { ModelFileError } from '../io/errors.js';
import { fmt } from '../tensor/shape.js';
import { QuantizedModel } from './model.js';
import { to16, type WeightScheme } from './scheme.js';
import type { WeightSource } from './source.js';
import { QuantizedWeight } from './weight.js';
import { getBackend } from '../backend/registry.js';

/**
 * A quantized model's weights file: safetensors with PyTorch's parameter names, the quantized
 * matrices as I8 (with their per-row scales as `<name>.scale`, F32 [rows]) or as BF16 / F16, the
 * rest F32; `__metadata__` { format: "pt", quantization: <scheme> }.
 */
export const SCALE_SUFFIX = '.scale';

export function quantizedToSafetensors(model: QuantizedModel): Uint8Array {
  const entries: [string, StInput][] = [];
  for (const [n, p] of model.namedParameters()) entries.push([n, { dtype: 'F32', shape: [...p.shape], data: p.dataSync() }]);
  for (const [n, w] of model.quantizedWeights()) {
    const s = w.stored();
    entries.push([n, { dtype: s.scheme === 'int8' ? 'I8' : s.scheme === 'bf16' ? 'BF16' : 'F16', shape: [s.rows, s.cols], data: s.q }]);
    if (s.scales) entries.push([n + SCALE_SUFFIX, { dtype: 'F32', shape: [s.rows], data: s.scales }]);
  }
  return serializeSafetensors(entries, { format: 'pt', quantization: model.scheme });
}

/**
 * Rebuild a quantized model from its parsed weights file. Every tensor the architecture needs is
 * checked (present, dtype, shape, values) as it is read, and a tensor left unread is refused, so
 * a file of another scheme or architecture fails naming the tensor.
 */
export function quantizedFromSafetensors(arch: Architecture, scheme: WeightScheme, f: StFile, path: string, opts: ModuleOptions = {}): QuantizedModel {
  const fail = (msg: string): never => { throw new ModelFileError(`${path}: ${msg}`, path); };
  const stated = f.metadata.quantization;
  if (stated !== scheme) fail(`expected quantization "${scheme}" in the metadata (as model.json says), got ${stated === undefined ? 'none' : JSON.stringify(stated)}`);
  const used = new Set<string>();
  const take = (name: string, dtype: string, shape: readonly number[]) => {
    const t = f.tensors.get(name);
    if (!t) return fail(`missing tensor '${name}' (${dtype} ${fmt(shape)})`);
    if (t.dtype !== dtype) fail(`tensor '${name}': expected ${dtype} (a ${scheme} model), got ${t.dtype}`);
    if (fmt(t.shape) !== fmt(shape)) fail(`tensor '${name}': expected shape ${fmt(shape)}, got ${fmt(t.shape)}`);
    used.add(name);
    return t.data;
  };
  const src: WeightSource = {
    float(name, shape) {
      const d = take(name, 'F32', shape);
      const bad = Array.prototype.findIndex.call(d, (v: number) => !Number.isFinite(v));
      if (bad >= 0) fail(`tensor '${name}': expected finite values, got ${d[bad]} at index ${bad}`);
      return d;
    },
    quant(name, rows, cols) {
      const what = `tensor '${name}'`;
      try {
        if (scheme === 'int8') {
          const q = take(name, 'I8', [rows, cols]) as Int8Array;
          const scales = Float32Array.from(take(name + SCALE_SUFFIX, 'F32', [rows]));
          return QuantizedWeight.fromStored(opts.backend ?? getBackend(), { scheme, rows, cols, q, scales });
        }
        // The parser widened the 16-bit values to f32 exactly; rounding them back gives the same bits.
        const q = to16(scheme, take(name, scheme === 'bf16' ? 'BF16' : 'F16', [rows, cols]), what);
        return QuantizedWeight.fromStored(opts.backend ?? getBackend(), { scheme, rows, cols, q, scales: null });
      } catch (e) {
        if (e instanceof ModelFileError) throw e;
        return fail(`${what}: ${(e as Error).message}`);
      }
    },
  };
  let model: QuantizedModel;
  try { model = new QuantizedModel(arch, scheme, src, opts); } catch (e) {
    if (e instanceof ModelFileError) throw e;
    return fail((e as Error).message);
  }
  const extra = [...f.tensors.keys()].filter((n) => !used.has(n));
  if (extra.length) fail(`unexpected tensor${extra.length > 1 ? 's' : ''} ${extra.slice(0, 3).map((n) => `'${n}'`).join(', ')}${extra.length > 3 ? ` and ${extra.length - 3} more` : ''} for this architecture`);
  return model;
}
