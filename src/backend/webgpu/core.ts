import type { Backend, BinaryOp, ReduceOp, Storage, UnaryOp } from '../backend.js';
import type { DType, TypedArray } from '../dtype.js';
import { trackStorage } from '../scope.js';
import type { AdapterSummary, GpuContext } from './device.js';
import { BufferUsage, COMPUTE_STAGE, MapMode, type GpuBindGroup, type GpuBindGroupLayout, type GpuBuffer, type GpuCommandEncoder,
  type GpuComputePass, type GpuComputePipeline, type GpuDevice, type GpuPipelineLayout } from './gpu.js';
import { BufferPool, STAGING_USAGE, STORAGE_USAGE, type PooledBuffer } from './pool.js';
import { coalesce, contiguous, splitLeading, type Dims } from './strides.js';
import { BINARY, BINDINGS, bindings, GEMM, MAP, ROWS, STRIDED } from './wgsl-core.js';
import { GEMM_BLOCKED } from './wgsl-gemm-blocked.js';
import { GEMM_SUBGROUPS } from './wgsl-gemm-subgroups.js';

/** A tensor's memory on the GPU: a pooled buffer (null once disposed) holding `length` 32-bit values. */
export class WebGpuStorage implements Storage {
  constructor(readonly backend: WebGpuCore, readonly dtype: DType, readonly length: number, public pb: PooledBuffer | null) {}
}

const UNARY: Record<UnaryOp, number> = { neg: 0, exp: 1, log: 2, sqrt: 3, abs: 4, square: 5, sigmoid: 6, tanh: 7, relu: 8, softplus: 9, logsigmoid: 10 };
const BINARY_OPS: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, eq: 6, ne: 7, lt: 8, le: 9, gt: 10, ge: 11 };
const REDUCE: Record<ReduceOp, number> = { sum: 2, max: 3, min: 4 };

/** Bytes of one dispatch's uniform slot (the offset alignment of uniform bindings). */
const SLOT = 256;
/** Dispatches per submission at most: a long step is cut into several submissions. */
const MAX_SLOTS = 2048;
export const GEMM_KERNELS = ['auto', 'blocked', 'subgroups', 'tiled'] as const;
export type GemmKernel = typeof GEMM_KERNELS[number];

/** Bind groups kept for reuse at most (then forgotten, all at once). */
const MAX_GROUPS = 4096;
/** Ranks the strided shaders take at once (higher ranks loop over the leading dims on the host). */
const STRIDED_RANK = 6, BINARY_RANK = 8;

/** Uniform words for one dispatch: integers as i32, floats by their bits. */
export class Words {
  readonly i = new Int32Array(SLOT / 4);
  readonly f = new Float32Array(this.i.buffer);
  reset(): this { this.i.fill(0); return this; }
}

/**
 * The WebGPU core (tinygrad's ops_webgpu.py as the model): storages are GPU buffers from a
 * pool, uploads go through queue.writeBuffer, and kernels are recorded as dispatches into one
 * command encoder and one compute pass, submitted when a value is read (or when the batch grows
 * long). `read` copies into a staging buffer and maps it asynchronously; there is no readSync,
 * so nothing in a step waits on the GPU. f32 only (i32 for indices).
 */
export class WebGpuCore implements Backend {
  readonly name: string = 'webgpu';
  readonly dtypes: readonly DType[] = ['f32'];
  readonly adapter: AdapterSummary;
  protected readonly device: GpuDevice;
  private readonly ctx: GpuContext;
  private readonly pool: BufferPool;
  private readonly staging: BufferPool;
  private readonly pipelines = new Map<string, GpuComputePipeline>();
  /**
   * Per number of storage bindings: the bind group layout (binding 0 the uniform slot, at a dynamic
   * offset; then the storages) and its pipeline layout, shared by every shader with that many.
   */
  private readonly layouts: { group: GpuBindGroupLayout; pipeline: GpuPipelineLayout }[] = [];
  /**
   * Bind groups by their storages' buffer ids. A dispatch's uniforms come in at a dynamic offset,
   * so a recurrence that binds the same buffers at every step (offsets inside them are uniforms)
   * reuses one group instead of creating one per dispatch, the host's largest cost per dispatch.
   * An id is never reused, so a group holding a destroyed buffer is never looked up again; the
   * cache is emptied when pooled buffers are destroyed and when it reaches MAX_GROUPS, to let go.
   */
  private readonly groups = new Map<string, GpuBindGroup>();
  private readonly dynamicOffset = new Uint32Array(1);
  private readonly sources = new Map<string, string>();
  private readonly uniformBuffer: GpuBuffer;
  private readonly uniformHost = new Int32Array(MAX_SLOTS * SLOT / 4);
  private readonly words = new Words();
  private encoder: GpuCommandEncoder | null = null;
  private pass: GpuComputePass | null = null;
  /** The pipeline last set in the open pass (setting it again would cost a call). */
  private passPipeline: GpuComputePipeline | null = null;
  private slots = 0;
  private batch = 0;
  private error: string | null = null;
  private lost: string | null = null;


  constructor(ctx: GpuContext) {
    this.ctx = ctx;
    this.device = ctx.device;
    this.adapter = ctx.summary;
    this.pool = new BufferPool(this.device, STORAGE_USAGE, 512 * 2 ** 20);
    this.staging = new BufferPool(this.device, STAGING_USAGE, 64 * 2 ** 20);
    this.uniformBuffer = this.device.createBuffer({ size: MAX_SLOTS * SLOT, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    // Validation errors surface at the next read, as an exception: never a silently wrong value.
    this.device.onuncapturederror = (e) => { this.error ??= e.error.message; };
    void this.device.lost.then((info) => { this.lost = `${info.reason}: ${info.message}`; });
    for (const [name, code] of [['map', MAP], ['strided', STRIDED], ['binary', BINARY], ['gemm', GEMM], ['gemm-blocked', GEMM_BLOCKED], ['rows', ROWS]] as const) {
      this.sources.set(name, code);
    }
    this.hasSubgroups = this.device.features?.has('subgroups') ?? false;
    if (this.hasSubgroups) this.sources.set('gemm-subgroups', GEMM_SUBGROUPS);
  }

  /** Whether the device has the `subgroups` feature (requested wherever the adapter has it). */
  readonly hasSubgroups: boolean;
  private kernel: GemmKernel = 'auto';
  /**
   * The GEMM kernel: 'auto' (the default: 'blocked' where M is at least 32 and N at least 64, else
   * 'subgroups' where the device has them, else 'tiled'), or one of them for every product:
   * 'blocked' (64 x 64 blocks, 4 x 4 a thread), 'subgroups' (16 rows a thread, A shared by
   * subgroupShuffle), 'tiled' (the plain 16 x 16 workgroup-memory kernel that runs everywhere).
   * Settable, to compare or test them.
   */
  get gemmKernel(): GemmKernel { return this.kernel; }
  set gemmKernel(k: GemmKernel) {
    if (!(GEMM_KERNELS as readonly string[]).includes(k)) throw new Error(`webgpu gemmKernel: expected one of ${GEMM_KERNELS.join(', ')}, got ${String(k)}`);
    if (k === 'subgroups' && !this.hasSubgroups) throw new Error("webgpu gemmKernel: expected a device with the 'subgroups' feature for 'subgroups', got one without it");
    this.kernel = k;
  }

  /** Register a shader for `dispatch` by name (compiled on first use). Kernel sets add theirs. */
  protected addShader(name: string, code: string): void { this.sources.set(name, code); }

  /** The layouts for `n` storage bindings (made once). */
  private layout(n: number): { group: GpuBindGroupLayout; pipeline: GpuPipelineLayout } {
    let l = this.layouts[n];
    if (!l) {
      const entries: Parameters<GpuDevice['createBindGroupLayout']>[0]['entries'] = [
        { binding: 0, visibility: COMPUTE_STAGE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: SLOT } }];
      for (let i = 1; i <= n; i++) entries.push({ binding: i, visibility: COMPUTE_STAGE, buffer: { type: 'storage' } });
      const group = this.device.createBindGroupLayout({ entries });
      l = this.layouts[n] = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
    }
    return l;
  }

  /**
   * The pipeline of shader `name` for one aliasing pattern of its arguments (compiled once); `key`
   * is name:pattern, `n` the number of distinct buffers.
   */
  private pipeline(name: string, key: string, pattern: readonly number[], n: number): GpuComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const code = this.sources.get(name);
      if (!code) throw new Error(`webgpu: no shader named '${name}'`);
      const module = this.device.createShaderModule({ code: code.replace(BINDINGS, bindings(pattern)), label: key });
      p = this.device.createComputePipeline({ layout: this.layout(n).pipeline, compute: { module, entryPoint: 'main' }, label: key });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** The bind group of the uniform slots and these buffers (`ids` their ids, as the cache's key). */
  private group(physical: readonly GpuBuffer[], ids: string): GpuBindGroup {
    let g = this.groups.get(ids);
    if (!g) {
      if (this.groups.size >= MAX_GROUPS) this.groups.clear();
      const entries: { binding: number; resource: { buffer: GpuBuffer; offset?: number; size?: number } }[] =
        [{ binding: 0, resource: { buffer: this.uniformBuffer, offset: 0, size: SLOT } }];
      physical.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }));
      g = this.device.createBindGroup({ layout: this.layout(physical.length).group, entries });
      this.groups.set(ids, g);
    }
    return g;
  }

  /** The uniform words of the next dispatch (zeroed). */
  protected w(): Words { return this.words.reset(); }

  /**
   * Record one dispatch of shader `name` over `groups` workgroups with the words just filled by
   * w() and the storages at bindings 1, 2, ... (the same storage may appear more than once).
   */
  protected dispatch(name: string, bufs: readonly Storage[], gx: number, gy = 1): void {
    if (gx === 0 || gy === 0) return;
    this.live();
    // Each distinct buffer is bound once: pattern[L] is the binding of argument L.
    const physical: GpuBuffer[] = [], pattern: number[] = [];
    let key = `${name}:`, ids = '';
    for (const s of bufs) {
      const pb = this.pb(s);
      pb.batch = this.batch;
      let p = physical.indexOf(pb.buffer);
      if (p < 0) { p = physical.push(pb.buffer) - 1; ids += `${pb.id},`; }
      pattern.push(p + 1);
      key += p + 1;
    }
    const pipeline = this.pipeline(name, key, pattern, physical.length);
    if (!this.pass) {
      this.encoder = this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
      this.passPipeline = null;
    }
    const slot = this.slots++;
    this.uniformHost.set(this.words.i, slot * (SLOT / 4));
    this.dynamicOffset[0] = slot * SLOT;
    if (pipeline !== this.passPipeline) { this.pass.setPipeline(pipeline); this.passPipeline = pipeline; }
    this.pass.setBindGroup(0, this.group(physical, ids), this.dynamicOffset, 0, 1);
    this.pass.dispatchWorkgroups(gx, gy);
    if (this.slots === MAX_SLOTS) this.submit();
  }

  /** A 1-D dispatch of n threads in workgroups of 64 (x up to 65535 groups, then y). */
  protected dispatch1d(name: string, bufs: readonly Storage[], n: number): void {
    const groups = Math.ceil(n / 64);
    const gx = Math.min(groups, 65535);
    this.dispatch(name, bufs, gx, Math.ceil(groups / gx));
  }

  /** End the pass, let `more` record copies, submit everything recorded. */
  private submit(more?: (enc: GpuCommandEncoder) => void): void {
    if (!this.encoder && !more) return;
    const enc = this.encoder ?? this.device.createCommandEncoder();
    this.pass?.end();
    more?.(enc);
    if (this.slots > 0) this.device.queue.writeBuffer(this.uniformBuffer, 0, this.uniformHost, 0, this.slots * (SLOT / 4));
    this.device.queue.submit([enc.finish()]);
    this.encoder = null; this.pass = null; this.slots = 0; this.batch++;
    if (this.pool.destroyDoomed() > 0) this.groups.clear();
  }

  /** Submit what is recorded and wait until the GPU has run it (benchmarks time with this). */
  async sync(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  private live(): void {
    if (this.lost) throw new Error(`webgpu: the device was lost (${this.lost})`);
  }

  private throwIfFailed(): void {
    this.live();
    if (this.error) {
      const e = this.error;
      this.error = null;
      throw new Error(`webgpu: a GPU command failed: ${e}`);
    }
  }

  protected pb(s: Storage): PooledBuffer {
    if (!(s instanceof WebGpuStorage) || s.backend !== this) throw new Error(`webgpu: expected a storage of this webgpu backend, got one of '${s.backend.name}'`);
    if (!s.pb) {
      throw new Error(`backend webgpu: a tensor's buffer (${s.dtype}, ${s.length} elements) was used after it was freed ` +
        '(by dispose(), zeroGrad() on a gradient, or tidy(): return or keep() what must outlive the scope)');
    }
    return s.pb;
  }

  private checkDtype(what: string, dtype: DType): void {
    if (dtype !== 'f32' && dtype !== 'i32') throw new Error(`webgpu ${what}: expected dtype f32 (or i32 for indices), got ${dtype}`);
  }

  private make(what: string, dtype: DType, length: number): { s: WebGpuStorage; fresh: boolean } {
    if (!Number.isInteger(length) || length < 0) throw new Error(`${what}: expected a non-negative integer length, got ${length}`);
    this.checkDtype(what, dtype);
    const bytes = Math.max(4, length * 4);
    const max = this.adapter.limits.maxStorageBufferBindingSize;
    if (bytes > max) throw new Error(`webgpu ${what}: ${length} values need ${bytes} bytes, more than this adapter binds at once (${max})`);
    const { pb, fresh } = this.pool.take(bytes);
    const s = new WebGpuStorage(this, dtype, length, pb);
    trackStorage(s);
    return { s, fresh };
  }

  // ---- storage ----
  alloc(dtype: DType, length: number): Storage {
    const { s, fresh } = this.make('alloc', dtype, length);
    if (!fresh) this.fill(s, 0, length, 0);
    return s;
  }
  upload(dtype: DType, data: ArrayLike<number>): Storage {
    const { s } = this.make('upload', dtype, data.length);
    if (data.length === 0) return s;
    const pb = s.pb!;
    // writeBuffer runs before the recorded batch: submit the batch first if it touches this buffer.
    if (pb.batch === this.batch && this.encoder) this.submit();
    const host = dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data);
    this.device.queue.writeBuffer(pb.buffer, 0, host, 0, data.length);
    return s;
  }
  async read(s: Storage): Promise<TypedArray> {
    const pb = this.pb(s);
    const n = s.length, bytes = n * 4;
    const out = s.dtype === 'i32' ? new Int32Array(n) : new Float32Array(n);
    const { pb: st } = this.staging.take(Math.max(bytes, 4));
    this.submit((enc) => { if (bytes > 0) enc.copyBufferToBuffer(pb.buffer, 0, st.buffer, 0, bytes); });
    try {
      await st.buffer.mapAsync(MapMode.READ, 0, Math.max(bytes, 4));
      if (bytes > 0) new Uint8Array(out.buffer).set(new Uint8Array(st.buffer.getMappedRange(0, bytes)));
      st.buffer.unmap();
    } catch (e) {
      this.throwIfFailed();
      throw new Error(`webgpu read: mapping the result failed (${(e as Error).message})`);
    }
    this.staging.give(st);
    this.throwIfFailed();
    return out;
  }
  /** Idempotent (tidy() may dispose what the caller already did), as on wasm. */
  dispose(s: Storage): void {
    if (!(s instanceof WebGpuStorage) || s.backend !== this || !s.pb) return;
    const pb = s.pb;
    s.pb = null;
    this.pool.give(pb);
  }

  // ---- copies and views ----
  fill(s: Storage, offset: number, length: number, value: number): void {
    if (length <= 0) return;
    const w = this.w();
    w.i[0] = 3; w.i[2] = length; w.i[4] = offset; w.i[6] = s.dtype === 'i32' ? 1 : 0;
    w.f[8] = value; w.i[10] = Math.trunc(value);
    this.dispatch1d('map', [s, s, s, s], length);
  }
  copyStrided(shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[], accumulate: boolean): void {
    this.strided(accumulate ? 1 : 0, shape, src, sOff, sStr, dst, dOff, dStr);
  }
  reduce(op: ReduceOp, shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[]): void {
    this.strided(REDUCE[op], shape, src, sOff, sStr, dst, dOff, dStr);
  }

  /** copyStrided / reduce: threads over the dst dims, each walking the dims dst does not move along. */
  protected strided(op: number, shape: readonly number[], src: Storage, sOff: number, sStr: readonly number[],
    dst: Storage, dOff: number, dStr: readonly number[]): void {
    if (shape.some((d) => d === 0)) return;
    const dims = coalesce(shape, [sStr, dStr]);
    const outer: number[] = [], inner: number[] = [];
    dims.shape.forEach((_, d) => (dims.strides[1][d] !== 0 ? outer : inner).push(d));
    if (inner.length > STRIDED_RANK) throw new Error(`webgpu: a reduction over ${inner.length} separate axes (at most ${STRIDED_RANK})`);
    if (outer.length > STRIDED_RANK) {
      // Loop on the host over leading dst dims (not interleaved with reduced ones: order is kept per dst element).
      const lead = outer.length - STRIDED_RANK;
      if (outer[lead - 1] !== lead - 1) throw new Error('webgpu: a strided walk of too high a rank for the shader');
      splitLeading(dims, lead, [sOff, dOff], ([so, dO], rest) =>
        this.strided(op, rest.shape, src, so, rest.strides[0], dst, dO, rest.strides[1]));
      return;
    }
    const w = this.w();
    let nOut = 1, nIn = 1;
    w.i[0] = op; w.i[3] = outer.length; w.i[4] = inner.length; w.i[5] = sOff; w.i[6] = dOff;
    w.i[7] = src.dtype === 'i32' ? 1 : 0; w.i[8] = dst.dtype === 'i32' ? 1 : 0;
    outer.forEach((d, k) => { w.i[12 + k] = dims.shape[d]; w.i[18 + k] = dims.strides[0][d]; w.i[24 + k] = dims.strides[1][d]; nOut *= dims.shape[d]; });
    inner.forEach((d, k) => { w.i[30 + k] = dims.shape[d]; w.i[36 + k] = dims.strides[0][d]; nIn *= dims.shape[d]; });
    w.i[1] = nOut; w.i[2] = nIn;
    this.dispatch1d('strided', [src, dst], nOut);
  }

  // ---- elementwise ----
  unary(op: UnaryOp, x: Storage, xOff: number, out: Storage, outOff: number, n: number): void {
    if (n <= 0) return;
    const w = this.w();
    w.i[0] = 0; w.i[1] = UNARY[op]; w.i[2] = n; w.i[3] = xOff; w.i[4] = outOff;
    w.i[6] = out.dtype === 'i32' ? 1 : 0; w.i[7] = x.dtype === 'i32' ? 1 : 0;
    this.dispatch1d('map', [x, x, x, out], n);
  }
  unaryBackward(op: UnaryOp, x: Storage, y: Storage, dy: Storage, dx: Storage, n: number, accumulate: boolean): void {
    if (n <= 0) return;
    const w = this.w();
    w.i[0] = 1; w.i[1] = UNARY[op]; w.i[2] = n; w.i[5] = accumulate ? 1 : 0;
    this.dispatch1d('map', [x, y, dy, dx], n);
  }
  affine(x: Storage, xOff: number, out: Storage, outOff: number, n: number, alpha: number, beta: number, accumulate: boolean): void {
    if (n <= 0) return;
    const w = this.w();
    w.i[0] = 2; w.i[2] = n; w.i[3] = xOff; w.i[4] = outOff; w.i[5] = accumulate ? 1 : 0;
    w.i[6] = out.dtype === 'i32' ? 1 : 0; w.i[7] = x.dtype === 'i32' ? 1 : 0; w.f[8] = alpha; w.f[9] = beta;
    this.dispatch1d('map', [x, x, x, out], n);
  }
  binary(op: BinaryOp, shape: readonly number[], a: Storage, aOff: number, aStr: readonly number[],
    b: Storage, bOff: number, bStr: readonly number[], out: Storage, outOff: number): void {
    if (shape.some((d) => d === 0)) return;
    const dims = coalesce(shape, [aStr, bStr, contiguous(shape)]);
    if (dims.shape.length > BINARY_RANK) {
      splitLeading(dims, dims.shape.length - BINARY_RANK, [aOff, bOff, outOff], ([ao, bo, oo], rest) =>
        this.binary(op, rest.shape, a, ao, rest.strides[0], b, bo, rest.strides[1], out, oo));
      return;
    }
    const w = this.w();
    const n = dims.shape.reduce((p, d) => p * d, 1);
    w.i[0] = BINARY_OPS[op]; w.i[1] = n; w.i[2] = dims.shape.length; w.i[3] = aOff; w.i[4] = bOff; w.i[5] = outOff;
    w.i[6] = a.dtype === 'i32' ? 1 : 0; w.i[7] = b.dtype === 'i32' ? 1 : 0; w.i[8] = out.dtype === 'i32' ? 1 : 0;
    dims.shape.forEach((d, k) => { w.i[12 + k] = d; w.i[20 + k] = dims.strides[0][k]; w.i[28 + k] = dims.strides[1][k]; });
    this.dispatch1d('binary', [a, b, out], n);
  }

  // ---- matrix product ----
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Storage, aOff: number, lda: number, b: Storage, bOff: number, ldb: number,
    beta: number, c: Storage, cOff: number, ldc: number): void {
    if (m === 0 || n === 0) return;
    const w = this.w();
    w.i[0] = transA ? 1 : 0; w.i[1] = transB ? 1 : 0; w.i[2] = m; w.i[3] = n; w.i[4] = k;
    w.i[5] = aOff; w.i[6] = lda; w.i[7] = bOff; w.i[8] = ldb; w.i[9] = cOff; w.i[10] = ldc;
    w.f[11] = k === 0 ? 0 : alpha; w.f[12] = beta;
    // auto: on an H200 the blocked kernel beat the subgroup one on every product the bench makes
    // (M 32 and 64 in the recurrences, 4096 in GEMM-4096); below 32 rows it would idle most threads.
    const kind = this.kernel !== 'auto' ? this.kernel : m >= 32 && n >= 64 ? 'blocked' : this.hasSubgroups ? 'subgroups' : 'tiled';
    if (kind === 'blocked') this.dispatch('gemm-blocked', [a, b, c], Math.ceil(n / 64), Math.ceil(m / 64));
    else if (kind === 'subgroups') this.dispatch('gemm-subgroups', [a, b, c], Math.ceil(n / 64), Math.ceil(m / 16));
    else this.dispatch('gemm', [a, b, c], Math.ceil(n / 16), Math.ceil(m / 16));
  }

  // ---- indexing ----
  gatherRows(src: Storage, sOff: number, idx: Storage, n: number, rowLen: number, dst: Storage, dOff: number): void {
    if (n === 0 || rowLen === 0) return;
    const w = this.w();
    w.i[0] = 0; w.i[1] = n; w.i[2] = rowLen; w.i[3] = sOff; w.i[4] = dOff;
    w.i[6] = Math.floor((src.length - sOff) / rowLen);
    this.dispatch1d('rows', [src, idx, dst], n * rowLen);
  }
  scatterAddRows(src: Storage, sOff: number, idx: Storage, n: number, rowLen: number, dst: Storage, dOff: number): void {
    if (n === 0 || rowLen === 0) return;
    const w = this.w();
    w.i[0] = 1; w.i[1] = n; w.i[2] = rowLen; w.i[3] = sOff; w.i[4] = dOff; w.i[5] = dst.dtype === 'i32' ? 1 : 0;
    this.dispatch1d('rows', [src, idx, dst], rowLen);
  }
}
