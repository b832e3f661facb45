import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { webgpuForSuite } from './backends.js';
import { carousel } from './util/cli.js';

/**
 * webgpu from the command line: `info --backends` describes the adapter, `--backend webgpu`
 * trains, predicts and runs fixtures, and without an adapter the run fails in one line that
 * says why. The children inherit the SwiftShader environment test/backends.ts set up, if any.
 */
const gpu = webgpuForSuite();
const FIXTURES = new URL('../../test/fixtures/', import.meta.url).pathname;

describe('webgpu on the command line', { skip: gpu.skip }, () => {
  it('info --backends shows the adapter: vendor, architecture, features, limits; and the native kernel sets', () => {
    const r = carousel(['info', '--backends']);
    assert.equal(r.code, 0, r.err);
    const block = r.out.slice(r.out.indexOf('webgpu:'));
    assert.match(block, /^webgpu: 14 core kernels; \d+ of \d+ optional kernels native/);
    assert.match(block, /lstm +lstmCellForward \(WebGpuBackend\)/);
    assert.match(block, /adapter +vendor \S+, architecture \S+/);
    assert.match(block, /features .*\w/);
    assert.match(block, /limits +maxBufferSize \d+, maxStorageBufferBindingSize \d+/);
  });

  it('--backend webgpu trains a forecaster, predicts with it, and passes fixtures', () => {
    const d = mkdtempSync(join(tmpdir(), 'carousel-webgpu-'));
    try {
      writeFileSync(join(d, 's.csv'), `value\n${Array.from({ length: 80 }, (_, i) => Math.sin(0.3 * i).toFixed(4)).join('\n')}\n`);
      const t = carousel(['train', '--backend', 'webgpu', '--task', 'forecast', '--data', join(d, 's.csv'), '--column', 'value',
        '--window', '8', '--out', join(d, 'fc'), '--hidden', '8', '--epochs', '1']);
      assert.equal(t.code, 0, t.err);
      const p = carousel(['--backend=webgpu', 'predict', '--model', join(d, 'fc'), '--data', join(d, 's.csv')]);
      assert.equal(p.code, 0, p.err);
      assert.match(p.out, /^step,value\n1,-?\d/);
      const c = carousel(['conformance', join(FIXTURES, 'ctc-empty'), '--backend', 'webgpu']);
      assert.equal(c.code, 0, c.out + c.err);
      assert.match(c.out, /\d+ passed, 0 failed, 0 skipped/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('--backend webgpu trains a CTC recognizer with the losses the wasm backend gives, and evaluates it', () => {
    const d = mkdtempSync(join(tmpdir(), 'carousel-webgpu-ctc-'));
    try {
      const data = carousel(['data', 'handwriting', '--count', '40', '--out', join(d, 'hw')]);
      assert.equal(data.code, 0, data.err);
      // One epoch each, same seed: the printed losses agree to f32 rounding (4 decimals printed).
      const losses = (backend: string) => {
        const t = carousel(['--backend', backend, 'train', '--task', 'ctc', '--data', join(d, 'hw', 'train.jsonl'), '--val', join(d, 'hw', 'val.jsonl'),
          '--out', join(d, backend), '--hidden', '4', '--layers', '1', '--epochs', '1', '--batch-size', '8']);
        assert.equal(t.code, 0, t.err);
        const m = /epoch 1\/1\s+loss (\S+)\s+val_loss (\S+)/.exec(t.err + t.out);
        assert.ok(m, t.err);
        return [Number(m[1]), Number(m[2])];
      };
      const [gpuLoss, gpuVal] = losses('webgpu'), [cpuLoss, cpuVal] = losses('wasm');
      assert.ok(Number.isFinite(gpuLoss) && Math.abs(gpuLoss - cpuLoss) <= 2e-4 * Math.abs(cpuLoss) + 1e-4, `train loss webgpu ${gpuLoss}, wasm ${cpuLoss}`);
      assert.ok(Math.abs(gpuVal - cpuVal) <= 2e-4 * Math.abs(cpuVal) + 1e-4, `val loss webgpu ${gpuVal}, wasm ${cpuVal}`);
      const e = carousel(['--backend', 'webgpu', 'evaluate', '--model', join(d, 'webgpu'), '--data', join(d, 'hw', 'test.jsonl')]);
      assert.equal(e.code, 0, e.err);
      assert.match(e.out, /^greedy: CER \d+\.\d\d% WER \d+\.\d\d%\nbeam: CER /);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('without an adapter: one line, "no WebGPU adapter" and why, exit 1; info --backends says so too', () => {
    // No Vulkan driver to be found: an ICD list naming nothing, and no loader path.
    const env = { VK_ICD_FILENAMES: '/nonexistent/icd.json', LD_LIBRARY_PATH: '' };
    const r = carousel(['--backend', 'webgpu', 'conformance', join(FIXTURES, 'ctc-empty')], env);
    assert.equal(r.code, 1, r.err);
    const line = r.err.split('\n').filter((l) => l.startsWith('carousel: '));
    assert.equal(line.length, 1, r.err);
    assert.match(line[0], /^carousel: backend webgpu: no WebGPU adapter: requestAdapter\(\) returned none/);
    assert.doesNotMatch(r.err, /internal error|\n\s+at .*\.js/);
    const i = carousel(['info', '--backends'], env);
    assert.equal(i.code, 0, i.err);
    assert.match(i.out, /webgpu: unavailable here \(no WebGPU adapter: /);
  });
});
