import type { BinaryOp, Kernels, Storage, UnaryOp } from '../../backend/backend.js';
import type { DType } from '../../backend/dtype.js';

/**
 * Small building blocks for the composed fallbacks: [rows, cols] blocks addressed as
 * (storage, offset, row stride), computed with core kernels only. Outputs with a row stride other
 * than cols go through a scratch buffer, because the core's `binary` writes contiguously.
 */

/** A scratch buffer; give it back with free(). */
export function scratch(k: Kernels, dtype: DType, n: number): Storage { return k.alloc(dtype, Math.max(n, 1)); }

export function free(k: Kernels, ...xs: (Storage | null | undefined)[]): void {
  for (const s of xs) if (s) k.dispose(s);
}

/** dst[dOff + r*ldd + j] (+)= src[sOff + r*lds + j] (lds 0: one row broadcast to every row). */
export function copy2(k: Kernels, rows: number, cols: number, src: Storage, sOff: number, lds: number,
  dst: Storage, dOff: number, ldd: number, accumulate = false): void {
  if (rows <= 0 || cols <= 0) return;
  k.copyStrided([rows, cols], src, sOff, [lds, 1], dst, dOff, [ldd, 1], accumulate);
}

/** out[r, j] = a[r, j] op b[r, j] over a [rows, cols] block; each operand with its own row stride (0: broadcast row). */
export function binary2(k: Kernels, op: BinaryOp, rows: number, cols: number, a: Storage, aOff: number, lda: number,
  b: Storage, bOff: number, ldb: number, out: Storage, oOff: number, ldo: number): void {
  if (rows <= 0 || cols <= 0) return;
  if (ldo === cols || rows === 1) {
    k.binary(op, [rows, cols], a, aOff, [lda, 1], b, bOff, [ldb, 1], out, oOff);
    return;
  }
  const t = scratch(k, out.dtype, rows * cols);
  k.binary(op, [rows, cols], a, aOff, [lda, 1], b, bOff, [ldb, 1], t, 0);
  copy2(k, rows, cols, t, 0, cols, out, oOff, ldo);
  free(k, t);
}

/** out[r, j] = f(x[r, j]) over a [rows, cols] block with row strides. */
export function unary2(k: Kernels, op: UnaryOp, rows: number, cols: number, x: Storage, xOff: number, ldx: number,
  out: Storage, oOff: number, ldo: number): void {
  if (rows <= 0 || cols <= 0) return;
  if ((ldx === cols || rows === 1) && (ldo === cols || rows === 1)) { k.unary(op, x, xOff, out, oOff, rows * cols); return; }
  const t = scratch(k, out.dtype, rows * cols);
  copy2(k, rows, cols, x, xOff, ldx, t, 0, cols);
  k.unary(op, t, 0, t, 0, rows * cols);
  copy2(k, rows, cols, t, 0, cols, out, oOff, ldo);
  free(k, t);
}

/** A one-element storage holding `v` (for broadcasting a constant through binary's zero strides). */
export function constant(k: Kernels, dtype: DType, v: number): Storage {
  const s = scratch(k, dtype, 1);
  k.fill(s, 0, 1, v);
  return s;
}

/**
 * Run `fn` on f64 copies of the storages when they are f32 and the backend computes in f64 too
 * (long stabilized recurrences lose f32 precision where the reference works in f64 inside); the
 * outputs (indices into `all`) are rounded back. Elsewhere (a GPU: f32 only) `fn` runs as given.
 */
export function inF64(k: Kernels, all: (Storage | null)[], outputs: number[], fn: (xs: (Storage | null)[]) => void): void {
  const first = all.find((s) => s) as Storage | undefined;
  if (!first || first.dtype !== 'f32' || !k.dtypes.includes('f64')) { fn(all); return; }
  const up = all.map((s) => {
    if (!s) return null;
    const d = k.alloc('f64', s.length);
    if (s.length) k.copyStrided([s.length], s, 0, [1], d, 0, [1], false);
    return d;
  });
  try {
    fn(up);
    for (const i of outputs) {
      const s = all[i], d = up[i];
      if (s && d && s.length) k.copyStrided([s.length], d, 0, [1], s, 0, [1], false);
    }
  } finally {
    free(k, ...up);
  }
}

/** A [rows, H] block: storage, element offset, row stride (0: one row broadcast to all). */
export interface Block { s: Storage; off: number; ld: number }

/**
 * Elementwise arithmetic on [rows, H] blocks with core kernels, keeping the scratch it makes
 * so that one free() returns it all.
 */
export class Blocks {
  private readonly made: Storage[] = [];
  constructor(private readonly k: Kernels, private readonly rows: number, private readonly H: number,
    private readonly dt: Storage['dtype']) {}
  tmp(): Block { const s = scratch(this.k, this.dt, this.rows * this.H); this.made.push(s); return { s, off: 0, ld: this.H }; }
  /** A row of H copies of v, broadcast to every row. */
  const(v: number): Block {
    const s = scratch(this.k, this.dt, this.H);
    this.k.fill(s, 0, this.H, v);
    this.made.push(s);
    return { s, off: 0, ld: 0 };
  }
  bin(op: BinaryOp, a: Block, b: Block, out: Block = this.tmp()): Block {
    if (a.ld === 0 && b.ld === 0) throw new Error('Blocks.bin: at least one operand must be a full block');
    binary2(this.k, op, this.rows, this.H, a.s, a.off, a.ld, b.s, b.off, b.ld, out.s, out.off, out.ld);
    return out;
  }
  un(op: UnaryOp, a: Block, out: Block = this.tmp()): Block {
    unary2(this.k, op, this.rows, this.H, a.s, a.off, a.ld, out.s, out.off, out.ld);
    return out;
  }
  /** 1 - a */
  oneMinus(a: Block): Block { return this.bin('sub', this.const(1), a); }
  /** a (1 - a): the sigmoid's derivative from its value */
  dsig(a: Block): Block { return this.bin('mul', a, this.oneMinus(a)); }
  /** 1 - a^2: tanh's derivative from its value */
  dtanh(a: Block): Block { return this.oneMinus(this.bin('mul', a, a)); }
  copy(a: Block, out: Block): void { copy2(this.k, this.rows, this.H, a.s, a.off, a.ld, out.s, out.off, out.ld); }
  free(): void { free(this.k, ...this.made); this.made.length = 0; }
}
