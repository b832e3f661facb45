/**
 * TensorFlow.js, on its pure-JS 'cpu' backend or on @tensorflow/tfjs-backend-wasm. Training and
 * batched inference use the Layers API (tf.layers.lstm + dense, model.trainOnBatch / predict),
 * as a user would; streaming uses tf.basicLSTMCell, TF's own single-step LSTM op, with the
 * state kept as tensors between calls.
 */
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { measure, skipRow, timeRows, valueRow, fitUnits, type Origin } from '../measure.js';
import { loadOptional, resolveOptional } from '../optional.js';
import type { BenchName, Result, SuiteSpec } from '../types.js';
import { Rng } from '../../src/tensor/random.js';

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(-1, 1);
  return a;
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

/* eslint-disable @typescript-eslint/no-explicit-any */
async function runOne(tf: any, o: Origin, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const t = spec.timing;
  const rng = new Rng(11);
  switch (bench) {
    case 'B1': case 'B1-small': {
      const s = spec.sizes[bench];
      const model = tf.sequential();
      // Glorot instead of the default orthogonal recurrent init: the same step cost, without a QR
      // decomposition of a [H, 4H] matrix in JavaScript before the bench starts.
      model.add(tf.layers.lstm({ units: s.hidden, inputShape: [s.length, s.input], recurrentInitializer: 'glorotUniform' }));
      model.add(tf.layers.dense({ units: 1 }));
      model.compile({ optimizer: tf.train.adam(1e-3), loss: 'meanSquaredError' });
      const x = tf.tensor3d(randn(rng, s.batch * s.length * s.input), [s.batch, s.length, s.input]); // [B, T, I]
      const y = tf.tensor2d(randn(rng, s.batch), [s.batch, 1]);
      const st = await measure(() => model.trainOnBatch(x, y), t);
      return timeRows(o, bench, st, 'ms', 1);
    }
    case 'B2-256': case 'B2-1024': {
      const s = spec.sizes[bench];
      const kernel = tf.tensor2d(randn(rng, (s.input + s.hidden) * 4 * s.hidden).map((v) => v / Math.sqrt(s.hidden)), [s.input + s.hidden, 4 * s.hidden]);
      const bias = tf.zeros([4 * s.hidden]);
      const forget = tf.scalar(0);
      const xs: any[] = [];
      for (let i = 0; i < s.steps; i++) xs.push(tf.tensor2d(randn(rng, s.input), [1, s.input]));
      const run = (n: number) => () => {
        let c = tf.zeros([1, s.hidden]), h = tf.zeros([1, s.hidden]);
        for (let i = 0; i < n; i++) {
          const [c2, h2] = tf.tidy(() => tf.basicLSTMCell(forget, kernel, bias, xs[i], c, h));
          c.dispose(); h.dispose();
          c = c2; h = h2;
        }
        h.dataSync(); // the final state is read back, so all the work has surely run
        c.dispose(); h.dispose();
      };
      const n = await fitUnits(run(1), s.steps, t.capMs / 4);
      const st = await measure(run(n), t);
      const rows = timeRows(o, bench, st, 'us', 1000 / n);
      if (n < s.steps) rows.push(valueRow(o, bench, 'steps_per_rep', n, 'count'));
      return rows;
    }
    case 'B3': {
      const s = spec.sizes.B3;
      const model = tf.sequential();
      model.add(tf.layers.lstm({ units: s.hidden, inputShape: [s.length, s.input], returnSequences: true, recurrentInitializer: 'glorotUniform' }));
      const x = tf.tensor3d(randn(rng, s.batch * s.length * s.input), [s.batch, s.length, s.input]);
      const st = await measure(() => { const y = model.predict(x); y.dataSync(); y.dispose(); }, t);
      return timeRows(o, bench, st, 'ms', 1);
    }
    case 'B4':
      return [skipRow(o, bench, 'skipped: TensorFlow.js has no CTC loss')];
    case 'GEMM': {
      const s = spec.sizes.GEMM;
      const a = tf.tensor2d(randn(rng, s.m * s.k), [s.m, s.k]);
      const b = tf.tensor2d(randn(rng, s.k * s.n), [s.k, s.n]);
      const st = await measure(() => { const c = tf.matMul(a, b); c.dataSync(); c.dispose(); }, t);
      const flop = 2 * s.m * s.n * s.k;
      return [valueRow(o, bench, 'gflops', flop / (st.median * 1e6), 'GFLOP/s'), valueRow(o, bench, 'reps', st.reps, 'count')];
    }
    case 'B1-memory':
      return [skipRow(o, bench, 'skipped: memory is compared between Carousel and PyTorch only')];
  }
}
