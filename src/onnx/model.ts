import { Module, type ModuleOptions } from '../nn/module.js';
import { fmt, sizeOf } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { Attrs, nodeLabel, type Kernel } from './node.js';
import { ONNX_OPS } from './ops/index.js';
import { decodeModel, type OnnxModelProto, type OnnxValueInfoProto } from './proto.js';
import { dataTypeName, floatTensor, Ints, isFloatType, isIntType, readTensorProto, type Value } from './values.js';

/** An input given to OnnxModel.forward: a tensor on the model's backend, or plain values with a shape. */
export type OnnxInput = Tensor | { data: ArrayLike<number>; shape: readonly number[] };

/** A graph input or output as the file declares it: element type and dimensions (a string: a named dynamic axis). */
export interface OnnxValueInfo {
  name: string;
  elemType: 'float' | 'int';
  dims: (number | string | null)[] | null;
}

interface CompiledNode {
  label: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  kernel: Kernel;
}

/** Opset of the default domain the graph binds to. */
function defaultOpset(m: OnnxModelProto): number {
  const entry = (m.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) throw new Error('ONNX model: expected an opset_import for the default (ai.onnx) domain, got none');
  return Number(entry.version ?? 0);
}

function valueInfo(v: OnnxValueInfoProto, where: string): OnnxValueInfo {
  const t = v.type?.tensor_type;
  const name = v.name ?? '';
  if (!t) throw new Error(`${where}: '${name}' is not a tensor: expected tensor inputs and outputs`);
  const et = t.elem_type ?? 0;
  if (!isFloatType(et) && !isIntType(et)) throw new Error(`${where}: '${name}' has element type ${dataTypeName(et)}: expected a float or integer tensor`);
  const dims = t.shape ? (t.shape.dim ?? []).map((d) => (d.dim_value !== undefined ? Number(d.dim_value) : d.dim_param ?? null)) : null;
  return { name, elemType: isFloatType(et) ? 'float' : 'int', dims };
}

/**
 * An ONNX graph as a Carousel module: every float initializer is a Parameter (named as in the
 * file), the nodes are checked and compiled once at load (an operator Carousel does not run is
 * an error then, naming operator and node), and forward evaluates them in order on the tape, so
 * the model can be fine-tuned like any other. Integer values (shapes, indices, token ids) are
 * computed on the host.
 */
export class OnnxModel extends Module {
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly opset: number;
  readonly producer: string;
  /** The decoded file (for recognising task models; weights are in the parameters, not here). */
  readonly proto: OnnxModelProto;
  private readonly constants = new Map<string, Value>();
  private readonly nodes: CompiledNode[] = [];

  constructor(model: OnnxModelProto, opts: ModuleOptions = {}) {
    super(opts);
    this.proto = model;
    const g = model.graph;
    if (!g) throw new Error('ONNX model: expected a graph, got none');
    this.opset = defaultOpset(model);
    this.producer = model.producer_name ?? '';
    const dev = { backend: this.backend, dtype: this.dtype };
    for (const t of g.initializer ?? []) {
      const h = readTensorProto(t, 'ONNX initializer');
      if (!h.name) throw new Error('ONNX model: an initializer has no name');
      if (h.kind === 'float') this.constants.set(h.name, this.addParameterValues(h.name, h.shape, h.data));
      else this.constants.set(h.name, new Ints(h.shape, h.data as number[]));
    }
    // Before IR 4 initializers were also listed as inputs: those are not for the caller to give.
    this.inputs = (g.input ?? []).filter((v) => !this.constants.has(v.name ?? '')).map((v) => valueInfo(v, 'ONNX graph input'));
    this.outputs = (g.output ?? []).map((v) => valueInfo(v, 'ONNX graph output'));
    const known = new Set<string>([...this.constants.keys(), ...this.inputs.map((i) => i.name)]);
    (g.node ?? []).forEach((n, index) => {
      const label = nodeLabel(n, index);
      const opType = n.op_type ?? '';
      if (n.domain && n.domain !== 'ai.onnx') throw new Error(`ONNX model: ${label} is in domain '${n.domain}': only the default ONNX operators are supported`);
      const compile = ONNX_OPS.get(opType);
      if (!compile) throw new Error(`ONNX model: operator ${opType} (${label}) is not supported; supported: ${[...ONNX_OPS.keys()].sort().join(', ')}`);
      const inputs = n.input ?? [], outputs = n.output ?? [];
      for (const i of inputs) {
        if (i && !known.has(i)) throw new Error(`ONNX model: ${label} reads '${i}', which no earlier node, input or initializer defines (expected nodes in topological order)`);
      }
      const kernel = compile({ label, opType, opset: this.opset, attrs: new Attrs(label, n.attribute ?? []), dev, numInputs: inputs.length });
      for (const o of outputs) if (o) known.add(o);
      this.nodes.push({ label, opType, inputs, outputs, kernel });
    });
    for (const o of this.outputs) if (!known.has(o.name)) throw new Error(`ONNX model: graph output '${o.name}' is computed by no node`);
  }

  /** The operators of the graph, in order (what a task-model recogniser reads). */
  get operators(): string[] { return this.nodes.map((n) => n.opType); }

  /**
   * Evaluate the graph: inputs by name (a Tensor on this model's backend, or `{ data, shape }`;
   * integer inputs take integers), outputs by name (integer outputs as i32 tensors).
   */
  forward(inputs: Record<string, OnnxInput>): Record<string, Tensor> {
    if (typeof inputs !== 'object' || inputs === null) throw new Error(`OnnxModel.forward: expected inputs by name (${this.inputs.map((i) => i.name).join(', ')}), got ${inputs === null ? 'null' : typeof inputs}`);
    const env = new Map<string, Value>(this.constants);
    const extra = Object.keys(inputs).filter((k) => !this.inputs.some((i) => i.name === k));
    if (extra.length) throw new Error(`OnnxModel.forward: unknown input(s) ${extra.join(', ')}: the graph's inputs are ${this.inputs.map((i) => i.name).join(', ')}`);
    for (const info of this.inputs) env.set(info.name, this.input(info, inputs[info.name]));
    for (const n of this.nodes) {
      const args = n.inputs.map((i) => (i ? env.get(i) ?? null : null));
      let outs: Value[];
      try { outs = n.kernel(args); } catch (e) {
        const msg = (e as Error).message;
        throw new Error(msg.includes(n.label) ? msg : `${n.label}: ${msg}`);
      }
      n.outputs.forEach((o, k) => {
        if (!o) return;
        if (k >= outs.length) throw new Error(`${n.label}: output ${k} ('${o}') is not produced by this operator`);
        env.set(o, outs[k]);
      });
    }
    const result: Record<string, Tensor> = {};
    for (const o of this.outputs) {
      const v = env.get(o.name)!;
      result[o.name] = v instanceof Ints ? new Tensor(this.backend.upload('i32', v.data), v.shape) : v;
    }
    return result;
  }

  private input(info: OnnxValueInfo, given: OnnxInput | undefined): Value {
    const name = info.name;
    if (given === undefined) throw new Error(`OnnxModel.forward: missing input '${name}' (the graph's inputs are ${this.inputs.map((i) => i.name).join(', ')})`);
    let shape: readonly number[], value: Value;
    if (given instanceof Tensor) {
      shape = given.shape;
      if (given.backend !== this.backend) throw new Error(`OnnxModel.forward: input '${name}' is on backend ${given.backend.name}, the model on ${this.backend.name}`);
      if (info.elemType === 'int') {
        if (given.dtype !== 'i32') throw new Error(`OnnxModel.forward: input '${name}' takes integers: expected an i32 tensor, got ${given.dtype}`);
        value = new Ints(shape, Array.from(given.dataSync()));
      } else {
        if (given.dtype !== this.dtype) throw new Error(`OnnxModel.forward: input '${name}' is ${given.dtype}, the model computes in ${this.dtype}`);
        value = given;
      }
    } else if (typeof given === 'object' && given !== null && 'data' in given && 'shape' in given) {
      shape = [...given.shape];
      if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`OnnxModel.forward: input '${name}': expected a shape of non-negative integers, got ${JSON.stringify(given.shape)}`);
      if (given.data.length !== sizeOf(shape)) throw new Error(`OnnxModel.forward: input '${name}' of shape ${fmt(shape)} needs ${sizeOf(shape)} values, got ${given.data.length}`);
      if (info.elemType === 'int') {
        const data = Array.from(given.data, Number);
        const bad = data.findIndex((v) => !Number.isInteger(v));
        if (bad >= 0) throw new Error(`OnnxModel.forward: input '${name}' takes integers, got ${data[bad]} at index ${bad}`);
        value = new Ints(shape, data);
      } else {
        const bad = Array.prototype.findIndex.call(given.data, (v: number) => !Number.isFinite(v));
        if (bad >= 0) throw new Error(`OnnxModel.forward: input '${name}': expected finite numbers, got ${given.data[bad]} at index ${bad}`);
        value = floatTensor({ backend: this.backend, dtype: this.dtype }, given.data, shape);
      }
    } else {
      throw new Error(`OnnxModel.forward: input '${name}': expected a Tensor or { data, shape }, got ${given === null ? 'null' : typeof given}`);
    }
    if (info.dims) {
      const ok = info.dims.length === shape.length && info.dims.every((d, i) => typeof d !== 'number' || d === shape[i]);
      if (!ok) throw new Error(`OnnxModel.forward: input '${name}': expected shape [${info.dims.map((d) => d ?? '?').join(', ')}], got ${fmt(shape)}`);
    }
    return value;
  }
}

/** An ONNX model from the bytes of a .onnx file (no file system: both entries). */
export function loadOnnxBytes(bytes: Uint8Array, opts: ModuleOptions = {}): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new Error(`loadOnnx: expected the bytes of a .onnx file (Uint8Array), got ${typeof bytes}`);
  return new OnnxModel(decodeModel(bytes), opts);
}
