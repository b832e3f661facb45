import { printable } from '../data/printable.js';
import { describe } from './errors.js';

/**
 * The safetensors format (https://github.com/huggingface/safetensors), written from its spec:
 *   [u64 little-endian N][N bytes of JSON header][raw little-endian tensor data]
 * The header maps each name to { dtype, shape, data_offsets: [begin, end] } (offsets relative
 * to the start of the data section) plus an optional "__metadata__" string->string map.
 * Everything is validated, so a truncated or hand-edited file fails with a message naming the
 * tensor and what is wrong, never with garbage values.
 */

export type StDType = 'F32' | 'F64' | 'I32' | 'F16' | 'BF16' | 'I64' | 'I8' | 'U8' | 'I16' | 'BOOL';

// A Map, not an object: a dtype named "constructor" or "__proto__" must be unknown, not inherited.
const BYTES = new Map<string, number>([['F64', 8], ['F32', 4], ['I64', 8], ['I32', 4], ['I16', 2], ['F16', 2], ['BF16', 2], ['I8', 1], ['U8', 1], ['BOOL', 1]]);
const bytesOf = (d: StDType): number => BYTES.get(d)!;

export interface StTensor {
  dtype: StDType;
  shape: number[];
  /** Values as stored (F16/BF16 widened to Float32Array, I64 narrowed to Float64Array of exact integers). */
  data: Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array;
}

export interface StFile {
  tensors: Map<string, StTensor>;
  metadata: Record<string, string>;
}

/** Error in a safetensors file (bad header, truncated data, inconsistent shapes). */
export class SafetensorsError extends Error {
  // One line: what it quotes from the file is escaped, and an overlong message cut (as ModelFileError).
  constructor(message: string) { super(printable(message, 500)); this.name = 'SafetensorsError'; }
}

/** Largest header we accept (the reference implementation's limit is 100 MB). */
const MAX_HEADER = 100_000_000;

export function parseSafetensors(buf: Uint8Array, source = 'safetensors file'): StFile {
  const fail = (msg: string): never => { throw new SafetensorsError(`${source}: ${msg}`); };
  if (buf.length < 8) fail(`truncated: ${buf.length} bytes, expected at least 8 (header length)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER)) fail(`header length ${n64} is larger than the 100 MB limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > buf.length) fail(`truncated: header says ${n} bytes of JSON but the file has only ${buf.length - 8} after the length`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + n)));
  } catch (e) { fail(`header is not valid UTF-8 JSON (${(e as Error).message})`); }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + n;
  const dataLen = buf.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: [string, StDType, number[], number, number][] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${typeof v}`);
        // Defined, not assigned: a key "__proto__" stays a key instead of replacing the prototype.
        Object.defineProperty(metadata, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) fail(`tensor '${printable(name, 100)}': entry is not an object`);
    if (typeof e.dtype !== 'string' || !BYTES.has(e.dtype)) fail(`tensor '${printable(name, 100)}': unknown dtype ${describe(e.dtype)} (expected one of ${[...BYTES.keys()].join(', ')})`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${printable(name, 100)}': shape must be an array of non-negative integers, got ${describe(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[0] > off[1]) {
      fail(`tensor '${printable(name, 100)}': data_offsets must be [begin, end] with 0 <= begin <= end, got ${describe(off)}`);
    }
    const [b, en] = off as number[];
    const shape = e.shape as number[];
    const dtype = e.dtype as StDType;
    const want = shape.reduce((p, d) => p * d, 1) * bytesOf(dtype);
    if (en - b !== want) fail(`tensor '${printable(name, 100)}': shape [${shape.join(', ')}] of ${dtype} needs ${want} bytes, data_offsets span ${en - b}`);
    if (en > dataLen) fail(`truncated: tensor '${printable(name, 100)}' ends at byte ${en} of the data section, which has only ${dataLen} bytes`);
    entries.push([name, dtype, shape, b, en]);
  }
  // The spec forbids holes and overlaps: sorted by offset, the tensors tile the data section.
  const sorted = [...entries].sort((x, y) => x[3] - y[3]);
  let pos = 0;
  for (const [name, , , b, en] of sorted) {
    if (b !== pos) fail(`tensor '${printable(name, 100)}' starts at byte ${b}, expected ${pos} (tensors must tile the data without gaps or overlaps)`);
    pos = en;
  }
  if (pos !== dataLen) fail(`${dataLen - pos} bytes of data after the last tensor (file is corrupted or has trailing garbage)`);

  const tensors = new Map<string, StTensor>();
  for (const [name, dtype, shape, b, en] of entries) {
    tensors.set(name, { dtype, shape, data: decode(dtype, buf.subarray(dataStart + b, dataStart + en), name, fail) });
  }
  return { tensors, metadata };
}

function decode(dtype: StDType, bytes: Uint8Array, name: string, fail: (m: string) => never): StTensor['data'] {
  // Copy into an aligned buffer: tensor data may start at any byte offset.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const b = copy.buffer;
  const le = new DataView(b);
  const n = bytes.length / bytesOf(dtype);
  const bigEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;
  if (bigEndianHost) fail('big-endian hosts are not supported');
  switch (dtype) {
    case 'F32': return new Float32Array(b);
    case 'F64': return new Float64Array(b);
    case 'I32': return new Int32Array(b);
    case 'I16': return new Int16Array(b);
    case 'I8': return new Int8Array(b);
    case 'U8': case 'BOOL': return new Uint8Array(b);
    case 'F16': { const o = new Float32Array(n); for (let i = 0; i < n; i++) o[i] = halfToFloat(le.getUint16(2 * i, true)); return o; }
    case 'BF16': { const o = new Float32Array(n); const u = new Uint32Array(o.buffer); for (let i = 0; i < n; i++) u[i] = le.getUint16(2 * i, true) << 16; return o; }
    case 'I64': {
      const o = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = le.getBigInt64(8 * i, true);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) fail(`tensor '${printable(name, 100)}': I64 value ${v} does not fit a double exactly`);
        o[i] = Number(v);
      }
      return o;
    }
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * A tensor to write. F32 / F64 / I32 / I8: the values (I8: integers in [-128, 127]); F16 / BF16:
 * the 16-bit patterns (integers in [0, 65535]: src/quant/scheme.ts rounds floats to them), so
 * nothing is rounded here.
 */
export interface StInput {
  dtype: 'F32' | 'F64' | 'I32' | 'I8' | 'F16' | 'BF16';
  shape: readonly number[];
  data: ArrayLike<number>;
}

/** Serialize tensors (in the given order) and string metadata to safetensors bytes. */
export function serializeSafetensors(tensors: Map<string, StInput> | [string, StInput][], metadata?: Record<string, string>): Uint8Array {
  const list = tensors instanceof Map ? [...tensors] : tensors;
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let pos = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new Error("safetensors: '__metadata__' is reserved and cannot name a tensor");
    if (name in header) throw new Error(`safetensors: duplicate tensor name '${name}'`);
    if (!WRITABLE.has(t.dtype)) throw new Error(`safetensors: tensor '${printable(name, 100)}': cannot write dtype ${describe(t.dtype)} (expected one of ${[...WRITABLE.keys()].join(', ')})`);
    const count = t.shape.reduce((p, d) => p * d, 1);
    if (count !== t.data.length) throw new Error(`safetensors: tensor '${printable(name, 100)}' has shape [${t.shape.join(', ')}] (${count} values) but ${t.data.length} values were given`);
    const nbytes = count * bytesOf(t.dtype);
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [pos, pos + nbytes] };
    pos += nbytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned (allowed by the spec).
  const pad = (8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8;
  json += ' '.repeat(pad);
  const hbytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hbytes.length + pos);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let off = 8 + hbytes.length;
  for (const [name, t] of list) {
    const typed = typedFor(name, t);
    out.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), off);
    off += typed.byteLength;
  }
  return out;
}

/** The dtypes serializeSafetensors writes, with the integer range of those given as integers. */
const WRITABLE = new Map<string, [number, number] | null>([['F32', null], ['F64', null], ['I32', null], ['I8', [-128, 127]], ['F16', [0, 65535]], ['BF16', [0, 65535]]]);

function typedFor(name: string, t: StInput): Float32Array | Float64Array | Int32Array | Int8Array | Uint16Array {
  const range = WRITABLE.get(t.dtype);
  if (range) {
    for (let i = 0; i < t.data.length; i++) {
      const v = t.data[i];
      if (!Number.isInteger(v) || v < range[0] || v > range[1]) {
        throw new Error(`safetensors: tensor '${printable(name, 100)}': ${t.dtype} takes ${t.dtype === 'I8' ? 'integers' : '16-bit patterns'} in [${range[0]}, ${range[1]}], got ${v} at index ${i}`);
      }
    }
  }
  switch (t.dtype) {
    case 'F32': return Float32Array.from(t.data);
    case 'F64': return Float64Array.from(t.data);
    case 'I32': return Int32Array.from(t.data);
    case 'I8': return Int8Array.from(t.data);
    case 'F16': case 'BF16': return Uint16Array.from(t.data);
  }
}
