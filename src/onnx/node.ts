import { AttrType, type OnnxAttributeProto, type OnnxNodeProto } from './proto.js';
import { readTensorProto, type Device, type HostTensor, type Value } from './values.js';

/** What an operator's compiler sees of its node: attributes, opset and where values are made. */
export interface NodeInfo {
  /** `Op 'name'` for messages. */
  readonly label: string;
  readonly opType: string;
  readonly opset: number;
  readonly attrs: Attrs;
  readonly dev: Device;
  /** How many inputs the node names (trailing "" count: they are absent optional inputs). */
  readonly numInputs: number;
}

/** A node's computation: its input values (null: an absent optional input) to its output values. */
export type Kernel = (inputs: readonly (Value | null)[]) => Value[];

/** Checks a node at load time and returns its kernel; throws a one-line error naming the node. */
export type OpCompiler = (node: NodeInfo) => Kernel;

/** A node's attributes by name, read with their expected types; unknown ones are refused by `only`. */
export class Attrs {
  private readonly byName = new Map<string, OnnxAttributeProto>();

  constructor(private readonly label: string, attrs: readonly OnnxAttributeProto[]) {
    for (const a of attrs) this.byName.set(a.name ?? '', a);
  }

  /** Refuse attributes this implementation does not know (they would change the result). */
  only(...names: string[]): this {
    for (const n of this.byName.keys()) {
      if (!names.includes(n)) throw new Error(`${this.label}: attribute '${n}' is not supported (expected ${names.length ? names.join(', ') : 'none'})`);
    }
    return this;
  }

  has(name: string): boolean { return this.byName.has(name); }

  private get(name: string, type: number, typeName: string): OnnxAttributeProto | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== undefined && a.type !== type) throw new Error(`${this.label}: attribute '${name}' should be ${typeName}, got type ${a.type}`);
    return a;
  }

  int(name: string, dflt: number): number { const a = this.get(name, AttrType.INT, 'an int'); return a ? Number(a.i ?? 0) : dflt; }
  float(name: string, dflt: number): number { const a = this.get(name, AttrType.FLOAT, 'a float'); return a ? Number(a.f ?? 0) : dflt; }
  string(name: string, dflt: string): string {
    const a = this.get(name, AttrType.STRING, 'a string');
    return a ? new TextDecoder().decode(a.s ?? new Uint8Array()) : dflt;
  }
  ints(name: string): number[] | null { const a = this.get(name, AttrType.INTS, 'a list of ints'); return a ? (a.ints ?? []).map(Number) : null; }
  floats(name: string): number[] | null { const a = this.get(name, AttrType.FLOATS, 'a list of floats'); return a ? (a.floats ?? []).map(Number) : null; }
  strings(name: string): string[] | null {
    const a = this.get(name, AttrType.STRINGS, 'a list of strings');
    return a ? (a.strings ?? []).map((s) => new TextDecoder().decode(s)) : null;
  }
  tensor(name: string): HostTensor | null {
    const a = this.get(name, AttrType.TENSOR, 'a tensor');
    return a?.t ? readTensorProto(a.t, this.label) : null;
  }
  /** The attributes that are set, by name (Constant's one value). */
  names(): string[] { return [...this.byName.keys()]; }
}

export function nodeLabel(n: OnnxNodeProto, index: number): string {
  return `${n.op_type ?? '?'} node '${n.name || `#${index}`}'`;
}
