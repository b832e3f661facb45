import type { DType, TypedArray } from '../dtype.js';
import type { BinaryOp, LstmCellOptions, PreparedB, Storage, UnaryOp } from '../backend.js';
import { isStandardLstmCell } from '../lstm-cell.js';
import { CpuStorage, ReferenceBackend } from '../reference/index.js';
import { type Block, WasmHeap } from './heap.js';
import { instantiate, kernelBuild, type KernelBuildChoice, kernelModule, type KernelExports, loadKernelModule, newSharedMemory } from './module.js';
import { platform } from './platform.js';
import { trackStorage } from '../scope.js';
import { qgemm16Wasm, qgemmInt8Wasm, qlstmSeqWasm, qlstmStepWasm, type QuantStepInput, type QuantStepWeight } from './quant.js';
import { CALLER_SLOT, ChunkJob, claimChunks, COMPLETED, CTRL_BYTES, GEMM_ARGS, Job, JOB_ARGS, runJob, WorkerPool } from './pool.js';

export { kernelBuild, type KernelBuild, type KernelBuildChoice, wasmSimdSupported, wasmUnavailableReason } from './module.js';

/**
 * A storage of the wasm backend: a typed-array view into the shared linear memory at byte
 * offset `ptr`. It is a CpuStorage, so every reference kernel the wasm backend does not
 * override runs on it unchanged.
 */
export class WasmStorage extends CpuStorage {
  block: Block | null = null;
  constructor(backend: WasmBackend, dtype: DType, array: Float32Array | Int32Array, readonly ptr: number) {
    super(backend, dtype, array);
  }
}

export interface WasmBackendOptions {
  /**
   * Threads for large kernels, the calling thread included (default: CAROUSEL_THREADS, else the
   * core count: os.availableParallelism() in Node, navigator.hardwareConcurrency in a browser).
   */
  threads?: number;
  /**
   * Largest size of the linear memory in MiB (default and at most 4096). Past it, new storages
   * live in ordinary JS memory and run on the reference kernels (slower, never an error).
   */
  maxMemoryMiB?: number;
}

const UNARY: Record<UnaryOp, number> = {
  neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, square: 5, sigmoid: 6, tanh: 7, relu: 8, softplus: 9, logsigmoid: 10,
};
/** The binary ops with a wasm kernel (comparisons run on the reference kernel). */
const BINARY: Partial<Record<BinaryOp, number>> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5 };

/** GEMMs below this many multiply-adds run on the calling thread: a worker round trip costs more. */
export const PARALLEL_MIN_MACS = 1 << 19;
/** CTC batches below this many (time x label-position) cells run on the calling thread. */
export const CTC_PARALLEL_MIN_CELLS = 20000;

/**
 * Streaming steps (linear2) below this many multiply-adds run on the calling thread. Lower than
 * for GEMMs: the step claims chunks, so it never waits on a worker that is not already running.
 */
export const LINEAR2_PARALLEL_MIN_MACS = 1 << 16;
/**
 * Quantized products (and fused quantized LSTM steps) below this many multiply-adds run on the
 * calling thread. As low as linear2's: their chunks are claimed, so a split never waits on a worker.
 */
export const QUANT_PARALLEL_MIN_MACS = 1 << 16;
/** Row-wise kernels (LSTM cells, softmax) below this many values run on the calling thread (~25 us of work). */
export const ROW_PARALLEL_MIN_ELEMENTS = 2048;

/** Thread count set by setWasmThreads (overrides CAROUSEL_THREADS for backends made later). */
let threadsOverride: number | null = null;
const liveBackends = new Set<WeakRef<WasmBackend>>();

/**
 * Set the thread count of every wasm backend, those already made (the registry's included) and
 * those made later without an explicit `threads` option. 1 = no worker threads.
 */
export function setWasmThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setWasmThreads: expected a positive integer, got ${n}`);
  threadsOverride = n;
  for (const r of liveBackends) { const b = r.deref(); if (b) b.setThreads(n); else liveBackends.delete(r); }
}

function defaultThreads(): number {
  if (threadsOverride !== null) return threadsOverride;
  const env = typeof process !== 'undefined' ? process.env.CAROUSEL_THREADS : undefined;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`CAROUSEL_THREADS: expected a positive integer, got '${env}'`);
    return n;
  }
  return Math.max(1, platform.cores());
}

/**
 * The fast CPU backend: WebAssembly SIMD128 kernels (src/backend/wasm/kernels/*.c) on a shared
 * linear memory, large GEMMs and CTC batches split over worker threads. Everything it does not
 * override is the reference kernel running on the same memory. f32 (plus i32 indices) is the
 * fast path; f64 tensors live in ordinary JS memory and run on the reference kernels.
 * Small calls (batch-1 streaming steps) run on the calling thread without allocating.
 */
export class WasmBackend extends ReferenceBackend {
  override readonly name: string = 'wasm';
  /**
   * f32 runs on the wasm kernels. f64 is accepted so that code written for the default backend
   * (gradient checks in f64) keeps working: f64 storages live in ordinary JS memory and every
   * kernel on them is the reference kernel (correct, not fast).
   */
  override readonly dtypes: readonly DType[] = ['f32', 'f64'];
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelExports;
  /** The kernel build running (module.ts kernelBuild): relaxed SIMD or SIMD128, and why. */
  readonly build: KernelBuildChoice;
  readonly heap: WasmHeap;
  private readonly pool: WorkerPool;
  private threadCount: number;
  private readonly gemmWorkBytes: number;
  private readonly gemmWork: number[] = [];      // per thread (0 = calling thread)
  private readonly ctcWork: number[] = [];       // per thread
  private readonly ctcWorkBytes: number[] = [];
  /** GEMMs with fewer multiply-adds run on the calling thread (tests set 0 to exercise the split). */
  parallelMinMacs = PARALLEL_MIN_MACS;
  /** CTC batches with fewer (time x label-position) cells run on the calling thread. */
  ctcParallelMinCells = CTC_PARALLEL_MIN_CELLS;
  /** f32/i32 storages that went to JS memory because the linear memory was full. */
  jsFallbacks = 0;
  /**
   * Allocations that took new memory so far: linear-memory blocks not served from a free list,
   * plus JS-memory fallbacks (f64 storages, which always live in JS memory, are not counted).
   */
  get freshAllocations(): number { return this.heap.freshBlocks + this.jsFallbacks; }
  /** linear2 calls (streaming steps) with fewer multiply-adds run on the calling thread. */
  linear2ParallelMinMacs = LINEAR2_PARALLEL_MIN_MACS;
  /** Quantized products with fewer multiply-adds run on the calling thread (tests set 0 to exercise the split). */
  quantParallelMinMacs = QUANT_PARALLEL_MIN_MACS;
  /** Row-wise kernels (LSTM cells, softmax) over fewer values run on the calling thread. */
  rowParallelMinElements = ROW_PARALLEL_MIN_ELEMENTS;

  /**
   * A wasm backend with its workers running, made without blocking: the kernel module is
   * compiled asynchronously (fetch + WebAssembly.compileStreaming in a browser, where this or
   * initWasm() is the way to make one; `new WasmBackend()` works synchronously only in Node).
   */
  static async create(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
    await loadKernelModule();
    const b = new WasmBackend(opts);
    await b.ready();
    return b;
  }

  constructor(opts: WasmBackendOptions = {}) {
    super();
    const module = kernelModule();
    const maxMiB = opts.maxMemoryMiB ?? 4096;
    if (!(Number.isInteger(maxMiB) && maxMiB >= 64 && maxMiB <= 4096)) {
      throw new Error(`WasmBackend maxMemoryMiB: expected an integer from 64 to 4096, got ${opts.maxMemoryMiB}`);
    }
    this.memory = newSharedMemory(maxMiB * 16);
    this.kernels = instantiate(module, this.memory);
    const k = this.kernels;
    this.build = kernelBuild();
    if (k.kernel_build() !== (this.build.build === 'relaxed' ? 1 : 0)) {
      throw new Error(`backend wasm: the kernel module loaded is not the ${this.build.build} build (run \`npm run build\`)`);
    }
    this.heap = new WasmHeap(this.memory, k.__heap_base.value as number, (ptr, bytes) => k.fill(ptr, bytes >> 2, 0), maxMiB * 16);
    this.gemmWorkBytes = k.gemm_work_floats() * 4;
    this.pool = new WorkerPool(module, this.memory, this.need(CTRL_BYTES));
    this.gemmWork.push(this.need(this.gemmWorkBytes));
    this.threadCount = 1;
    this.setThreads(opts.threads ?? defaultThreads());
    liveBackends.add(new WeakRef(this));
  }

  /**
   * Threads used by large kernels, the calling thread included. Workers start on the first call
   * large enough to use them (or on `ready()`), so a process that never runs one starts none;
   * until a worker is up, its share runs on the calling thread.
   */
  get threads(): number { return this.threadCount; }
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`wasm threads: expected a positive integer, got ${n}`);
    this.threadCount = n;
  }
  /** Starts the workers for the current thread count and resolves when they are running. */
  async ready(): Promise<void> {
    this.pool.ensure(this.threadCount - 1);
    await this.pool.whenReady(this.threadCount - 1);
  }
  /** Worker threads started and running (the calling thread not counted). */
  get workersRunning(): number { return this.pool.ready; }
  /** Threads a parallel call can use right now (starting workers if needed). */
  private usable(): number {
    if (this.threadCount <= 1) return 1;
    this.pool.ensure(this.threadCount - 1);
    return Math.min(this.threadCount, 1 + this.pool.ready);
  }

  // ---- memory ----
  override alloc(dtype: DType, length: number): Storage {
    if (dtype === 'f64') return super.alloc(dtype, length);
    if (!Number.isInteger(length) || length < 0) throw new Error(`alloc: expected a non-negative integer length, got ${length}`);
    const bytes = Math.max(4, length * 4);
    const ptr = this.heap.alloc(bytes);
    if (ptr < 0) { this.jsFallbacks++; return super.alloc(dtype, length); } // linear memory full: JS memory, reference kernels
    const buf = this.memory.buffer; // current buffer: views on it cover memory grown so far
    const array = dtype === 'f32' ? new Float32Array(buf, ptr, length) : new Int32Array(buf, ptr, length);
    const s = new WasmStorage(this, dtype, array, ptr);
    s.block = this.heap.own(s, ptr, bytes);
    trackStorage(s);
    return s;
  }
  override readSync(s: Storage): TypedArray {
    if (s instanceof WasmStorage) live(s);
    return super.readSync(s);
  }
  override dispose(s: Storage): void {
    if (s instanceof WasmStorage && s.block && s.backend === this) { this.heap.release(s.block); s.block = null; }
  }

  /** Scratch of the kernels themselves: in linear memory or an error. */
  private need(bytes: number): number {
    const p = this.heap.alloc(bytes);
    if (p < 0) {
      throw new Error(`backend wasm: out of linear memory: ${bytes} bytes of kernel scratch needed, ${this.heap.inUse} in use ` +
        `(dispose() tensors you no longer need, or raise maxMemoryMiB)`);
    }
    return p;
  }

  /** A scratch block per thread that only grows. */
  private scratch(list: number[], sizes: number[], t: number, bytes: number): number {
    if ((sizes[t] ?? 0) < bytes) {
      if (sizes[t]) this.heap.free(list[t], sizes[t]);
      sizes[t] = WasmHeap.sizeClass(bytes);
      list[t] = this.need(sizes[t]);
    }
    return list[t];
  }
  private gemmScratch(t: number): number {
    while (this.gemmWork.length <= t) this.gemmWork.push(this.need(this.gemmWorkBytes));
    return this.gemmWork[t];
  }

  /**
   * Run the chunked job whose arguments are written (GEMM_ARGS, JOB_ARGS) on T threads: post it to
   * the T - 1 workers, claim chunks here too, and wait for the chunks claimed (pool.ts).
   */
  private runChunked(T: number, count: number): void {
    this.gemmScratch(T - 1);
    const pool = this.pool, job = pool.postChunks(T - 1, this.gemmWork, count);
    claimChunks(this.kernels, pool.i32, pool.f32, job, this.gemmWork[0]);
    pool.wait(count, COMPLETED);
  }

  /** Threads for a row-wise kernel (cells, softmax) over `elements` values: split by rows once there is enough work. */
  private rowThreads(rows: number, elements: number): number {
    if (this.threadCount <= 1 || rows < 2 || elements < this.rowParallelMinElements) return 1;
    return Math.min(rows, this.usable());
  }

  // A row job's arguments as the kernel takes them for all rows (index 0: the row count, pointers
  // at row 0), and the bytes each pointer advances per row (0: not a pointer).
  private readonly rowArgs = new Int32Array(12);
  private readonly rowStrides = new Int32Array(12);
  /** Run row job `kind` (rowArgs[1..nArgs)) over `rows` rows, split by rows when `elements` is large. */
  private runRows(kind: Job, nArgs: number, rows: number, elements: number): void {
    this.runRowsOn(this.rowThreads(rows, elements), kind, nArgs, rows);
  }
  /**
   * Run row job `kind` on T threads: blocks [per, 2 per), ... go to the workers, each with its row
   * count and its pointers advanced to its first row; this thread runs [0, per) through the same
   * dispatcher (runJob, in its own slot), then waits for the workers' blocks.
   */
  private runRowsOn(T: number, kind: Job, nArgs: number, rows: number): void {
    const pool = this.pool, a = pool.i32, r = this.rowArgs, st = this.rowStrides, per = Math.ceil(rows / T);
    let posted = 0;
    if (T > 1) {
      pool.begin();
      for (let r0 = per; r0 < rows; r0 += per, posted++) {
        const s = pool.slot(posted);
        a[s + 1] = kind;
        for (let i = 1; i < nArgs; i++) a[s + 2 + i] = r[i] + st[i] * r0;
        a[s + 2] = Math.min(per, rows - r0);
        pool.post(posted);
      }
    }
    a[CALLER_SLOT + 1] = kind;
    for (let i = 1; i < nArgs; i++) a[CALLER_SLOT + 2 + i] = r[i];
    a[CALLER_SLOT + 2] = Math.min(per, rows);
    runJob(this.kernels, a, pool.f32, CALLER_SLOT);
    if (posted) pool.wait(posted);
  }

  // ---- kernels ----
  override fill(s: Storage, offset: number, length: number, value: number): void {
    const w = f32(s, this);
    if (!w || length <= 0) return super.fill(s, offset, length, value);
    inBounds('fill', w, offset, length);
    this.kernels.fill(w.ptr + 4 * offset, length, value);
  }

  override adamStep(p: Storage, g: Storage, m: Storage, v: Storage, vmax: Storage | null, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void {
    const sp = f32(p, this), sg = f32(g, this), sm = f32(m, this), sv = f32(v, this), sx = vmax ? f32(vmax, this) : null;
    if (!sp || !sg || !sm || !sv || (vmax && !sx)) {
      return super.adamStep(p, g, m, v, vmax, n, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    }
    if (n <= 0) return;
    inBounds('adamStep p', sp, 0, n); inBounds('adamStep g', sg, 0, n);
    inBounds('adamStep m', sm, 0, n); inBounds('adamStep v', sv, 0, n);
    if (sx) inBounds('adamStep vmax', sx, 0, n);
    this.kernels.adam_step(sp.ptr, sg.ptr, sm.ptr, sv.ptr, sx ? sx.ptr : 0, n, beta1, 1 - beta1, beta2, 1 - beta2, eps,
      1 / Math.sqrt(1 - beta2 ** step), -lr / (1 - beta1 ** step), weightDecay, -lr * weightDecay, decoupled ? 1 : 0);
  }

  override flushSubnormal(s: Storage, n: number): void {
    const w = f32(s, this);
    if (!w) return super.flushSubnormal(s, n);
    if (n <= 0) return;
    inBounds('flushSubnormal', w, 0, n);
    this.kernels.flush_subnormal(w.ptr, n);
  }

  override anyNonFinite(x: Storage, xOff: number, n: number, out: Storage, outOff: number): void {
    const w = f32(x, this);
    if (!w) return super.anyNonFinite(x, xOff, n, out, outOff);
    inBounds('anyNonFinite', w, xOff, n);
    const bad = n > 0 && this.kernels.find_nonfinite(w.ptr + 4 * xOff, n) >= 0 ? 1 : 0;
    const o = any32(out, this);
    if (o && outOff >= 0 && outOff < o.length) o.array[outOff] = bad; // one value: no kernel call for it
    else super.fill(out, outOff, 1, bad);
  }

  override copyStrided(shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[], accumulate: boolean): void {
    const s = any32(src, this), d = any32(dst, this);
    const v = s && d && s !== d && s.dtype === d.dtype && !(accumulate && s.dtype === 'i32')
      ? collapse2(shape, sStr, dStr) : null;
    if (!v || !s || !d) return super.copyStrided(shape, src, sOff, sStr, dst, dOff, dStr, accumulate);
    if (v.rows === 0) return;
    if (v.neg || sOff + v.spanA > s.array.length || dOff + v.spanB > d.array.length || sOff < 0 || dOff < 0) {
      return super.copyStrided(shape, src, sOff, sStr, dst, dOff, dStr, accumulate);
    }
    this.kernels.copy2d(v.rows, v.cols, s.ptr + 4 * sOff, v.ars, v.acs, d.ptr + 4 * dOff, v.brs, v.bcs, accumulate ? 1 : 0);
  }

  override copy2d(rows: number, cols: number, src: Storage, sOff: number, ldSrc: number,
    dst: Storage, dOff: number, ldDst: number, accumulate: boolean): void {
    const s = any32(src, this), d = any32(dst, this);
    if (!s || !d || s.dtype !== d.dtype || (accumulate && s.dtype === 'i32') || rows <= 0 || cols <= 0) {
      return super.copy2d(rows, cols, src, sOff, ldSrc, dst, dOff, ldDst, accumulate);
    }
    if (ldSrc === 0) inBounds('copy2d src', s, sOff, cols); // one row broadcast to every destination row
    else inMatrix('copy2d src', s, sOff, rows, cols, ldSrc);
    inMatrix('copy2d dst', d, dOff, rows, cols, ldDst);
    this.kernels.copy2d(rows, cols, s.ptr + 4 * sOff, ldSrc, 1, d.ptr + 4 * dOff, ldDst, 1, accumulate ? 1 : 0);
  }

  override unary(op: UnaryOp, x: Storage, xOff: number, out: Storage, outOff: number, n: number): void {
    const a = f32(x, this), o = f32(out, this);
    if (!a || !o || !(op in UNARY)) return super.unary(op, x, xOff, out, outOff, n);
    if (n <= 0) return;
    inBounds('unary', a, xOff, n); inBounds('unary', o, outOff, n);
    this.kernels.unary(UNARY[op], a.ptr + 4 * xOff, o.ptr + 4 * outOff, n);
  }

  override unaryBackward(op: UnaryOp, x: Storage, y: Storage, dy: Storage, dx: Storage, n: number, accumulate: boolean): void {
    const a = f32(x, this), b = f32(y, this), g = f32(dy, this), d = f32(dx, this);
    if (!a || !b || !g || !d || !(op in UNARY)) return super.unaryBackward(op, x, y, dy, dx, n, accumulate);
    if (n <= 0) return;
    inBounds('unaryBackward', a, 0, n); inBounds('unaryBackward', b, 0, n);
    inBounds('unaryBackward', g, 0, n); inBounds('unaryBackward', d, 0, n);
    this.kernels.unary_backward(UNARY[op], a.ptr, b.ptr, g.ptr, d.ptr, n, accumulate ? 1 : 0);
  }

  override binary(op: BinaryOp, shape: readonly number[], a: Storage, aOff: number, aStr: readonly number[],
    b: Storage, bOff: number, bStr: readonly number[], out: Storage, outOff: number): void {
    const sa = f32(a, this), sb = f32(b, this), so = f32(out, this), code = BINARY[op];
    const v = sa && sb && so && code !== undefined ? collapse2(shape, aStr, bStr) : null;
    if (!v || !sa || !sb || !so || code === undefined || v.neg || (v.acs !== 0 && v.acs !== 1) || (v.bcs !== 0 && v.bcs !== 1)) {
      return super.binary(op, shape, a, aOff, aStr, b, bOff, bStr, out, outOff);
    }
    if (v.rows === 0) return;
    if (aOff < 0 || bOff < 0 || outOff < 0 || aOff + v.spanA > sa.array.length || bOff + v.spanB > sb.array.length ||
      outOff + v.rows * v.cols > so.array.length) {
      return super.binary(op, shape, a, aOff, aStr, b, bOff, bStr, out, outOff);
    }
    this.kernels.binary2d(code, v.rows, v.cols, sa.ptr + 4 * aOff, v.ars, v.acs, sb.ptr + 4 * bOff, v.brs, v.bcs, so.ptr + 4 * outOff);
  }

  override affine(x: Storage, xOff: number, out: Storage, outOff: number, n: number, alpha: number, beta: number, accumulate: boolean): void {
    const a = f32(x, this), o = f32(out, this);
    if (!a || !o) return super.affine(x, xOff, out, outOff, n, alpha, beta, accumulate);
    if (n <= 0) return;
    inBounds('affine', a, xOff, n); inBounds('affine', o, outOff, n);
    this.kernels.affine(a.ptr + 4 * xOff, o.ptr + 4 * outOff, n, alpha, beta, accumulate ? 1 : 0);
  }

  override gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Storage, aOff: number, lda: number, b: Storage, bOff: number, ldb: number,
    beta: number, c: Storage, cOff: number, ldc: number): void {
    const sa = f32(a, this), sb = f32(b, this), sc = f32(c, this);
    if (!sa || !sb || !sc) return super.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    if (m <= 0 || n <= 0) return;
    if (k > 0) {
      inMatrix('gemm A', sa, aOff, transA ? k : m, transA ? m : k, lda);
      inMatrix('gemm B', sb, bOff, transB ? n : k, transB ? k : n, ldb);
    }
    inMatrix('gemm C', sc, cOff, m, n, ldc);
    this.gemmPtr(transA, transB, m, n, k, alpha, sa.ptr + 4 * aOff, lda, sb.ptr + 4 * bOff, ldb, beta, sc.ptr + 4 * cOff, ldc);
  }

  /**
   * GEMM on raw byte pointers; splits N (or M) over threads when the call is large. `packed`: B is
   * op(B) prepacked by gemm_pack_b (A then untransposed), or 0.
   * The split depends on how many workers are running, but no result does: every element is
   * summed in the same order whichever block (and thread) computes it (kernels/gemm.c gemm_rows),
   * so results are bit-identical at any thread count. The other chunked jobs keep that rule too.
   */
  gemmPtr(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    A: number, lda: number, B: number, ldb: number, beta: number, C: number, ldc: number, threads = this.threadCount,
    packed = 0): void {
    const ta = transA ? 1 : 0, tb = transB ? 1 : 0;
    const T = threads > 1 && m * n * k >= this.parallelMinMacs ? Math.min(threads, this.usable()) : 1;
    if (T > 1) {
      // Each thread packs all of the operand that is not split: split N (A is shared) when A is
      // the smaller one (m <= n), else M. Chunks are whole micro-tiles, about 3 per thread so a
      // thread that starts late (or a busy core) costs at most a chunk.
      const splitN = packed !== 0 || n >= m || m < 8 * T;
      const len = splitN ? n : m, unit = splitN ? 16 : 8;
      // Every chunk re-packs the unsplit operand: when that is large, one chunk per thread.
      const shared = splitN ? m * k : k * n;
      const perThread = shared > (1 << 18) ? 1 : 3;
      const nChunks = Math.min(perThread * T, Math.ceil(len / unit), 0xffff);
      if (nChunks > 1) {
        const chunk = Math.ceil(len / nChunks / unit) * unit;
        const count = Math.ceil(len / chunk);
        const i32 = this.pool.i32, f32v = this.pool.f32, G = GEMM_ARGS;
        i32[G] = ta; i32[G + 1] = tb; i32[G + 2] = m; i32[G + 3] = n; i32[G + 4] = k; f32v[G + 5] = alpha;
        i32[G + 6] = A; i32[G + 7] = lda; i32[G + 8] = packed || B; i32[G + 9] = ldb; f32v[G + 10] = beta;
        i32[G + 11] = C; i32[G + 12] = ldc; i32[G + 13] = splitN ? 1 : 0; i32[G + 14] = chunk; i32[G + 15] = len;
        i32[G + 17] = packed !== 0 ? ChunkJob.GemmPacked : ChunkJob.Gemm;
        this.runChunked(T, count);
        return;
      }
    }
    if (packed) this.kernels.gemm_packed(m, n, 0, n, k, alpha, A, lda, packed, beta, C, ldc, this.gemmWork[0]);
    else this.kernels.gemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, this.gemmWork[0]);
  }

  /**
   * Packs op(B) into the GEMM's panel layout once (kernels/gemm.c gemm_pack_b), so each
   * gemmPrepared call packs only its rows of A. Worth it from MR rows of A on; fewer rows run the
   * matrix-vector kernels on B in place.
   */
  prepareB(transB: boolean, k: number, n: number, b: Storage, bOff: number, ldb: number, maxRows = Infinity): PreparedB {
    const sb = f32(b, this);
    const p: WasmPreparedB = { transB, k, n, b, bOff, ldb, packed: 0, bytes: 0 };
    if (!sb || k <= 0 || n <= 0 || maxRows < 4) return p; // (below 4 rows gemmPrepared reads B in place)
    inMatrix('prepareB', sb, bOff, transB ? n : k, transB ? k : n, ldb);
    const bytes = 4 * k * Math.ceil(n / 8) * 8;
    const ptr = this.heap.alloc(bytes);
    if (ptr < 0) return p; // memory full: plain GEMMs
    this.kernels.gemm_pack_b(transB ? 1 : 0, k, n, sb.ptr + 4 * bOff, ldb, ptr);
    p.packed = ptr; p.bytes = bytes;
    return p;
  }

  gemmPrepared(m: number, alpha: number, a: Storage, aOff: number, lda: number, p: PreparedB,
    beta: number, c: Storage, cOff: number, ldc: number): void {
    const w = p as WasmPreparedB, sa = f32(a, this), sc = f32(c, this);
    if (!w.packed || m < 4 || !sa || !sc) {
      return this.gemm(false, p.transB, m, p.n, p.k, alpha, a, aOff, lda, p.b, p.bOff, p.ldb, beta, c, cOff, ldc);
    }
    if (m <= 0) return;
    inMatrix('gemmPrepared A', sa, aOff, m, p.k, lda);
    inMatrix('gemmPrepared C', sc, cOff, m, p.n, ldc);
    this.gemmPtr(false, p.transB, m, p.n, p.k, alpha, sa.ptr + 4 * aOff, lda, 0, 0, beta, sc.ptr + 4 * cOff, ldc,
      this.threadCount, w.packed);
  }

  releasePrepared(p: PreparedB): void {
    const w = p as WasmPreparedB;
    if (w.packed) { this.heap.free(w.packed, w.bytes); w.packed = 0; }
  }

  /**
   * One pass over W1 and W2 (kernels/gemm.c linear2). Large enough steps split the columns over the
   * threads by claimed chunks (one per thread): a worker that is asleep or busy claims nothing and
   * the calling thread does its chunk too, so a slow wake-up never costs more than running alone.
   */
  linear2(m: number, n: number, k1: number, x1: Storage, x1Off: number, ldx1: number, w1: Storage,
    k2: number, x2: Storage | null, x2Off: number, ldx2: number, w2: Storage | null,
    b1: Storage | null, b2: Storage | null, out: Storage, outOff: number, ldo: number): void {
    const sx1 = f32(x1, this), sw1 = f32(w1, this), so = f32(out, this);
    const two = k2 > 0 && !!x2 && !!w2;
    const sx2 = two ? f32(x2!, this) : null, sw2 = two ? f32(w2!, this) : null;
    const sb1 = b1 ? f32(b1, this) : null, sb2 = b2 ? f32(b2, this) : null;
    if (!sx1 || !sw1 || !so || (two && (!sx2 || !sw2)) || (b1 && !sb1) || (b2 && !sb2)) {
      // f64 or JS-memory storages: the same sum as bias broadcasts and two GEMMs (reference kernels).
      if (b1) this.copy2d(m, n, b1, 0, 0, out, outOff, ldo, false);
      if (b2) this.copy2d(m, n, b2, 0, 0, out, outOff, ldo, !!b1);
      this.gemm(false, true, m, n, k1, 1, x1, x1Off, ldx1, w1, 0, k1, b1 || b2 ? 1 : 0, out, outOff, ldo);
      if (two) this.gemm(false, true, m, n, k2, 1, x2!, x2Off, ldx2, w2!, 0, k2, 1, out, outOff, ldo);
      return;
    }
    if (m <= 0 || n <= 0) return;
    inMatrix('linear2 x1', sx1, x1Off, m, k1, ldx1); inBounds('linear2 W1', sw1, 0, n * k1);
    if (sx2 && sw2) { inMatrix('linear2 x2', sx2, x2Off, m, k2, ldx2); inBounds('linear2 W2', sw2, 0, n * k2); }
    if (sb1) inBounds('linear2 b1', sb1, 0, n);
    if (sb2) inBounds('linear2 b2', sb2, 0, n);
    inMatrix('linear2 out', so, outOff, m, n, ldo);
    const K2 = sx2 ? k2 : 0, X1 = sx1.ptr + 4 * x1Off, X2 = sx2 ? sx2.ptr + 4 * x2Off : 0, W2 = sw2 ? sw2.ptr : 0;
    const B1 = sb1 ? sb1.ptr : 0, B2 = sb2 ? sb2.ptr : 0, O = so.ptr + 4 * outOff;
    const T = this.threadCount > 1 && m * n * (k1 + K2) >= this.linear2ParallelMinMacs && n >= 16 ? this.usable() : 1;
    if (T > 1) {
      const chunk = Math.ceil(n / T / 8) * 8, count = Math.ceil(n / chunk);
      const a = this.pool.i32, G = GEMM_ARGS, L = JOB_ARGS;
      a[G + 14] = chunk; a[G + 15] = n; a[G + 17] = ChunkJob.Linear2;
      a[L] = m; a[L + 1] = k1; a[L + 2] = X1; a[L + 3] = ldx1; a[L + 4] = sw1.ptr; a[L + 5] = K2; a[L + 6] = X2;
      a[L + 7] = ldx2; a[L + 8] = W2; a[L + 9] = B1; a[L + 10] = B2; a[L + 11] = O; a[L + 12] = ldo;
      this.runChunked(T, count);
      return;
    }
    this.kernels.linear2(m, 0, n, k1, X1, ldx1, sw1.ptr, k1, K2, X2, ldx2, W2, K2, B1, B2, O, ldo);
  }

  // The quant kernel set (kernels/quant.c), in ./quant.ts.
  /**
   * Threads for a quantized product of `macs` multiply-adds split over `len` units (weight rows,
   * or hidden units), whose kernel needs `workBytes` of scratch per thread (each thread's GEMM scratch).
   */
  quantThreads(macs: number, len: number, workBytes: number): number {
    return this.threadCount > 1 && macs >= this.quantParallelMinMacs && len >= 8 && workBytes <= this.gemmWorkBytes ? this.usable() : 1;
  }
  /** The shared arguments area of chunked jobs (./quant.ts writes its jobs' arguments at JOB_ARGS). */
  get chunkArgs(): Int32Array { return this.pool.i32; }
  /**
   * Run quantized chunked job `kind` (arguments at JOB_ARGS) over `len` units on T threads, about
   * `perThread` chunks each, every chunk a multiple of 4 units (pool.ts runChunk).
   */
  runQuantChunks(kind: ChunkJob, len: number, T: number, perThread: number): void {
    const want = Math.max(1, Math.min(perThread * T, Math.ceil(len / 4)));
    const chunk = Math.ceil(len / want / 4) * 4, a = this.pool.i32;
    a[GEMM_ARGS + 14] = chunk; a[GEMM_ARGS + 15] = len; a[GEMM_ARGS + 17] = kind;
    this.runChunked(T, Math.ceil(len / chunk));
  }
  /**
   * One quantized LSTM step fused over hidden units (kernels/quant.c qlstm_step_*): gates += hIn
   * W_hh^T then the standard cell, one synchronisation; false (nothing done) where it does not
   * apply (./quant.ts qlstmStepWasm).
   */
  qlstmStep(rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, w: QuantStepWeight, gates: Storage, gOff: number,
    cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number, input: QuantStepInput | null = null): boolean {
    return qlstmStepWasm(this, rows, H, hIn, hInOff, ldhIn, w, gates, gOff, cPrev, cpOff, cOut, cOff, hOut, hOff, ldh, input);
  }
  /**
   * A whole quantized LSTM recurrence with the plain cell, its batch rows split over the threads
   * (kernels/quant.c qlstm_seq_i8): one synchronisation per sequence; false (nothing done) where
   * it does not apply (./quant.ts qlstmSeqWasm).
   */
  qlstmSeq(T: number, B: number, H: number, reverse: boolean, w: QuantStepWeight, gates: Storage, gOff: number,
    h: Storage, hOff: number, c: Storage, cOff: number, y: Storage, yOff: number, ldy: number): boolean {
    return qlstmSeqWasm(this, T, B, H, reverse, w, gates, gOff, h, hOff, c, cOff, y, yOff, ldy);
  }
  qgemmInt8(m: number, n: number, k: number, x: Storage, xOff: number, ldx: number, w: Storage, scales: Storage,
    bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
    qgemmInt8Wasm(this, m, n, k, x, xOff, ldx, w, scales, bias, out, outOff, ldo, accumulate);
  }
  qgemm16(format: 'bf16' | 'f16', m: number, n: number, k: number, x: Storage, xOff: number, ldx: number, w: Storage,
    bias: Storage | null, out: Storage, outOff: number, ldo: number, accumulate: boolean): void {
    qgemm16Wasm(this, format, m, n, k, x, xOff, ldx, w, bias, out, outOff, ldo, accumulate);
  }

  override softmax(x: Storage, out: Storage, rows: number, cols: number, log: boolean): void {
    const a = f32(x, this), o = f32(out, this);
    if (!a || !o) return super.softmax(x, out, rows, cols, log);
    if (rows <= 0 || cols <= 0) return;
    inBounds('softmax', a, 0, rows * cols); inBounds('softmax', o, 0, rows * cols);
    const lg = log ? 1 : 0;
    const r = this.rowArgs, st = this.rowStrides;
    r[1] = a.ptr; r[2] = o.ptr; r[3] = cols; r[4] = lg;
    st[1] = 4 * cols; st[2] = 4 * cols; st[3] = 0; st[4] = 0;
    this.runRows(Job.Softmax, 5, rows, rows * cols);
  }

  override softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, cols: number, log: boolean, accumulate: boolean): void {
    const a = f32(y, this), g = f32(dy, this), d = f32(dx, this);
    if (!a || !g || !d) return super.softmaxBackward(y, dy, dx, rows, cols, log, accumulate);
    if (rows <= 0 || cols <= 0) return;
    inBounds('softmaxBackward', a, 0, rows * cols); inBounds('softmaxBackward', g, 0, rows * cols);
    inBounds('softmaxBackward', d, 0, rows * cols);
    const lg = log ? 1 : 0, acc = accumulate ? 1 : 0;
    const r = this.rowArgs, st = this.rowStrides;
    r[1] = a.ptr; r[2] = g.ptr; r[3] = d.ptr; r[4] = cols; r[5] = lg; r[6] = acc;
    st[1] = 4 * cols; st[2] = 4 * cols; st[3] = 4 * cols; st[4] = 0; st[5] = 0; st[6] = 0;
    this.runRows(Job.SoftmaxBwd, 7, rows, rows * cols);
  }

  override lstmCellForward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number, cell?: LstmCellOptions): void {
    const g = f32(gates, this), cp = f32(cPrev, this), co = f32(cOut, this), ho = f32(hOut, this);
    if (!g || !cp || !co || !ho || !isStandardLstmCell(cell)) {
      return super.lstmCellForward(rows, H, gates, gOff, cPrev, cpOff, cOut, cOff, hOut, hOff, ldh, cell);
    }
    if (rows <= 0 || H <= 0) return;
    inBounds('lstmCellForward gates', g, gOff, rows * 4 * H);
    inBounds('lstmCellForward cPrev', cp, cpOff, rows * H);
    inBounds('lstmCellForward c', co, cOff, rows * H);
    inMatrix('lstmCellForward h', ho, hOff, rows, H, ldh);
    const G = g.ptr + 4 * gOff, CP = cp.ptr + 4 * cpOff, CO = co.ptr + 4 * cOff, HO = ho.ptr + 4 * hOff;
    const r = this.rowArgs, st = this.rowStrides;
    r[1] = H; r[2] = G; r[3] = CP; r[4] = CO; r[5] = HO; r[6] = ldh;
    st[1] = 0; st[2] = 16 * H; st[3] = 4 * H; st[4] = 4 * H; st[5] = 4 * ldh; st[6] = 0;
    this.runRows(Job.LstmFwd, 7, rows, rows * H);
  }

  /**
   * Fused on the threads (kernels/rnn.c lstm_step_units) when W_hh is packed and H is a multiple
   * of 8: hidden units are claimed in chunks, one per thread, so a step is one synchronisation and
   * a worker that is not running costs nothing. Otherwise the GEMM, then the cell.
   */
  lstmStep(rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, wHh: PreparedB, gates: Storage, gOff: number,
    cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number): void {
    const w = wHh as WasmPreparedB, sh = f32(hIn, this), g = f32(gates, this), cp = f32(cPrev, this), co = f32(cOut, this), ho = f32(hOut, this);
    const T = w.packed && sh && g && cp && co && ho && rows >= 4 && H % 8 === 0 && H >= 16 && w.transB && w.n === 4 * H &&
      this.threadCount > 1 && rows * 4 * H * w.k >= this.parallelMinMacs ? this.usable() : 1;
    if (T <= 1 || !sh || !g || !cp || !co || !ho) {
      this.gemmPrepared(rows, 1, hIn, hInOff, ldhIn, wHh, 1, gates, gOff, 4 * H);
      this.lstmCellForward(rows, H, gates, gOff, cPrev, cpOff, cOut, cOff, hOut, hOff, ldh);
      return;
    }
    inMatrix('lstmStep hIn', sh, hInOff, rows, w.k, ldhIn);
    inBounds('lstmStep gates', g, gOff, rows * 4 * H);
    inBounds('lstmStep cPrev', cp, cpOff, rows * H);
    inBounds('lstmStep c', co, cOff, rows * H);
    inMatrix('lstmStep hOut', ho, hOff, rows, H, ldh);
    const chunk = Math.ceil(H / T / 8) * 8, count = Math.ceil(H / chunk);
    const a = this.pool.i32, G = GEMM_ARGS, S = JOB_ARGS;
    a[G + 14] = chunk; a[G + 15] = H; a[G + 17] = ChunkJob.LstmStep;
    a[S] = rows; a[S + 1] = H; a[S + 2] = w.k; a[S + 3] = sh.ptr + 4 * hInOff; a[S + 4] = ldhIn; a[S + 5] = w.packed;
    a[S + 6] = g.ptr + 4 * gOff; a[S + 7] = cp.ptr + 4 * cpOff; a[S + 8] = co.ptr + 4 * cOff; a[S + 9] = ho.ptr + 4 * hOff; a[S + 10] = ldh;
    this.runChunked(T, count);
  }

  /**
   * Fused on the threads (kernels/rnn.c lstm_bwd_step_rows) when W_hh is packed: rows are claimed
   * in chunks of at least 4 (one per thread); each thread runs the cell backward on its rows and
   * their dh GEMM, so a step is one synchronisation. Otherwise the two calls, each split over the
   * threads: also when there are fewer chunks of 4 rows than threads (batch 32 on more than 8
   * threads), where the dh GEMM split by columns keeps every thread busy for a second synchronisation.
   */
  lstmStepBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number, c: Storage, cOff: number,
    dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number, dGates: Storage, dgOff: number, wHh: PreparedB): void {
    const w = wHh as WasmPreparedB, g = f32(gates, this), cp = f32(cPrev, this), cc = f32(c, this), d = f32(dh, this);
    const sdc = f32(dc, this), dg = f32(dGates, this);
    const T = w.packed && g && cp && cc && d && sdc && dg && rows >= 8 && !w.transB && w.k === 4 * H && w.n === H &&
      this.threadCount > 1 && rows * 4 * H * H >= this.parallelMinMacs ? this.usable() : 1;
    if (T <= 1 || Math.ceil(rows / 4) < T || !g || !cp || !cc || !d || !sdc || !dg) {
      this.lstmCellBackward(rows, H, gates, gOff, cPrev, cpOff, c, cOff, dh, dhOff, ldh, dc, dcOff, dGates, dgOff);
      this.gemmPrepared(rows, 1, dGates, dgOff, 4 * H, wHh, 0, dh, dhOff, ldh);
      return;
    }
    checkCellBackward('lstmStepBackward', rows, H, g, gOff, cp, cpOff, cc, cOff, d, dhOff, ldh, sdc, dcOff, dg, dgOff);
    const chunk = Math.ceil(rows / T / 4) * 4, count = Math.ceil(rows / chunk);
    const a = this.pool.i32, G = GEMM_ARGS, S = JOB_ARGS;
    a[G + 14] = chunk; a[G + 15] = rows; a[G + 17] = ChunkJob.LstmStepBackward;
    a[S] = H; a[S + 1] = g.ptr + 4 * gOff; a[S + 2] = cp.ptr + 4 * cpOff; a[S + 3] = cc.ptr + 4 * cOff; a[S + 4] = d.ptr + 4 * dhOff;
    a[S + 5] = ldh; a[S + 6] = sdc.ptr + 4 * dcOff; a[S + 7] = dg.ptr + 4 * dgOff; a[S + 8] = w.packed;
    this.runChunked(T, count);
  }

  override lstmCellBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    c: Storage, cOff: number, dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number,
    dGates: Storage, dgOff: number, cell?: LstmCellOptions): void {
    const g = f32(gates, this), cp = f32(cPrev, this), cc = f32(c, this), h = f32(dh, this), d = f32(dc, this), dg = f32(dGates, this);
    if (!g || !cp || !cc || !h || !d || !dg || !isStandardLstmCell(cell)) {
      return super.lstmCellBackward(rows, H, gates, gOff, cPrev, cpOff, c, cOff, dh, dhOff, ldh, dc, dcOff, dGates, dgOff, cell);
    }
    if (rows <= 0 || H <= 0) return;
    checkCellBackward('lstmCellBackward', rows, H, g, gOff, cp, cpOff, cc, cOff, h, dhOff, ldh, d, dcOff, dg, dgOff);
    const G = g.ptr + 4 * gOff, CP = cp.ptr + 4 * cpOff, C = cc.ptr + 4 * cOff, DH = h.ptr + 4 * dhOff;
    const DC = d.ptr + 4 * dcOff, DG = dg.ptr + 4 * dgOff;
    const r = this.rowArgs, st = this.rowStrides;
    r[1] = H; r[2] = G; r[3] = CP; r[4] = C; r[5] = DH; r[6] = ldh; r[7] = DC; r[8] = DG;
    st[1] = 0; st[2] = 16 * H; st[3] = 4 * H; st[4] = 4 * H; st[5] = 4 * ldh; st[6] = 0; st[7] = 4 * H; st[8] = 16 * H;
    this.runRows(Job.LstmBwd, 9, rows, rows * H);
  }

  override gruCellForward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    bhh: Storage | null, hPrev: Storage, hpOff: number, ldhp: number, hOut: Storage, hOff: number, ldh: number): void {
    const x = f32(gx, this), h = f32(gh, this), bb = bhh ? f32(bhh, this) : null, hp = f32(hPrev, this), ho = f32(hOut, this);
    if (!x || !h || (bhh && !bb) || !hp || !ho) {
      return super.gruCellForward(rows, H, gx, gxOff, gh, ghOff, bhh, hPrev, hpOff, ldhp, hOut, hOff, ldh);
    }
    if (rows <= 0 || H <= 0) return;
    inBounds('gruCellForward gx', x, gxOff, rows * 3 * H);
    inBounds('gruCellForward gh', h, ghOff, rows * 3 * H);
    if (bb) inBounds('gruCellForward bhh', bb, 0, 3 * H);
    inMatrix('gruCellForward hPrev', hp, hpOff, rows, H, ldhp);
    inMatrix('gruCellForward hOut', ho, hOff, rows, H, ldh);
    const GX = x.ptr + 4 * gxOff, GH = h.ptr + 4 * ghOff, BB = bb ? bb.ptr : 0, HP = hp.ptr + 4 * hpOff, HO = ho.ptr + 4 * hOff;
    const r = this.rowArgs, st = this.rowStrides;
    r[1] = H; r[2] = GX; r[3] = GH; r[4] = BB; r[5] = HP; r[6] = ldhp; r[7] = HO; r[8] = ldh;
    st[1] = 0; st[2] = 12 * H; st[3] = 12 * H; st[4] = 0; st[5] = 4 * ldhp; st[6] = 0; st[7] = 4 * ldh; st[8] = 0;
    this.runRows(Job.GruFwd, 9, rows, rows * H);
  }

  override gruCellBackward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    hPrev: Storage, hpOff: number, ldhp: number, dh: Storage, dhOff: number, ldh: number,
    dGx: Storage, dgxOff: number, dGh: Storage, dghOff: number, dhPrev: Storage, dhpOff: number): void {
    const x = f32(gx, this), h = f32(gh, this), hp = f32(hPrev, this), d = f32(dh, this);
    const dx = f32(dGx, this), dhh = f32(dGh, this), dp = f32(dhPrev, this);
    if (!x || !h || !hp || !d || !dx || !dhh || !dp) {
      return super.gruCellBackward(rows, H, gx, gxOff, gh, ghOff, hPrev, hpOff, ldhp, dh, dhOff, ldh,
        dGx, dgxOff, dGh, dghOff, dhPrev, dhpOff);
    }
    if (rows <= 0 || H <= 0) return;
    inBounds('gruCellBackward gx', x, gxOff, rows * 3 * H);
    inBounds('gruCellBackward gh', h, ghOff, rows * 3 * H);
    inMatrix('gruCellBackward hPrev', hp, hpOff, rows, H, ldhp);
    inMatrix('gruCellBackward dh', d, dhOff, rows, H, ldh);
    inBounds('gruCellBackward dGx', dx, dgxOff, rows * 3 * H);
    inBounds('gruCellBackward dGh', dhh, dghOff, rows * 3 * H);
    inBounds('gruCellBackward dhPrev', dp, dhpOff, rows * H);
    const GX = x.ptr + 4 * gxOff, GH = h.ptr + 4 * ghOff, HP = hp.ptr + 4 * hpOff, DH = d.ptr + 4 * dhOff;
    const DGX = dx.ptr + 4 * dgxOff, DGH = dhh.ptr + 4 * dghOff, DP = dp.ptr + 4 * dhpOff;
    const r = this.rowArgs, st = this.rowStrides;
    r[1] = H; r[2] = GX; r[3] = GH; r[4] = HP; r[5] = ldhp; r[6] = DH; r[7] = ldh; r[8] = DGX; r[9] = DGH; r[10] = DP;
    st[1] = 0; st[2] = 12 * H; st[3] = 12 * H; st[4] = 4 * ldhp; st[5] = 0; st[6] = 4 * ldh; st[7] = 0;
    st[8] = 12 * H; st[9] = 12 * H; st[10] = 4 * H;
    this.runRows(Job.GruBwd, 11, rows, rows * H);
  }

  override ctc(logProbs: Storage, T: number, N: number, C: number, targets: Storage, inputLengths: Storage,
    targetLengths: Storage, blank: number, loss: Storage, grad: Storage): void {
    const lp = f32(logProbs, this), tg = i32(targets, this), il = i32(inputLengths, this), tl = i32(targetLengths, this);
    const lo = f32(loss, this), gr = f32(grad, this);
    const fallback = () => super.ctc(logProbs, T, N, C, targets, inputLengths, targetLengths, blank, loss, grad);
    if (!lp || !tg || !il || !tl || !lo || !gr || N <= 0) return fallback();
    if (lp.array.length < T * N * C || gr.array.length < T * N * C || lo.array.length < N ||
      il.array.length < N || tl.array.length < N || !(blank >= 0 && blank < C)) return fallback();
    // Validate lengths and labels (the kernel trusts them); anything odd goes to the reference.
    const inL = il.array, tgL = tl.array, lab = tg.array;
    let maxWork = 0, total = 0, cells = 0;
    for (let n = 0; n < N; n++) {
      const Tn = inL[n], S = tgL[n];
      if (!(Tn >= 0 && Tn <= T && S >= 0)) return fallback();
      for (let s = 0; s < S; s++) { const l = lab[total + s]; if (!(l >= 0 && l < C)) return fallback(); }
      total += S;
      if (total > lab.length) return fallback();
      const L = 2 * S + 1;
      maxWork = Math.max(maxWork, 8 * (Tn * C + (Tn + 3) * (L + 2) + C + L + 8)); // see kernels/ctc.c
      cells += Tn * L;
    }
    const k = this.kernels;
    const T_ = cells >= this.ctcParallelMinCells ? Math.min(this.usable(), N) : 1;
    let status: number;
    if (T_ <= 1) {
      status = k.ctc(lp.ptr, T, N, C, tg.ptr, il.ptr, tl.ptr, blank, lo.ptr, gr.ptr,
        this.scratch(this.ctcWork, this.ctcWorkBytes, 0, maxWork), 0, N, 0);
    } else {
      // Contiguous sample ranges of about equal cell counts.
      const pool = this.pool, s32 = pool.i32;
      pool.begin();
      let n0 = 0, tOff = 0, acc = 0, part = 0, myN0 = 0, myN1 = 0;
      const per = cells / T_;
      for (let t = 0; t < T_ && n0 < N; t++) {
        let n1 = n0, c = 0;
        if (t === T_ - 1) n1 = N;
        else while (n1 < N && (c === 0 || acc + c < per * (t + 1))) { c += inL[n1] * (2 * tgL[n1] + 1); n1++; }
        if (t === 0) { myN0 = n0; myN1 = n1; }
        else {
          const s = pool.slot(part);
          s32[s + 1] = Job.Ctc; s32[s + 2] = lp.ptr; s32[s + 3] = T; s32[s + 4] = N; s32[s + 5] = C; s32[s + 6] = tg.ptr;
          s32[s + 7] = il.ptr; s32[s + 8] = tl.ptr; s32[s + 9] = blank; s32[s + 10] = lo.ptr; s32[s + 11] = gr.ptr;
          s32[s + 12] = this.scratch(this.ctcWork, this.ctcWorkBytes, t, maxWork); s32[s + 13] = n0; s32[s + 14] = n1;
          s32[s + 15] = tOff; s32[s + 16] = 0;
          pool.post(part);
          part++;
        }
        for (let n = n0; n < n1; n++) { tOff += tgL[n]; acc += inL[n] * (2 * tgL[n] + 1); }
        n0 = n1;
      }
      status = k.ctc(lp.ptr, T, N, C, tg.ptr, il.ptr, tl.ptr, blank, lo.ptr, gr.ptr,
        this.scratch(this.ctcWork, this.ctcWorkBytes, 0, maxWork), myN0, myN1, 0);
      pool.wait(part);
      for (let p = 0; p < part; p++) status |= s32[pool.slot(p) + 16];
    }
    if (status !== 0) fallback(); // an underflowed or impossible alignment: the log-space oracle is exact there
  }

  /**
   * Run `iters` rounds of a peak probe on `threads` threads at once: 'chains' (kernels/gemm.c) does
   * 96 flops a round, 'tile' (the micro-kernel's mix) 64; 'int8' (kernels/quant.c) the int8
   * product's inner step, int8MacsPerRound() multiply-adds a round.
   */
  simdPeak(iters: number, threads = 1, probe: 'chains' | 'tile' | 'int8' = 'chains'): void {
    const T = threads > 1 ? Math.min(threads, this.usable()) : 1;
    const pool = this.pool;
    pool.begin();
    for (let t = 1; t < T; t++) {
      const s = pool.slot(t - 1);
      pool.i32[s + 1] = Job.Peak; pool.i32[s + 2] = iters; pool.i32[s + 3] = this.peakBuf(t); pool.i32[s + 5] = probe === 'int8' ? 2 : probe === 'tile' ? 1 : 0;
      pool.post(t - 1);
    }
    if (probe === 'int8') this.kernels.qdot_peak(iters, this.peakBuf());
    else if (probe === 'tile') this.kernels.simd_peak_tile(iters, this.peakBuf());
    else this.kernels.simd_peak(iters, this.peakBuf());
    pool.wait(T - 1);
  }

  /** Multiply-adds per round of the 'int8' peak probe: 16 per instruction step in the relaxed build, 8 in SIMD128. */
  int8MacsPerRound(): number { return this.kernels.qdot_peak_macs(); }

  /**
   * Read `n` floats at byte pointer `ptr` once, split over `threads` threads (the finite-value
   * scan, which does a few operations per vector): the memory-bandwidth probe of the bench.
   */
  readProbe(ptr: number, n: number, threads = 1): void {
    this.rowArgs[1] = ptr; this.rowStrides[1] = 4;
    this.runRowsOn(threads > 1 ? Math.min(threads, this.usable()) : 1, Job.Scan, 2, n);
  }

  private readonly peakBufs: number[] = [];
  private peakBuf(t = 0): number {
    while (this.peakBufs.length <= t) {
      const p = this.need(3072 * 4); // the probes' L1-resident operands (kernels/gemm.c)
      new Float32Array(this.memory.buffer, p, 3072).fill(1);
      this.peakBufs.push(p);
    }
    return this.peakBufs[t];
  }

  /** Stop the worker threads (they are unref'd, so this is only needed to free them early). */
  terminate(): void { this.pool.terminate(); }
}


/** A prepared B of this backend: `packed` (a linear-memory pointer) is 0 when nothing was packed. */
interface WasmPreparedB extends PreparedB { packed: number; bytes: number }

// ---- helpers ----
function f32(s: Storage, b: WasmBackend): WasmStorage | null {
  return s instanceof WasmStorage && s.dtype === 'f32' && s.backend === b && live(s) ? s : null;
}
function i32(s: Storage, b: WasmBackend): WasmStorage | null {
  return s instanceof WasmStorage && s.dtype === 'i32' && s.backend === b && live(s) ? s : null;
}
function any32(s: Storage, b: WasmBackend): WasmStorage | null {
  return s instanceof WasmStorage && s.backend === b && live(s) ? s : null;
}
/** A disposed storage's block may already hold another tensor: using it is an error, never garbage. */
function live(s: WasmStorage): true {
  if (!s.block) {
    throw new Error(`backend wasm: a tensor's buffer (${s.dtype}, ${s.length} elements) was used after it was freed ` +
      '(by dispose(), zeroGrad() on a gradient, or tidy(): return or keep() what must outlive the scope)');
  }
  return true;
}
// The checks run on every kernel call (time steps included): `part` joins `what` in the message
// only when it is thrown, so a passing check builds no string.
function inBounds(what: string, s: WasmStorage, off: number, len: number, part = ''): void {
  if (!(off >= 0 && off + len <= s.array.length)) {
    throw new Error(`${what}${part && ` ${part}`}: expected ${len} elements at offset ${off} within a storage of ${s.array.length}`);
  }
}
/** The extents of an LSTM cell backward's buffers (gates and dGates [rows, 4H], the rest [rows, H]). */
function checkCellBackward(what: string, rows: number, H: number, g: WasmStorage, gOff: number, cp: WasmStorage, cpOff: number,
  c: WasmStorage, cOff: number, dh: WasmStorage, dhOff: number, ldh: number, dc: WasmStorage, dcOff: number,
  dg: WasmStorage, dgOff: number): void {
  inBounds(what, g, gOff, rows * 4 * H, 'gates');
  inBounds(what, cp, cpOff, rows * H, 'cPrev');
  inBounds(what, c, cOff, rows * H, 'c');
  inMatrix(what, dh, dhOff, rows, H, ldh, 'dh');
  inBounds(what, dc, dcOff, rows * H, 'dc');
  inBounds(what, dg, dgOff, rows * 4 * H, 'dGates');
}
function inMatrix(what: string, s: WasmStorage, off: number, rows: number, cols: number, ld: number, part = ''): void {
  if (rows <= 0 || cols <= 0) return;
  if (!(ld >= cols && off >= 0 && off + (rows - 1) * ld + cols <= s.array.length)) {
    throw new Error(`${what}${part && ` ${part}`}: expected a [${rows}, ${cols}] matrix with leading dimension ${ld} (>= ${cols}) at offset ${off} ` +
      `within a storage of ${s.array.length}`);
  }
}

/**
 * View an indexing of `shape` through strides sa (for A) and sb (for B) as at most two loops
 * [rows, cols], merging dimensions that are contiguous in both; null if that needs more. spanX is
 * one past the largest element index touched (from offset 0); neg: a negative stride appeared.
 */
function collapse2(shape: readonly number[], sa: readonly number[], sb: readonly number[]):
  { rows: number; cols: number; ars: number; acs: number; brs: number; bcs: number; spanA: number; spanB: number; neg: boolean } | null {
  let d0 = 1, a0 = 0, b0 = 0, d1 = 1, a1 = 0, b1 = 0, dims = 0, spanA = 1, spanB = 1, neg = false;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 0) return { rows: 0, cols: 0, ars: 0, acs: 0, brs: 0, bcs: 0, spanA: 0, spanB: 0, neg: false };
    if (d === 1) continue;
    const as = sa[i], bs = sb[i];
    if (as < 0 || bs < 0) neg = true;
    spanA += (d - 1) * as; spanB += (d - 1) * bs;
    if (dims === 0) { d1 = d; a1 = as; b1 = bs; dims = 1; }
    else if (a1 === as * d && b1 === bs * d) { d1 *= d; a1 = as; b1 = bs; } // merge into the inner loop
    else if (dims === 1) { d0 = d1; a0 = a1; b0 = b1; d1 = d; a1 = as; b1 = bs; dims = 2; }
    else return null;
  }
  return { rows: d0, cols: d1, ars: a0, acs: a1, brs: b0, bcs: b1, spanA, spanB, neg };
}
