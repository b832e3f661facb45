// One test suite for every backend (as tinygrad's helper_test_op and tfjs's
// describeWithFlags(ALL_ENVS)): a test file declares its tests once inside
// `forEachBackend(title, (backend, name) => { ... })` and they run on every registered backend.
// The expected values stay the test's own (finite differences in f64, fixtures, formulas); where a
// test wants the oracle's numbers, `compareToReference` runs the same function on `reference`.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { describe } from 'node:test';
import '../src/backends.js';
import type { Backend } from '../src/backend/backend.js';
import { backendUnavailable, listBackends, loadBackend } from '../src/backend/registry.js';
import { setWasmThreads } from '../src/backend/wasm/index.js';
import type { DType } from '../src/backend/dtype.js';
import type { Tensor } from '../src/tensor/tensor.js';

/** A registered backend, built (backend) or not runnable here (skip says why). */
export interface TestBackend {
  name: string;
  backend: Backend | null;
  skip: string | null;
}

/** SwiftShader, the software Vulkan driver in Debian's chromium (../shared/gpu/README.md). */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Give Dawn SwiftShader from inside this process, as ../shared/gpu/cpu-webgpu.sh does from a
 * shell: VK_ICD_FILENAMES is read when Dawn starts Vulkan, so setting it here is enough, but the
 * loader library (libvulkan.so.1, beside it) is found through LD_LIBRARY_PATH, read only when a
 * process starts. So it is loaded now, globally and never unloaded (RTLD_NODELETE: process.dlopen
 * rejects it as not a Node addon but leaves it loaded), and Dawn's dlopen by name finds it. Child
 * processes (CLI tests) inherit both variables and need nothing more. False where it is missing.
 */
function useSwiftShader(): boolean {
  if (process.platform !== 'linux' || !existsSync(SWIFTSHADER_ICD)) return false;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  process.env.LD_LIBRARY_PATH = `/usr/lib/chromium${process.env.LD_LIBRARY_PATH ? `:${process.env.LD_LIBRARY_PATH}` : ''}`;
  const RTLD_NODELETE = 0x1000; // glibc
  try {
    process.dlopen({ exports: {} }, '/usr/lib/chromium/libvulkan.so.1', constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL | RTLD_NODELETE);
  } catch { /* expected: "did not self-register"; the library stays loaded */ }
  return true;
}

/** The backend, or why it cannot run here (webgpu: a GPU, else SwiftShader, else a skip with the reason). */
async function build(name: string): Promise<TestBackend> {
  const why = backendUnavailable(name);
  if (why !== null) return { name, backend: null, skip: why };
  if (name === 'wasm') setWasmThreads(2); // two worker threads: the split paths run, on any machine
  if (name !== 'webgpu') return { name, backend: await loadBackend(name), skip: null };
  // The suites' passes on another backend (CAROUSEL_BACKEND=reference|composed in CI) leave webgpu to the default pass.
  const env = process.env.CAROUSEL_BACKEND;
  if (env && env !== 'webgpu') return { name, backend: null, skip: `run in the default pass, not again with CAROUSEL_BACKEND=${env}` };
  if (process.platform === 'linux' && !process.env.VK_ICD_FILENAMES && !vulkanLoaderFound()) useSwiftShader();
  try {
    return { name, backend: await loadBackend(name), skip: null };
  } catch (e) {
    return { name, backend: null, skip: (e as Error).message };
  }
}

/** Whether the system has a Vulkan loader of its own (a GPU machine): then Dawn uses its driver. */
function vulkanLoaderFound(): boolean {
  try {
    process.dlopen({ exports: {} }, 'libvulkan.so.1', constants.dlopen.RTLD_LAZY);
  } catch (e) {
    return !/cannot open shared object/.test((e as Error).message);
  }
  return true;
}

/**
 * CI's second and third passes (CAROUSEL_BACKEND=reference|composed) exist for the tests that use
 * the default backend. A forEachBackend suite names its backends itself, so it would run exactly as
 * in the first pass: CAROUSEL_TEST_DEFAULT_BACKEND_ONLY=1 skips it there, saying so.
 */
const DEFAULT_BACKEND_ONLY = process.env.CAROUSEL_TEST_DEFAULT_BACKEND_ONLY === '1'
  ? 'walks every backend itself, so it ran whole in the pass on the default backend (CAROUSEL_TEST_DEFAULT_BACKEND_ONLY=1)'
  : null;

// Built once per test process, before any test is declared (describe bodies are synchronous).
const built: TestBackend[] = [];
for (const name of listBackends()) built.push(await build(name));

/** Every registered backend, the reference oracle first (registration order). */
export function testBackends(): TestBackend[] {
  return built;
}

/**
 * The webgpu backend for its own suites (test/webgpu*.test.ts), or why they skip: no adapter, or
 * a pass of the suite on another backend (CAROUSEL_BACKEND=reference|composed in CI), which
 * would only repeat them.
 */
export function webgpuForSuite(): { backend: Backend | null; skip: string | false } {
  const tb = built.find((b) => b.name === 'webgpu');
  if (!tb?.backend) return { backend: null, skip: tb?.skip ?? 'webgpu is not registered' };
  return { backend: tb.backend, skip: false };
}

/** The reference backend, the oracle. */
export const reference: Backend = built.find((b) => b.name === 'reference')!.backend!;

/**
 * What a suite asks of a backend beyond the core. Most suites were written for CPU backends: they
 * compute in f64 (gradient checks) or read with dataSync(). A suite that runs on an f32-only,
 * asynchronously read backend (webgpu) says so with `{ asyncF32: true }`; elsewhere such a
 * backend is a skipped suite saying why (test/webgpu*.test.ts and the fixtures cover it).
 */
export interface SuiteNeeds {
  asyncF32?: boolean;
  /** Why the code under test reads synchronously (dataSync) itself: a backend without readSync skips with it. */
  syncReads?: string;
}

/** Why `b` cannot run a suite with these needs, or null. */
function unfit(b: Backend, needs: SuiteNeeds): string | null {
  if (needs.syncReads && !b.readSync) return `${b.name} reads only asynchronously, and ${needs.syncReads}`;
  if (needs.asyncF32) return null;
  const missing = [!b.dtypes.includes('f64') && 'f64', !b.readSync && 'synchronous reads (dataSync)'].filter((x) => x);
  return missing.length ? `this suite needs ${missing.join(' and ')}, which ${b.name} lacks (it computes in f32 and reads asynchronously)` : null;
}

/**
 * Why the named backend cannot run a suite written for CPU backends (f64, dataSync) that walks
 * the backends itself rather than through forEachBackend, or null when it can.
 */
export function cpuSuiteSkip(name: string): string | null {
  return backendSuiteSkip(name, {});
}

/**
 * Why the named backend cannot run a suite with these needs that walks the backends itself
 * rather than through forEachBackend, or null when it can.
 */
export function backendSuiteSkip(name: string, needs: SuiteNeeds): string | null {
  const tb = built.find((b) => b.name === name);
  if (!tb) return `no backend named ${name}`;
  return DEFAULT_BACKEND_ONLY ?? tb.skip ?? unfit(tb.backend!, needs);
}


/**
 * Declare `describe(`${title} [${name}]`)` once per registered backend, `fn` declaring its tests
 * for that backend; a backend that cannot run here, or cannot run this suite, is a skipped suite
 * with its reason.
 */
export function forEachBackend(title: string, fn: (backend: Backend, name: string) => void, needs: SuiteNeeds = {}): void {
  for (const tb of built) {
    const skip = DEFAULT_BACKEND_ONLY ?? tb.skip ?? (tb.backend ? unfit(tb.backend, needs) : 'not built');
    if (tb.backend && skip === null) {
      const b = tb.backend;
      describe(`${title} [${tb.name}]`, () => fn(b, tb.name));
    } else {
      describe(`${title} [${tb.name}]`, { skip: skip ?? true }, () => {});
    }
  }
}

/** Tensor / module options for f64 on a backend. */
export function f64(backend: Backend): { backend: Backend; dtype: 'f64' } {
  return { backend, dtype: 'f64' };
}

/** Tensor / module options for a dtype on a backend. */
export function on(backend: Backend, dtype: DType = 'f32'): { backend: Backend; dtype: DType } {
  return { backend, dtype };
}

/**
 * Backends whose kernels are slow enough that the largest tests shrink on them (same code paths,
 * smaller sizes): `composed` runs every optional kernel (CTC, cells) as a chain of core kernels;
 * `webgpu` runs on SwiftShader (Vulkan on the CPU) wherever there is no GPU.
 */
export const SLOW_BACKENDS: readonly string[] = ['composed', 'webgpu'];

/** A size for this backend: `small` on the slow backends, `full` on the others (the reference included). */
export function sized<T>(name: string, full: T, small: T): T {
  return SLOW_BACKENDS.includes(name) ? small : full;
}

/** |actual - expected| <= atol + rtol |expected| elementwise (NaN in either fails). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0, what = 'value'): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} values vs ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], e = expected[i];
    const ok = Math.abs(a - e) <= atol + rtol * Math.abs(e);
    assert.ok(ok, `${what}[${i}]: ${a} vs ${e} (tolerance ${atol} + ${rtol} * |${e}|)`);
  }
}

/**
 * Run `fn` on `backend` and on the reference backend and compare every returned tensor (read
 * asynchronously, so it serves every backend). `fn` builds its own inputs on the backend it is given.
 */
export async function compareToReference(backend: Backend, fn: (b: Backend) => Tensor[], atol: number, rtol = 0, what = 'output'): Promise<void> {
  const got = fn(backend), want = fn(reference);
  assert.equal(got.length, want.length);
  for (const [k, g] of got.entries()) assertClose(await g.data(), await want[k].data(), atol, rtol, `${what} ${k} on ${backend.name} vs reference`);
}

/** Whether `b` computes in f64 (the CPU backends; webgpu is f32 only). */
export function hasF64(b: Backend): boolean {
  return b.dtypes.includes('f64');
}

/**
 * Tensor / module options in the widest float dtype of a backend: f64 where it has it, else f32.
 * For the suites' exact checks, which run in f64 on the CPU backends and in f32 on webgpu.
 */
export function widest(backend: Backend): { backend: Backend; dtype: 'f64' | 'f32' } {
  return { backend, dtype: hasF64(backend) ? 'f64' : 'f32' };
}

/** A tensor's values as numbers, from any backend (an asynchronous read). */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

/** The value of a one-element tensor, from any backend. */
export async function itemOf(t: Tensor): Promise<number> {
  assert.equal(t.size, 1, `itemOf: expected one element, got shape [${t.shape.join(', ')}]`);
  return (await t.data())[0];
}

/**
 * Overwrite a tensor's values from `offset` on, on any backend (tests setting parameters by hand:
 * on the CPU backends they wrote the storage's array; a GPU buffer takes an upload and a copy).
 */
export function write(t: Tensor, data: ArrayLike<number>, offset = 0): void {
  const b = t.backend, tmp = b.upload(t.dtype, data);
  b.copyStrided([data.length], tmp, 0, [1], t.storage, offset, [1], false);
  b.dispose(tmp);
}
