import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runConformance } from '../src/conformance/runner.js';
import { forEachBackend } from './backends.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const ext = join(root, '..', 'shared', 'fixtures', 'ext');
const ours = join(root, 'test', 'fixtures', 'xlstm');
const xlstmFiles = ['slstm_exp_1head', 'slstm_sigmoid_2heads', 'slstm_exp_stabilizer', 'slstm_sigmoid_stabilizer_dh1',
  'mlstm_sigmoid_1head', 'mlstm_sigmoid_2heads', 'mlstm_exp_forget', 'mlstm_stabilizer'].map((n) => join(ext, `${n}.json`));

function failures(s: Awaited<ReturnType<typeof runConformance>>): string[] {
  return s.results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.message ?? r.worstWhere}`);
}

forEachBackend('xLSTM conformance (kinds slstm and mlstm)', (backend) => {
  for (const dtype of ['f32', 'f64'] as const) {
    const skip = backend.dtypes.includes(dtype) ? false : `${backend.name} has no ${dtype} (the f32 twin of this test runs)`;
    it(`the 8 public ext fixtures pass in ${dtype}`, { skip }, async () => {
      const s = await runConformance(xlstmFiles, backend, dtype);
      assert.deepEqual(failures(s), []);
      assert.equal(s.passed, 8);
      if (dtype === 'f64') for (const r of s.results) assert.ok(r.worst < 1e-3, `${r.name}: ${r.worst}`);
    });
    it(`our own fixtures (test/fixtures/xlstm, PyTorch float64 reference, f64 overflow, chunkwise and parallel forms) pass in ${dtype}`, { skip }, async () => {
      const s = await runConformance([ours], backend, dtype);
      assert.deepEqual(failures(s), []);
      assert.equal(s.passed, 3);
      if (dtype === 'f64') for (const r of s.results) assert.ok(r.worst < 1e-3, `${r.name}: ${r.worst}`);
    });
  }
}, { asyncF32: true });
