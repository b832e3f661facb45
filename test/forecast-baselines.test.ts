import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectPeriod } from '../src/data/season.js';
import { makeWindows } from '../src/data/series.js';
import { checkModelMeta } from '../src/io/modelSchema.js';
import { Rng } from '../src/tensor/random.js';
import { forecastErrors, seasonalNaiveOutputs } from '../src/train/baselines.js';
import { ForecastTask } from '../src/train/forecastTask.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { loadModel } from '../src/io/modelDir.js';
import { noGrad } from '../src/autograd/tape.js';
import { carousel, userError } from './util/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-baselines-'));



/** A period-`p` shape (two harmonics), a trend and Gaussian noise of the given size. */
function seasonal(n: number, p: number, noise: number, seed = 3): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / p) + 0.4 * Math.cos((4 * Math.PI * t) / p) + 0.002 * t + noise * rng.normal());
}

test('period detection: a known period through noise and trend; none in a random walk or white noise', () => {
  assert.equal(detectPeriod(seasonal(600, 24, 0.15), 48), 24);
  assert.equal(detectPeriod(seasonal(400, 7, 0.1, 5), 30), 7);
  // The period must fit in the window it is looked for in.
  assert.equal(detectPeriod(seasonal(600, 24, 0.15), 20), null);
  const rng = new Rng(11);
  let walk = 0;
  const rw = Array.from({ length: 600 }, () => (walk += rng.normal()));
  assert.equal(detectPeriod(rw, 48), null);
  assert.equal(detectPeriod(Array.from({ length: 600 }, () => rng.normal()), 48), null);
  assert.equal(detectPeriod(Array.from({ length: 100 }, (_, t) => 2 * t + 1), 24), null, 'a straight line');
  assert.equal(detectPeriod([1, 2, 3], 24), null, 'too short');
});

/** MAE / RMSE of one method from raw values: forecast(s, h) for the window starting at row s, step h = 1..H. */
function direct(y: number[], W: number, H: number, forecast: (s: number, h: number) => number): { mae: number; rmse: number } {
  let ae = 0, se = 0, n = 0;
  for (let s = 0; s + W + H <= y.length; s++) {
    for (let h = 1; h <= H; h++) { const d = forecast(s, h) - y[s + W - 1 + h]; ae += Math.abs(d); se += d * d; n++; }
  }
  return { mae: ae / n, rmse: Math.sqrt(se / n) };
}

test('baselines: persistence, seasonal-naive and window mean on hand-made series', () => {
  const row = (rows: ReturnType<typeof forecastErrors>, m: string) => rows.find((r) => r.method === m)!;
  // One window, inputs [0 1 0 1], truth [0 3]: worked out by hand.
  let rows = forecastErrors(makeWindows([[0, 1, 0, 1, 0, 3]], [0], 4, 2), ['y'], [0], [1], [2], null);
  assert.deepEqual(rows.map((r) => r.method), ['persistence', 'seasonal_naive_2', 'window_mean']);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(row(rows, 'persistence').mae, 1.5); close(row(rows, 'persistence').rmse, Math.sqrt(2.5));
  close(row(rows, 'seasonal_naive_2').mae, 1); close(row(rows, 'seasonal_naive_2').rmse, Math.sqrt(2));
  close(row(rows, 'window_mean').mae, 1.5); close(row(rows, 'window_mean').rmse, Math.sqrt(3.25));
  // Horizon beyond the period repeats the last period: inputs [1 2 4], P = 3, forecasts [1 2 4 1], truth [1 2 5 0].
  rows = forecastErrors(makeWindows([[1, 2, 4, 1, 2, 5, 0]], [0], 3, 4), ['y'], [0], [1], [3], null);
  close(row(rows, 'seasonal_naive_3').mae, 0.5); close(row(rows, 'seasonal_naive_3').rmse, Math.sqrt(0.5));

  // Many windows, two features (the target second), normalized with mean 3 and std 2: the errors
  // come back in the data's units and match a computation on the raw values.
  const y = seasonal(120, 6, 0.3).map((v) => 3 + 2 * v), other = y.map((_, t) => Math.cos(t));
  const W = 9, H = 7, z = y.map((v) => (v - 3) / 2);
  const w = makeWindows([other, z], [1], W, H);
  const pred = new Float32Array(w.n * H).map((_, j) => ((j * 7) % 5) / 10 - 0.2); // any predictions, relative and normalized
  rows = forecastErrors(w, ['y'], [1], [2], [6, 4], pred);
  assert.deepEqual(rows.map((r) => r.method), ['model', 'persistence', 'seasonal_naive_6', 'seasonal_naive_4', 'window_mean']);
  const expect = {
    model: direct(y, W, H, (s, h) => y[s + W - 1] + 2 * pred[s * H + h - 1]),
    persistence: direct(y, W, H, (s) => y[s + W - 1]),
    seasonal_naive_6: direct(y, W, H, (s, h) => y[s + W - 1 + h - 6 * Math.ceil(h / 6)]),
    seasonal_naive_4: direct(y, W, H, (s, h) => y[s + W - 1 + h - 4 * Math.ceil(h / 4)]),
    window_mean: direct(y, W, H, (s) => y.slice(s, s + W).reduce((a, b) => a + b) / W),
  };
  for (const r of rows) {
    const e = expect[r.method as keyof typeof expect];
    assert.ok(Math.abs(r.mae - e.mae) < 1e-5 * e.mae && Math.abs(r.rmse - e.rmse) < 1e-5 * e.rmse, `${r.method}: ${r.mae}/${r.rmse} vs ${e.mae}/${e.rmse}`);
  }
  assert.ok(expect.seasonal_naive_6.mae < expect.persistence.mae, 'the series is seasonal: the right period beats persistence');
});

test('cli: train and evaluate list the model beside persistence, seasonal-naive (detected and --season) and the window mean', () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'm');
  const y = seasonal(260, 12, 0.05);
  writeFileSync(csv, `t,value\n${y.map((v, t) => `${t},${v.toFixed(5)}`).join('\n')}\n`);
  const W = 24, H = 6;
  const r = carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--window', `${W}`, '--horizon', `${H}`,
    '--column', 'value', '--hidden', '4', '--epochs', '1', '--season', '5', '--val-split', '0.2']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /seasonal period \(autocorrelation of the differenced training part, lags 2\.\.24\): value 12; --season 5/);
  for (const m of ['model', 'persistence', 'seasonal_naive_12', 'seasonal_naive_5', 'window_mean']) assert.match(r.out, new RegExp(`^value\\s+${m}\\s+[\\d.e-]+\\s+[\\d.e-]+$`, 'm'), m);
  assert.match(r.out, /on the \d+ validation windows/);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).forecast.seasons, [12, 5]);

  const e = carousel(['evaluate', '--model', out, '--data', csv, '--season', '7']);
  assert.equal(e.code, 0, e.err);
  const table = new Map(e.out.split('\n').filter((l) => l.startsWith('value ')).map((l) => { const [, m, mae, rmse] = l.trim().split(/\s+/); return [m, { mae: Number(mae), rmse: Number(rmse) }]; }));
  assert.deepEqual([...table.keys()], ['model', 'persistence', 'seasonal_naive_12', 'seasonal_naive_5', 'seasonal_naive_7', 'window_mean']);
  // The same windows and units as the model's own lines, and as a computation on the CSV's values.
  const num = (k: string) => Number(new RegExp(`^${k} (\\S+)$`, 'm').exec(e.out)![1]);
  assert.ok(Math.abs(table.get('model')!.mae - num('mae')) <= 1e-5 * num('mae'));
  assert.ok(Math.abs(table.get('persistence')!.mae - num('persistence_mae')) <= 1e-5 * num('persistence_mae'));
  const yr = y.map((v) => Number(v.toFixed(5)));
  for (const P of [12, 5, 7]) {
    const x = direct(yr, W, H, (s, h) => yr[s + W - 1 + h - P * Math.ceil(h / P)]), got = table.get(`seasonal_naive_${P}`)!;
    assert.ok(Math.abs(got.mae - x.mae) < 1e-4 * x.mae + 1e-6 && Math.abs(got.rmse - x.rmse) < 1e-4 * x.rmse + 1e-6, `P ${P}: ${got.mae} vs ${x.mae}`);
  }
  const wm = direct(yr, W, H, (s) => yr.slice(s, s + W).reduce((a, b) => a + b) / W);
  assert.ok(Math.abs(table.get('window_mean')!.mae - wm.mae) < 1e-4 * wm.mae);
  assert.ok(table.get('seasonal_naive_12')!.mae < table.get('persistence')!.mae);
});

test('cli: --season is checked, one line each', () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'm');
  writeFileSync(csv, `t,value\n${seasonal(120, 10, 0.05).map((v, t) => `${t},${v.toFixed(5)}`).join('\n')}\n`);
  const train = (season: string, more: string[] = []) => carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--column', 'value', '--window', '16', '--season', season, '--epochs', '1', '--hidden', '3', ...more]);
  userError(train('0'), /--season: expected periods separated by commas, each an integer in \[1, 16\] \(the window\), got '0'/);
  userError(train('17'), /--season: .*\[1, 16\].*got '17'/);
  userError(train('24,x'), /--season: .*got '24'/);
  userError(train('4,x'), /--season: .*got 'x'/);
  userError(train('4,,8'), /--season: .*got '4,,8'/);
  userError(carousel(['train', '--task', 'charlm', '--data', csv, '--out', out, '--season', '4']), /--season applies to --task forecast only/);
  assert.equal(train('4,8').code, 0);
  userError(carousel(['evaluate', '--model', out, '--data', csv, '--season', '20']), /--season: .*\[1, 16\].*got '20'/);
  // model.json's seasons: positive integers no longer than the window.
  const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.deepEqual(meta.forecast.seasons, [10, 4, 8]);
  for (const [bad, msg] of [[[0], /forecast\.seasons\[0\]/], [[17], /forecast\.seasons\[0\].*\[1, 16\]/], ['4', /forecast\.seasons/], [[4, 4], /distinct/], [[4.5], /seasons\[0\]/]] as const) {
    assert.throws(() => checkModelMeta({ ...meta, forecast: { ...meta.forecast, seasons: bad } }, 'model.json'), msg);
  }
  checkModelMeta({ ...meta, forecast: { ...meta.forecast, seasons: undefined } }, 'model.json');
});

test('residual seasonal: the network learns y minus the seasonal-naive forecast, which predictAll adds back', async () => {
  const y = seasonal(80, 5, 0.2), other = y.map((_, t) => Math.sin(t / 3));
  const w = makeWindows([other, y], [1], 10, 7);
  const model = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 5, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 7 }, { rng: new Rng(2) });
  const plain = new ForecastTask(model, w, null, 16, [1]);
  const res = new ForecastTask(model, w, null, 16, [1], 0, { period: 5, targetCols: [1] });
  const p = await plain.predictAll(w), q = await res.predictAll(w), base = seasonalNaiveOutputs(w, [1], 5);
  // The seasonal-naive outputs are those of the baseline table.
  const sn = forecastErrors(w, ['y'], [1], [1], [5], base);
  assert.ok(Math.abs(sn[0].mae - sn[2].mae) < 1e-6 && sn[2].method === 'seasonal_naive_5');
  for (let j = 0; j < p.length; j++) assert.ok(Math.abs(q[j] - (p[j] + base[j])) < 1e-5, `output ${j}`);
  // Training loss: MSE of the network's output against y minus the seasonal-naive forecast.
  const order = Array.from({ length: w.n }, (_, i) => i);
  const loss = noGrad(() => res.trainBatch(order, 0).loss.item());
  let se = 0;
  for (let i = 0; i < 16; i++) for (let j = 0; j < 7; j++) se += (p[i * 7 + j] - (w.y[i * 7 + j] - base[i * 7 + j])) ** 2;
  assert.ok(Math.abs(loss - se / (16 * 7)) < 1e-5 * (se / (16 * 7)), `${loss} vs ${se / (16 * 7)}`);
});

test('cli: --residual seasonal is saved, evaluated and predicted on top of the seasonal-naive forecast', async () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'm');
  const y = seasonal(200, 12, 0.05).map((v) => Number(v.toFixed(5)));
  writeFileSync(csv, `t,value\n${y.map((v, t) => `${t},${v}`).join('\n')}\n`);
  const r = carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--column', 'value', '--window', '24', '--horizon', '15',
    '--hidden', '4', '--epochs', '1', '--residual', 'seasonal']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /the model learns the residual over seasonal-naive 12/);
  assert.equal(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).forecast.residualSeason, 12);
  // predict: the network's output (times outputScale) added to the value 12 rows back (the last period repeating), in the data's units.
  const pr = carousel(['predict', '--model', out, '--data', csv]);
  assert.equal(pr.code, 0, pr.err);
  const { model, meta } = loadModel(out);
  const { mean: [mu], std: [sd] } = meta.forecast!.normalization;
  const x = new Float32Array(y.slice(-24).map((v) => (v - mu) / sd));
  const o = await noGrad(() => model.forwardLast(model.input(x, [24, 1, 1]))).data();
  const got = pr.out.trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
  assert.equal(got.length, 15);
  const [scale] = meta.forecast!.outputScale!; // the network's outputs are in units of the residual's training RMS
  got.forEach((v, h) => { const e = (o[h] * scale + (y[200 - 12 + (h % 12)] - mu) / sd) * sd + mu; assert.ok(Math.abs(v - e) < 1e-4, `step ${h + 1}: ${v} vs ${e}`); });
  const e = carousel(['evaluate', '--model', out, '--data', csv]);
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /^value\s+seasonal_naive_12\s/m);
  // Without a period to build on, the flag is refused in one line.
  const rng = new Rng(4);
  let walk = 0;
  writeFileSync(csv, `value\n${Array.from({ length: 200 }, () => (walk += rng.normal()).toFixed(4)).join('\n')}\n`);
  userError(carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--window', '24', '--epochs', '1', '--residual', 'seasonal']), /--residual seasonal: no seasonal period was detected on the training part of .*; give one with --season P/);
  userError(carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--residual', 'trend']), /--residual: expected one of none, seasonal, got 'trend'/);
});
