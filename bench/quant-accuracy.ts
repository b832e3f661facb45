// The accuracy of quantized inference, as the README's Quantization section reports it:
//   node dist/bench/quant-accuracy.js            (about a minute on 2 cores; CAROUSEL_BACKEND picks the backend)
// 1. B2 (LSTM 64 -> 1024, batch-1 streaming, 1000 steps) and B3 (LSTM 64 -> 256, [100, 32, 64]
//    in one batched forward), with the bench's seeded weights and inputs (bench/suites/carousel.ts):
//    max and mean |quantized - f32| over every output value.
// 2. The demo's two models (src/cli/commands/demo.ts, same configurations and seeds), trained here
//    in f32, then quantized: CO2 forecast MAE on the 24 held-out months, and the character LM's
//    bits per character on its held-out text.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../src/autograd/tape.js';
import '../src/backends.js';
import { getBackend } from '../src/backend/registry.js';
import { co2Path, loadCo2 } from '../src/cli/commands/demo.js';
import { runTraining, type TrainConfig } from '../src/cli/commands/train.js';
import { seasonalNaive } from '../src/data/series.js';
import type { SequenceModel } from '../src/models/sequenceModel.js';
import { LSTM } from '../src/nn/lstm.js';
import { quantize, quantizeLayer } from '../src/quant/model.js';
import { WEIGHT_SCHEMES } from '../src/quant/scheme.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { tidy } from '../src/tensor/tidy.js';
import { CharLMTask } from '../src/train/charlmTask.js';
import { silentProgress } from '../src/train/progress.js';
import { uniformArray } from './inputs.js';

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); max = Math.max(max, d); sum += d; }
  return { max, mean: sum / a.length };
}

const fmt = (v: number) => (v === 0 ? '0' : v < 1e-3 ? v.toExponential(2) : v.toPrecision(3));

/** B2: every step's output of a 1000-step stream, concatenated. */
function b2(): void {
  const I = 64, H = 1024, steps = 1000, rng = new Rng(2);
  const lstm = new LSTM({ inputSize: I, hiddenSize: H }, { rng });
  lstm.eval();
  const xs = Array.from({ length: steps }, () => tensor(uniformArray(rng, I), [1, I]));
  const run = (s: { reset(): void; step(x: ReturnType<typeof tensor>): { dataSync(): ArrayLike<number> } }) => {
    const out = new Float32Array(steps * H);
    s.reset();
    xs.forEach((x, t) => out.set(s.step(x).dataSync(), t * H));
    return out;
  };
  const want = noGrad(() => run(lstm.stream(1)));
  for (const scheme of WEIGHT_SCHEMES) {
    const d = diff(noGrad(() => run(quantizeLayer(lstm, { weights: scheme }).stream(1))), want);
    console.log(`| B2-1024 (1000 streaming steps) | ${scheme} | ${fmt(d.max)} | ${fmt(d.mean)} |`);
  }
}

/** B3: the batched forward's y [100, 32, 256]. */
function b3(): void {
  const s = { input: 64, hidden: 256, length: 100, batch: 32 }, rng = new Rng(3);
  const lstm = new LSTM({ inputSize: s.input, hiddenSize: s.hidden }, { rng });
  lstm.eval();
  const x = tensor(uniformArray(rng, s.length * s.batch * s.input), [s.length, s.batch, s.input]);
  const want = tidy(() => noGrad(() => lstm.forward(x).y.dataSync()));
  for (const scheme of WEIGHT_SCHEMES) {
    const q = quantizeLayer(lstm, { weights: scheme });
    const d = diff(tidy(() => noGrad(() => q.forward(x).y.dataSync())), want);
    console.log(`| B3 (batched forward) | ${scheme} | ${fmt(d.max)} | ${fmt(d.mean)} |`);
  }
}

async function demoModels(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'carousel-quant-acc-'));
  try {
    // 1. CO2, as the demo trains it (not --quick).
    const HZ = 24, W = 36, co2 = loadCo2(co2Path()), T = co2.values.length, cut = T - HZ;
    const csv = 'Date,CO2\n' + co2.dates.slice(0, cut).map((d, i) => `${d},${co2.values[i]}`).join('\n') + '\n';
    const fc: TrainConfig = {
      task: 'forecast', data: 'co2-train.csv', dataHash: '', out: join(out, 'co2-model'), columns: ['CO2'], targets: ['CO2'],
      window: W, horizon: HZ, cell: 'lstm', hidden: 32, layers: 1, bidirectional: false, dropout: 0, embedding: 0,
      epochs: 16, batchSize: 32, lr: 0.01, optimizer: 'adam', weightDecay: 0, momentum: 0, clip: 1, bptt: 0,
      schedule: 'cosine', valSplit: 0.1, patience: 0, seed: 7, checkpointEvery: 0,
    };
    const f = await runTraining(fc, csv, { progress: silentProgress });
    const norm = f.meta.forecast!.normalization, truth = co2.values.slice(cut);
    const x = Float32Array.from(co2.values.slice(cut - W, cut), (v) => (v - norm.mean[0]) / norm.std[0]);
    const mae = async (m: SequenceModel) => {
      m.eval();
      const pz = await noGrad(() => m.forwardLast(m.input(x, [W, 1, 1]))).data();
      return Array.from(pz, (d, i) => Math.abs((d + x[W - 1]) * norm.std[0] + norm.mean[0] - truth[i])).reduce((a, b) => a + b, 0) / HZ;
    };
    const naive = seasonalNaive(co2.values.slice(0, cut), HZ, 12).reduce((s, p, i) => s + Math.abs(p - truth[i]), 0) / HZ;
    // 2. The character LM, as the demo trains it on a fast backend.
    const lc: TrainConfig = {
      task: 'charlm', data: 'sonnets.txt', dataHash: '', out: join(out, 'sonnets-model'), columns: [], targets: [], window: 0, horizon: 0,
      cell: 'lstm', hidden: 64, layers: 1, bidirectional: false, dropout: 0, embedding: 16,
      epochs: getBackend().name !== 'reference' ? 24 : 8, batchSize: 16, lr: 0.01, optimizer: 'adam', weightDecay: 0, momentum: 0, clip: 1, bptt: 48,
      schedule: 'cosine', valSplit: 0.1, patience: 0, seed: 3, checkpointEvery: 0,
    };
    const l = await runTraining(lc, readFileSync(new URL('../../data/sonnets.txt', import.meta.url), 'utf8'), { progress: silentProgress });
    const val = (l.task as CharLMTask).val!;
    const bpc = async (m: SequenceModel) => (await new CharLMTask(m, val, val, 16, 48).evaluateIds(val)).metrics.bpc;
    const f32 = { mae: await mae(f.model), bpc: await bpc(l.model) };
    console.log(`\n| weights | CO2 MAE (ppm, 24 held-out months) | char LM bits per character (held out) | vs f32 |`);
    console.log('| --- | --- | --- | --- |');
    console.log(`| f32 | ${f32.mae.toFixed(3)} | ${f32.bpc.toFixed(4)} | |`);
    for (const scheme of ['bf16', 'int8', 'f16'] as const) {
      const m = await mae(quantize(f.model, { weights: scheme })), b = await bpc(quantize(l.model, { weights: scheme }));
      console.log(`| ${scheme} | ${m.toFixed(3)} | ${b.toFixed(4)} | bpc ${((b / f32.bpc - 1) * 100).toFixed(2)}% |`);
    }
    console.log(`\n(seasonal-naive CO2 MAE: ${naive.toFixed(3)} ppm)`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

console.log(`backend: ${getBackend().name}\n`);
console.log('| output | weights | max abs diff from f32 | mean abs diff |');
console.log('| --- | --- | --- | --- |');
b2();
b3();
await demoModels();
