import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { noGrad } from '../../autograd/tape.js';
import { getBackend } from '../../backend/registry.js';
import { columnIndex, numberAt, parseCsv } from '../../data/csv.js';
import { seasonalNaive } from '../../data/series.js';
import { CharVocab } from '../../data/text.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { generateText } from '../../models/generate.js';
import { forecastSvg } from '../../plot/svg.js';
import { Rng } from '../../tensor/random.js';
import { CharLMTask } from '../../train/charlmTask.js';
import { Progress } from '../../train/progress.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { printable } from '../../data/printable.js';
import { demos } from '../apps/index.js';
import { parseFlags, userErrors } from './shared.js';
import { runTraining, type TrainConfig } from './train.js';

const HELP = () => `Usage: carousel demo [--out DIR] [--quick]
       carousel demo NAME [options]   (NAME: ${demos.map((d) => d.name).join(', ') || 'none installed'}; carousel demo NAME --help)

The first thing to run (npm start). Trains two models on real data, on this machine's CPU:
 1. Mauna Loa CO2, monthly (NOAA, from the vega-datasets package): an LSTM forecasts the last
    24 months it never saw, from the 36 months before them. Its mean absolute error is compared
    with the seasonal-naive baseline (each month repeats the same month one year earlier), and
    the demo fails if it does not beat it.
 2. Shakespeare's sonnets (public domain, data/sonnets.txt): a character-level LSTM language
    model; reports bits per character on held-out text and prints a sample.
Writes the models, loss curves and a forecast-vs-truth plot (SVG) to DIR.

Options:
  --out DIR    output folder (default ./carousel-demo)
  --quick      about 1 s instead of about 5 s (smaller, shorter training; for tests). Measured
               on a 2-core AMD EPYC VM: 4.5 s in full with the default wasm backend, 25 s
               with CAROUSEL_BACKEND=reference
  -h, --help   this help`;

/** The package's root folder (dist/src/cli/commands -> up four). */
function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
}

/** co2-concentration.csv inside the installed vega-datasets package. */
export function co2Path(): string {
  const req = createRequire(import.meta.url);
  let entry: string;
  try { entry = req.resolve('vega-datasets'); } catch {
    throw new UserError("the demo's CO2 data comes from the npm package vega-datasets, which is not installed: run npm install");
  }
  for (let d = dirname(entry); d !== dirname(d); d = dirname(d)) {
    const p = join(d, 'data', 'co2-concentration.csv');
    if (existsSync(p)) return p;
  }
  throw new UserError(`vega-datasets is installed (${entry}) but has no data/co2-concentration.csv`);
}

/** Monthly CO2 from the longest run of consecutive months (the early record has gaps). */
export function loadCo2(path: string): { dates: string[]; values: number[] } {
  const t = parseCsv(readFileSync(path, 'utf8'), path);
  const di = columnIndex(t, 'Date'), ci = columnIndex(t, 'CO2');
  const month = (s: string) => { const [y, m] = s.split('-').map(Number); return y * 12 + m - 1; };
  let best = [0, 0], start = 0;
  for (let r = 1; r <= t.rows.length; r++) {
    if (r === t.rows.length || month(t.rows[r][di]) !== month(t.rows[r - 1][di]) + 1) {
      if (r - start > best[1] - best[0]) best = [start, r];
      start = r;
    }
  }
  const rows = Array.from({ length: best[1] - best[0] }, (_, i) => best[0] + i);
  return { dates: rows.map((r) => t.rows[r][di]), values: rows.map((r) => numberAt(t, r, ci)) };
}

export const demo: Command = {
  name: 'demo',
  get help() { return HELP(); },
  async run(argv) {
    if (argv.length && !argv[0].startsWith('-')) {
      const d = demos.find((x) => x.name === argv[0]);
      if (!d) throw new UserError(`carousel demo: no demo named '${printable(argv[0], 40)}'; expected one of ${demos.map((x) => x.name).join(', ') || '(none)'}, or no name for the CO2 + sonnets demo`);
      return d.run(argv.slice(1));
    }
    const { values: v } = parseFlags('demo', argv, { out: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) { console.log(HELP()); return 0; }
    return userErrors(async () => {
      const out = resolve(v.out ?? 'carousel-demo');
      const quick = Boolean(v.quick);
      const progress = new Progress(process.stderr);
      mkdirSync(out, { recursive: true });
      const t0 = Date.now();
      console.log(`backend: ${getBackend().name} (CAROUSEL_BACKEND=reference|wasm to choose)`);

      // 1. CO2 forecasting, 24 months ahead.
      const HZ = 24, W = 36;
      const co2 = loadCo2(co2Path());
      const T = co2.values.length, cut = T - HZ;
      console.log(`\n== 1. Mauna Loa CO2: forecast ${HZ} months ahead ==`);
      console.log(`${T} consecutive months ${co2.dates[0]} .. ${co2.dates[T - 1]}; training on the first ${cut}, holding out ${co2.dates[cut]} .. ${co2.dates[T - 1]}`);
      const trainCsv = join(out, 'co2-train.csv');
      writeFileAtomic(trainCsv, 'Date,CO2\n' + co2.dates.slice(0, cut).map((d, i) => `${d},${co2.values[i]}`).join('\n') + '\n');
      const fc: TrainConfig = {
        task: 'forecast', data: trainCsv, dataHash: '', out: join(out, 'co2-model'), columns: ['CO2'], targets: ['CO2'],
        window: W, horizon: HZ, cell: 'lstm', hidden: quick ? 8 : 32, layers: 1, bidirectional: false, dropout: 0, embedding: 0,
        epochs: quick ? 1 : 16, batchSize: 32, lr: 0.01, optimizer: 'adam', weightDecay: 0, momentum: 0, clip: 1, bptt: 0,
        schedule: 'cosine', valSplit: 0.1, patience: 0, seed: 7, checkpointEvery: 0,
      };
      const f = await runTraining(fc, readFileSync(trainCsv, 'utf8'), { progress });
      const meta = f.meta.forecast!;
      const z = (x: number) => (x - meta.normalization.mean[0]) / meta.normalization.std[0];
      const x = Float32Array.from(co2.values.slice(cut - W, cut), z);
      const m = f.model;
      m.eval();
      const pz = await noGrad(() => m.forwardLast(m.input(x, [W, 1, 1]))).data();
      const pred = Array.from(pz, (d) => (d + x[W - 1]) * meta.normalization.std[0] + meta.normalization.mean[0]);
      const truth = co2.values.slice(cut);
      const naive = seasonalNaive(co2.values.slice(0, cut), HZ, 12);
      const mae = (p: number[]) => p.reduce((s, q, i) => s + Math.abs(q - truth[i]), 0) / HZ;
      const maeModel = mae(pred), maeNaive = mae(naive);
      const yr = (i: number) => { const [y, mo] = co2.dates[i].split('-').map(Number); return y + (mo - 1) / 12; };
      writeFileAtomic(join(out, 'co2-forecast.svg'), forecastSvg({
        title: `Mauna Loa CO2: ${HZ}-month forecast (MAE ${maeModel.toFixed(2)} ppm) vs seasonal naive (${maeNaive.toFixed(2)} ppm)`,
        history: co2.values.slice(cut - 72, cut).map((y, i) => [yr(cut - 72 + i), y]),
        truth: truth.map((y, i) => [yr(cut + i), y]), forecast: pred.map((y, i) => [yr(cut + i), y]),
        baseline: naive.map((y, i) => [yr(cut + i), y]), yLabel: 'CO2 (ppm)', xLabel: 'year',
      }));
      console.log(f.summary);
      console.log(`held-out ${HZ} months: LSTM MAE ${maeModel.toFixed(3)} ppm, seasonal-naive MAE ${maeNaive.toFixed(3)} ppm -> ${maeModel < maeNaive ? `beats the baseline (${((1 - maeModel / maeNaive) * 100).toFixed(0)}% lower error)` : 'does NOT beat the baseline'}`);
      console.log(`plot: ${join(out, 'co2-forecast.svg')}`);

      // 2. Character-level language model.
      const textPath = join(packageRoot(), 'data', 'sonnets.txt');
      console.log(`\n== 2. Character-level language model on Shakespeare's sonnets ==`);
      // Sized for the reference backend (25 s on 2 cores); faster backends train longer.
      const fast = getBackend().name !== 'reference';
      const lc: TrainConfig = {
        task: 'charlm', data: textPath, dataHash: '', out: join(out, 'sonnets-model'), columns: [], targets: [], window: 0, horizon: 0,
        cell: 'lstm', hidden: quick ? 16 : 64, layers: 1, bidirectional: false, dropout: 0, embedding: quick ? 8 : 16,
        epochs: quick ? 1 : fast ? 24 : 8, batchSize: 16, lr: 0.01, optimizer: 'adam', weightDecay: 0, momentum: 0, clip: 1, bptt: 48,
        schedule: 'cosine', valSplit: 0.1, patience: 0, seed: 3, checkpointEvery: 0,
      };
      const text = readFileSync(textPath, 'utf8');
      const l = await runTraining(lc, text, { progress });
      console.log(l.summary);
      const vocab = new CharVocab(l.meta.charlm!.vocabulary, l.meta.charlm!.unknown ?? null);
      const bpc = (await (l.task as CharLMTask).validate())!.metrics.bpc;
      console.log(`held-out text: ${bpc.toFixed(3)} bits per character (uniform over ${vocab.size} characters would be ${Math.log2(vocab.size).toFixed(3)})`);
      const seed = 'Shall I compare thee';
      const sample = await generateText(l.model, vocab, { seed, length: quick ? 60 : 400, temperature: 0.6, rng: new Rng(11) });
      console.log(`sample (temperature 0.6):\n${seed}${sample}`);
      writeFileAtomic(join(out, 'sonnets-sample.txt'), seed + sample + '\n');

      console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s; outputs in ${out}`);
      return maeModel < maeNaive || quick ? 0 : 1;
    });
  },
};
