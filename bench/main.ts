/**
 * `npm run bench`: Carousel and its peers side by side, in one run on this machine.
 *
 *   npm run bench -- [--json FILE] [--quick] [--only B1,B2,...] [--libs carousel,pytorch,...]
 *                    [--backends reference,wasm] [--threads 1,2,4,8,16] [--peer-threads 2]
 *                    [--budget SECONDS] [--tiny] [--quiet]
 *
 * Each suite (a library on one backend with one thread count) runs in its own child process,
 * one after the other, never two at once, with a deadline taken from the run's time budget;
 * suites stream their rows per bench, so a suite killed on its deadline keeps what it finished.
 * Prints a markdown report; --json FILE writes every row as a JSON array of
 * {bench, lib, backend, threads, metric, value, unit}.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { FULL_SIZES, FULL_TIMING, QUICK_SIZES, QUICK_TIMING, TINY_SIZES } from './configs.js';
import { report } from './report.js';
import { PYTHON, TORCH_SCRIPT, torchCudaUnavailable, torchUnavailable, torchVariants } from './suites/torch.js';
import { parseArgs, USAGE, type Options } from './args.js';
import { GPU_BENCHES, GPU_ONLY_BENCHES, isGpuBackend, RESULT_MARK, type BenchName, type Result, type SuiteSpec } from './types.js';
import { versionOf } from './optional.js';

/** A planned child process: a node suite, or a PyTorch run. */
interface Job {
  name: string;
  spec: SuiteSpec;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Rows to report if the job cannot run at all. */
  unavailable?: string;
}

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

function plan(o: Options, backends: string[], relaxedRuns: boolean): Job[] {
  const sizes = o.tiny ? TINY_SIZES : o.quick ? QUICK_SIZES : FULL_SIZES;
  const timing = o.quick || o.tiny ? QUICK_TIMING : FULL_TIMING;
  const want = (lib: string) => !o.libs || o.libs.includes(lib);
  let timed = o.only.filter((b) => b !== 'B1-memory');
  const memory = o.only.includes('B1-memory');
  const jobs: Job[] = [];
  const node = (suite: string, backend: string, threads: number, benches: BenchName[], env?: NodeJS.ProcessEnv): void => {
    if (!benches.length) return;
    const spec: SuiteSpec = { suite, backend, threads, benches, sizes, timing };
    const build = env?.CAROUSEL_WASM_BUILD ? ` (${env.CAROUSEL_WASM_BUILD})` : '';
    jobs.push({ name: `${suite}/${backend}${build}/t${threads}${benches.length === 1 ? ` ${benches[0]}` : ''}`, spec, cmd: process.execPath,
      args: ['--expose-gc', CHILD, JSON.stringify(spec)], env: env && { ...process.env, ...env } });
  };
  // Order = priority, since a run that spends its budget skips what is left: Carousel's fast
  // backend, then the peers with the issue's target numbers, memory, and last the oracle backend
  // and the classic JS libraries (the slowest to run).
  // 'composed' (the reference core with every optional kernel composed) is the core's executable
  // spec, not a configuration anyone would run for speed: timed only when --backends names it.
  // GPU backends run the GPU benches once (threads mean nothing there), beside the GPU peers;
  // the CPU peers run when a CPU backend is benched. B5-big and GEMM-4096 never run on a CPU.
  const gpuTimed = timed.filter((b) => (GPU_BENCHES as readonly string[]).includes(b));
  const gpus = backends.filter(isGpuBackend);
  if (gpus.length) {
    if (want('carousel')) for (const be of gpus) node('carousel', be, 1, gpuTimed, o.webgpuGemm ? { CAROUSEL_BENCH_WEBGPU_GEMM: o.webgpuGemm } : undefined);
    if (want('pytorch')) {
      const spec: SuiteSpec = { suite: 'pytorch', backend: 'cuda', threads: 1, benches: gpuTimed, sizes, timing };
      if (gpuTimed.length) jobs.push({ name: 'pytorch/cuda', spec, cmd: PYTHON, args: [TORCH_SCRIPT, JSON.stringify(spec)], unavailable: torchCudaUnavailable() ?? undefined });
    }
    if (want('tfjs')) node('tfjs', 'webgpu', 1, gpuTimed);
  }
  backends = backends.filter((b) => !isGpuBackend(b));
  if (!backends.length) return jobs;
  timed = timed.filter((b) => !(GPU_ONLY_BENCHES as readonly string[]).includes(b));
  const fast = backends.filter((b) => b !== 'reference' && (b !== 'composed' || o.backends !== null));
  if (want('carousel')) for (const be of fast) for (const t of o.threads) node('carousel', be, t, timed);
  const torchWhy = want('pytorch') ? torchUnavailable() : null;
  const torch = (label: string, env: NodeJS.ProcessEnv | undefined, threads: number, benches: BenchName[]): void => {
    if (!benches.length) return;
    const spec: SuiteSpec = { suite: 'pytorch', backend: 'cpu', threads, benches, sizes, timing, variant: label };
    jobs.push({ name: `pytorch/${label}/t${threads}${benches.length === 1 ? ` ${benches[0]}` : ''}`, spec, cmd: PYTHON,
      args: [TORCH_SCRIPT, JSON.stringify(spec)], unavailable: torchWhy ?? undefined,
      env: { ...env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) } });
  };
  const [asSet, unset] = torchVariants();
  if (want('pytorch')) for (const t of o.peerThreads) torch(asSet.label, asSet.env, t, timed);
  if (want('onnxruntime')) for (const t of o.peerThreads) node('onnxruntime', 'cpu', t, timed);
  if (want('tfjs')) {
    node('tfjs', 'cpu', 1, timed);
    node('tfjs', 'wasm', Math.max(...o.peerThreads), timed); // runs 1 thread in Node whatever is asked (reported)
  }
  // Memory: each in a fresh process, so peak RSS is this step's and nothing earlier's.
  if (memory) {
    if (want('carousel')) for (const be of fast) node('carousel', be, Math.max(...o.threads), ['B1-memory']);
    if (want('pytorch')) torch(asSet.label, asSet.env, Math.max(...o.peerThreads), ['B1-memory']);
    if (want('carousel') && backends.includes('reference')) node('carousel', 'reference', 1, ['B1-memory']);
  }
  const peerMax = Math.max(...o.peerThreads);
  // The SIMD128 build beside the relaxed-SIMD one (which runs above wherever the engine has it), on
  // the benches whose multiply-adds it changes, at the most threads: what the fused multiply-add buys.
  if (want('carousel') && fast.includes('wasm') && relaxedRuns) {
    node('carousel', 'wasm', Math.max(...o.threads), timed.filter((b) => ['B1', 'B2-1024', 'B3', 'GEMM'].includes(b)), { CAROUSEL_WASM_BUILD: 'simd128' });
  }
  if (want('pytorch')) torch(unset.label, unset.env, peerMax, timed);
  if (want('carousel') && backends.includes('reference')) node('carousel', 'reference', 1, timed);
  for (const lib of ['neataptic', 'brain.js', 'synaptic']) if (want(lib)) node(lib, 'js', 1, timed);
  return jobs;
}

/** Run one job with a deadline; rows arrive per bench on lines starting with RESULT_MARK. */
function runJob(job: Job, deadlineMs: number, quiet: boolean): Promise<Result[]> {
  return new Promise((resolve) => {
    const rows: Result[] = [];
    const child = spawn(job.cmd, job.args, { env: job.env ?? process.env, stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'] });
    let buf = '', timedOut = false, spawnError: string | null = null;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        if (line.startsWith(RESULT_MARK)) rows.push(...(JSON.parse(line.slice(RESULT_MARK.length)) as Result[]));
      }
    });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, Math.max(1000, deadlineMs));
    child.on('error', (e) => { spawnError = e.message; });
    child.on('close', (code) => {
      clearTimeout(timer);
      const s = job.spec;
      const lib = s.suite, backend = rows[0]?.backend ?? s.backend, threads = rows[0]?.threads ?? s.threads;
      for (const b of s.benches) {
        if (rows.some((r) => r.bench === b)) continue;
        const why = timedOut ? `skipped: did not finish within its share of the run's time budget (${(deadlineMs / 1000).toFixed(0)} s)`
          : spawnError ? `failed: ${spawnError}` : `failed: the suite process exited with code ${code} before this bench`;
        rows.push({ bench: b, lib, backend, threads, metric: 'skipped', value: null, unit: why });
      }
      resolve(rows);
    });
  });
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  if (o.help) { process.stdout.write(USAGE + '\n'); return; }
  const started = new Date();
  const load0 = os.loadavg()[0];
  const t0 = performance.now();
  const budgetMs = o.budgetS * 1000;
  // Carousel runs on every CPU backend the package registers unless --backends names some; the
  // GPU bench (webgpu, beside PyTorch CUDA and TF.js WebGPU) runs when --backends names webgpu.
  let backends = o.backends;
  if (!backends) {
    try {
      const entry = '../src/index.js';
      const lib = await import(entry) as { listBackends(): string[] };
      backends = lib.listBackends().filter((b) => !isGpuBackend(b));
    } catch { backends = ['reference', 'wasm']; }
  }
  // Whether the suites' wasm backend runs the relaxed-SIMD build (then the SIMD128 one runs too).
  let relaxedRuns = false;
  if (backends.includes('wasm') && process.env.CAROUSEL_WASM_BUILD !== 'simd128') {
    try {
      const path = '../src/backend/wasm/module.js';
      relaxedRuns = (await import(path) as { kernelBuild(): { build: string } }).kernelBuild().build === 'relaxed';
    } catch { relaxedRuns = false; }
  }
  const jobs = plan(o, backends, relaxedRuns);
  const rows: Result[] = [];
  const cpu = os.cpus();
  rows.push({ bench: 'info', lib: 'machine', backend: 'node', threads: cpu.length, metric: 'cpu', value: cpu.length, unit: `${cpu[0]?.model ?? '?'}, ${cpu.length} cores, node ${process.version}` });
  for (const [i, job] of jobs.entries()) {
    const left = budgetMs - (performance.now() - t0);
    if (job.unavailable || left <= 2000) {
      const why = job.unavailable ?? "skipped: the run's time budget was spent before this suite";
      for (const b of job.spec.benches) rows.push({ bench: b, lib: job.spec.suite, backend: job.spec.backend, threads: job.spec.threads, metric: 'skipped', value: null, unit: why });
      continue;
    }
    // Fair share of what is left, but a suite may use more when earlier ones finished early.
    const share = Math.max(left / (jobs.length - i) * 2.5, 20_000);
    if (!o.quiet) process.stderr.write(`[bench] ${job.name} (deadline ${(Math.min(share, left) / 1000).toFixed(0)} s)\n`);
    const r = await runJob(job, Math.min(share, left), o.quiet);
    if (job.spec.suite === 'pytorch' && job.spec.variant) {
      for (const x of r) if (x.bench === 'info' && x.metric === 'blas') x.unit += ` [run: ${job.spec.variant}]`;
    }
    rows.push(...r);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const meta = [
    `## Carousel benchmark, ${started.toISOString()} (${o.quick ? 'quick' : o.tiny ? 'tiny' : 'full'} run, ${elapsed.toFixed(0)} s)`,
    '',
    `Machine: ${cpu[0]?.model ?? '?'}, ${cpu.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; all fp32.`,
    // The load at the end includes this run's own processes; only the load at the start tells
    // whether others were competing (a build just before adds a little).
    `Load average (1 min) at start ${load0.toFixed(2)}, at end ${os.loadavg()[0].toFixed(2)} (includes this run).${load0 > cpu.length * 0.75
      ? ` **WARNING: other processes were competing for the ${cpu.length} cores; multithreaded runs (OpenMP spin-waits in PyTorch, worker pools) suffer most, and every number is slower and noisier than this machine's best.**` : ''}`,
    `Peers: @tensorflow/tfjs ${versionOf('@tensorflow/tfjs')}, @tensorflow/tfjs-backend-wasm ${versionOf('@tensorflow/tfjs-backend-wasm')}, onnxruntime-node ${versionOf('onnxruntime-node')}, neataptic ${versionOf('neataptic')}, synaptic ${versionOf('synaptic')}, brain.js ${versionOf('brain.js')}.`,
    'Columns are `library backend tThreads` (threads as each library reports using; Carousel\'s wasm backend names its kernel build). Every suite ran alone in its own process.',
    ...(Math.max(...o.threads, ...o.peerThreads) > cpu.length ? [`Thread counts above this machine's ${cpu.length} cores oversubscribe it: those rows measure contention, not scaling.`] : []),
  ];
  process.stdout.write(report(rows, meta, { targets: !o.tiny }) + '\n');
  if (o.json) {
    writeFileSync(o.json, JSON.stringify(rows, null, 1) + '\n');
    if (!o.quiet) process.stderr.write(`[bench] wrote ${rows.length} rows to ${o.json}\n`);
  }
}

main().catch((e) => { process.stderr.write(`bench: ${(e as Error).message}\n`); process.exit(1); });
