/**
 * ONNX Runtime (onnxruntime-node, CPU execution provider), inference only: B2 streaming with the
 * state fed back as ORT tensors, and B3 batched. The one-node LSTM model is written by
 * bench/onnx.ts from the same weights Carousel uses, and checked against Carousel's output
 * before timing (row 'max_abs_diff_vs_carousel'), so both compute the same function.
 */
import { performance } from 'node:perf_hooks';
import { noGrad } from '../../src/autograd/tape.js';
import { ReferenceBackend } from '../../src/backend/reference/index.js';
import { LSTM } from '../../src/nn/lstm.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';
import { measure, skipRow, timeRows, valueRow, type Origin } from '../measure.js';
import { lstmModel, torchToOnnx, type OnnxLstmWeights } from '../onnx.js';
import { loadOptional } from '../optional.js';
import type { BenchName, Result, SuiteSpec } from '../types.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
}

/** A Carousel LSTM on the reference backend and its weights in ONNX layout. */
function weights(I: number, H: number, seed: number): { lstm: LSTM; w: OnnxLstmWeights } {
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend: new ReferenceBackend(), rng: new Rng(seed) });
  const p = new Map(lstm.namedParameters().map(([n, t]) => [n, t.dataSync() as Float32Array]));
  return { lstm, w: torchToOnnx(H, I, p.get('weight_ih_l0')!, p.get('weight_hh_l0')!, p.get('bias_ih_l0')!, p.get('bias_hh_l0')!) };
}

export async function runOrt(spec: SuiteSpec): Promise<Result[]> {
  const o: Origin = { lib: 'onnxruntime', backend: spec.backend, threads: spec.threads };
  const l = loadOptional('onnxruntime-node');
  if (!l.ok) return spec.benches.map((b) => skipRow(o, b, l.reason));
  const ort = l.mod;
  const opts = {
    executionProviders: ['cpu'], intraOpNumThreads: spec.threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  };
  const out: Result[] = [];
  for (const bench of spec.benches) {
    const t0 = performance.now();
    try { out.push(...await runOne(ort, opts, o, bench, spec)); } catch (e) {
      out.push(skipRow(o, bench, `failed: ${(e as Error).message.split('\n')[0]}`));
    }
    process.stderr.write(`  onnxruntime/t${o.threads} ${bench}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return out;
}

/** ORT's output on a small input vs Carousel's (reference backend) on the same weights. */
async function crossCheck(ort: any, opts: object, I: number, H: number): Promise<number> {
  const T = 5, B = 3;
  const { lstm, w } = weights(I, H, 99);
  const x = randn(new Rng(98), T * B * I);
  const session = await ort.InferenceSession.create(lstmModel(T, B, I, H, w, false), opts);
  const ortY = (await session.run({ X: new ort.Tensor('float32', x, [T, B, I]) })).Y.data as Float32Array;
  const ours = noGrad(() => lstm.forward(tensor(x, [T, B, I], { backend: lstm.backend })).y.dataSync());
  let d = 0;
  for (let i = 0; i < ours.length; i++) d = Math.max(d, Math.abs(ours[i] - ortY[i]));
  await session.release?.();
  return d;
}

async function runOne(ort: any, opts: object, o: Origin, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const t = spec.timing;
  const rng = new Rng(21);
  switch (bench) {
    case 'B2-256': case 'B2-1024': {
      const s = spec.sizes[bench];
      const diff = await crossCheck(ort, opts, s.input, s.hidden);
      const session = await ort.InferenceSession.create(lstmModel(1, 1, s.input, s.hidden, weights(s.input, s.hidden, 2).w, true), opts);
      const xs: any[] = [];
      for (let i = 0; i < s.steps; i++) xs.push(new ort.Tensor('float32', randn(rng, s.input), [1, 1, s.input]));
      const zero = new ort.Tensor('float32', new Float32Array(s.hidden), [1, 1, s.hidden]);
      const stream = (n: number) => async () => {
        let h = zero, c = zero;
        for (let i = 0; i < n; i++) {
          const r = await session.run({ X: xs[i], h0: h, c0: c });
          h = r.Y_h; c = r.Y_c;
        }
      };
      // Warm up on the first tenth of the stream, time the whole stream.
      const st = await measure(stream(s.steps), t, stream(Math.max(1, s.steps / 10 | 0)));
      return [...timeRows(o, bench, st, 'us', 1000 / s.steps), valueRow(o, bench, 'max_abs_diff_vs_carousel', diff, 'abs')];
    }
    case 'B3': {
      const s = spec.sizes.B3;
      const diff = await crossCheck(ort, opts, s.input, s.hidden);
      const session = await ort.InferenceSession.create(lstmModel(s.length, s.batch, s.input, s.hidden, weights(s.input, s.hidden, 3).w, false), opts);
      const x = new ort.Tensor('float32', randn(rng, s.length * s.batch * s.input), [s.length, s.batch, s.input]);
      const st = await measure(() => session.run({ X: x }), t);
      return [...timeRows(o, bench, st, 'ms', 1), valueRow(o, bench, 'max_abs_diff_vs_carousel', diff, 'abs')];
    }
    case 'B1': case 'B1-small': case 'B1-memory':
      return [skipRow(o, bench, 'skipped: onnxruntime-node runs inference only (no training in the Node package)')];
    case 'B4':
      return [skipRow(o, bench, 'skipped: ONNX has no CTC loss operator')];
    case 'GEMM':
      return [skipRow(o, bench, 'skipped: GEMM is measured for Carousel (and the other peers\' matmul) only')];
  }
}
