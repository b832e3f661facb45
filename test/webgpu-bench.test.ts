/**
 * The GPU bench's code paths (`npm run bench -- --backends webgpu`) at tiny sizes, on whatever
 * adapter the webgpu backend has here (SwiftShader on a machine without a GPU): Carousel's
 * webgpu rows for every GPU bench, PyTorch CUDA and TF.js WebGPU rows measured or skipped with
 * their reason, the GPU section of the report; and the CPU bench never running the GPU-only
 * benches. It never asserts a timing (GPU numbers are measured only on a GPU machine).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseArgs, selectBenches } from '../bench/args.js';
import { GPU_BENCHES } from '../bench/types.js';
import { webgpuForSuite } from './backends.js';

const MAIN = fileURLToPath(new URL('../bench/main.js', import.meta.url));
const gpu = webgpuForSuite();
interface Row { bench: string; lib: string; backend: string; threads: number; metric: string; value: number | null; unit: string }

function bench(args: string[]): { rows: Row[]; stdout: string } {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-gpu-bench-'));
  try {
    const json = join(dir, 'rows.json');
    // Child processes inherit the SwiftShader variables test/backends.ts set (VK_ICD_FILENAMES, LD_LIBRARY_PATH).
    const r = spawnSync(process.execPath, [MAIN, '--tiny', '--quick', '--quiet', '--json', json, ...args], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(r.status, 0, `bench exited with ${r.status}: ${r.stderr}`);
    return { rows: JSON.parse(readFileSync(json, 'utf8')) as Row[], stdout: r.stdout };
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

describe('bench on the GPU: --backends webgpu', { skip: gpu.skip }, () => {
  it('Carousel webgpu rows for B1, B2-1024, B3, B4, B5-big, GEMM-4096; the GPU peers measured or skipped with why', () => {
    const { rows, stdout } = bench(['--backends', 'webgpu', '--libs', 'carousel,pytorch,tfjs']);
    const mine = rows.filter((r) => r.lib === 'carousel');
    assert.ok(mine.length > 0 && mine.every((r) => r.backend === 'webgpu' && r.threads === 1), JSON.stringify(mine));
    assert.deepEqual(mine.filter((r) => r.metric === 'skipped'), [], 'no Carousel webgpu bench skipped');
    for (const b of GPU_BENCHES) {
      const m = b.startsWith('GEMM') ? 'gflops' : 'time';
      const hit = mine.find((r) => r.bench === b && r.metric === m);
      assert.ok(hit && typeof hit.value === 'number' && hit.value > 0, `no ${m} row for ${b}`);
    }
    // No CPU suite ran: no CPU peer, no quantized CPU rows.
    assert.deepEqual([...new Set(rows.filter((r) => r.bench !== 'info').map((r) => `${r.lib} ${r.backend.split('/')[0]}`))].sort(),
      ['carousel webgpu', 'pytorch cuda', 'tfjs webgpu']);
    for (const lib of ['pytorch', 'tfjs']) {
      for (const b of GPU_BENCHES) {
        const mine = rows.filter((r) => r.lib === lib && r.bench === b);
        assert.ok(mine.length > 0, `${lib} ${b}: a row`);
        for (const r of mine.filter((x) => x.metric === 'skipped')) assert.match(r.unit, /^skipped: .{10,}/, `${lib} ${b}: a reason`);
      }
    }
    let tfjsGpu = true;
    try { createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-webgpu'); } catch { tfjsGpu = false; }
    if (!tfjsGpu) {
      assert.ok(rows.filter((r) => r.lib === 'tfjs').every((r) => r.metric === 'skipped' && /tfjs-backend-webgpu is not installed/.test(r.unit)));
    } else {
      // Installed (a devDependency): TF.js's WebGPU backend runs every bench it has in Node, through Dawn.
      for (const b of GPU_BENCHES.filter((x) => x !== 'B4')) {
        const m = b.startsWith('GEMM') ? 'gflops' : 'time';
        const hit = rows.find((r) => r.lib === 'tfjs' && r.bench === b && r.metric === m);
        assert.ok(hit && typeof hit.value === 'number' && hit.value > 0, `tfjs webgpu ${b}: no ${m} row (${JSON.stringify(rows.filter((r) => r.lib === 'tfjs' && r.bench === b))})`);
      }
    }
    assert.match(stdout, /### GPU: median/);
    assert.match(stdout, /\| B5-big \| ms\/step \| /);
    assert.match(stdout, /\| GEMM-4096 \| .* \| >= 0.7x GFLOP\/s \|/);
    assert.doesNotMatch(stdout, /### Times:/, 'no CPU tables in a GPU-only run');
  });
});

describe('bench --webgpu-gemm: the GEMM kernel for every product', { skip: gpu.skip }, () => {
  it('runs Carousel webgpu with the kernel asked for and says which; refuses an unknown one', () => {
    const { rows } = bench(['--backends', 'webgpu', '--libs', 'carousel', '--only', 'GEMM-4096', '--webgpu-gemm', 'blocked']);
    assert.deepEqual(rows.filter((r) => r.metric === 'gemm_kernel').map((r) => r.unit), ['blocked']);
    assert.ok(rows.some((r) => r.bench === 'GEMM-4096' && r.metric === 'gflops' && (r.value ?? 0) > 0));
    assert.throws(() => parseArgs(['--webgpu-gemm', 'fast']), /--webgpu-gemm: expected auto, blocked, subgroups or tiled, got 'fast'/);
    assert.equal(parseArgs([]).webgpuGemm, null);
  });
});

describe('GPU-only benches stay out of the CPU bench', () => {
  it('--only accepts B5-big and GEMM-4096; a CPU backend never runs them', () => {
    assert.deepEqual(selectBenches('b5-big,GEMM-4096'), ['B5-big', 'GEMM-4096']);
    assert.ok(parseArgs([]).only.includes('B5-big'));
    const { rows } = bench(['--backends', 'reference', '--libs', 'carousel', '--only', 'B1,B5-big,GEMM-4096']);
    assert.ok(rows.some((r) => r.bench === 'B1' && r.metric === 'time'), 'B1 ran on the CPU');
    assert.deepEqual(rows.filter((r) => r.bench === 'B5-big' || r.bench === 'GEMM-4096'), []);
  });
});
