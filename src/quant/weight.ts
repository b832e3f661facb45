import type { Backend, Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import { kernels } from '../ops/kernels.js';
import { quantizeInt8, to16, widen16, type WeightScheme } from './scheme.js';

/** What a quantized weight is on disk and on the host: int8 values with per-row scales, or 16-bit bits. */
export interface StoredWeight {
  scheme: WeightScheme;
  rows: number;
  cols: number;
  /** int8: the values; bf16 / f16: the bits. Row-major [rows, cols]. */
  q: Int8Array | Uint16Array;
  /** int8 only: one f32 scale per row. */
  scales: Float32Array | null;
}

/**
 * A weight matrix W [rows, cols] (PyTorch's [out, in]) held quantized on a backend: the packed
 * values in an i32 storage (int8 four to an element, 16-bit two), int8's scales in an f32 one,
 * and int8's row sums (sum_k q[j, k], i32 [rows]: derived, never stored in a file), which let the
 * wasm relaxed build's 7-bit dot product take the activations' zero point off without summing
 * the weight's rows on every call (kernels/quant.c).
 * `apply` is the one product the quantized layers use: out (+)= x W^T (+ bias).
 */
export class QuantizedWeight {
  private constructor(readonly backend: Backend, readonly scheme: WeightScheme, readonly rows: number, readonly cols: number,
    readonly data: Storage, readonly scales: Storage | null, readonly rowSums: Storage | null) {}

  /** W's f32 values quantized by `scheme`; `what` names the weight in errors. */
  static quantize(backend: Backend, scheme: WeightScheme, w: ArrayLike<number>, rows: number, cols: number, what: string): QuantizedWeight {
    if (w.length !== rows * cols) throw new Error(`quantize: ${what}: expected ${rows * cols} values ([${rows}, ${cols}]), got ${w.length}`);
    if (scheme === 'int8') {
      for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i])) throw new Error(`quantize: ${what}: expected finite weights, got ${w[i]} at index ${i}`);
      const { q, scales } = quantizeInt8(w, rows, cols);
      return QuantizedWeight.fromStored(backend, { scheme, rows, cols, q, scales });
    }
    return QuantizedWeight.fromStored(backend, { scheme, rows, cols, q: to16(scheme, w, what), scales: null });
  }

  /** Upload stored values (checked: sizes, and int8 scales finite and >= 0). */
  static fromStored(backend: Backend, s: StoredWeight): QuantizedWeight {
    const n = s.rows * s.cols;
    const int8 = s.scheme === 'int8';
    if (s.q.length !== n) throw new Error(`quantized weight: expected ${n} values ([${s.rows}, ${s.cols}]), got ${s.q.length}`);
    if (int8 !== s.q instanceof Int8Array) throw new Error(`quantized weight: ${s.scheme} values must be ${int8 ? 'an Int8Array' : 'a Uint16Array of bits'}`);
    if (int8) {
      if (!s.scales || s.scales.length !== s.rows) throw new Error(`quantized weight: expected ${s.rows} scales, got ${s.scales?.length ?? 'none'}`);
      const bad = s.scales.findIndex((v) => !(Number.isFinite(v) && v >= 0));
      if (bad >= 0) throw new Error(`quantized weight: expected finite non-negative scales, got ${s.scales[bad]} at row ${bad}`);
      const minus128 = (s.q as Int8Array).indexOf(-128);
      if (minus128 >= 0) throw new Error(`quantized weight: expected int8 values in [-127, 127] (symmetric), got -128 at index ${minus128}`);
    } else if (s.scales) throw new Error(`quantized weight: ${s.scheme} weights have no scales`);
    const bytes = new Uint8Array(s.q.buffer, s.q.byteOffset, s.q.byteLength);
    const packed = new Int32Array(Math.max(1, Math.ceil(bytes.length / 4)));
    new Uint8Array(packed.buffer).set(bytes);
    const data = backend.upload('i32', packed);
    const scales = s.scales ? backend.upload('f32', s.scales) : null;
    const rowSums = int8 ? backend.upload('i32', sumRows(s.q as Int8Array, s.rows, s.cols)) : null;
    // The model owns these for its lifetime, whatever tidy() scope it was built in.
    for (const st of [data, scales, rowSums]) if (st) keepStorage(st);
    return new QuantizedWeight(backend, s.scheme, s.rows, s.cols, data, scales, rowSums);
  }

  /** out[i, :] (+)= x[i, :] W^T (+ bias) for rows i < m (x [m, cols] with row stride ldx; out [m, rows] with ldo). */
  apply(m: number, x: Storage, xOff: number, ldx: number, bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
    const k = kernels(this.backend);
    if (this.scheme === 'int8') k.qgemmInt8(m, this.rows, this.cols, x, xOff, ldx, this.data, this.scales!, bias, out, outOff, ldo, accumulate);
    else k.qgemm16(this.scheme, m, this.rows, this.cols, x, xOff, ldx, this.data, bias, out, outOff, ldo, accumulate);
  }

  /** The stored values, copied to the host (CPU backends: read without waiting). */
  stored(): StoredWeight {
    const read = this.backend.readSync;
    if (!read) throw new Error(`quantized weight: backend '${this.backend.name}' cannot be read synchronously`);
    const packed = read.call(this.backend, this.data) as Int32Array, n = this.rows * this.cols;
    const q = this.scheme === 'int8' ? new Int8Array(packed.buffer, packed.byteOffset, n).slice() : new Uint16Array(packed.buffer, packed.byteOffset, n).slice();
    const scales = this.scales ? Float32Array.from(read.call(this.backend, this.scales)) : null;
    return { scheme: this.scheme, rows: this.rows, cols: this.cols, q, scales };
  }

  /** The f32 values the kernels compute with (for error measurements). */
  dequantized(): Float32Array {
    const s = this.stored(), out = new Float32Array(this.rows * this.cols);
    for (let i = 0; i < out.length; i++) {
      out[i] = s.scales ? Math.fround(s.q[i] * s.scales[Math.floor(i / this.cols)]) : widen16(this.scheme as 'bf16' | 'f16', s.q[i]);
    }
    return out;
  }

  /** Bytes the weight takes as stored (values and scales; the row sums are derived on loading). */
  get bytes(): number { return this.rows * this.cols * (this.scheme === 'int8' ? 1 : 2) + (this.scales ? 4 * this.rows : 0); }

  dispose(): void {
    for (const st of [this.data, this.scales, this.rowSums]) if (st) this.backend.dispose(st);
  }
}

/** [rows]: each row's sum of q [rows, cols] (exact in int32: at most 127 * cols). */
function sumRows(q: Int8Array, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows);
  for (let j = 0; j < rows; j++) {
    let s = 0;
    for (let t = j * cols; t < (j + 1) * cols; t++) s += q[t];
    out[j] = s;
  }
  return out;
}
