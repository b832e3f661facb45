import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WasmBackend } from '../src/backend/wasm/index.js';
import { runConformance } from '../src/conformance/runner.js';

/**
 * The wasm backend passes the same PyTorch fixtures as the reference backend (every kind, so the
 * kernels it overrides and the reference kernels it inherits both run on its memory), and the
 * CLI with --backend wasm exits by itself (the worker threads never keep a process alive).
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const fixtures = join(root, '..', 'shared', 'fixtures');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

describe('conformance on the wasm backend', () => {
  const dirs = [join(fixtures, 'core'), join(fixtures, 'ext'), join(root, 'test', 'fixtures', 'core-extra')].filter(existsSync);
  for (const threads of [1, 2]) {
    it(`every fixture passes in f32 with ${threads} thread(s)`, async () => {
      const b = new WasmBackend({ threads });
      b.parallelMinMacs = 0; b.ctcParallelMinCells = 0; b.rowParallelMinElements = 0; // split even the small fixtures' GEMMs and CTC batches
      await b.ready();
      try {
        const s = await runConformance(dirs, b, 'f32');
        assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
        assert.ok(s.passed >= 12, `only ${s.passed} fixtures ran`);
      } finally { b.terminate(); }
    });
  }
  it('the CLI runs the core fixtures with --backend wasm and exits 0 on its own', () => {
    const r = spawnSync(process.execPath, [cli, 'conformance', join(fixtures, 'core'), '--backend', 'wasm'],
      { encoding: 'utf8', timeout: 60000, env: { ...process.env, CAROUSEL_THREADS: '2' } });
    assert.equal(r.error, undefined, `did not exit: ${r.error?.message}`);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^12 passed, 0 failed, 0 skipped$/m);
  });
  it('CAROUSEL_THREADS must be a positive integer', () => {
    const r = spawnSync(process.execPath, [cli, 'conformance', join(fixtures, 'core'), '--backend', 'wasm'],
      { encoding: 'utf8', timeout: 60000, env: { ...process.env, CAROUSEL_THREADS: 'two' } });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, /CAROUSEL_THREADS: expected a positive integer, got 'two'/);
  });
});
