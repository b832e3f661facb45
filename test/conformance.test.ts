import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { runConformance } from '../src/conformance/runner.js';
import { TOLERANCE_CAP } from '../src/conformance/fixture.js';
import { registerKind } from '../src/conformance/kinds.js';
import * as ops from '../src/ops/index.js';
import { tensor } from '../src/tensor/create.js';

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
  // The loader refuses a fixture that could pass without checking what it claims to check.
  describe('broken fixtures are refused, never passed', () => {
    const base = () => JSON.parse(readFileSync(join(fixtures, 'core', 'lstm_1layer.json'), 'utf8'));
    const ref = new ReferenceBackend();
    const runOne = async (fx: unknown) => {
      const dir = mkdtempSync(join(tmpdir(), 'carousel-conf-'));
      writeFileSync(join(dir, 'case.json'), JSON.stringify(fx));
      const s = await runConformance([dir], ref, 'f64');
      assert.equal(s.results.length, 1);
      return s.results[0];
    };
    const refused = async (fx: unknown, message: RegExp) => {
      const r = await runOne(fx);
      assert.equal(r.status, 'fail', `passed: ${JSON.stringify(r)}`);
      assert.match(r.message ?? '', message);
    };
    it('the unmodified fixture passes (the cases below differ from it in one thing each)', async () => {
      assert.equal((await runOne(base())).status, 'pass');
    });
    it('outputs removed, emptied, or the key misspelled', async () => {
      const a = base(); delete a.outputs;
      await refused(a, /expected "outputs" with at least one tensor, got undefined/);
      const b = base(); b.outputs = {};
      await refused(b, /expected "outputs" with at least one tensor, got \{\}/);
      const c = base(); c.output = c.outputs; delete c.outputs;
      await refused(c, /unknown key\(s\) "output"/);
    });
    it('an output name misspelled (in outputs or in lossWeights)', async () => {
      const a = base(); a.outputs.Y = a.outputs.y; delete a.outputs.y;
      await refused(a, /expected "lossWeights" for exactly the outputs \(Y, c_n, h_n\), got \(c_n, h_n, y\)/);
      a.lossWeights.Y = a.lossWeights.y; delete a.lossWeights.y;
      await refused(a, /the module produced no output 'Y'/);
      const b = base(); delete b.lossWeights.h_n;
      await refused(b, /expected "lossWeights" for exactly the outputs \(c_n, h_n, y\), got \(c_n, y\)/);
    });
    it('gradients missing or emptied while every output is finite', async () => {
      const a = base(); delete a.grads;
      await refused(a, /missing "grads"/);
      const b = base(); b.grads = {};
      await refused(b, /"grads" is empty but every output is finite/);
      const c = base(); c.grad = c.grads; delete c.grads;
      await refused(c, /unknown key\(s\) "grad"/);
    });
    it(`a tolerance looser than the cap (atol ${TOLERANCE_CAP.atol}, rtol ${TOLERANCE_CAP.rtol}) or not a number`, async () => {
      for (const tolerance of [{ atol: 1, rtol: 1e-3 }, { atol: 1e-4, rtol: 0.5 }, { atol: 1e-4, rtol: 0.011 }]) {
        await refused({ ...base(), tolerance }, /is looser than the cap .* \(atol <= 0\.001, rtol <= 0\.01\)/);
      }
      await refused({ ...base(), tolerance: { atol: -1, rtol: 1e-3 } }, /tolerance\.atol must be a number >= 0, got -1/);
      await refused({ ...base(), tolerance: { atol: '1e-4', rtol: 1e-3 } }, /tolerance\.atol must be a number >= 0, got "1e-4"/);
      await refused({ ...base(), tolerance: { atoll: 1e-4 } }, /"tolerance" must be \{"atol": number, "rtol": number\}/);
      // At the cap, a wrong value still fails: the cap is what the comparison uses, nothing looser.
      const d = base(); d.tolerance = { ...TOLERANCE_CAP }; d.outputs.y.data[0] += 0.05;
      const r = await runOne(d);
      assert.equal(r.status, 'fail');
      assert.ok(r.worst > 1, `worst ${r.worst}`);
    });
    it('a gradient the backward pass never produced is a failure, not zeros', async () => {
      // A kind whose leaf 'b' is not connected to its output: its gradient does not exist.
      registerKind('test_disconnected', (fx, ctx) => {
        const a = tensor(fx.inputs.a.data, fx.inputs.a.shape, { ...ctx, requiresGrad: true });
        const b = tensor(fx.inputs.b.data, fx.inputs.b.shape, { ...ctx, requiresGrad: true });
        return { outputs: { y: ops.mul(a, a) }, leaves: { a, b } };
      });
      const t = (data: number[]) => ({ shape: [data.length], data });
      const fx = { name: 'disconnected', kind: 'test_disconnected', config: {}, inputs: { a: t([1, 2]), b: t([3, 4]) },
        outputs: { y: t([1, 4]) }, lossWeights: { y: t([1, 1]) }, grads: { a: t([2, 4]), b: t([0, 0]) } };
      await refused(fx, /grad b: the backward pass gave no gradient for 'b' \(the fixture lists one\)/);
      const { b: _, ...onlyA } = fx.grads;
      assert.equal((await runOne({ ...fx, grads: onlyA })).status, 'pass');
    });
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
