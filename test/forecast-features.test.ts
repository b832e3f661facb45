import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calendarCycles, calendarFeatures, detectSpacing, formatTime, parseTime, parseTimeColumn, stepTime } from '../src/data/calendar.js';
import { DataError } from '../src/data/errors.js';
import { channelNames, prepareForecastData, readForecastSeries, seriesChannels, type ChannelPlan } from '../src/data/forecastData.js';
import { makeWindows } from '../src/data/series.js';
import { checkModelMeta } from '../src/io/modelSchema.js';
import { pinballLoss, pinballValue } from '../src/loss/pinball.js';
import { Rng } from '../src/tensor/random.js';
import { Tensor } from '../src/tensor/tensor.js';
import { seasonalNaiveOutputs } from '../src/train/baselines.js';
import { ForecastTask, fitOutputScale, intervalCoverage, zeroHead } from '../src/train/forecastTask.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { gradcheck, randLeaf, ref64 } from './util/gradcheck.js';
import { carousel, userError } from './util/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-features-'));
const close = (a: number, b: number, tol = 1e-9, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b}`);
const utc = (s: string) => Date.parse(s.endsWith('Z') ? s : `${s}Z`);

test('dates: ISO, slashes, month names and years parse as UTC; impossible dates do not', () => {
  assert.equal(parseTime('2010-01-01T01:00:00'), utc('2010-01-01T01:00:00'));
  assert.equal(parseTime('2012-01-31'), utc('2012-01-31T00:00:00'));
  assert.equal(parseTime('2024-01-31 13:05'), utc('2024-01-31T13:05:00'));
  assert.equal(parseTime('2024-01-31T13:00:00.25Z'), utc('2024-01-31T13:00:00.250'));
  assert.equal(parseTime('2024-01-31T13:00:00+02:00'), utc('2024-01-31T11:00:00'));
  assert.equal(parseTime('2015/01/01 01:00:00'), utc('2015-01-01T01:00:00')); // github.csv
  assert.equal(parseTime('Jan 1 2000'), utc('2000-01-01T00:00:00')); // sp500.csv, stocks.csv
  assert.equal(parseTime('Sep 30 2009'), utc('2009-09-30T00:00:00'));
  assert.equal(parseTime('1880'), utc('1880-01-01T00:00:00')); // global-temp.csv
  for (const bad of ['2024-02-30', '2023-13-01', 'yesterday', '', '12/31/2020', 'Foo 1 2000', '2024-01-01T25:00']) assert.equal(parseTime(bad), null, bad);
  assert.throws(() => parseTimeColumn(['2024-01-01', 'soon'], (i) => `s.csv line ${i + 2}, column 1 ('date')`),
    (e: Error) => e instanceof DataError && e.message === "s.csv line 3, column 1 ('date'): 'soon' is not a date (expected e.g. 2024-01-31, 2024-01-31T13:00:00, 2024/01/31 13:00, Jan 31 2024 or a year)");
});

test('calendar features: known values for known dates, cycles chosen by the spacing', () => {
  // Monday 2024-01-01 06:00: a quarter of the day, the start of the week (plus a quarter day), day 0.25 of 366.
  const [hs, hc, ws, wc, ys, yc] = calendarFeatures(utc('2024-01-01T06:00:00'), ['hour', 'weekday', 'yearday']);
  close(hs, 1, 1e-12, 'hour sin'); close(hc, 0, 1e-12, 'hour cos');
  close(ws, Math.sin(2 * Math.PI * 0.25 / 7), 1e-12); close(wc, Math.cos(2 * Math.PI * 0.25 / 7), 1e-12);
  close(ys, Math.sin(2 * Math.PI * 0.25 / 366), 1e-12); close(yc, Math.cos(2 * Math.PI * 0.25 / 366), 1e-12);
  // 2024-07-02 is day 183 of the leap year: half way (cos -1); a Tuesday at midnight: 1/7 of the week.
  const [ts, tc, ds, dc] = calendarFeatures(utc('2024-07-02T00:00:00'), ['weekday', 'yearday']);
  close(ts, Math.sin(2 * Math.PI / 7), 1e-12); close(tc, Math.cos(2 * Math.PI / 7), 1e-12);
  close(ds, 0, 1e-12); close(dc, -1, 1e-12);
  const hourly = detectSpacing(['2010-01-01T01:00', '2010-01-01T02:00', '2010-01-01T03:00'].map(utc), String);
  assert.deepEqual(hourly, { unit: 'ms', step: 3_600_000 });
  assert.deepEqual(calendarCycles(hourly), ['hour', 'weekday', 'yearday']);
  assert.deepEqual(calendarCycles({ unit: 'ms', step: 86_400_000 }), ['weekday', 'yearday']);
  const monthly = detectSpacing(['1958-03-01', '1958-04-01', '1958-05-01', '1958-07-01'].map(utc), String);
  assert.deepEqual(monthly, { unit: 'month', step: 1 });
  assert.deepEqual(calendarCycles(monthly), ['yearday']);
  assert.deepEqual(calendarCycles({ unit: 'month', step: 12 }), []);
  // The steps after the last row follow the spacing: calendar months, hours.
  assert.equal(formatTime(stepTime(utc('2024-11-01T00:00:00'), monthly, 3), monthly), '2025-02-01');
  assert.equal(formatTime(stepTime(utc('2010-12-31T23:00:00'), hourly, 2), hourly), '2011-01-01T01:00:00');
  assert.throws(() => detectSpacing([utc('2024-01-02'), utc('2024-01-01')], (i) => `row ${i}`), /row 1: time 2024-01-01T00:00:00.000Z is not after the previous row's/);
});

test('lag inputs: the value one period before each forecast step, and the seasonal difference at unit size', () => {
  const z = [Array.from({ length: 40 }, (_, t) => Math.sin(t / 3) + 0.05 * t)];
  const H = 3, W = 6;
  const plan: ChannelPlan = { features: ['y'], targetIdx: [0], lags: [5, 10], lagScale: [0.5, 2], cycles: [], window: W, horizon: H };
  assert.deepEqual(channelNames(plan, ['y']), ['y', 'y_lag5', 'y_lag10', 'y_diff5', 'y_diff10']);
  const cols = seriesChannels(z, null, plan);
  for (let t = 10; t < 40; t++) {
    assert.equal(cols[1][t], z[0][t + H - 5]); assert.equal(cols[2][t], z[0][t + H - 10]);
    close(cols[3][t], (z[0][t] - z[0][t - 5]) / 0.5); close(cols[4][t], (z[0][t] - z[0][t - 10]) / 2);
  }
  assert.ok(Number.isNaN(cols[2][6]), 'a lag before the first row is not made up');
  // Seasonal-naive from the lag input (period 10 > window 6) is y one period before each step.
  const w = { ...makeWindows(cols, [0], W, H, 10, 40), lags: [{ period: 5, cols: [1] }, { period: 10, cols: [2] }] };
  const naive10 = seasonalNaiveOutputs(w, [0], 10), naive5 = seasonalNaiveOutputs(w, [0], 5);
  for (let i = 0; i < w.n; i++) {
    const t = 10 + i + W - 1; // the window's last row
    for (let h = 0; h < H; h++) {
      close(naive10[i * H + h] + w.anchor[i], z[0][t + 1 + h - 10], 1e-6);
      close(naive5[i * H + h] + w.anchor[i], z[0][t + 1 + h - 5], 1e-6); // inside the window: the same as the lag
    }
  }
  assert.throws(() => seasonalNaiveOutputs(w, [0], 7), /season 7 must be in \[1, window 6\], or a period of the model's lag inputs/);
  assert.throws(() => seriesChannels(z, null, { ...plan, lags: [2] }), /lag period 2 is shorter than the horizon 3/);
});

test('several series: windows never span two series, each normalized on its own training rows', () => {
  // Series a counts from 0, b from 1000: a window mixing them would hold a jump of ~1000.
  const rows: string[] = [];
  for (let t = 0; t < 30; t++) rows.push(`a,${t},${(t % 5) / 10}`);
  for (let t = 0; t < 25; t++) rows.push(`b,${1000 + 2 * t},${(t % 5) / 10}`);
  const csv = `id,v,c\n${rows.join('\n')}\n`;
  const d = prepareForecastData(csv, 'm.csv', { columns: ['v', 'c'], targets: ['v'], window: 4, horizon: 2, valFraction: 0.2, layout: { column: 'id' }, seasons: [], lags: false });
  assert.deepEqual(d.series.map((s) => s.name), ['a', 'b']);
  assert.notEqual(d.series[0].norm.mean[0], d.series[1].norm.mean[0]);
  for (const w of [d.train, d.val!]) {
    for (let i = 0; i < w.n; i++) {
      const norm = d.series[w.series![i]].norm, step = w.series![i] === 0 ? 1 : 2;
      const raw = Array.from({ length: 4 }, (_, t) => norm.inverse(w.x[(i * 4 + t) * 2], 0));
      for (let t = 1; t < 4; t++) close(raw[t] - raw[t - 1], step, 1e-3, `window ${i} of series ${w.series![i]}`);
      for (let h = 0; h < 2; h++) close(norm.inverse(w.y[i * 2 + h] + w.anchor[i], 0) - raw[3], step * (h + 1), 1e-3, 'target from the same series');
      close(w.targetStd![i], norm.std[0], 1e-4);
    }
  }
  // Each series splits on its own: the last windows of each validate. 30 rows: 25 windows, 5 validate; 25 rows: 20 and 4.
  assert.equal(d.val!.n, 5 + 4);
  assert.equal(d.train.n, (25 - 5 - 1) + (20 - 4 - 1));
  // One column per series reads the same as an id column.
  const wide = readForecastSeries('t,x,y\n1,1,10\n2,2,20\n3,3,30\n', 'w.csv', { layout: { columns: ['x', 'y'] } });
  assert.deepEqual(wide.features, ['value']);
  assert.deepEqual(wide.series.map((s) => [s.name, Array.from(s.raw[0])]), [['x', [1, 2, 3]], ['y', [10, 20, 30]]]);
  assert.throws(() => readForecastSeries(csv, 'm.csv', { features: ['id'], layout: { column: 'id' } }), /the series column 'id' cannot also be an input column/);
  // The example of the format description (src/data/formats.ts) reads as it says.
  const ex = readForecastSeries('site,time,temperature\nnorth,2024-01-01T00:00,4.1\nsouth,2024-01-01T00:00,9\nnorth,2024-01-01T01:00,4.3\n', 'x.csv', { timeColumn: 'time', layout: { column: 'site' } });
  assert.deepEqual(ex.features, ['temperature']);
  assert.deepEqual(ex.series.map((s) => [s.name, Array.from(s.raw[0]), s.times]), [['north', [4.1, 4.3], [utc('2024-01-01T00:00:00'), utc('2024-01-01T01:00:00')]], ['south', [9], [utc('2024-01-01T00:00:00')]]]);
});

test('quantile (pinball) loss: values by hand, gradient by finite differences, calibration counted', () => {
  const t = (v: number[], shape: number[]) => new Tensor(ref64.upload('f64', Float64Array.from(v)), shape);
  // Targets 1, 1 against predictions 0 (under) and 3 (over) at quantile 0.9: 0.9*1 and 0.1*2, mean 0.55.
  const loss = pinballLoss(t([0, 3], [1, 2]), t([1, 1], [1, 2]), t([0.9, 0.9], [2]));
  close(loss.dataSync()[0], 0.55, 1e-12);
  close(pinballValue([0, 3], [1, 1], [0.9, 0.9]), 0.55, 1e-12);
  close(pinballValue([0, 3, 0, 3], [1, 1, 1, 1], [0.1, 0.5]), (0.1 + 1 + 0.1 + 1) / 4, 1e-12); // tau per output of a row
  const rng = new Rng(5);
  const pred = randLeaf(rng, [3, 4]), target = randLeaf(rng, [3, 4], 1, false);
  const tau = t([0.1, 0.5, 0.9, 0.3], [4]);
  gradcheck(() => pinballLoss(pred, target, tau), [pred]);
  assert.throws(() => pinballLoss(pred, target, t([0.5], [1])), /tau \[1\] must be \[4\]/);
  // Coverage: truths 0..9 against the interval [2, 7] at every step: 6 of 10 inside.
  const w = { ...makeWindows([[...Array(10).keys()].map(() => 0).concat([...Array(10).keys()])], [0], 10, 1, 0, 11), n: 1 };
  const all = Float32Array.from([2, 5, 7]);
  w.y = Float32Array.from([6]);
  assert.equal(intervalCoverage(w, all, [0.1, 0.5, 0.9]), 1);
  w.y = Float32Array.from([8]);
  assert.equal(intervalCoverage(w, all, [0.1, 0.5, 0.9]), 0);
  // The output scale is the RMS of what the network learns.
  // Windows of 2 over [0 0 1 3 0 4], horizon 2: targets relative to the last input [1 3], [2 -1], [-3 1].
  const s = makeWindows([[0, 0, 1, 3, 0, 4]], [0], 2, 2);
  close(fitOutputScale(s, null)[0], Math.sqrt((1 + 9 + 4 + 1 + 9 + 1) / 6), 1e-6);
});

test('a residual model with a zeroed head is seasonal-naive, through lag inputs, scale and quantiles', async () => {
  const z = [Array.from({ length: 60 }, (_, t) => Math.sin((2 * Math.PI * t) / 12) + 0.03 * t)];
  const plan: ChannelPlan = { features: ['y'], targetIdx: [0], lags: [12], lagScale: [0.4], cycles: [], window: 8, horizon: 4 };
  const w = { ...makeWindows(seriesChannels(z, null, plan), [0], 8, 4, 12, 60), lags: [{ period: 12, cols: [1] }] };
  const model = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 3, hiddenSize: 5, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 3 * 4 }, { rng: new Rng(2) });
  zeroHead(model);
  const task = new ForecastTask(model, w, null, 8, [1], 0, { period: 12, targetCols: [0] }, { outputScale: [0.7], quantiles: [0.1, 0.5, 0.9] });
  const all = await task.predictQuantiles(w), base = seasonalNaiveOutputs(w, [0], 12);
  for (let i = 0; i < w.n; i++) for (let q = 0; q < 3; q++) for (let h = 0; h < 4; h++) close(all[(i * 3 + q) * 4 + h], base[i * 4 + h], 1e-6);
});

const FORECAST = {
  features: ['temp', 'hum'], targets: ['temp'], window: 24, horizon: 6, normalization: { mean: [1, 2], std: [3, 4] },
  seasons: [24, 168], residualSeason: 24, lags: [24, 168], lagScale: [0.3, 0.5], outputScale: [0.1],
  time: { column: 'date', spacing: { unit: 'ms', step: 3_600_000 }, cycles: ['hour', 'weekday'] },
  series: { column: 'site', names: ['a', 'b'], normalization: [{ mean: [1, 2], std: [3, 4] }, { mean: [0, 0], std: [1, 1] }] },
  quantiles: [0.1, 0.5, 0.9],
};
const meta = (forecast: object, inputSize = 2 + 2 * 2 + 4, outputSize = 18) => ({
  format: 'carousel-model', version: 1,
  architecture: { task: 'forecast', cell: 'lstm', inputSize, hiddenSize: 4, numLayers: 1, bidirectional: false, dropout: 0, outputSize }, forecast,
});

test('model.json: the new forecast sections round-trip; older files still load; broken ones are named', () => {
  const full = meta(FORECAST);
  assert.deepEqual(checkModelMeta(JSON.parse(JSON.stringify(full)), 'm.json'), full);
  const { lags: _l, lagScale: _s, time: _t, series: _r, quantiles: _q, outputScale: _o, ...old } = FORECAST;
  assert.ok(checkModelMeta(meta({ ...old, seasons: [24] }, 2, 6), 'm.json'));
  const refused = (f: object, pattern: RegExp, inputSize?: number, outputSize?: number) =>
    assert.throws(() => checkModelMeta(meta({ ...FORECAST, ...f }, inputSize, outputSize), 'm.json'), pattern);
  refused({ lags: [4, 168] }, /forecast\.lags: expected periods >= horizon \(6\), got 4/);
  refused({ lagScale: [0.3] }, /forecast\.lagScale: expected 2 positive finite numbers \(lags x targets\)/);
  refused({ quantiles: [0.1, 0.9] }, /forecast\.quantiles: expected increasing numbers in \(0, 1\), one of them 0\.5/);
  refused({ time: { ...FORECAST.time, cycles: ['minute'] } }, /forecast\.time\.cycles: expected distinct entries among hour, weekday, yearday/);
  refused({ series: { ...FORECAST.series, normalization: [FORECAST.series.normalization[0]] } }, /forecast\.series\.normalization: expected one \{ mean, std \} per series \(2\)/);
  refused({ outputScale: [0] }, /forecast\.outputScale: expected 1 positive finite numbers/);
  refused({}, /forecast\.features: expected an array of 3 strings, got 2 entries/, 11); // 11 inputs less 2 x 2 lags and 2 x 2 calendar
  refused({}, /forecast\.horizon: expected quantiles x targets x horizon = architecture\.outputSize/, undefined, 6);
});

/** An hourly series with a daily cycle, a slow drift and a covariate, as a CSV with a date column. */
function hourlyCsv(hours: number, sites = ['']): string {
  const rng = new Rng(9), lines: string[] = [];
  for (const site of sites) {
    for (let t = 0; t < hours; t++) {
      const date = new Date(Date.UTC(2024, 0, 1, t)).toISOString().slice(0, 19);
      const temp = 10 + 5 * Math.sin((2 * Math.PI * t) / 24) + 0.01 * t + 0.2 * rng.normal() + (site === 'b' ? 3 : 0);
      lines.push(`${site ? `${site},` : ''}${date},${temp.toFixed(3)},${(50 + 10 * Math.cos((2 * Math.PI * t) / 24)).toFixed(2)}`);
    }
  }
  return `${sites[0] ? 'site,' : ''}date,temp,hum\n${lines.join('\n')}\n`;
}

test('cli: lags, calendar, covariates, series and quantiles saved, evaluated and predicted with timestamps; --resume refuses them', () => {
  const d = tmp(), csv = join(d, 'h.csv'), out = join(d, 'm');
  writeFileSync(csv, hourlyCsv(24 * 12, ['a', 'b']));
  const r = carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--series-column', 'site', '--time-column', 'date',
    '--columns', 'temp,hum', '--target', 'temp', '--window', '24', '--horizon', '6', '--lags', '--season', '24,48', '--residual', 'seasonal',
    '--quantiles', '0.1,0.5,0.9', '--hidden', '8', '--epochs', '1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /lag inputs at 24, 48, calendar inputs \(hour, weekday, yearday\)/);
  assert.match(r.out, /^temp:b\s+seasonal_naive_48\s/m);
  const f = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).forecast;
  assert.deepEqual([f.lags, f.time.cycles, f.series.names, f.quantiles], [[24, 48], ['hour', 'weekday', 'yearday'], ['a', 'b'], [0.1, 0.5, 0.9]]);
  const p = carousel(['predict', '--model', out, '--data', csv]);
  assert.equal(p.code, 0, p.err);
  const lines = p.out.trim().split('\n');
  assert.equal(lines[0], 'site,step,date,temp,temp_q0.1,temp_q0.9');
  // 12 days of hours end at 2024-01-12T23:00: the forecast steps are the next 6 hours, for each site.
  assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(',')), ['a', 'b'].flatMap((s) => [1, 2, 3, 4, 5, 6].map((h) => `${s},${h},2024-01-13T0${h - 1}:00:00`)));
  for (const l of lines.slice(1)) {
    const [, , , med, lo, hi] = l.split(',').map(Number);
    assert.ok(Number.isFinite(med) && Number.isFinite(lo) && Number.isFinite(hi), l);
  }
  const e = carousel(['evaluate', '--model', out, '--data', csv]);
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /^below_q0\.1 0\.\d{4}$/m);
  assert.match(e.out, /^coverage_0\.1_0\.9 [01]\.\d{4}$/m);
  assert.match(e.out, /^temp:a\s+model\s/m);
  // A series the model never saw, an unparsable date: one line each.
  writeFileSync(join(d, 'c.csv'), hourlyCsv(60, ['c']));
  userError(carousel(['predict', '--model', out, '--data', join(d, 'c.csv')]), /series 'c' was not in the model's training data \(its series: a, b\)/);
  writeFileSync(join(d, 'bad.csv'), hourlyCsv(60, ['a']).replace('2024-01-01T05:00:00', '2024-01-01 5pm'));
  userError(carousel(['predict', '--model', out, '--data', join(d, 'bad.csv')]), /bad\.csv line 7, column 2 \('date'\): '2024-01-01 5pm' is not a date/);
  for (const flag of [['--lags'], ['--quantiles', '0.5'], ['--time-column', 'date'], ['--series-column', 'site']]) {
    userError(carousel(['train', '--out', out, '--resume', ...flag]), new RegExp(`cannot change ${flag[0]} \\(only --epochs may be given\\)`));
  }
  userError(carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--quantiles', '0.1,0.9']), /--quantiles: expected 0\.5 among the quantiles/);
  userError(carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--series-column', 'site', '--time-column', 'when']), /no column 'when'/);
});
