import { AttrType, DataType, encodeModel, type OnnxAttributeProto, type OnnxGraphProto, type OnnxModelProto, type OnnxNodeProto, type OnnxTensorProto, type OnnxValueInfoProto } from './proto.js';
import { writeTensorProto } from './values.js';

/**
 * An attribute value: a whole number is INT, a list of them INTS, a string STRING, a list of
 * strings STRINGS; floats are said explicitly ({ float }, { floats }) because 1 and 1.0 are one JS number.
 */
export type AttrValue = number | number[] | string | string[] | { float: number } | { floats: number[] } | { tensor: OnnxTensorProto };

/** The element type of a graph input or output: float32, int64, or int32 (LSTM's sequence_lens). */
export type ElemType = 'float' | 'int' | 'int32';

/**
 * Builds an ONNX graph node by node and serializes it with protobufjs (proto.ts): what
 * exportOnnx, the benchmarks and the tests write .onnx files with.
 */
export class GraphBuilder {
  private readonly nodes: OnnxNodeProto[] = [];
  private readonly inits: OnnxTensorProto[] = [];
  private readonly ins: OnnxValueInfoProto[] = [];
  private readonly outs: OnnxValueInfoProto[] = [];
  private counter = 0;

  constructor(readonly name: string) {}

  /** A graph input; a string dimension is a named dynamic axis. */
  input(name: string, type: ElemType, dims: readonly (number | string)[]): string {
    this.ins.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: ElemType, dims: readonly (number | string)[]): string {
    this.outs.push(valueInfo(name, type, dims));
    return name;
  }

  /** A named constant tensor of the graph (the weights): float32, or int64 for integers. */
  initializer(name: string, shape: readonly number[], data: ArrayLike<number>, kind: 'float' | 'int' = 'float'): string {
    this.inits.push(writeTensorProto(name, shape, data, kind));
    return name;
  }

  /** An int64 constant (axes, shapes, indices), named uniquely. */
  ints(values: readonly number[], shape: readonly number[] = [values.length]): string {
    return this.initializer(this.fresh('const'), shape, values, 'int');
  }

  /** A unique value name with this prefix. */
  fresh(prefix: string): string { return `${prefix}_${this.counter++}`; }

  /**
   * A node; `outputs` names its outputs, or a count gives it fresh names. Returns the output
   * names. An empty input name is an absent optional input.
   */
  node(opType: string, inputs: readonly string[], outputs: readonly string[] | number = 1, attrs: Record<string, AttrValue> = {}, name?: string): string[] {
    const nodeName = name ?? this.fresh(opType);
    const outNames = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${nodeName}_out${i}`) : [...outputs];
    this.nodes.push({
      input: [...inputs], output: outNames, name: nodeName, op_type: opType,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outNames;
  }

  graph(): OnnxGraphProto {
    return { node: this.nodes, name: this.name, initializer: this.inits, input: this.ins, output: this.outs };
  }

  model(opset = 14, producer = 'carousel'): OnnxModelProto {
    return {
      ir_version: 8, producer_name: producer, producer_version: '0.1.0',
      opset_import: [{ domain: '', version: opset }], graph: this.graph(),
    };
  }

  /** The serialized ModelProto. */
  bytes(opset = 14, producer = 'carousel'): Uint8Array { return encodeModel(this.model(opset, producer)); }
}

function valueInfo(name: string, type: ElemType, dims: readonly (number | string)[]): OnnxValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: type === 'float' ? DataType.FLOAT : type === 'int32' ? DataType.INT32 : DataType.INT64,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): OnnxAttributeProto {
  const enc = (s: string) => new TextEncoder().encode(s);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`ONNX writer: attribute '${name}': expected a whole number (write { float: ${v} } for a float), got ${v}`);
    return { name, type: AttrType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttrType.STRING, s: enc(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return { name, type: AttrType.STRINGS, strings: (v as string[]).map(enc) };
    if (v.every((x) => Number.isInteger(x))) return { name, type: AttrType.INTS, ints: v as number[] };
    throw new Error(`ONNX writer: attribute '${name}': expected whole numbers or strings (write { floats } for floats), got ${JSON.stringify(v)}`);
  }
  if ('float' in v) return { name, type: AttrType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttrType.FLOATS, floats: v.floats };
  return { name, type: AttrType.TENSOR, t: v.tensor };
}
