// Child process of test/quant-dot.test.ts: the int8 kernels of one wasm build (CAROUSEL_WASM_BUILD)
// under the V8 flags it was started with (--liftoff --no-wasm-tier-up: the baseline compiler only;
// --no-liftoff: the optimizing one only). Prints one JSON line: the build, and per thread count the
// bits of every DOT_CASES product and of a quantized LSTM's forward and stream (base64 of the f32 bytes).
//
//   CAROUSEL_WASM_BUILD=relaxed node --no-liftoff dist/test/util/quantDotChild.js
import { noGrad } from '../../src/autograd/tape.js';
import { WasmBackend } from '../../src/backend/wasm/index.js';
import { LSTM } from '../../src/nn/lstm.js';
import { quantizeLayer } from '../../src/quant/model.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';
import { randArray, rng } from './random.js';
import { DOT_CASES, runDotCase } from './quantDotCases.js';

const b64 = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** LSTM 24 -> 64, [5, 7, 24]: the fused int8 step (64 hidden units, K 64), forward and stream. */
function lstm(b: WasmBackend): string[] {
  const I = 24, H = 64, T = 5, B = 7, xs = randArray(rng(77), T * B * I);
  return noGrad(() => {
    const q = quantizeLayer(new LSTM({ inputSize: I, hiddenSize: H }, { backend: b, rng: new Rng(7) }), { weights: 'int8' });
    const out = [q.forward(tensor(xs, [T, B, I], { backend: b })).y.dataSync()];
    const s = q.stream(B);
    for (let t = 0; t < T; t++) out.push(s.step(tensor(xs.subarray(t * B * I, (t + 1) * B * I), [B, I], { backend: b })).dataSync());
    return out.map((a) => b64(Float32Array.from(a)));
  });
}

const report: { build: string; threads: Record<string, { dots: string[]; lstm: string[] }> } = { build: '', threads: {} };
for (const threads of [1, 3]) {
  const b = new WasmBackend({ threads });
  b.parallelMinMacs = 0; b.rowParallelMinElements = 0; b.linear2ParallelMinMacs = 0; b.quantParallelMinMacs = 0;
  await b.ready();
  report.build = b.build.build;
  // Twice each: the second run must give the first's bits (an engine tiering up mid-run would not).
  const dots = DOT_CASES.map((c, i) => b64(runDotCase(b, c, i)));
  const again = DOT_CASES.map((c, i) => b64(runDotCase(b, c, i)));
  if (again.join() !== dots.join()) throw new Error('quantDotChild: a second run of the products gave other bits');
  report.threads[threads] = { dots, lstm: lstm(b) };
  b.terminate();
}
process.stdout.write(`${JSON.stringify(report)}\n`);
