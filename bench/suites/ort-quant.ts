/**
 * ONNX Runtime's dynamically quantized LSTM (com.microsoft.DynamicQuantizeLSTM) as a peer of
 * Carousel's int8 rows: B2-1024-int8 (streaming, the state fed back) and B3-int8 (batched), fed
 * the int8 weights and scales of Carousel's quantized LSTM (bench/onnx-quant.ts). Before timing,
 * the timed session runs on the timed inputs beside Carousel's int8 LSTM on the backend Carousel
 * is timed on (B3's whole output; B2's state step by step along the whole stream), and the row is
 * dropped when they differ by more than QUANT_MAX_DIFF. The two quantize activations differently
 * (ONNX Runtime: uint8 per tensor with a zero point; Carousel: int8 per row, symmetric), so the
 * tolerance is that of two int8 schemes, not bench/check.ts's 1e-4 for float peers. Where
 * onnxruntime-node does not run the operator, the row is skipped with its error.
 */
import { noGrad } from '../../src/autograd/tape.js';
import { LSTM } from '../../src/nn/lstm.js';
import { quantizeLayer } from '../../src/quant/model.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';
import { checkBackend, maxDiff, ortStreamDiff, ortStreamRun } from '../check.js';
import { measure, skipRow, timeRows, valueRow, type Origin } from '../measure.js';
import { dynamicQuantLstmModel, type Int8LstmWeights } from '../onnx-quant.js';
import type { BenchName, Result, SuiteSpec } from '../types.js';
import type { Backend } from '../../src/backend/backend.js';
import { uniformArray } from '../inputs.js';

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Largest |ONNX Runtime - Carousel int8| (h and c along B2's 1000-step stream, B3's y; values in
 * (-1, 1)) for which the peer row is kept: about one activation quantization step (1/127 of a
 * row's or the tensor's largest value). Measured here: 1.4e-3 on both.
 */
export const QUANT_MAX_DIFF = 1e-2;

/** Carousel's int8 LSTM on `be` (the seed's weights) and its int8 weights for ONNX Runtime. */
function int8Lstm(be: Backend, I: number, H: number, seed: number) {
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { backend: be, rng: new Rng(seed) });
  lstm.eval();
  const q = quantizeLayer(lstm, { weights: 'int8' });
  const wih = q.quantized.get('weight_ih_l0')!.stored(), whh = q.quantized.get('weight_hh_l0')!.stored();
  const p = new Map(lstm.namedParameters().map(([n, t]) => [n, Float32Array.from(t.dataSync())]));
  const w: Int8LstmWeights = { wIh: wih.q as Int8Array, sIh: wih.scales!, wHh: whh.q as Int8Array, sHh: whh.scales!,
    bIh: p.get('bias_ih_l0')!, bHh: p.get('bias_hh_l0')! };
  return { q, w };
}

/** The peer's rows for an int8 bench: timed when its output is within QUANT_MAX_DIFF of Carousel's int8, else dropped. */
async function checkedInt8(o: Origin, bench: string, diff: number, against: string, timed: () => Promise<Result[]>): Promise<Result[]> {
  const row = valueRow(o, bench, 'max_abs_diff_vs_carousel_int8', Number.isFinite(diff) ? diff : Number.MAX_VALUE, 'abs');
  if (!(diff <= QUANT_MAX_DIFF)) {
    return [skipRow(o, bench, `dropped: its output differs from Carousel int8's (${against}) by ${Number.isFinite(diff) ? diff.toExponential(2) : diff} > ${QUANT_MAX_DIFF} on the timed model and inputs`), row];
  }
  return [...await timed(), row];
}

/** ONNX Runtime's DynamicQuantizeLSTM rows that go with f32 bench `bench` (B2-1024, B3; none for the others). */
export async function ortQuantRows(ort: any, opts: object, threads: number, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const o: Origin = { lib: 'onnxruntime', backend: 'cpu-DynamicQuantizeLSTM', threads };
  const t = spec.timing, rng = new Rng(22);
  if (bench === 'B2-1024') {
    const name = 'B2-1024-int8';
    try {
      const s = spec.sizes['B2-1024'];
      const { be, name: against } = await checkBackend(threads);
      const { q, w } = int8Lstm(be, s.input, s.hidden, 2);
      const session = await ort.InferenceSession.create(dynamicQuantLstmModel(1, 1, s.input, s.hidden, w, true), opts);
      const xData: Float32Array[] = [], xs: any[] = [];
      for (let i = 0; i < s.steps; i++) { xData.push(uniformArray(rng, s.input)); xs.push(new ort.Tensor('float32', xData[i], [1, 1, s.input])); }
      const zero = new ort.Tensor('float32', new Float32Array(s.hidden), [1, 1, s.hidden]);
      const diff = await ortStreamDiff(session, q.stream(1), xData, xs, zero, s.input, be);
      const run = ortStreamRun(session, xs, zero);
      return await checkedInt8(o, name, diff, against, async () =>
        timeRows(o, name, await measure(run(s.steps), t, run(Math.max(1, s.steps / 10 | 0))), 'us', 1000 / s.steps));
    } catch (e) { return [skipRow(o, name, `failed: onnxruntime-node did not run DynamicQuantizeLSTM: ${(e as Error).message.split('\n')[0]}`)]; }
  }
  if (bench === 'B3') {
    const name = 'B3-int8';
    try {
      const s = spec.sizes.B3;
      const { be, name: against } = await checkBackend(threads);
      const { q, w } = int8Lstm(be, s.input, s.hidden, 3);
      const session = await ort.InferenceSession.create(dynamicQuantLstmModel(s.length, s.batch, s.input, s.hidden, w, false), opts);
      const xData = uniformArray(rng, s.length * s.batch * s.input);
      const x = new ort.Tensor('float32', xData, [s.length, s.batch, s.input]);
      const ortY = (await session.run({ X: x })).Y.data as Float32Array; // [T, 1, B, H]
      const ours = noGrad(() => Float32Array.from(q.forward(tensor(xData, [s.length, s.batch, s.input], { backend: be })).y.dataSync())); // [T, B, H]
      return await checkedInt8(o, name, maxDiff(ours, ortY), against, async () => timeRows(o, name, await measure(() => session.run({ X: x }), t), 'ms', 1));
    } catch (e) { return [skipRow(o, name, `failed: onnxruntime-node did not run DynamicQuantizeLSTM: ${(e as Error).message.split('\n')[0]}`)]; }
  }
  return [];
}
