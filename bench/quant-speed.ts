/**
 * `node dist/bench/quant-speed.js [--threads 2] [--rounds 5] [--reps 5] [--only B3|B2]`: B3 f32 against B3-int8 (and
 * B2-1024 f32 / int8 / bf16), alternated round by round in one process on the wasm backend, with
 * wall time and the process's CPU time (process.cpuUsage: user + system over all threads) per
 * call. CPU time shows work a thread pool burns waiting (spinning) that wall time hides on an
 * idle machine and pays for on a loaded one. Medians over the rounds.
 */
import { performance } from 'node:perf_hooks';
import '../src/backends.js';
import { noGrad } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { LSTM } from '../src/nn/lstm.js';
import { quantizeLayer } from '../src/quant/model.js';
import type { WeightScheme } from '../src/quant/scheme.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { tidy } from '../src/tensor/tidy.js';
import { carouselBackend } from './suites/carousel.js';
import { FULL_SIZES } from './configs.js';
import { intArg, uniformArray } from './inputs.js';

function b3(be: Backend, scheme: WeightScheme | null): () => void {
  const s = FULL_SIZES.B3, rng = new Rng(3);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  lstm.eval();
  const x = tensor(uniformArray(rng, s.length * s.batch * s.input), [s.length, s.batch, s.input], { backend: be });
  const m = scheme ? quantizeLayer(lstm, { weights: scheme }) : lstm;
  return () => tidy(() => noGrad(() => { m.forward(x); }));
}

function b2(be: Backend, scheme: WeightScheme | null): () => void {
  const s = FULL_SIZES['B2-1024'], rng = new Rng(2);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  lstm.eval();
  const xs: Tensor[] = [];
  for (let t = 0; t < s.steps; t++) xs.push(tensor(uniformArray(rng, s.input), [1, s.input], { backend: be }));
  const stream = scheme ? quantizeLayer(lstm, { weights: scheme }).stream(1) : lstm.stream(1);
  return () => noGrad(() => { stream.reset(); for (const x of xs) stream.step(x); });
}

async function main(): Promise<void> {
  const threads = intArg('--threads', 2), rounds = intArg('--rounds', 5), reps = intArg('--reps', 5);
  const be = await carouselBackend('wasm', threads);
  if (typeof be === 'string') throw new Error(be);
  await (be as Backend & { ready(): Promise<void> }).ready();
  const cases: [string, () => void, number][] = [
    ['B3 f32', b3(be, null), 1], ['B3-int8', b3(be, 'int8'), 1],
    ['B2-1024 f32', b2(be, null), 1000 / FULL_SIZES['B2-1024'].steps],
    ['B2-1024-int8', b2(be, 'int8'), 1000 / FULL_SIZES['B2-1024'].steps],
    ['B2-1024-bf16', b2(be, 'bf16'), 1000 / FULL_SIZES['B2-1024'].steps],
  ];
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
  if (only !== null && only !== 'B3' && only !== 'B2') throw new Error(`--only: expected B3 or B2, got '${only}'`);
  if (only) cases.splice(0, cases.length, ...cases.filter(([name]) => name.startsWith(only)));
  const wall = new Map<string, number[]>(), cpu = new Map<string, number[]>();
  for (const [name, run] of cases) { run(); run(); wall.set(name, []); cpu.set(name, []); } // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, run, scale] of cases) {
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < reps; i++) run();
      const dt = (performance.now() - t0) / reps, c = process.cpuUsage(c0);
      wall.get(name)!.push(dt * scale);
      cpu.get(name)!.push((c.user + c.system) / 1000 / reps * scale);
    }
  }
  const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
  process.stdout.write(`wasm-${(be as Backend & { build: { build: string } }).build.build} t${threads}, ${rounds} alternated rounds of ${reps} calls (medians; B3 ms/call, B2 us/step)\n`);
  for (const [name] of cases) {
    process.stdout.write(`${name.padEnd(14)} wall ${med(wall.get(name)!).toFixed(2).padStart(8)}  cpu ${med(cpu.get(name)!).toFixed(2).padStart(8)}  ` +
      `(wall ${wall.get(name)!.map((v) => v.toFixed(1)).join(' ')})\n`);
  }
  process.exit(0);
}

main().catch((e) => { process.stderr.write(`quant-speed: ${(e as Error).message}\n`); process.exit(1); });
