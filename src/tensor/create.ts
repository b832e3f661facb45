import type { Backend } from '../backend/backend.js';
import { getBackend } from '../backend/registry.js';
import type { DType } from '../backend/dtype.js';
import { fmt, sizeOf, validateShape, type Shape } from './shape.js';
import { Parameter, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  backend?: Backend;
  requiresGrad?: boolean;
}

function backendFor(opts: TensorOptions | undefined, dtype: DType): Backend {
  const b = opts?.backend ?? getBackend();
  if (dtype !== 'i32' && !b.dtypes.includes(dtype)) {
    throw new Error(`backend '${b.name}' does not compute in ${dtype}: it supports ${b.dtypes.join(', ')}`);
  }
  return b;
}

/** Nested arrays -> flat values and shape; rejects ragged input. */
function flatten(data: unknown): { values: number[]; shape: number[] } {
  if (typeof data === 'number') return { values: [data], shape: [] };
  if (!Array.isArray(data)) throw new Error(`tensor(): expected a number or (nested) array of numbers, got ${typeof data}`);
  if (data.length === 0) return { values: [], shape: [0] };
  const parts = data.map(flatten);
  const inner = parts[0].shape;
  for (const p of parts) {
    if (fmt(p.shape) !== fmt(inner)) throw new Error(`tensor(): ragged nested array (rows of shape ${fmt(inner)} and ${fmt(p.shape)})`);
  }
  return { values: parts.flatMap((p) => p.values), shape: [data.length, ...inner] };
}

/**
 * Make a tensor from values. `tensor([[1, 2], [3, 4]])`, or flat values with a shape:
 * `tensor(new Float32Array(6), [2, 3])`.
 */
export function tensor(data: ArrayLike<number> | number | unknown[], shape?: Shape, opts?: TensorOptions): Tensor {
  let values: ArrayLike<number>;
  let shp: Shape;
  if (shape) {
    validateShape(shape);
    values = typeof data === 'number' ? [data] : (data as ArrayLike<number>);
    if (values.length !== sizeOf(shape)) {
      throw new Error(`tensor(): shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${values.length}`);
    }
    shp = shape;
  } else if (ArrayBuffer.isView(data)) {
    values = data as unknown as ArrayLike<number>;
    shp = [values.length];
  } else {
    const f = flatten(data);
    values = f.values; shp = f.shape;
  }
  const dtype = opts?.dtype ?? 'f32';
  const b = backendFor(opts, dtype);
  if (dtype === 'i32') {
    for (let i = 0; i < values.length; i++) {
      if (!Number.isInteger(values[i])) throw new Error(`tensor(): i32 tensor needs integers, got ${values[i]} at index ${i}`);
    }
  }
  const t = new Tensor(b.upload(dtype, values), shp);
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

export function zeros(shape: Shape, opts?: TensorOptions): Tensor {
  validateShape(shape);
  const dtype = opts?.dtype ?? 'f32';
  const t = new Tensor(backendFor(opts, dtype).alloc(dtype, sizeOf(shape)), shape);
  if (opts?.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full(shape: Shape, value: number, opts?: TensorOptions): Tensor {
  const t = zeros(shape, opts);
  t.backend.fill(t.storage, 0, t.size, value);
  return t;
}

export function ones(shape: Shape, opts?: TensorOptions): Tensor {
  return full(shape, 1, opts);
}

/** A parameter with given values (copied). */
export function parameter(values: ArrayLike<number>, shape: Shape, opts?: TensorOptions): Parameter {
  const dtype = opts?.dtype ?? 'f32';
  if (values.length !== sizeOf(shape)) {
    throw new Error(`parameter(): shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${values.length}`);
  }
  return new Parameter(backendFor(opts, dtype).upload(dtype, values), shape);
}
