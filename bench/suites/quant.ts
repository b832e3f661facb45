/**
 * Quantized inference rows beside Carousel's f32 ones, the same work on the same seeded weights
 * and inputs (bench/suites/carousel.ts makeStream / makeInfer), with the LSTM quantized
 * (src/quant): B2-1024-int8 and B2-1024-bf16 after B2-1024, B3-int8 after B3. The report's
 * quantized section (bench/report.ts) puts them beside ONNX Runtime fp32 and its
 * DynamicQuantizeLSTM (bench/suites/ort-quant.ts).
 */
import type { Backend } from '../../src/backend/backend.js';
import { noGrad } from '../../src/autograd/tape.js';
import { LSTM } from '../../src/nn/lstm.js';
import { quantizeLayer } from '../../src/quant/model.js';
import type { WeightScheme } from '../../src/quant/scheme.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { tidy } from '../../src/tensor/tidy.js';
import { measure, skipRow, timeRows, type Origin } from '../measure.js';
import type { BenchName, InferSize, Result, StreamSize, SuiteSpec } from '../types.js';
import { uniformArray } from '../inputs.js';

/** B2 with the LSTM quantized: `steps` single steps at batch 1, the state carried. */
function makeStream(be: Backend, s: StreamSize, scheme: WeightScheme, steps = s.steps): () => void {
  const rng = new Rng(2);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  const xs: Tensor[] = [];
  for (let t = 0; t < s.steps; t++) xs.push(tensor(uniformArray(rng, s.input), [1, s.input], { backend: be }));
  const stream = quantizeLayer(lstm, { weights: scheme }).stream(1);
  return () => noGrad(() => {
    stream.reset();
    for (let t = 0; t < steps; t++) stream.step(xs[t]);
  });
}

/** B3 with the LSTM quantized: one batched forward over the whole sequence. */
function makeInfer(be: Backend, s: InferSize, scheme: WeightScheme): () => void {
  const rng = new Rng(3);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { backend: be, rng });
  const x = tensor(uniformArray(rng, s.length * s.batch * s.input), [s.length, s.batch, s.input], { backend: be });
  const q = quantizeLayer(lstm, { weights: scheme });
  return () => tidy(() => noGrad(() => { q.forward(x); }));
}

/** The quantized rows that go with f32 bench `bench` (none for the others). */
export async function quantRows(o: Origin, be: Backend, bench: BenchName, spec: SuiteSpec): Promise<Result[]> {
  const t = spec.timing, out: Result[] = [];
  if (bench === 'B2-1024') {
    const s = spec.sizes['B2-1024'];
    for (const scheme of ['int8', 'bf16'] as const) {
      const name = `B2-1024-${scheme}`;
      try {
        out.push(...timeRows(o, name, await measure(makeStream(be, s, scheme), t, makeStream(be, s, scheme, Math.max(1, s.steps / 10 | 0))), 'us', 1000 / s.steps));
      } catch (e) { out.push(skipRow(o, name, `failed: ${(e as Error).message.split('\n')[0]}`)); }
    }
  } else if (bench === 'B3') {
    try {
      out.push(...timeRows(o, 'B3-int8', await measure(makeInfer(be, spec.sizes.B3, 'int8'), t), 'ms', 1));
    } catch (e) { out.push(skipRow(o, 'B3-int8', `failed: ${(e as Error).message.split('\n')[0]}`)); }
  }
  return out;
}
