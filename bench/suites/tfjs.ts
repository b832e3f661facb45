/**
 * TensorFlow.js, on its pure-JS 'cpu' backend or on @tensorflow/tfjs-backend-wasm. Training and
 * batched inference use the Layers API (tf.layers.lstm + dense, model.trainOnBatch / predict),
 * as a user would, with recurrentActivation 'sigmoid' (the Layers default is hard sigmoid, another
 * function than PyTorch's, ONNX's and Carousel's LSTM); streaming uses tf.basicLSTMCell, TF's own
 * single-step LSTM op (sigmoid gates), with the state kept as tensors between calls.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { measure, skipRow, timeRows, valueRow, fitUnits, type Origin } from '../measure.js';
import { loadOptional, resolveOptional, versionOf } from '../optional.js';
import type { BenchName, InferSize, Result, SuiteSpec } from '../types.js';
import type { Backend } from '../../src/backend/backend.js';
import { noGrad } from '../../src/autograd/tape.js';
import { LSTM } from '../../src/nn/lstm.js';
import { tensor } from '../../src/tensor/create.js';
import { checkBackend, checked, maxDiff } from '../check.js';
import { Rng } from '../../src/tensor/random.js';
import { uniformArray } from '../inputs.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** B3's model: one LSTM layer returning the whole sequence, sigmoid gates (the function Carousel computes). */
export function b3Model(tf: any, s: InferSize): any {
  const model = tf.sequential();
  model.add(tf.layers.lstm({ units: s.hidden, inputShape: [s.length, s.input], returnSequences: true, recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }));
  return model;
}

/**
 * Give the model's LSTM layer the weights of a Carousel LSTM on `be` (Keras: kernel [I, 4H] =
 * W_ih^T, recurrent kernel [H, 4H] = W_hh^T, one bias b_ih + b_hh; gates i, f, c, o as PyTorch's
 * i, f, g, o) and return max |tfjs - Carousel| on the input x [B, T, I].
 */
export async function b3Diff(tf: any, model: any, s: InferSize, be: Backend, x: Float32Array): Promise<number> {
  const { input: I, hidden: H, length: T, batch: B } = s;
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend: be, rng: new Rng(3) });
  lstm.eval();
  const p = new Map(lstm.namedParameters().map(([n, t]) => [n, t.dataSync()]));
  const wIh = p.get('weight_ih_l0')!, wHh = p.get('weight_hh_l0')!, bIh = p.get('bias_ih_l0')!, bHh = p.get('bias_hh_l0')!;
  const kernel = new Float32Array(I * 4 * H), rec = new Float32Array(H * 4 * H), bias = new Float32Array(4 * H);
  for (let j = 0; j < 4 * H; j++) {
    for (let i = 0; i < I; i++) kernel[i * 4 * H + j] = wIh[j * I + i];
    for (let h = 0; h < H; h++) rec[h * 4 * H + j] = wHh[j * H + h];
    bias[j] = bIh[j] + bHh[j];
  }
  model.layers[0].setWeights([tf.tensor2d(kernel, [I, 4 * H]), tf.tensor2d(rec, [H, 4 * H]), tf.tensor1d(bias)]);
  const y = model.predict(tf.tensor3d(x, [B, T, I]));
  const theirs = await y.data() as Float32Array; // [B, T, H] (read asynchronously: TF.js's WebGPU backend in Node has no synchronous read)
  y.dispose();
  const xt = new Float32Array(T * B * I); // [T, B, I]
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) xt.set(x.subarray((b * T + t) * I, (b * T + t + 1) * I), (t * B + b) * I);
  const ours = noGrad(() => lstm.forward(tensor(xt, [T, B, I], { backend: be })).y.dataSync()); // [T, B, H]
  const mine = new Float32Array(B * T * H);
  for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) mine.set(ours.subarray((t * B + b) * H, (t * B + b + 1) * H), (b * T + t) * H);
  return maxDiff(mine, theirs);
}

/**
 * TF.js's own WebGPU backend (@tensorflow/tfjs-backend-webgpu). In Node it registers only when
 * navigator.gpu exists as it is imported, so navigator.gpu is set first from the `webgpu`
 * package (Dawn, as Carousel's webgpu backend uses), with the constants a browser has as globals.
 * Returns why it cannot run, or null.
 */
async function tfjsWebGpu(tf: any): Promise<string | null> {
  const pkg = '@tensorflow/tfjs-backend-webgpu';
  try { resolveOptional(pkg); } catch { return `skipped: ${pkg} is not installed (npm install ${pkg}@${versionOf('@tensorflow/tfjs')})`; }
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator?.gpu) {
    const dawn = loadOptional('webgpu');
    if (!dawn.ok) return `${dawn.reason} (TF.js WebGPU in Node needs navigator.gpu from it)`;
    const gpu = dawn.mod.create([]);
    // TF.js reads the WebGPU constants (GPUBufferUsage, GPUMapMode, ...) as globals, as a browser has them.
    for (const [k, v] of Object.entries(dawn.mod.globals as Record<string, unknown>)) if (!(k in globalThis)) Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
  }
  const w = loadOptional(pkg);
  if (!w.ok) return w.reason;
  try {
    if (!(await tf.setBackend('webgpu'))) return 'skipped: the tfjs webgpu backend failed to initialise (no WebGPU adapter?)';
    await tf.ready();
  } catch (e) { return `skipped: the tfjs webgpu backend failed to initialise (${(e as Error).message.split('\n')[0]})`; }
  return null;
}

export async function runTfjs(spec: SuiteSpec): Promise<Result[]> {
  let o: Origin = { lib: 'tfjs', backend: spec.backend, threads: spec.threads };
  const tfl = loadOptional('@tensorflow/tfjs');
  if (!tfl.ok) return spec.benches.map((b) => skipRow(o, b, tfl.reason));
  const tf = tfl.mod;
  if (spec.backend === 'wasm') {
    const w = loadOptional('@tensorflow/tfjs-backend-wasm');
    if (!w.ok) return spec.benches.map((b) => skipRow(o, b, w.reason));
    // The .wasm binaries ship inside the npm package: load them from node_modules, no download.
    w.mod.setWasmPaths(path.dirname(resolveOptional('@tensorflow/tfjs-backend-wasm')) + path.sep);
    w.mod.setThreadsCount(spec.threads);
    if (!(await tf.setBackend('wasm'))) return spec.benches.map((b) => skipRow(o, b, 'skipped: tfjs wasm backend failed to initialise'));
    await tf.ready();
    // In Node, tfjs-backend-wasm finds no multithreading support and runs one thread whatever
    // was asked: report what it actually uses.
    o = { ...o, threads: w.mod.getThreadsCount() };
  } else if (spec.backend === 'webgpu') {
    const why = await tfjsWebGpu(tf);
    if (why) return spec.benches.map((b) => skipRow(o, b, why));
    o = { ...o, threads: 1 };
  } else {
    await tf.setBackend('cpu');
    await tf.ready();
    o = { ...o, threads: 1 }; // the cpu backend is single-threaded JavaScript
  }
  const out: Result[] = [];
  for (const bench of spec.benches) {
    const t0 = performance.now();
    try { out.push(...await runOne(tf, o, bench, spec)); } catch (e) {
      out.push(skipRow(o, bench, `failed: ${(e as Error).message.split('\n')[0]}`));
    }
    process.stderr.write(`  tfjs/${o.backend}/t${o.threads} ${bench}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return out;
}

async function runOne(tf: any, o: Origin, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const t = spec.timing;
  const rng = new Rng(11);
  switch (bench) {
    case 'B1': case 'B1-small': case 'B5-big': {
      const s = spec.sizes[bench];
      const model = tf.sequential();
      // Glorot instead of the default orthogonal recurrent init: the same step cost, without a QR
      // decomposition of a [H, 4H] matrix in JavaScript before the bench starts.
      model.add(tf.layers.lstm({ units: s.hidden, inputShape: [s.length, s.input], recurrentActivation: 'sigmoid', recurrentInitializer: 'glorotUniform' }));
      model.add(tf.layers.dense({ units: 1 }));
      model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
      const x = tf.tensor3d(uniformArray(rng, s.batch * s.length * s.input), [s.batch, s.length, s.input]); // [B, T, I]
      const y = tf.tensor2d(uniformArray(rng, s.batch), [s.batch, 1]);
      const st = await measure(() => model.trainOnBatch(x, y), t);
      return timeRows(o, bench, st, 'ms', 1);
    }
    case 'B2-256': case 'B2-1024': {
      const s = spec.sizes[bench];
      const kernel = tf.tensor2d(uniformArray(rng, (s.input + s.hidden) * 4 * s.hidden).map((v) => v / Math.sqrt(s.hidden)), [s.input + s.hidden, 4 * s.hidden]);
      const bias = tf.zeros([4 * s.hidden]);
      const forget = tf.scalar(0);
      const xs: any[] = [];
      for (let i = 0; i < s.steps; i++) xs.push(tf.tensor2d(uniformArray(rng, s.input), [1, s.input]));
      const run = (n: number) => async () => {
        let c = tf.zeros([1, s.hidden]), h = tf.zeros([1, s.hidden]);
        for (let i = 0; i < n; i++) {
          const [c2, h2] = tf.tidy(() => tf.basicLSTMCell(forget, kernel, bias, xs[i], c, h));
          c.dispose(); h.dispose();
          c = c2; h = h2;
        }
        await h.data(); // the final state is read back, so all the work has surely run
        c.dispose(); h.dispose();
      };
      const n = await fitUnits(run(1), s.steps, t.capMs / 4);
      const st = await measure(run(n), t);
      const rows = timeRows(o, bench, st, 'us', 1000 / n);
      if (n < s.steps) rows.push(valueRow(o, bench, 'steps_per_rep', n, 'count'));
      return rows;
    }
    case 'B3': {
      // The timed model with a Carousel LSTM's weights, checked on the timed input (dropped if it differs).
      const s = spec.sizes.B3;
      const model = b3Model(tf, s);
      const xData = uniformArray(rng, s.batch * s.length * s.input);
      const { be, name } = await checkBackend(o.threads);
      const diff = await b3Diff(tf, model, s, be, xData);
      const x = tf.tensor3d(xData, [s.batch, s.length, s.input]);
      return checked(o, bench, diff, name, async () =>
        timeRows(o, bench, await measure(async () => { const y = model.predict(x); await y.data(); y.dispose(); }, t), 'ms', 1));
    }
    case 'B4':
      return [skipRow(o, bench, 'skipped: TensorFlow.js has no CTC loss')];
    case 'GEMM': case 'GEMM-4096': {
      const s = spec.sizes[bench];
      const a = tf.tensor2d(uniformArray(rng, s.m * s.k), [s.m, s.k]);
      const b = tf.tensor2d(uniformArray(rng, s.k * s.n), [s.k, s.n]);
      const st = await measure(async () => { const c = tf.matMul(a, b); await c.data(); c.dispose(); }, t);
      const flop = 2 * s.m * s.n * s.k;
      return [valueRow(o, bench, 'gflops', flop / (st.median * 1e6), 'GFLOP/s'), valueRow(o, bench, 'reps', st.reps, 'count')];
    }
    case 'B1-memory':
      return [skipRow(o, bench, 'skipped: memory is compared between Carousel and PyTorch only')];
  }
}
