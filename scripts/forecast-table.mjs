#!/usr/bin/env node
// Reproduces the README's forecasting table: trains one model per vega-datasets series with the
// exact commands below (after `npm run build`) and prints train's validation report (the held-out
// tail of each series, the same windows for the model and every baseline) as a Markdown table.
// About a minute in all on a 2-core machine. Usage: node scripts/forecast-table.mjs [--keep DIR]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const D = 'node_modules/vega-datasets/data';
const HOURLY = ['--window', '48', '--horizon', '24', '--val-split', '0.166', '--residual', 'seasonal', '--lags', '--lr', '0.002', '--epochs', '3'];
const DAILY = ['--time-column', 'date', '--window', '28', '--horizon', '7', '--val-split', '0.2', '--lags', '--season', '365', '--hidden', '32', '--epochs', '6'];
export const RUNS = [
  { name: 'hourly normals, temperature', args: ['--data', `${D}/seattle-weather-hourly-normals.csv`, '--column', 'temperature', ...HOURLY] },
  { name: 'Seattle daily temp_max', args: ['--data', `${D}/seattle-weather.csv`, '--column', 'temp_max', ...DAILY] },
  { name: 'Mauna Loa CO2 (monthly)', args: ['--data', `${D}/co2-concentration.csv`, '--column', 'CO2', '--time-column', 'Date', '--window', '36', '--horizon', '12', '--val-split', '0.2', '--residual', 'seasonal', '--lags', '--hidden', '32', '--epochs', '10'] },
  { name: 'New York daily temp_max (weather.csv, one model for both cities)', rows: 'temp_max:New York', args: ['--data', `${D}/weather.csv`, '--series-column', 'location', '--column', 'temp_max', ...DAILY] },
  { name: 'hourly normals, pressure', args: ['--data', `${D}/seattle-weather-hourly-normals.csv`, '--column', 'pressure', '--season', '24', ...HOURLY] },
];

const keep = process.argv.indexOf('--keep');
const root = keep > 0 ? process.argv[keep + 1] : mkdtempSync(join(tmpdir(), 'carousel-forecast-'));
const table = ['| series | model | persistence | seasonal-naive | window mean | windows |', '|---|---|---|---|---|---|'];
const commands = [];
try {
  RUNS.forEach((r, i) => {
    const args = ['train', '--task', 'forecast', ...r.args, '--out', join(root, `m${i}`)];
    commands.push(`carousel ${args.slice(0, -2).join(' ')} --out m${i}/`);
    const t0 = Date.now();
    const out = execFileSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const windows = /on the (\d+) validation windows/.exec(out)?.[1] ?? '?';
    const label = r.rows ?? /^(\S+)\s+model\s+\d/m.exec(out)[1];
    const rows = out.split('\n').map((l) => l.split(/\s{2,}/)).filter((c) => c[0] === label && c.length >= 4);
    const mae = (m) => rows.find((c) => c[1] === m)?.[2];
    const naive = rows.filter((c) => c[1].startsWith('seasonal_naive_')).map((c) => `${(+c[2]).toPrecision(3)} (P=${c[1].slice(15)})`).join(', ') || 'none';
    const fmt = (x) => (+x).toPrecision(3);
    const best = Math.min(...rows.filter((c) => c[1] !== 'model').map((c) => +c[2]));
    const model = +mae('model') < best ? `**${fmt(mae('model'))}**` : fmt(mae('model'));
    table.push(`| ${r.name} | ${model} | ${fmt(mae('persistence'))} | ${naive} | ${fmt(mae('window_mean'))} | ${windows} |`);
    process.stderr.write(`${r.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  });
} finally {
  if (keep < 0) rmSync(root, { recursive: true, force: true });
}
console.log(table.join('\n'));
console.log('\n```sh\n' + commands.join('\n') + '\n```');
