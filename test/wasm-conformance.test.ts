import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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

/** Every fixture folder this test runs, with the number of fixtures each holds: none may vanish. */
const FOLDERS: [string, number][] = [
  [join(fixtures, 'core'), 12], [join(fixtures, 'ext'), 24],
  [join(root, 'test', 'fixtures', 'core-extra'), 8], [join(root, 'test', 'fixtures', 'ctc-empty'), 4],
];
const listed = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.json')).length;

describe('conformance on the wasm backend', () => {
  const dirs = FOLDERS.map(([d]) => d);
  const total = FOLDERS.reduce((s, [, n]) => s + n, 0);
  it(`every fixture folder is there, with the number of fixtures expected (${total} in all)`, () => {
    for (const [dir, n] of FOLDERS) {
      assert.ok(existsSync(dir), `fixture folder ${dir} is missing`);
      assert.equal(listed(dir), n, `fixtures in ${dir}`);
    }
  });
  for (const threads of [1, 2]) {
    it(`every fixture passes in f32 with ${threads} thread(s)`, async () => {
      const b = new WasmBackend({ threads });
      b.parallelMinMacs = 0; b.ctcParallelMinCells = 0; b.rowParallelMinElements = 0; // split even the small fixtures' GEMMs and CTC batches
      await b.ready();
      try {
        const s = await runConformance(dirs, b, 'f32');
        assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
        assert.equal(s.results.length, total, 'fixtures run');
        assert.equal(s.passed, total, 'fixtures passed');
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
