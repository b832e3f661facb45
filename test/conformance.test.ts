import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { runConformance } from '../src/conformance/runner.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const fixtures = join(root, '..', 'shared', 'fixtures');
const cli = join(root, 'dist', 'src', 'cli', 'main.js');

describe('conformance against the PyTorch fixtures', () => {
  it('all 12 core fixtures pass in f32 on the reference backend', async () => {
    const s = await runConformance([join(fixtures, 'core')], new ReferenceBackend(), 'f32');
    assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
    assert.equal(s.passed, 12);
  });
  it('all 12 core fixtures pass in f64 on the reference backend', async () => {
    const s = await runConformance([join(fixtures, 'core')], new ReferenceBackend(), 'f64');
    assert.equal(s.passed, 12);
    // In f64 the agreement is far tighter than the tolerance.
    for (const r of s.results) assert.ok(r.worst < 1e-3, `${r.name}: ${r.worst}`);
  });
  it('extra PyTorch fixtures with other shapes and option combinations pass (test/fixtures/core-extra)', async () => {
    const s = await runConformance([join(root, 'test', 'fixtures', 'core-extra')], new ReferenceBackend(), 'f32');
    assert.deepEqual(s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`), []);
    assert.equal(s.passed, 8);
  });
  it('the CLI prints one line per case and the exact summary line', () => {
    const out = execFileSync(process.execPath, [cli, 'conformance', join(fixtures, 'core')], { encoding: 'utf8' });
    const lines = out.trim().split('\n');
    assert.equal(lines.length, 13);
    assert.equal(lines[12], '12 passed, 0 failed, 0 skipped');
  });
  it('a wrong fixture fails (exit 1), an unknown kind is skipped, never passed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carousel-conf-'));
    const fx = JSON.parse(readFileSync(join(fixtures, 'core', 'lstm_1layer.json'), 'utf8'));
    fx.outputs.y.data[3] += 0.01;
    writeFileSync(join(dir, 'broken.json'), JSON.stringify(fx));
    writeFileSync(join(dir, 'unknown.json'), JSON.stringify({ ...fx, name: 'unknown', kind: 'quantum_lstm' }));
    const r = spawnSync(process.execPath, [cli, 'conformance', dir], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL lstm_1layer \(lstm\)/);
    assert.match(r.stdout, /SKIP unknown \(quantum_lstm\)/);
    assert.match(r.stdout, /^0 passed, 1 failed, 1 skipped$/m);
  });
  it('unknown config options and missing paths are errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carousel-conf-'));
    const fx = JSON.parse(readFileSync(join(fixtures, 'core', 'gru_1layer.json'), 'utf8'));
    fx.config.peepholes = true;
    writeFileSync(join(dir, 'extra.json'), JSON.stringify(fx));
    const r = spawnSync(process.execPath, [cli, 'conformance', dir], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stdout, /unknown config option\(s\) peepholes/);
    const missing = spawnSync(process.execPath, [cli, 'conformance', join(dir, 'nope')], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file or folder/);
  });
});
