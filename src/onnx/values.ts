import type { Backend } from '../backend/backend.js';
import type { DType } from '../backend/dtype.js';
import { fmt, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { DataType, type OnnxTensorProto } from './proto.js';

/**
 * An integer (int64, int32 or bool) value of a graph, kept on the host: shapes, axes, indices
 * and token ids. ONNX computes shapes with tensors (Shape -> Gather -> Concat -> Reshape); here
 * that arithmetic runs in plain JS and only floats live on the backend.
 */
export class Ints {
  constructor(readonly shape: readonly number[], readonly data: readonly number[]) {
    if (sizeOf(shape) !== data.length) throw new Error(`integer tensor of shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${data.length}`);
  }
  get rank(): number { return this.shape.length; }
  get size(): number { return this.data.length; }
}

/** A value flowing along a graph edge: floats on the model's backend, integers on the host. */
export type Value = Tensor | Ints;

/** Where values are made: the model's backend and float dtype. */
export interface Device { backend: Backend; dtype: DType }

/** A constant or initializer, decoded: floats as float64 values, integers as numbers. */
export interface HostTensor {
  name: string;
  shape: number[];
  kind: 'float' | 'int';
  data: Float64Array | number[];
}

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.DOUBLE]);
const INT_TYPES = new Set<number>([DataType.INT64, DataType.INT32, DataType.INT8, DataType.UINT8, DataType.BOOL]);

/** Read a TensorProto's values (raw_data little-endian, or the typed repeated fields). */
export function readTensorProto(t: OnnxTensorProto, where: string): HostTensor {
  const name = t.name ?? '';
  const shape = (t.dims ?? []).map(Number);
  const n = sizeOf(shape);
  const dt = t.data_type ?? 0;
  if (t.data_location === 1 || (t.external_data && t.external_data.length)) {
    throw new Error(`${where}: tensor '${name}' keeps its data in an external file: expected the weights inside the .onnx file (save with external data off)`);
  }
  if (!FLOAT_TYPES.has(dt) && !INT_TYPES.has(dt)) {
    throw new Error(`${where}: tensor '${name}' has data type ${dataTypeName(dt)}: expected FLOAT, DOUBLE, INT64, INT32, INT8, UINT8 or BOOL`);
  }
  const raw = t.raw_data && t.raw_data.length ? t.raw_data : null;
  let values: ArrayLike<number>;
  if (raw) {
    const width = { [DataType.FLOAT]: 4, [DataType.DOUBLE]: 8, [DataType.INT64]: 8, [DataType.INT32]: 4, [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.BOOL]: 1 }[dt]!;
    if (raw.length !== n * width) throw new Error(`${where}: tensor '${name}' of shape ${fmt(shape)} needs ${n * width} bytes of raw data, got ${raw.length}`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      switch (dt) {
        case DataType.FLOAT: out[i] = view.getFloat32(4 * i, true); break;
        case DataType.DOUBLE: out[i] = view.getFloat64(8 * i, true); break;
        case DataType.INT64: out[i] = Number(view.getBigInt64(8 * i, true)); break;
        case DataType.INT32: out[i] = view.getInt32(4 * i, true); break;
        case DataType.INT8: out[i] = view.getInt8(i); break;
        default: out[i] = view.getUint8(i);
      }
    }
    values = out;
  } else {
    const field = dt === DataType.FLOAT ? t.float_data : dt === DataType.DOUBLE ? t.double_data : dt === DataType.INT64 ? t.int64_data : t.int32_data;
    values = field ?? [];
    if (values.length !== n) throw new Error(`${where}: tensor '${name}' of shape ${fmt(shape)} needs ${n} values, got ${values.length}`);
  }
  if (FLOAT_TYPES.has(dt)) return { name, shape, kind: 'float', data: Float64Array.from(values) };
  return { name, shape, kind: 'int', data: Array.from(values, Number) };
}

/** A TensorProto with raw little-endian data: FLOAT for floats, INT64 for integers. */
export function writeTensorProto(name: string, shape: readonly number[], data: ArrayLike<number>, kind: 'float' | 'int'): OnnxTensorProto {
  const n = sizeOf(shape);
  if (data.length !== n) throw new Error(`ONNX writer: tensor '${name}' of shape ${fmt(shape)} needs ${n} values, got ${data.length}`);
  const raw = new Uint8Array(n * (kind === 'float' ? 4 : 8));
  const view = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    if (kind === 'float') view.setFloat32(4 * i, data[i], true);
    else view.setBigInt64(8 * i, BigInt(data[i]), true);
  }
  return { name, dims: [...shape], data_type: kind === 'float' ? DataType.FLOAT : DataType.INT64, raw_data: raw };
}

export function dataTypeName(dt: number): string {
  const names: Record<number, string> = { 0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32', 7: 'INT64',
    8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64', 14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16' };
  return names[dt] ?? `#${dt}`;
}

export function isIntType(dt: number): boolean { return INT_TYPES.has(dt); }
export function isFloatType(dt: number): boolean { return FLOAT_TYPES.has(dt); }

/** Host values as a float tensor on the device (no gradient). */
export function floatTensor(dev: Device, data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return new Tensor(dev.backend.upload(dev.dtype, data), shape);
}

/** A value as a float tensor: integers are converted (Add of an int constant to floats, Cast). */
export function asFloat(dev: Device, v: Value): Tensor {
  return v instanceof Ints ? floatTensor(dev, v.data, v.shape) : v;
}

/** A value as host integers: a float tensor is read back (Cast to int; CPU backends read synchronously). */
export function asInts(v: Value, what: string): Ints {
  if (v instanceof Ints) return v;
  const d = v.dataSync();
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) throw new Error(`${what}: expected integer values, got ${d[i]} at index ${i}`);
  }
  return new Ints(v.shape, Array.from(d, (x) => Math.trunc(x)));
}
