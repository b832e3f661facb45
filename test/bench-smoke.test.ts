/**
 * Smoke test of `npm run bench`: the whole harness (planning, child processes, timing, report,
 * JSON) in --tiny --quick mode against the reference backend only, so no peer is needed. Checks
 * the JSON schema and the report's shape; it never asserts a timing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, selectBenches } from '../bench/args.js';
import { stats } from '../bench/measure.js';
import { torchToOnnx } from '../bench/onnx.js';
import { BENCHES } from '../bench/types.js';

const MAIN = fileURLToPath(new URL('../bench/main.js', import.meta.url));
const KEYS = ['backend', 'bench', 'lib', 'metric', 'threads', 'unit', 'value'];

test('bench --tiny --quick on the reference backend writes schema-valid JSON and a markdown table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-bench-'));
  try {
    const json = join(dir, 'results.json');
    const r = spawnSync(process.execPath, [MAIN, '--tiny', '--quick', '--quiet', '--libs', 'carousel', '--backends', 'reference', '--json', json],
      { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `bench exited with ${r.status}: ${r.stderr}`);
    const rows = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>[];
    assert.ok(Array.isArray(rows) && rows.length > 0, 'expected a non-empty JSON array');
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), KEYS, `row with wrong keys: ${JSON.stringify(row)}`);
      for (const k of ['bench', 'lib', 'backend', 'metric', 'unit']) assert.equal(typeof row[k], 'string', `${k} of ${JSON.stringify(row)}`);
      assert.ok(Number.isInteger(row.threads) && (row.threads as number) >= 1, `threads of ${JSON.stringify(row)}`);
      if (row.metric === 'skipped') assert.equal(row.value, null);
      else assert.ok(typeof row.value === 'number' && Number.isFinite(row.value), `value of ${JSON.stringify(row)}`);
    }
    const carousel = rows.filter((x) => x.lib === 'carousel');
    assert.ok(carousel.every((x) => x.backend === 'reference' && x.threads === 1));
    // Every bench produced its headline number (nothing skipped on the oracle backend).
    const headline: Record<string, string> = { 'GEMM': 'gflops', 'B1-memory': 'allocs_per_step' };
    for (const b of BENCHES) {
      const m = headline[b] ?? 'time';
      const hit = carousel.find((x) => x.bench === b && x.metric === m);
      assert.ok(hit && (hit.value as number) >= 0, `no ${m} row for ${b}: ${JSON.stringify(carousel.filter((x) => x.bench === b))}`);
      if (m === 'time') {
        const lo = carousel.find((x) => x.bench === b && x.metric === 'time_min')!.value as number;
        const hi = carousel.find((x) => x.bench === b && x.metric === 'time_max')!.value as number;
        assert.ok(lo <= (hit.value as number) && (hit.value as number) <= hi, `${b}: median outside [min, max]`);
      }
    }
    assert.ok(!carousel.some((x) => x.metric === 'skipped'), `unexpected skips: ${JSON.stringify(carousel.filter((x) => x.metric === 'skipped'))}`);
    assert.match(r.stdout, /\| bench \| unit \| carousel reference t1 \|/);
    assert.match(r.stdout, /\| B2-1024 \| us\/step \| /);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('bench options: --only groups, bad values rejected with what was expected', () => {
  assert.deepEqual(selectBenches('B2'), ['B2-256', 'B2-1024']);
  assert.deepEqual(selectBenches('b1,memory'), ['B1', 'B1-memory']);
  assert.throws(() => selectBenches('B9'), /unknown bench 'B9': expected some of B1/);
  assert.throws(() => parseArgs(['--threads', '0']), /--threads: expected positive integers/);
  assert.throws(() => parseArgs(['--libs', 'keras']), /unknown library 'keras'/);
  assert.throws(() => parseArgs(['--json']), /--json: expected a value/);
  assert.throws(() => parseArgs(['--fast']), /unknown option '--fast'/);
  const o = parseArgs(['--quick', '--only', 'B3', '--json', 'r.json']);
  assert.equal(o.quick, true); assert.deepEqual(o.only, ['B3']); assert.equal(o.json, 'r.json');
});

test('bench stats: median, min, max of repetitions', () => {
  assert.deepEqual(stats([5, 1, 3]), { median: 3, min: 1, max: 5, reps: 3 });
  assert.deepEqual(stats([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, reps: 4 });
  assert.throws(() => stats([]), /at least one/);
});

test('ONNX weight layout: PyTorch gates (i, f, g, o) become ONNX gates (i, o, f, c), biases [Wb, Rb]', () => {
  const H = 1, I = 2;
  // Gate k of PyTorch has weights [10k, 10k+1], recurrent weight 10k+5, biases 10k+7 and 10k+8.
  const wIh = Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]);
  const wHh = Float32Array.from([5, 15, 25, 35]);
  const bIh = Float32Array.from([7, 17, 27, 37]);
  const bHh = Float32Array.from([8, 18, 28, 38]);
  const w = torchToOnnx(H, I, wIh, wHh, bIh, bHh);
  assert.deepEqual([...w.W], [0, 1, 30, 31, 10, 11, 20, 21]);
  assert.deepEqual([...w.R], [5, 35, 15, 25]);
  assert.deepEqual([...w.B], [7, 37, 17, 27, 8, 38, 18, 28]);
});

test('the PyTorch bench script is valid Python (compiled, not run: torch is optional)', (t) => {
  const py = '/usr/bin/python3';
  const script = fileURLToPath(new URL('../../bench/python/torch_bench.py', import.meta.url));
  const probe = spawnSync(py, ['--version'], { encoding: 'utf8' });
  if (probe.error) { t.skip(`${py} not found`); return; }
  const r = spawnSync(py, ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
