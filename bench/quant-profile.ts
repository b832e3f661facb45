/**
 * `node dist/bench/quant-profile.js [--threads 2] [--rounds 7] [--reps 3]`: where B3-int8's time goes
 * (LSTM 64 -> 256, [100, 32, 64], wasm backend): the whole forward against its parts, each timed
 * alone and alternated round by round in one process (a shared machine: compare within one run):
 *   forward     the quantized layer's forward (what the bench's B3-int8 row times)
 *   input-gemm  x W_ih^T + b for all 3200 rows at once (one int8 GEMM, [3200, 64] x [64, 1024])
 *   steps       the 100 fused recurrent steps (int8 GEMM [32, 256] x [256, 1024] and the cell, one handoff each)
 *   step-gemm   the 100 recurrent int8 GEMMs alone (unfused: a handoff each, no cell)
 *   cells       the 100 LSTM cells alone ([32, 256], the float kernel the fused step also runs)
 *   quantize    100 x quantizing h ([32, 256]): a GEMM of one weight row, so the product is negligible
 * Medians over the rounds, ms per forward (the parts: per 100 steps): wall time, and the process's
 * CPU time (user + system over all threads: the work done, which a loaded machine inflates less).
 */
import { performance } from 'node:perf_hooks';
import '../src/backends.js';
import { noGrad } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { LSTM } from '../src/nn/lstm.js';
import { kernels } from '../src/ops/kernels.js';
import { quantizeLayer } from '../src/quant/model.js';
import type { QuantLSTM } from '../src/quant/lstm.js';
import { fusedStep } from '../src/quant/step.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { tidy } from '../src/tensor/tidy.js';
import { carouselBackend } from './suites/carousel.js';
import { FULL_SIZES } from './configs.js';
import { intArg, uniformArray } from './inputs.js';

async function main(): Promise<void> {
  const threads = intArg('--threads', 2), rounds = intArg('--rounds', 7), reps = intArg('--reps', 3);
  const be = await carouselBackend('wasm', threads);
  if (typeof be === 'string') throw new Error(be);
  await (be as Backend & { ready(): Promise<void> }).ready();
  const K = kernels(be), s = FULL_SIZES.B3, rng = new Rng(3), T = s.length, B = s.batch, H = s.hidden, I = s.input, G = 4 * H;
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend: be, rng });
  lstm.eval();
  const xv = uniformArray(rng, T * B * I);
  const x = tensor(xv, [T, B, I], { backend: be });
  const q = quantizeLayer(lstm, { weights: 'int8' }) as QuantLSTM, w = q.weights[0][0];
  const xs = be.upload('f32', xv), gates = be.upload('f32', new Float32Array(T * B * G));
  const h = be.upload('f32', uniformArray(rng, B * H).map((v) => v * 0.5)), c = be.upload('f32', new Float32Array(B * H));
  const hOut = be.alloc('f32', B * H), one = be.alloc('f32', B);
  const step = fusedStep(be)!;
  const cases: [string, () => void][] = [
    ['forward', () => tidy(() => noGrad(() => { q.forward(x); }))],
    ['input-gemm', () => w.wIh.apply(T * B, xs, 0, I, w.bias, gates, 0, G, false)],
    ['steps', () => { for (let t = 0; t < T; t++) step(B, H, h, 0, H, w.wHh, gates, t * B * G, c, 0, c, 0, hOut, 0, H); }],
    ['step-gemm', () => { for (let t = 0; t < T; t++) w.wHh.apply(B, h, 0, H, null, gates, t * B * G, G, true); }],
    ['cells', () => { for (let t = 0; t < T; t++) K.lstmCellForward(B, H, gates, t * B * G, c, 0, c, 0, hOut, 0, H); }],
    ['quantize', () => { for (let t = 0; t < T; t++) K.qgemmInt8(B, 1, H, h, 0, H, w.wHh.data, w.wHh.scales!, null, one, 0, 1, false); }],
  ];
  const times = new Map<string, number[]>(cases.map(([n]) => [n, []])), cpu = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  for (const [, run] of cases) { run(); run(); } // warm-up
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of cases) {
      // The cells read gates the GEMMs keep adding to: reset them so every round computes the same values.
      if (name === 'cells' || name === 'steps') be.fill(gates, 0, T * B * G, 0.1);
      const c0 = process.cpuUsage(), t0 = performance.now();
      for (let i = 0; i < reps; i++) run();
      times.get(name)!.push((performance.now() - t0) / reps);
      const c = process.cpuUsage(c0);
      cpu.get(name)!.push((c.user + c.system) / 1000 / reps);
    }
  }
  const med = (v: number[]) => { const a = [...v].sort((p, q) => p - q); return a.length % 2 ? a[a.length >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2; };
  process.stdout.write(`wasm-${(be as Backend & { build: { build: string } }).build.build} t${threads}, ${rounds} alternated rounds of ${reps} calls (medians, ms)\n`);
  for (const [name] of cases) {
    process.stdout.write(`${name.padEnd(11)} wall ${med(times.get(name)!).toFixed(2).padStart(8)}  cpu ${med(cpu.get(name)!).toFixed(2).padStart(8)}  ` +
      `(wall ${times.get(name)!.map((v) => v.toFixed(1)).join(' ')})\n`);
  }
  process.exit(0);
}

main().catch((e) => { process.stderr.write(`quant-profile: ${(e as Error).message}\n`); process.exit(1); });
