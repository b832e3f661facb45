// One test suite for every backend (as tinygrad's helper_test_op and tfjs's
// describeWithFlags(ALL_ENVS)): a test file declares its tests once inside
// `forEachBackend(title, (backend, name) => { ... })` and they run on every registered backend.
// The expected values stay the test's own (finite differences in f64, fixtures, formulas); where a
// test wants the oracle's numbers, `compareToReference` runs the same function on `reference`.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import '../src/backends.js';
import type { Backend } from '../src/backend/backend.js';
import { backendUnavailable, listBackends, loadBackend } from '../src/backend/registry.js';
import { setWasmThreads } from '../src/backend/wasm/index.js';
import type { DType } from '../src/backend/dtype.js';

/** A registered backend, built (backend) or not runnable here (skip says why). */
export interface TestBackend {
  name: string;
  backend: Backend | null;
  skip: string | null;
}

// Built once per test process, before any test is declared (describe bodies are synchronous).
const built: TestBackend[] = [];
for (const name of listBackends()) {
  const why = backendUnavailable(name);
  if (why !== null) { built.push({ name, backend: null, skip: why }); continue; }
  if (name === 'wasm') setWasmThreads(2); // two worker threads: the split paths run, on any machine
  built.push({ name, backend: await loadBackend(name), skip: null });
}

/** Every registered backend, the reference oracle first (registration order). */
export function testBackends(): TestBackend[] {
  return built;
}

/** The reference backend, the oracle. */
export const reference: Backend = built.find((b) => b.name === 'reference')!.backend!;

/**
 * Declare `describe(`${title} [${name}]`)` once per registered backend, `fn` declaring its tests
 * for that backend; a backend that cannot run here is a skipped suite with its reason.
 */
export function forEachBackend(title: string, fn: (backend: Backend, name: string) => void): void {
  for (const tb of built) {
    if (tb.backend) {
      const b = tb.backend;
      describe(`${title} [${tb.name}]`, () => fn(b, tb.name));
    } else {
      describe(`${title} [${tb.name}]`, { skip: tb.skip ?? true }, () => {});
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
 * smaller sizes): `composed` runs every optional kernel (CTC, cells) as a chain of core kernels.
 */
export const SLOW_BACKENDS: readonly string[] = ['composed'];

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
 * Run `fn` on `backend` and on the reference backend and compare every returned array.
 * `fn` builds its own inputs on the backend it is given.
 */
export function compareToReference(backend: Backend, fn: (b: Backend) => ArrayLike<number>[], atol: number, rtol = 0, what = 'output'): void {
  const got = fn(backend), want = fn(reference);
  assert.equal(got.length, want.length);
  got.forEach((g, k) => assertClose(g, want[k], atol, rtol, `${what} ${k} on ${backend.name} vs reference`));
}
