import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { wasmSimdSupported } from '../src/backend/wasm/index.js';
import { carousel } from './util/cli.js';

/**
 * The two builds of the wasm kernels (scripts/build-wasm.mjs): SIMD128, and relaxed SIMD whose
 * multiply-adds are f32x4.relaxed_madd. Which one runs is chosen once per process, so each case
 * runs a child process (test/util/buildChild.ts) with CAROUSEL_WASM_BUILD set or unset.
 */
const CHILD = new URL('./util/buildChild.js', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

interface ChildResult { build?: string; reason?: string; kernelBuild?: number; values?: Record<string, number[]>; error?: string }
function child(build: string | undefined): ChildResult {
  const env = { ...process.env };
  if (build === undefined) delete env.CAROUSEL_WASM_BUILD; else env.CAROUSEL_WASM_BUILD = build;
  const r = spawnSync(process.execPath, [CHILD], { encoding: 'utf8', env });
  assert.equal(r.status, 0, `child exit (stderr: ${r.stderr})`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

const FUSED = 2 ** -11 + 2 ** -24, UNFUSED = 2 ** -11;
/** Whether this CPU has fused multiply-add vector instructions (x86-64: the fma flag; arm64: always), or null if unknown. */
function cpuHasFma(): boolean | null {
  if (process.arch === 'arm64') return true;
  if (process.arch !== 'x64') return null;
  try { return /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8')); } catch { return null; }
}

describe('wasm kernel builds: SIMD128 and relaxed SIMD', { skip: !wasmSimdSupported() && 'no WebAssembly SIMD' }, () => {
  it('unset, relaxed SIMD is chosen where the engine validates it (Node 20: after turning its flag on)', () => {
    const r = child(undefined);
    assert.equal(r.error, undefined);
    assert.equal(r.build, 'relaxed');
    assert.equal(r.kernelBuild, 1);
    const node = Number(process.versions.node.split('.')[0]);
    if (node < 22) assert.equal(r.reason, 'the engine validates relaxed SIMD after --experimental-wasm-relaxed-simd');
    else assert.match(r.reason!, /^the engine validates relaxed SIMD/);
  });

  it('CAROUSEL_WASM_BUILD=simd128 runs the SIMD128 build: a*b+c rounds twice, on every kernel and thread', () => {
    const r = child('simd128');
    assert.deepEqual([r.build, r.reason, r.kernelBuild], ['simd128', 'forced by CAROUSEL_WASM_BUILD', 0]);
    for (const [what, v] of Object.entries(r.values!)) assert.deepEqual(v, [UNFUSED], what);
  });

  it('CAROUSEL_WASM_BUILD=relaxed runs the relaxed build: fused multiply-adds where the CPU has FMA, the workers too', (t) => {
    const r = child('relaxed');
    assert.deepEqual([r.build, r.reason, r.kernelBuild], ['relaxed', 'forced by CAROUSEL_WASM_BUILD', 1]);
    const fma = cpuHasFma();
    const first = r.values!['gemv 1 thread'];
    for (const [what, v] of Object.entries(r.values!)) {
      assert.deepEqual(v, first, `${what}: every kernel on every thread computes a*b+c alike`);
      if (fma !== null) assert.deepEqual(v, [fma ? FUSED : UNFUSED], `${what} (CPU FMA: ${fma})`);
    }
    t.diagnostic(`relaxed_madd here: ${first[0] === FUSED ? 'fused' : 'not fused'}`);
  });

  it('a bad CAROUSEL_WASM_BUILD is a clear error', () => {
    assert.deepEqual(child('avx'), { error: "CAROUSEL_WASM_BUILD: expected simd128 or relaxed, got 'avx'" });
  });

  it('carousel info --backends says which build runs and why', () => {
    const forced = carousel(['info', '--backends'], { CAROUSEL_WASM_BUILD: 'simd128' });
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /^wasm: .*\n {2}build {4}simd128 \(forced by CAROUSEL_WASM_BUILD\)$/m);
    const env = { ...process.env };
    delete env.CAROUSEL_WASM_BUILD;
    const chosen = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'info', '--backends'], { encoding: 'utf8', env });
    assert.match(chosen.stdout, /^ {2}build {4}relaxed \(the engine validates relaxed SIMD[^)]*\)$/m);
  });
});

/** `node scripts/build-wasm.mjs --check` (CI runs it) on a copy of the sources with one committed module changed. */
const hasClang19 = ['clang-19', 'clang'].some((c) => /version (19|[2-9]\d)\./.test(spawnSync(c, ['--version'], { encoding: 'utf8' }).stdout ?? ''));
describe('build-wasm --check', { skip: !hasClang19 && 'needs clang >= 19 (apt-get install clang-19 lld-19)' }, () => {
  it('fails naming the committed module that is not what its sources build to', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carousel-build-check-'));
    try {
      cpSync(join(ROOT, 'scripts'), join(dir, 'scripts'), { recursive: true });
      cpSync(join(ROOT, 'src/backend/wasm/kernels'), join(dir, 'src/backend/wasm/kernels'), { recursive: true });
      cpSync(join(ROOT, 'src/backend/wasm/prebuilt'), join(dir, 'src/backend/wasm/prebuilt'), { recursive: true });
      const relaxed = join(dir, 'src/backend/wasm/prebuilt/kernels-relaxed.wasm');
      assert.ok(existsSync(relaxed), 'the relaxed build is committed');
      const bytes = readFileSync(relaxed);
      bytes[bytes.length - 1] ^= 1;
      writeFileSync(relaxed, bytes);
      const r = spawnSync(process.execPath, [join(dir, 'scripts/build-wasm.mjs'), '--check'], { encoding: 'utf8', env: { ...process.env, CI: '' } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^build-wasm: src\/backend\/wasm\/prebuilt\/kernels-relaxed\.wasm is not what the kernel sources build to; run `node scripts\/build-wasm\.mjs --update-prebuilt` and commit the result$/m);
      const bad = spawnSync(process.execPath, [join(dir, 'scripts/build-wasm.mjs'), '--chek'], { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.equal(bad.stderr.trim(), 'build-wasm: expected no option or one of --check, --update-prebuilt, got --chek');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
