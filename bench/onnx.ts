/**
 * A minimal ONNX model writer: just enough of the protobuf wire format and of onnx.proto
 * (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto) to build a one-node LSTM
 * model for onnxruntime, without a protobuf dependency. Field numbers are onnx.proto's.
 */

/** Protobuf writer: varints and length-delimited fields (wire types 0 and 2). */
class Writer {
  private bytes: number[] = [];
  varint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new Error(`onnx writer: expected a non-negative integer, got ${v}`);
    while (v >= 0x80) { this.bytes.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
    this.bytes.push(v);
    return this;
  }
  tag(field: number, wire: number): this { return this.varint(field * 8 + wire); }
  int(field: number, v: number): this { return this.tag(field, 0).varint(v); }
  raw(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }
  str(field: number, s: string): this { return this.raw(field, new TextEncoder().encode(s)); }
  msg(field: number, w: Writer): this { return this.raw(field, w.finish()); }
  finish(): Uint8Array { return Uint8Array.from(this.bytes); }
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function tensorProto(name: string, dims: readonly number[], data: Float32Array): Writer {
  const w = new Writer();
  for (const d of dims) w.int(1, d);
  w.int(2, FLOAT).str(8, name);
  return w.raw(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** ValueInfoProto for a float tensor: name (1), type (2) -> TypeProto.tensor_type (1) -> elem_type (1), shape (2). */
function valueInfo(name: string, dims: readonly number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.msg(1, new Writer().int(1, d)); // Dimension.dim_value
  const tensorType = new Writer().int(1, FLOAT).msg(2, shape);
  return new Writer().str(1, name).msg(2, new Writer().msg(1, tensorType));
}

export interface OnnxLstmWeights {
  W: Float32Array; // [1, 4H, I], gates in ONNX order i, o, f, c
  R: Float32Array; // [1, 4H, H]
  B: Float32Array; // [1, 8H]: Wb then Rb
}

/**
 * A model with one ONNX LSTM node (opset 14), weights as initializers.
 *   withState: inputs X [T,B,I], initial_h [1,B,H], initial_c [1,B,H]; outputs Y_h, Y_c (streaming)
 *   otherwise: input X; output Y [T,1,B,H] (batched inference, zero initial state)
 */
export function lstmModel(T: number, Bn: number, I: number, H: number, w: OnnxLstmWeights, withState: boolean): Uint8Array {
  const node = new Writer();
  for (const i of ['X', 'W', 'R', 'B', '', withState ? 'h0' : '', withState ? 'c0' : '']) node.str(1, i);
  for (const o of withState ? ['', 'Y_h', 'Y_c'] : ['Y']) node.str(2, o);
  node.str(3, 'lstm').str(4, 'LSTM');
  node.msg(5, new Writer().str(1, 'hidden_size').int(3, H).int(20, ATTR_INT));

  const graph = new Writer().msg(1, node).str(2, 'carousel_bench_lstm');
  graph.msg(5, tensorProto('W', [1, 4 * H, I], w.W));
  graph.msg(5, tensorProto('R', [1, 4 * H, H], w.R));
  graph.msg(5, tensorProto('B', [1, 8 * H], w.B));
  graph.msg(11, valueInfo('X', [T, Bn, I]));
  if (withState) {
    graph.msg(11, valueInfo('h0', [1, Bn, H]));
    graph.msg(11, valueInfo('c0', [1, Bn, H]));
    graph.msg(12, valueInfo('Y_h', [1, Bn, H]));
    graph.msg(12, valueInfo('Y_c', [1, Bn, H]));
  } else {
    graph.msg(12, valueInfo('Y', [T, 1, Bn, H]));
  }
  // ModelProto: ir_version (1), producer_name (2), graph (7), opset_import (8: domain '' version 14).
  return new Writer().int(1, 8).str(2, 'carousel-bench').msg(7, graph)
    .msg(8, new Writer().str(1, '').int(2, 14)).finish();
}

/**
 * PyTorch-layout LSTM weights (gate rows i, f, g, o; separate b_ih, b_hh) in ONNX's layout
 * (gate rows i, o, f, c; B = [Wb, Rb]), so both runtimes compute the same function.
 */
export function torchToOnnx(H: number, I: number, wIh: Float32Array, wHh: Float32Array, bIh: Float32Array, bHh: Float32Array): OnnxLstmWeights {
  const order = [0, 3, 1, 2]; // ONNX gate k takes PyTorch gate order[k]
  const W = new Float32Array(4 * H * I), R = new Float32Array(4 * H * H), B = new Float32Array(8 * H);
  for (let k = 0; k < 4; k++) {
    const g = order[k];
    W.set(wIh.subarray(g * H * I, (g + 1) * H * I), k * H * I);
    R.set(wHh.subarray(g * H * H, (g + 1) * H * H), k * H * H);
    B.set(bIh.subarray(g * H, (g + 1) * H), k * H);
    B.set(bHh.subarray(g * H, (g + 1) * H), 4 * H + k * H);
  }
  return { W, R, B };
}
