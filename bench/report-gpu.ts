/**
 * The GPU part of the report (issue 10): Carousel on webgpu beside PyTorch on CUDA (cuDNN, fp32,
 * TF32 off) and TF.js on its WebGPU backend, with the issue's targets as ratios to PyTorch CUDA
 * in the same run. Rows from GPU suites are those whose backend is webgpu or cuda/<device>.
 */
import { GPU_BENCHES, type Result } from './types.js';

export const isGpuRow = (r: Result): boolean => r.backend === 'webgpu' || r.backend.startsWith('cuda');

/** Issue 10's targets: Carousel webgpu time / PyTorch CUDA time at most `maxVsCuda` (GEMM: GFLOP/s at least `minVsCuda` of it). */
export const GPU_TARGETS: Record<string, { maxVsCuda?: number; minVsCuda?: number; tfjsTimes?: number }> = {
  'B1': { maxVsCuda: 1.0, tfjsTimes: 100 },
  'B3': { maxVsCuda: 1.5, tfjsTimes: 100 },
  'B5-big': { maxVsCuda: 1.5 },
  'GEMM-4096': { minVsCuda: 0.7 },
};

const UNITS: Record<string, string> = { 'B1': 'ms/step', 'B2-1024': 'us/step', 'B3': 'ms/call', 'B4': 'ms/call', 'B5-big': 'ms/step', 'GEMM-4096': 'GFLOP/s' };
const key = (r: Result) => `${r.lib} ${r.backend}`;
const isGemm = (b: string) => b.startsWith('GEMM');

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** The headline of a cell: the median time, or GFLOP/s for a GEMM. */
function value(rows: readonly Result[], bench: string, col: string): number | null {
  const r = rows.find((x) => x.bench === bench && key(x) === col && x.metric === (isGemm(bench) ? 'gflops' : 'time'));
  return r?.value ?? null;
}

/** Markdown lines of the GPU section, or none when no GPU suite ran. */
export function gpuReport(rows: readonly Result[], opts: { targets: boolean }): string[] {
  const gpu = rows.filter(isGpuRow);
  if (!gpu.length) return [];
  const benches = GPU_BENCHES.filter((b) => gpu.some((r) => r.bench === b));
  const cols = [...new Set(gpu.filter((r) => r.bench !== 'info').map(key))];
  const out = ['', '### GPU: median (min–max, repetitions); GEMM in GFLOP/s', ''];
  out.push(`| bench | unit | ${cols.join(' | ')} |`, `|---|---|${cols.map(() => '---').join('|')}|`);
  for (const b of benches) {
    out.push(`| ${b} | ${UNITS[b]} | ${cols.map((c) => {
      const v = value(gpu, b, c);
      if (v === null) return gpu.some((r) => r.bench === b && key(r) === c && r.metric === 'skipped') ? 'skip' : '';
      if (isGemm(b)) return fmt(v);
      const lo = gpu.find((r) => r.bench === b && key(r) === c && r.metric === 'time_min')?.value;
      const hi = gpu.find((r) => r.bench === b && key(r) === c && r.metric === 'time_max')?.value;
      const n = gpu.find((r) => r.bench === b && key(r) === c && r.metric === 'reps')?.value;
      return lo != null && hi != null ? `${fmt(v)} (${fmt(lo)}–${fmt(hi)}, n=${n})` : fmt(v);
    }).join(' | ')} |`);
  }
  const mine = cols.find((c) => c === 'carousel webgpu');
  const cuda = cols.find((c) => c.startsWith('pytorch cuda'));
  const tfjs = cols.find((c) => c === 'tfjs webgpu');
  out.push('', '### GPU targets: Carousel webgpu against PyTorch CUDA (cuDNN fp32) and TF.js WebGPU in this run', '');
  out.push('| bench | Carousel / PyTorch CUDA | target | meets | TF.js WebGPU / Carousel | target | meets |', '|---|---|---|---|---|---|---|');
  for (const b of benches) {
    const t = GPU_TARGETS[b] ?? {};
    const m = mine ? value(gpu, b, mine) : null, c = cuda ? value(gpu, b, cuda) : null, f = tfjs ? value(gpu, b, tfjs) : null;
    let vsCuda = '–', cudaTarget = 'none (reported)', cudaMeets = '–';
    if (m !== null && c !== null) {
      const r = m / c; // GEMM: a ratio of GFLOP/s (higher is better); times: lower is better
      vsCuda = `${fmt(r)}x`;
      if (t.maxVsCuda !== undefined) { cudaTarget = `<= ${t.maxVsCuda}x`; cudaMeets = opts.targets ? (r <= t.maxVsCuda ? 'yes' : 'no') : 'n/a (not the issue\'s sizes)'; }
      if (t.minVsCuda !== undefined) { cudaTarget = `>= ${t.minVsCuda}x GFLOP/s`; cudaMeets = opts.targets ? (r >= t.minVsCuda ? 'yes' : 'no') : 'n/a (not the issue\'s sizes)'; }
    } else if (t.maxVsCuda !== undefined || t.minVsCuda !== undefined) {
      cudaTarget = t.maxVsCuda !== undefined ? `<= ${t.maxVsCuda}x` : `>= ${t.minVsCuda}x GFLOP/s`;
      cudaMeets = 'not measured';
    }
    let vsTf = '–', tfTarget = 'none', tfMeets = '–';
    if (t.tfjsTimes !== undefined) { tfTarget = `>= ${t.tfjsTimes}x`; tfMeets = 'not measured'; }
    if (m !== null && f !== null) {
      const r = isGemm(b) ? m / f : f / m;
      vsTf = `${fmt(r)}x`;
      if (t.tfjsTimes !== undefined) tfMeets = opts.targets ? (r >= t.tfjsTimes ? 'yes' : 'no') : 'n/a (not the issue\'s sizes)';
    }
    out.push(`| ${b} | ${vsCuda} | ${cudaTarget} | ${cudaMeets} | ${vsTf} | ${tfTarget} | ${tfMeets} |`);
  }
  return out;
}
