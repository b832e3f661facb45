/**
 * ONNX Runtime (onnxruntime-node, CPU execution provider), inference only: B2 streaming with the
 * state fed back as ORT tensors, and B3 batched. The one-node LSTM model is written by
 * bench/onnx.ts from the weights of a Carousel LSTM. Before timing, the very session that is timed
 * runs on the timed inputs beside that LSTM on the backend Carousel is timed on (wasm where it
 * runs, at the suite's thread count): B3's whole output, and B2's state step by step along the
 * whole stream. Where they differ by more than bench/check.ts's MAX_DIFF the row is dropped (not
 * timed, reported with the difference): a ratio against a different function means nothing.
 */
import { performance } from 'node:perf_hooks';
import { noGrad } from '../../src/autograd/tape.js';
import type { Backend } from '../../src/backend/backend.js';
import { LSTM } from '../../src/nn/lstm.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';
import { measure, skipRow, timeRows, valueRow, type Origin } from '../measure.js';
import { lstmModel, torchToOnnx, type OnnxLstmWeights } from '../onnx.js';
import { loadOptional } from '../optional.js';
import type { BenchName, Result, SuiteSpec } from '../types.js';
import { checkBackend, checked, maxDiff, ortStreamDiff, ortStreamRun } from '../check.js';
import { ortQuantRows } from './ort-quant.js';
import { uniformArray } from '../inputs.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** A Carousel LSTM on `backend` and its weights in ONNX layout. */
function weights(backend: Backend, I: number, H: number, seed: number): { lstm: LSTM; w: OnnxLstmWeights } {
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend, rng: new Rng(seed) });
  lstm.eval();
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
    out.push(...await ortQuantRows(ort, opts, o.threads, bench, spec)); // DynamicQuantizeLSTM: B2-1024-int8, B3-int8 (./ort-quant.ts)
    process.stderr.write(`  onnxruntime/t${o.threads} ${bench}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return out;
}

async function runOne(ort: any, opts: object, o: Origin, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const t = spec.timing;
  const rng = new Rng(21);
  switch (bench) {
    case 'B2-256': case 'B2-1024': {
      const s = spec.sizes[bench];
      const { be, name } = await checkBackend(spec.threads);
      const { lstm, w } = weights(be, s.input, s.hidden, 2);
      const session = await ort.InferenceSession.create(lstmModel(1, 1, s.input, s.hidden, w, true), opts);
      const xData: Float32Array[] = [];
      const xs: any[] = [];
      for (let i = 0; i < s.steps; i++) { xData.push(uniformArray(rng, s.input)); xs.push(new ort.Tensor('float32', xData[i], [1, 1, s.input])); }
      const zero = new ort.Tensor('float32', new Float32Array(s.hidden), [1, 1, s.hidden]);
      const diff = await ortStreamDiff(session, lstm.stream(1), xData, xs, zero, s.input, be);
      const run = ortStreamRun(session, xs, zero);
      // Warm up on the first tenth of the stream, time the whole stream.
      return checked(o, bench, diff, name, async () =>
        timeRows(o, bench, await measure(run(s.steps), t, run(Math.max(1, s.steps / 10 | 0))), 'us', 1000 / s.steps));
    }
    case 'B3': {
      const s = spec.sizes.B3;
      const { be, name } = await checkBackend(spec.threads);
      const { lstm, w } = weights(be, s.input, s.hidden, 3);
      const session = await ort.InferenceSession.create(lstmModel(s.length, s.batch, s.input, s.hidden, w, false), opts);
      const xData = uniformArray(rng, s.length * s.batch * s.input);
      const x = new ort.Tensor('float32', xData, [s.length, s.batch, s.input]);
      const ortY = (await session.run({ X: x })).Y.data as Float32Array; // [T, 1, B, H]
      const ours = noGrad(() => lstm.forward(tensor(xData, [s.length, s.batch, s.input], { backend: be })).y.dataSync()); // [T, B, H]
      return checked(o, bench, maxDiff(ours, ortY), name, async () => timeRows(o, bench, await measure(() => session.run({ X: x }), t), 'ms', 1));
    }
    case 'B1': case 'B1-small': case 'B1-memory':
      return [skipRow(o, bench, 'skipped: onnxruntime-node runs inference only (no training in the Node package)')];
    case 'B4':
      return [skipRow(o, bench, 'skipped: ONNX has no CTC loss operator')];
    case 'GEMM':
      return [skipRow(o, bench, 'skipped: GEMM is measured for Carousel (and the other peers\' matmul) only')];
     case 'B5-big': case 'GEMM-4096':
      return [skipRow(o, bench, 'skipped: a GPU bench (run with --backends webgpu beside the GPU peers)')];
  }
}
