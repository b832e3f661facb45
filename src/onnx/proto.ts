import protobuf from 'protobufjs/light.js';
import { onnxDescriptor } from './schema.js';

/**
 * ONNX's wire format through protobufjs (schema.ts): bytes <-> plain objects with onnx.proto's
 * field names. int64 fields come back as numbers (exact up to 2^53, which every size and index
 * in a model Carousel can hold is), bytes as Uint8Array.
 */
const root = protobuf.Root.fromJSON(onnxDescriptor as unknown as protobuf.INamespace);
const ModelProto = root.lookupType('onnx.ModelProto');

export interface OnnxTensorProto {
  name?: string;
  dims?: number[];
  data_type?: number;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: number[];
  double_data?: number[];
  uint64_data?: number[];
  raw_data?: Uint8Array;
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
}

export interface OnnxAttributeProto {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensorProto;
  g?: OnnxGraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

export interface OnnxNodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  attribute?: OnnxAttributeProto[];
}

export interface OnnxDimension { dim_value?: number; dim_param?: string }

export interface OnnxValueInfoProto {
  name?: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: OnnxDimension[] } } };
}

export interface OnnxGraphProto {
  node?: OnnxNodeProto[];
  name?: string;
  initializer?: OnnxTensorProto[];
  input?: OnnxValueInfoProto[];
  output?: OnnxValueInfoProto[];
  value_info?: OnnxValueInfoProto[];
}

export interface OnnxModelProto {
  ir_version?: number;
  opset_import?: { domain?: string; version?: number }[];
  producer_name?: string;
  producer_version?: string;
  graph?: OnnxGraphProto;
  metadata_props?: { key?: string; value?: string }[];
}

/** TensorProto.DataType values Carousel reads or writes. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, DOUBLE: 11 } as const;
/** AttributeProto.AttributeType values. */
export const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** Decode a serialized ModelProto; a file that is not one is a one-line error. */
export function decodeModel(bytes: Uint8Array, where = 'ONNX model'): OnnxModelProto {
  let msg: protobuf.Message;
  try { msg = ModelProto.decode(bytes); } catch (e) {
    throw new Error(`${where}: expected an ONNX model (a protobuf ModelProto), got bytes that do not decode: ${(e as Error).message}`);
  }
  return ModelProto.toObject(msg, { longs: Number, enums: Number, defaults: false, arrays: true }) as OnnxModelProto;
}

/** Serialize a ModelProto; fromObject checks every field against the schema. */
export function encodeModel(model: OnnxModelProto): Uint8Array {
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`ONNX writer: the model does not fit onnx.proto: ${problem}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
