import { platform } from './platform.js';

/**
 * The compiled kernel module (built from kernels/*.c by scripts/build-wasm.mjs in two builds:
 * dist/src/backend/wasm/kernels.wasm, SIMD128, and kernels-relaxed.wasm, relaxed SIMD with fused
 * multiply-adds; kernelBuild() picks one per process) and the shared linear memory every instance
 * runs over. Workers receive the compiled module itself, so they run the same build.
 *
 * Memory choice: one *shared* WebAssembly.Memory (SharedArrayBuffer-backed) so worker threads run
 * kernels on the same tensors without copies. Its maximum is reserved up front (4 GiB of address
 * space: only virtual until touched), and it grows on demand. Growing a shared memory never
 * detaches the old SharedArrayBuffer: views made before a grow stay valid over the bytes they
 * cover, so existing storages keep working; views for new allocations are made on the current
 * `memory.buffer`.
 */

/** The kernels' exports (pointers are byte offsets into the shared memory). */
export interface KernelExports {
  __heap_base: WebAssembly.Global;
  gemm_work_floats(): number;
  gemm(transA: number, transB: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  /** Rows [i0, i1) of the m-row product, each element exactly as gemm computes it for the whole. */
  gemm_rows(transA: number, transB: number, m: number, i0: number, i1: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_pack_b(transB: number, k: number, n: number, b: number, ldb: number, pb: number): void;
  gemm_packed(m: number, n: number, n0: number, n1: number, k: number, alpha: number, a: number, lda: number, pb: number,
    beta: number, c: number, ldc: number, work: number): void;
  linear2(m: number, n0: number, n1: number, k1: number, x1: number, ldx1: number, w1: number, ldw1: number,
    k2: number, x2: number, ldx2: number, w2: number, ldw2: number, b1: number, b2: number, out: number, ldo: number): void;
  /** 0: the SIMD128 build, 1: the relaxed-SIMD build. */
  kernel_build(): number;
  simd_peak(iters: number, buf: number): number;
  simd_peak_tile(iters: number, buf: number): number;
  /** The int8 product's inner step (kernels/quant.c): `iters` rounds of qdot_peak_macs() multiply-adds. */
  qdot_peak(iters: number, buf: number): number;
  qdot_peak_macs(): number;
  unary(op: number, x: number, out: number, n: number): void;
  unary_backward(op: number, x: number, y: number, dy: number, dx: number, n: number, acc: number): void;
  binary2d(op: number, rows: number, cols: number, a: number, ars: number, acs: number,
    b: number, brs: number, bcs: number, out: number): void;
  affine(x: number, out: number, n: number, alpha: number, beta: number, acc: number): void;
  fill(p: number, n: number, value: number): void;
  find_nonfinite(x: number, n: number): number;
  flush_subnormal(x: number, n: number): void;
  adam_step(p: number, g: number, m: number, v: number, vmax: number, n: number, b1: number, c1: number, b2: number, c2: number,
    eps: number, isb2: number, cstep: number, wd: number, cwd: number, decoupled: number): void;
  copy2d(rows: number, cols: number, src: number, srs: number, scs: number, dst: number, drs: number, dcs: number, acc: number): void;
  softmax(x: number, out: number, rows: number, cols: number, log: number): void;
  softmax_backward(y: number, dy: number, dx: number, rows: number, cols: number, log: number, acc: number): void;
  lstm_fwd(rows: number, H: number, gates: number, cPrev: number, cOut: number, hOut: number, ldh: number): void;
  lstm_step_units(rows: number, H: number, u0: number, u1: number, K: number, h: number, ldhIn: number, pb: number, gates: number,
    cPrev: number, cOut: number, hOut: number, ldh: number, work: number): void;
  lstm_bwd_step_rows(r0: number, r1: number, H: number, gates: number, cPrev: number, c: number, dh: number, ldh: number,
    dc: number, dGates: number, pb: number, work: number): void;
  lstm_bwd(rows: number, H: number, gates: number, cPrev: number, c: number, dh: number, ldh: number, dc: number, dGates: number): void;
  gru_fwd(rows: number, H: number, gx: number, gh: number, bhh: number, hPrev: number, ldhp: number, hOut: number, ldh: number): void;
  gru_bwd(rows: number, H: number, gx: number, gh: number, hPrev: number, ldhp: number, dh: number, ldh: number,
    dGx: number, dGh: number, dhPrev: number): void;
  ctc(lp: number, T: number, N: number, C: number, targets: number, inLens: number, tgLens: number, blank: number,
    loss: number, grad: number, work: number, n0: number, n1: number, tOff: number): number;
}

export const PAGE = 65536;
export const MAX_PAGES = 65536;
const INITIAL_PAGES = 256; // 16 MiB

/**
 * A minimal module using SIMD128 and shared memory (atomics). Validating it is the feature test:
 * engines without SIMD (or without threads/SharedArrayBuffer) reject it, and the backend is then
 * unavailable rather than failing later.
 */
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,                   // type: () -> v128
  0x03, 0x02, 0x01, 0x00,                                     // one function
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01,                         // memory: shared, min 1, max 1
  0x0a, 0x0a, 0x01, 0x08, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0xfd, 0x62, 0x0b, // i32.const 0; i8x16.splat; i8x16.popcnt
]);

export function wasmSimdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && typeof SharedArrayBuffer === 'function' && WebAssembly.validate(PROBE);
  } catch { return false; }
}

/**
 * Why the wasm backend cannot run here, or null: the environment (a page that is not
 * cross-origin isolated has no SharedArrayBuffer) or the engine (no SIMD128 or shared memory).
 */
export function wasmUnavailableReason(): string | null {
  const env = platform.unavailableReason();
  if (env) return `backend wasm: ${env}`;
  return wasmSimdSupported() ? null
    : 'backend wasm: this JavaScript engine lacks WebAssembly SIMD128 or shared memory; use the reference backend';
}

/**
 * A minimal module using f32x4.relaxed_madd (0xfd 0x85 0x02) and shared memory: validating it is
 * the feature test for the relaxed-SIMD build.
 */
const SPLAT0 = [0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13];   // f32.const 0; f32x4.splat
const RELAXED_BODY = [0x00, ...SPLAT0, ...SPLAT0, ...SPLAT0, 0xfd, 0x85, 0x02, 0x0b];
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,                   // type: () -> v128
  0x03, 0x02, 0x01, 0x00,                                     // one function
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01,                         // memory: shared, min 1, max 1
  0x0a, RELAXED_BODY.length + 2, 0x01, RELAXED_BODY.length, ...RELAXED_BODY,
]);

export type KernelBuild = 'simd128' | 'relaxed';
export const KERNEL_BUILDS: readonly KernelBuild[] = ['simd128', 'relaxed'];
/** The kernel build this process runs, and why (for `carousel info --backends`). */
export interface KernelBuildChoice { build: KernelBuild; reason: string }

function relaxedValidates(): boolean {
  try { return WebAssembly.validate(RELAXED_PROBE); } catch { return false; }
}

/**
 * Whether the engine runs relaxed SIMD, enabling it first where it is behind a flag (Node 20:
 * --experimental-wasm-relaxed-simd, set before any relaxed module is compiled). A phrase saying how.
 */
function relaxedSupport(): { ok: boolean; how: string } {
  if (relaxedValidates()) return { ok: true, how: 'the engine validates relaxed SIMD' };
  const flag = platform.enableRelaxedSimd();
  if (flag && relaxedValidates()) return { ok: true, how: `the engine validates relaxed SIMD after ${flag}` };
  return { ok: false, how: 'the engine does not validate relaxed SIMD' };
}

let choice: KernelBuildChoice | null = null;
/**
 * The kernel build to run, decided once per process: relaxed SIMD where the engine validates it,
 * else SIMD128; the environment variable CAROUSEL_WASM_BUILD=simd128|relaxed forces one (an error
 * if the forced one cannot run here).
 */
export function kernelBuild(): KernelBuildChoice {
  if (choice) return choice;
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CAROUSEL_WASM_BUILD;
  if (env !== undefined && env !== '') {
    if (!(KERNEL_BUILDS as readonly string[]).includes(env)) {
      throw new Error(`CAROUSEL_WASM_BUILD: expected ${KERNEL_BUILDS.join(' or ')}, got '${env}'`);
    }
    if (env === 'relaxed') {
      const r = relaxedSupport();
      if (!r.ok) throw new Error(`CAROUSEL_WASM_BUILD=relaxed: ${r.how}; set CAROUSEL_WASM_BUILD=simd128 or leave it unset`);
    }
    return (choice = { build: env as KernelBuild, reason: 'forced by CAROUSEL_WASM_BUILD' });
  }
  const r = relaxedSupport();
  return (choice = r.ok ? { build: 'relaxed', reason: r.how } : { build: 'simd128', reason: `${r.how}, so SIMD128` });
}

let compiled: WebAssembly.Module | null = null;
let compiling: Promise<WebAssembly.Module> | null = null;

/** Whether `new WasmBackend()` works now: in Node, wherever the backend is available; in a browser, after initWasm(). */
export function wasmReadySync(): boolean {
  return wasmUnavailableReason() === null && (compiled !== null || platform.readSync !== null);
}

/** Where the chosen build's kernels are (literal relative URLs, so that bundlers copy both files as assets). */
function kernelsUrl(): URL {
  return kernelBuild().build === 'relaxed' ? new URL('./kernels-relaxed.wasm', import.meta.url) : new URL('./kernels.wasm', import.meta.url);
}
function where(url: URL): string { return url.protocol === 'file:' ? url.pathname : url.href; }

/** The compiled module (compiled once per process; workers receive it by message). */
export function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    const reason = wasmUnavailableReason();
    if (reason) throw new Error(reason);
    if (!platform.readSync) {
      throw new Error('backend wasm: here the kernel module compiles asynchronously: `await initWasm()` ' +
        '(or `await WasmBackend.create()`) before making a wasm backend');
    }
    const url = kernelsUrl();
    let bytes: Uint8Array<ArrayBuffer>;
    try { bytes = platform.readSync(url); } catch (e) {
      throw new Error(`backend wasm: cannot read ${where(url)} (built by \`npm run build\`): ${(e as Error).message}`);
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** The compiled module, compiled without blocking this thread (the only way in a browser). */
export function loadKernelModule(): Promise<WebAssembly.Module> {
  if (compiled) return Promise.resolve(compiled);
  if (!compiling) {
    const reason = wasmUnavailableReason();
    if (reason) return Promise.reject(new Error(reason));
    let url: URL;
    try { url = kernelsUrl(); } catch (e) { return Promise.reject(e); }
    compiling = platform.compile(url).then((m) => (compiled = m), (e: unknown) => {
      compiling = null; // a later call may try again (the server may come back)
      throw new Error(`backend wasm: cannot load ${where(url)} (built by \`npm run build\`): ${(e as Error).message}`);
    });
  }
  return compiling;
}

export function newSharedMemory(maxPages = MAX_PAGES): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: Math.min(INITIAL_PAGES, maxPages), maximum: maxPages, shared: true });
}

export function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  return inst.exports as unknown as KernelExports;
}
