/**
 * The markdown report: one table of numbers (a column per library/backend/threads), one of
 * ratios against Carousel's best and the issue's targets, the memory comparison, and every
 * skip with its reason.
 */
import { BENCHES, type Result } from './types.js';
import { CLASSIC_NOTES } from './suites/classic.js';
import { gpuReport, isGpuRow } from './report-gpu.js';

/** The issue's targets for Carousel (and the peers' numbers quoted there, for reference). */
export const TARGETS: Record<string, { text: string; max?: number; unit?: string }> = {
  'B1': { text: '<= 150 ms, >= 80x TF.js cpu', max: 150, unit: 'ms' },
  'B1-small': { text: '<= 0.3 ms', max: 0.3, unit: 'ms' },
  'B2-256': { text: '<= 25 us', max: 25, unit: 'us' },
  'B2-1024': { text: '<= 200 us', max: 200, unit: 'us' },
  'B3': { text: '<= 20 ms', max: 20, unit: 'ms' },
  'B4': { text: '<= 3 ms', max: 3, unit: 'ms' },
  'GEMM': { text: '>= 70% of the SIMD peak measured (relaxed SIMD where it runs)' },
  'B1-memory': { text: '0 allocations/step after the first; peak <= PyTorch' },
};

const key = (r: Result) => `${r.lib}|${r.backend}|${r.threads}`;
const label = (k: string) => { const [lib, be, t] = k.split('|'); return `${lib} ${be} t${t}`; };
const threadsOf = (k: string) => Number(k.split('|')[2]);

/**
 * Why a peer column computes something else than Carousel does, or null for a like-for-like peer.
 * Those columns stay in the times table and out of the ratios: the classic libraries run the
 * nearest configuration they can express, and PyTorch on OpenBLAS's generic kernel (a CPU that
 * OpenBLAS does not recognise) is not what PyTorch gives on a machine it knows.
 */
export function notEquivalent(k: string): string | null {
  const [lib, be] = k.split('|');
  if (lib in CLASSIC_NOTES) return 'another configuration (see the notes)';
  if (lib === 'pytorch') {
    const kernel = /^cpu\/[^:]+:(.+)$/.exec(be)?.[1]; // 'cpu/openblas:Haswell'; 'cpu/blas?' when threadpoolctl found no BLAS
    if (kernel === undefined) return 'no optimised BLAS found';
    if (/^(prescott|generic|\?)$/i.test(kernel)) return 'OpenBLAS\'s generic kernel';
  }
  return null;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1000) return v.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function find(rows: readonly Result[], bench: string, k: string, metric: string): Result | undefined {
  return rows.find((r) => r.bench === bench && key(r) === k && r.metric === metric);
}

/** The headline time of a cell (measured or extrapolated), if any. */
function headline(rows: readonly Result[], bench: string, k: string): { v: number; unit: string; extrap: boolean } | null {
  const t = find(rows, bench, k, 'time') ?? find(rows, bench, k, 'time_extrapolated');
  if (t && t.value !== null) return { v: t.value, unit: t.unit, extrap: t.metric === 'time_extrapolated' };
  return null;
}

function cell(rows: readonly Result[], bench: string, k: string): string {
  if (bench === 'GEMM') {
    const g = find(rows, bench, k, 'gflops');
    if (!g || g.value === null) return find(rows, bench, k, 'skipped') ? 'skip' : '';
    const p = find(rows, bench, k, 'fraction_of_peak');
    return `${fmt(g.value)} GFLOP/s${p?.value != null ? ` (${fmt(p.value)}% of peak)` : ''}`;
  }
  const h = headline(rows, bench, k);
  if (!h) return find(rows, bench, k, 'skipped') ? 'skip' : '';
  const m = h.extrap ? 'time_extrapolated' : 'time';
  const lo = find(rows, bench, k, `${m}_min`)?.value, hi = find(rows, bench, k, `${m}_max`)?.value;
  const n = find(rows, bench, k, 'reps')?.value;
  const spread = lo != null && hi != null ? ` (${fmt(lo)}–${fmt(hi)}, n=${n})` : '';
  return `${h.extrap ? '~' : ''}${fmt(h.v)}${spread}`;
}

export function report(all: readonly Result[], meta: string[], opts: { targets: boolean } = { targets: true }): string {
  const out: string[] = [...meta, ''];
  // The CPU tables; the GPU suites (webgpu, PyTorch CUDA, TF.js WebGPU) have their own section (bench/report-gpu.ts).
  const rows = all.filter((r) => !isGpuRow(r));
  const timed = BENCHES.filter((b) => b !== 'B1-memory' && rows.some((r) => r.bench === b));
  const cols = [...new Set(rows.filter((r) => timed.includes(r.bench as never)).map(key))];
  const units: Record<string, string> = { 'B1': 'ms/step', 'B1-small': 'ms/step', 'B2-256': 'us/step', 'B2-1024': 'us/step', 'B3': 'ms/call', 'B4': 'ms/call', 'GEMM': 'GFLOP/s' };

  const cpuStart = out.length;
  out.push('### Times: median (min–max, repetitions); ~ = extrapolated from a measured fraction', '');
  out.push(`| bench | unit | ${cols.map(label).join(' | ')} |`);
  out.push(`|---|---|${cols.map(() => '---').join('|')}|`);
  for (const b of timed) out.push(`| ${b} | ${units[b]} | ${cols.map((c) => cell(rows, b, c)).join(' | ')} |`);

  // Ratios: Carousel's best configuration at each peer's thread count against that peer; < 1 means
  // Carousel takes less time. Peers that compute another function are left out (notEquivalent).
  const carousel = cols.filter((c) => c.startsWith('carousel|'));
  const others = cols.filter((c) => !c.startsWith('carousel|'));
  const peers = others.filter((c) => notEquivalent(c) === null);
  out.push('', '### Carousel vs peers and targets: ratio = Carousel time / peer time (< 1: Carousel faster), '
    + 'Carousel\'s best configuration at the peer\'s thread count', '');
  const pc = (xs: string[]) => xs.map((x) => ` ${x} |`).join('');
  out.push(`| bench | Carousel best | target | meets target |${pc(peers.map(label))}`);
  out.push(`|---|---|---|---|${pc(peers.map(() => '---'))}`);
  const bestTime = (b: string, threads?: number) => carousel.filter((c) => threads === undefined || threadsOf(c) === threads)
    .map((c) => ({ c, h: headline(rows, b, c) })).filter((x) => x.h && !x.h.extrap).sort((x, y) => x.h!.v - y.h!.v)[0];
  const bestGemm = (threads?: number) => carousel.filter((c) => threads === undefined || threadsOf(c) === threads)
    .map((c) => ({ c, g: find(rows, 'GEMM', c, 'gflops')?.value ?? null, f: find(rows, 'GEMM', c, 'fraction_of_peak')?.value ?? null }))
    .filter((x) => x.g !== null).sort((x, y) => y.g! - x.g!)[0];
  for (const b of timed) {
    if (b === 'GEMM') {
      const best = bestGemm();
      const ratios = peers.map((p) => {
        const g = find(rows, b, p, 'gflops')?.value, mine = bestGemm(threadsOf(p));
        return mine && g ? `${fmt(mine.g! / g)}x peer GFLOP/s` : '–';
      });
      const meets = !opts.targets ? 'n/a (not the issue\'s sizes)' : best?.f != null ? (best.f >= 70 ? 'yes' : 'no') : 'n/a (no peak estimate)';
      out.push(`| ${b} | ${best ? `${fmt(best.g!)} GFLOP/s (${label(best.c)})${best.f != null ? `, ${fmt(best.f)}% of peak` : ''}` : '–'} | ${TARGETS[b].text} | ${meets} |${pc(ratios)}`);
      continue;
    }
    const best = bestTime(b);
    const t = TARGETS[b];
    let meets = !opts.targets ? 'n/a (not the issue\'s sizes)' : best && t.max !== undefined ? (best.h!.v <= t.max ? 'yes' : 'no') : '–';
    const ratios = peers.map((p) => {
      const h = headline(rows, b, p), mine = bestTime(b, threadsOf(p));
      if (!mine || !h) return '–';
      return `${h.extrap ? '~' : ''}${fmt(mine.h!.v / h.v)}`;
    });
    // Where the bench measured this machine's floor for Carousel's best configuration (the SIMD
    // peak, the memory bandwidth), say it: a target below it cannot be met by any kernel here.
    const floor = best ? rows.find((r) => r.bench === b && key(r) === best.c && r.metric.startsWith('floor_')) : undefined;
    if (floor && floor.value !== null && Number.isFinite(floor.value)) {
      meets += `; floor here ${fmt(floor.value)} ${floor.unit} (${floor.metric === 'floor_simd_peak' ? 'its multiply-adds at the SIMD peak' : 'reading its weights once at the measured bandwidth'})`;
    }
    if (b === 'B1' && best && opts.targets) {
      const tf = headline(rows, b, peers.find((p) => p.startsWith('tfjs|cpu|')) ?? '');
      if (tf) {
        const x = tf.v / best.h!.v;
        meets += `; ${fmt(x)}x faster than TF.js cpu (${x >= 80 ? 'yes' : 'no'})`;
      }
      // Issue 11: at most 1.0x PyTorch with its best OpenBLAS kernel, at the same thread count.
      const torch = peers.filter((p) => p.startsWith('pytorch|')).map((p) => ({ p, h: headline(rows, b, p), mine: bestTime(b, threadsOf(p)) }))
        .filter((x) => x.h && x.mine).map((x) => ({ ...x, r: x.mine!.h!.v / x.h!.v }));
      for (const x of torch) meets += `; ${fmt(x.r)}x ${label(x.p)} (<= 1.0: ${x.r <= 1 ? 'yes' : 'no'})`;
    }
    out.push(`| ${b} | ${best ? `${fmt(best.h!.v)} ${best.h!.unit} (${label(best.c)})` : '–'} | ${t.text} | ${meets} |${pc(ratios)}`);
  }
  const left = others.filter((c) => notEquivalent(c) !== null);
  if (left.length) out.push('', `Not in the ratios (times above only): ${left.map((c) => `${label(c)} (${notEquivalent(c)})`).join('; ')}.`);
  if (!timed.length) out.length = cpuStart; // a GPU-only run: no CPU tables

  // Scaling: each Carousel configuration's time at its fewest threads over its time at each count.
  const lines: string[] = [];
  for (const be of [...new Set(carousel.map((c) => c.split('|')[1]))]) {
    const mine = carousel.filter((c) => c.split('|')[1] === be).sort((x, y) => threadsOf(x) - threadsOf(y));
    if (mine.length < 2) continue;
    for (const b of timed) {
      if (b === 'GEMM') continue;
      const base = headline(rows, b, mine[0]);
      if (!base || base.extrap) continue;
      const parts = mine.slice(1).map((c) => { const h = headline(rows, b, c); return h && !h.extrap ? `t${threadsOf(c)} ${fmt(base.v / h.v)}x` : null; }).filter(Boolean);
      if (parts.length) lines.push(`| ${b} | carousel ${be} | ${parts.join(', ')} |`);
    }
  }
  if (lines.length) {
    out.push('', '### Scaling: speed-up over the fewest threads measured (time at t1 / time at tN)', '', '| bench | configuration | speed-up |', '|---|---|---|', ...lines);
  }

  out.push(...quantSection(rows, opts.targets));

  const mem = rows.filter((r) => r.bench === 'B1-memory' && r.metric !== 'skipped');
  if (mem.length) {
    const mcols = [...new Set(mem.map(key))];
    const metrics: [string, string][] = [['allocs_per_step', 'allocations of new memory per step (steps 2-6)'],
      ['handouts_per_step', 'storages handed out per step, reused blocks included (steps 2-6)'], ['handout_bytes_per_step', 'bytes handed out per step (steps 2-6)'],
      ['peak_rss_delta_first_step', 'peak RSS growth, first step (MiB)'], ['peak_rss_delta', 'peak RSS growth, 6 steps (MiB)'], ['rss_baseline', 'RSS after setup (MiB)']];
    out.push('', `### B1-memory (B1 training step; target: ${TARGETS['B1-memory'].text})`, '');
    out.push(`| metric | ${mcols.map(label).join(' | ')} |`, `|---|${mcols.map(() => '---').join('|')}|`);
    for (const [m, text] of metrics) {
      out.push(`| ${text} | ${mcols.map((c) => { const v = find(mem, 'B1-memory', c, m)?.value; return v == null ? 'n/a' : fmt(v); }).join(' | ')} |`);
    }
    const torchCol = mcols.find((c) => c.startsWith('pytorch|'));
    const torchPeak = torchCol ? find(mem, 'B1-memory', torchCol, 'peak_rss_delta')?.value ?? null : null;
    if (opts.targets) {
      out.push(`| meets target | ${mcols.map((c) => {
        if (!c.startsWith('carousel|')) return '';
        const allocs = find(mem, 'B1-memory', c, 'allocs_per_step')?.value;
        const peak = find(mem, 'B1-memory', c, 'peak_rss_delta')?.value;
        const a = allocs === 0 ? 'allocations: yes' : 'allocations: no';
        const p = peak == null || torchPeak === null ? 'peak: n/a (no PyTorch number)' : `peak: ${peak <= torchPeak ? 'yes' : 'no'}`;
        return `${a}; ${p}`;
      }).join(' | ')} |`);
    }
    out.push('', 'Allocations are counted for Carousel: on wasm, the blocks its allocator takes from new memory rather than from a '
      + 'free list (a step in tidy() frees its blocks at its end, so the next step is handed the same ones again); on a backend without '
      + 'that counter, every storage handed out. PyTorch\'s allocator is not instrumented (n/a). '
      + 'Peak RSS growth is the rise of the process\'s high-water mark over its level after setup, each library in a fresh process.');
  }

  out.push(...gpuReport(all, opts));

  const skips = all.filter((r) => r.metric === 'skipped');
  if (skips.length) {
    out.push('', '### Not measured', '');
    for (const s of skips) out.push(`- ${s.bench}, ${label(key(s))}: ${s.unit}`);
  }
  const notes = all.filter((r) => r.metric === 'steps_per_rep' || r.metric === 'sequences_per_rep' || r.metric === 'max_abs_diff_vs_carousel' || r.metric === 'max_abs_diff_vs_carousel_int8' || r.metric === 'params');
  const classic = [...new Set(rows.map((r) => r.lib).filter((l) => l in CLASSIC_NOTES))];
  if (notes.length || classic.length) {
    out.push('', '### Notes', '');
    for (const l of classic) out.push(`- ${l}: nearest configuration it can express: ${CLASSIC_NOTES[l]}.`);
    for (const n of notes) {
      const what = n.metric === 'max_abs_diff_vs_carousel' ? 'max |output - Carousel output| on a shared-weights check'
        : n.metric === 'max_abs_diff_vs_carousel_int8' ? 'max |output - Carousel int8 output| on a shared-int8-weights check'
        : n.metric === 'params' ? 'trainable weights/connections' : n.metric.replace(/_/g, ' ');
      out.push(`- ${n.bench}, ${label(key(n))}: ${what} = ${fmt(n.value ?? NaN)}`);
    }
  }
  const seen = new Set<string>();
  const info = all.filter((r) => {
    if (r.bench !== 'info') return false;
    const k = `${key(r)}|${r.metric}|${r.unit}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  if (info.length) {
    out.push('', '### Environment', '');
    for (const i of info) out.push(`- ${label(key(i))}: ${i.metric} = ${i.unit}${i.metric === 'blas' ? ` (BLAS threads ${i.value})` : ''}`);
  }
  return out.join('\n');
}

/** The quantized rows (bench/suites/quant.ts, ort-quant.ts), the f32 bench each stands beside, and issue 11's targets. */
export const QUANT_BENCHES: Record<string, { base: string; unit: string; target: string; maxFp32?: number; beatDynQuant?: boolean }> = {
  'B2-1024-int8': { base: 'B2-1024', unit: 'us/step', target: '<= 0.5x ORT fp32, < 1x ORT DynamicQuantizeLSTM', maxFp32: 0.5, beatDynQuant: true },
  'B2-1024-bf16': { base: 'B2-1024', unit: 'us/step', target: '–' },
  'B3-int8': { base: 'B3', unit: 'ms/call', target: '<= 1.0x ORT fp32', maxFp32: 1 },
};

/**
 * Quantized inference: each quantized row's times (Carousel's int8 / bf16, ONNX Runtime's
 * DynamicQuantizeLSTM) beside ONNX Runtime fp32 on the f32 bench it quantizes, then per thread
 * count Carousel's best quantized time over each ONNX Runtime time at that count, against the targets.
 */
function quantSection(rows: readonly Result[], targets: boolean): string[] {
  const names = Object.keys(QUANT_BENCHES).filter((b) => rows.some((r) => r.bench === b));
  if (!names.length) return [];
  const isOrt = (c: string) => c.startsWith('onnxruntime|cpu|');
  const isDq = (c: string) => c.startsWith('onnxruntime|cpu-DynamicQuantizeLSTM|');
  const cols = [...new Set(rows.filter((r) => names.includes(r.bench) && r.bench !== 'info').map(key))];
  const ortCols = [...new Set(rows.filter((r) => Object.values(QUANT_BENCHES).some((q) => q.base === r.bench)).map(key))].filter(isOrt);
  const all = [...cols.filter((c) => c.startsWith('carousel|')), ...cols.filter(isDq), ...ortCols];
  const colLabel = (c: string) => isOrt(c) ? `${label(c)} (fp32)` : label(c);
  const out = ['', '### Quantized inference: median (min–max, repetitions); ONNX Runtime fp32 runs the f32 bench (same weights, unquantized)', '',
    `| bench | unit | ${all.map(colLabel).join(' | ')} |`, `|---|---|${all.map(() => '---').join('|')}|`];
  for (const b of names) {
    const q = QUANT_BENCHES[b];
    out.push(`| ${b} | ${q.unit} | ${all.map((c) => cell(rows, isOrt(c) ? q.base : b, c)).join(' | ')} |`);
  }
  const lines: string[] = [];
  const threads = [...new Set(all.map(threadsOf))].sort((a, b) => a - b);
  for (const b of names) {
    const q = QUANT_BENCHES[b];
    for (const t of threads) {
      const mine = all.filter((c) => c.startsWith('carousel|') && threadsOf(c) === t)
        .map((c) => ({ c, h: headline(rows, b, c) })).filter((x) => x.h && !x.h.extrap).sort((x, y) => x.h!.v - y.h!.v)[0];
      if (!mine) continue;
      const fp = ortCols.filter((c) => threadsOf(c) === t).map((c) => headline(rows, q.base, c)).find((h) => h && !h.extrap);
      const dqCol = all.find((c) => isDq(c) && threadsOf(c) === t);
      const dq = dqCol ? headline(rows, b, dqCol) : null;
      const rFp = fp ? mine.h!.v / fp.v : null, rDq = dq && !dq.extrap ? mine.h!.v / dq.v : null;
      const verdicts: string[] = [];
      if (targets && q.maxFp32 !== undefined && rFp !== null) verdicts.push(`fp32: ${rFp <= q.maxFp32 ? 'yes' : 'no'}`);
      if (targets && q.beatDynQuant && rDq !== null) verdicts.push(`DynamicQuantizeLSTM: ${rDq < 1 ? 'yes' : 'no'}`);
      // The lowest floor the bench measured for this thread count (B3-int8: its multiply-adds at a
      // build's int8 peak): a target below it cannot be met by any kernel of these builds here.
      const floor = rows.filter((r) => r.bench === b && r.lib === 'carousel' && r.threads === t && r.metric === 'floor_simd_peak' && r.value !== null && Number.isFinite(r.value))
        .sort((x, y) => x.value! - y.value!)[0];
      if (floor) verdicts.push(`floor here ${fmt(floor.value!)} ${q.unit}${fp ? ` = ${fmt(floor.value! / fp.v)}x ORT fp32` : ''} (its multiply-adds at ${label(key(floor))}'s int8 peak)`);
      lines.push(`| ${b} | t${t} | ${fmt(mine.h!.v)} (${label(mine.c)}) | ${rFp !== null ? fmt(rFp) : '–'} | ${rDq !== null ? fmt(rDq) : '–'} | ${q.target} | ${!targets ? 'n/a (not the issue\'s sizes)' : verdicts.join('; ') || '–'} |`);
    }
  }
  if (lines.length) {
    out.push('', '| bench | threads | Carousel best | x ORT fp32 | x ORT DynamicQuantizeLSTM | target | meets target |', '|---|---|---|---|---|---|---|', ...lines);
  }
  return out;
}
