import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { weightsPath } from '../src/io/modelDir.js';
import { carousel, userError } from './util/cli.js';

const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-cli-'));



// Data made here (not the repository's): a noisy seasonal series with two columns.
function seriesCsv(n = 90): string {
  const rows = Array.from({ length: n }, (_, i) => `${i},${(Math.sin(i / 2) + 0.01 * i).toFixed(4)},${Math.cos(i / 5).toFixed(4)}`);
  return `t,value,other\n${rows.join('\n')}\n`;
}

test('cli: --help everywhere, unknown command and unknown flags', () => {
  for (const c of ['train', 'predict', 'evaluate', 'generate', 'info', 'demo']) {
    const r = carousel([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.out, new RegExp(`^Usage: carousel ${c}`));
  }
  assert.match(carousel(['--help']).out, /train\s+train a forecaster/);
  userError(carousel(['train', '--epoch', '3']), /Unknown option '--epoch'/);
  userError(carousel(['predict', '--model']), /--model/);
  userError(carousel(['train', '--task', 'forecast', '--data', 'x.csv']), /--out is required/);
  userError(carousel(['train', '--task', 'regress', '--data', 'x.csv', '--out', 'o']), /--task: expected one of forecast, classify, charlm, got 'regress'/);
  userError(carousel(['train', '--task', 'forecast', '--data', 'x.csv', '--out', 'o', '--hidden', '0']), /--hidden: expected an integer >= 1, got '0'/);
  userError(carousel(['train', '--task', 'charlm', '--data', 'x.txt', '--out', 'o', '--bidirectional']), /cannot look ahead/);
});

test('cli: forecast train -> info, predict, evaluate on a CSV made here', () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'm');
  writeFileSync(csv, seriesCsv());
  const r = carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--column', 'value,other', '--target', 'value',
    '--window', '8', '--horizon', '3', '--hidden', '6', '--epochs', '2', '--batch-size', '16', '--cell', 'gru', '--bptt', '4', '--schedule', 'cosine']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /epoch 2\/2 {2}loss [\d.]+ {2}val_loss/);
  for (const f of ['model.json', 'checkpoint.safetensors', 'loss.svg', 'forecast.svg']) assert.ok(existsSync(join(out, f)), f);
  assert.ok(existsSync(weightsPath(out)), 'the weights file model.json names');
  assert.match(readFileSync(join(out, 'forecast.svg'), 'utf8'), /^<svg[^>]*>[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
  const info = carousel(['info', out]);
  assert.equal(info.code, 0, info.err);
  assert.match(info.out, /forecast model, GRU 1 layer\(s\) x 6 hidden/);
  assert.match(info.out, /rnn\.weight_ih_l0 {2}\[18, 2\]/);
  assert.match(info.out, /columns value, other -> value, window 8, horizon 3/);
  const p = carousel(['predict', '--model', out, '--data', csv]);
  assert.equal(p.code, 0, p.err);
  const lines = p.out.trim().split('\n');
  assert.equal(lines[0], 'step,value');
  assert.equal(lines.length, 4);
  for (const l of lines.slice(1)) assert.ok(Number.isFinite(Number(l.split(',')[1])), l);
  const e = carousel(['evaluate', '--model', out, '--data', csv]);
  assert.equal(e.code, 0, e.err);
  assert.match(e.out, /^windows 80\nmse_normalized [\d.]+\nmae [\d.e-]+\nrmse [\d.e-]+\npersistence_mae [\d.e-]+\n(seasonal_naive none: .*\n)?target +method +mae +rmse\n(value +\w+ +[\d.e-]+ +[\d.e-]+\n){3,}$/);
  assert.equal(carousel(['info', weightsPath(out)]).code, 0);
});

test('cli: classify (JSON Lines, variable lengths) and charlm (train, generate, evaluate, predict)', () => {
  const d = tmp();
  const seqs = Array.from({ length: 40 }, (_, i) => {
    const len = 2 + (i % 5);
    const s = Array.from({ length: len }, (_, t) => [((i * 7 + t * 3) % 11) / 10 - 0.5, t / len]);
    return JSON.stringify({ sequence: s, label: s.reduce((a, b) => a + b[0], 0) > 0 ? 'pos' : 'neg' });
  });
  writeFileSync(join(d, 'seq.jsonl'), seqs.join('\n') + '\n');
  const c = carousel(['train', '--task', 'classify', '--data', join(d, 'seq.jsonl'), '--out', join(d, 'cls'), '--hidden', '5', '--epochs', '2', '--bidirectional', '--batch-size', '8']);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /validation: loss [\d.]+, accuracy [\d.]+/);
  const unl = join(d, 'new.jsonl');
  writeFileSync(unl, '{"sequence": [[0.1, 0], [0.4, 0.5]]}\n{"sequence": [[-0.3, 0]]}\n');
  const pc = carousel(['predict', '--model', join(d, 'cls'), '--data', unl]);
  assert.equal(pc.code, 0, pc.err);
  assert.match(pc.out, /^index,label,probability\n1,(pos|neg),[\d.]+\n2,(pos|neg),[\d.]+\n$/);
  assert.match(carousel(['evaluate', '--model', join(d, 'cls'), '--data', join(d, 'seq.jsonl')]).out, /accuracy [\d.]+/);

  writeFileSync(join(d, 't.txt'), 'a rose is a rose is a rose. '.repeat(30));
  const l = carousel(['train', '--task', 'charlm', '--data', join(d, 't.txt'), '--out', join(d, 'lm'), '--hidden', '8', '--embedding', '4', '--epochs', '1', '--batch-size', '4', '--bptt', '16']);
  assert.equal(l.code, 0, l.err);
  const g = carousel(['generate', '--model', join(d, 'lm'), '--seed-text', 'a ro', '--length', '20', '--temperature', '0.5', '--top-k', '3', '--seed', '4']);
  assert.equal(g.code, 0, g.err);
  assert.equal(Array.from(g.out.trimEnd()).length >= 4, true);
  assert.ok(g.out.startsWith('a ro'));
  const g1 = carousel(['generate', '--model', join(d, 'lm'), '--seed-text', 'a ro', '--length', '20', '--seed', '4']);
  const g2 = carousel(['generate', '--model', join(d, 'lm'), '--seed-text', 'a ro', '--length', '20', '--seed', '4']);
  assert.equal(g1.code, 0, g1.err);
  assert.equal(g2.code, 0, g2.err);
  assert.equal(g2.out, g1.out);
  userError(carousel(['generate', '--model', join(d, 'lm'), '--seed-text', 'xyz', '--strict-vocab']), /seed text: character "x" at position 0 is not in the model's vocabulary/);
  userError(carousel(['generate', '--model', join(d, 'cls')]), /is a classify model; generate needs a charlm model/);
  assert.match(carousel(['evaluate', '--model', join(d, 'lm'), '--data', join(d, 't.txt')]).out, /^characters \d+\nunknown_characters 0\nloss [\d.]+\nbpc [\d.]+\n$/);
  assert.match(carousel(['predict', '--model', join(d, 'lm'), '--data', join(d, 't.txt')]).out, /^char,probability\n/);
});

test('cli: bad data and bad model files give one clear line and exit 2', () => {
  const d = tmp(), out = join(d, 'o');
  const train = (file: string, text: string, extra: string[] = []) => {
    writeFileSync(join(d, file), text);
    return carousel(['train', '--task', 'forecast', '--data', join(d, file), '--out', out, '--window', '4', '--epochs', '1', '--hidden', '3', ...extra]);
  };
  userError(train('a.csv', 'x,y\n1,2\n3\n'), /a\.csv line 3: expected 2 fields \(as in the header\), got 1/);
  userError(train('b.csv', 'x,y\n1,2\n2,oops\n', ['--column', 'y']), /b\.csv line 3, column 2 \('y'\): expected a number, got 'oops'/);
  userError(train('c.csv', seriesCsv(20).replace('\n5,', '\n5,NaN,').replace(/\n5,NaN,[^,]*,/, '\n5,NaN,'), ['--column', 'value']), /c\.csv line 7, column 2 \('value'\): value is NaN/);
  userError(train('d.csv', seriesCsv(20), ['--column', 'price']), /d\.csv: no column 'price' \(the columns are: t, value, other\)/);
  userError(train('e.csv', seriesCsv(4), ['--column', 'value']), /the series has 4 rows, shorter than window \+ horizon = 4 \+ 1 = 5/);
  userError(train('f.csv', 'x,"y\n1,2\n'), /f\.csv line 1, column 2: quoted field is never closed/);
  userError(carousel(['train', '--task', 'forecast', '--data', join(d, 'missing.csv'), '--out', out]), /data file .*missing\.csv: no such file/);
  // A good model, then damaged copies of it.
  const okOut = join(d, 'ok');
  writeFileSync(join(d, 'g.csv'), seriesCsv(40));
  assert.equal(carousel(['train', '--task', 'forecast', '--data', join(d, 'g.csv'), '--out', okOut, '--window', '4', '--epochs', '1', '--hidden', '3', '--column', 'value']).code, 0);
  const wp = weightsPath(okOut), w = readFileSync(wp);
  writeFileSync(wp, w.subarray(0, w.length - 7));
  userError(carousel(['predict', '--model', okOut, '--data', join(d, 'g.csv')]), /weights-[0-9a-f]{16}\.safetensors: \d+ bytes, model\.json records \d+/);
  userError(carousel(['info', wp]), /truncated/);
  userError(carousel(['info', join(d, 'nothing')]), /no such file or directory/);
  userError(carousel(['predict', '--model', d, '--data', join(d, 'g.csv')]), /no model\.json \(not a Carousel model directory\?\)/);
  writeFileSync(join(d, 'short.csv'), 't,value,other\n1,2,3\n');
  writeFileSync(wp, w);
  userError(carousel(['predict', '--model', okOut, '--data', join(d, 'short.csv')]), /the series has 1 rows, shorter than the model's window of 4/);
  userError(carousel(['evaluate', '--model', okOut, '--data', join(d, 'a.csv')]), /a\.csv line 3: expected 2 fields/);
  userError(carousel(['predict', '--model', okOut, '--data', join(d, 'g.csv'), '--output', join(d, 'no', 'such', 'x.csv')]), /cannot write .*x\.csv: no such folder \(ENOENT\)/);
  userError(carousel(['train', '--task', 'forecast', '--data', join(d, 'g.csv'), '--column', 'value', '--out', join(d, 'g.csv', 'sub')]), /cannot create the folder .*: a part of the path is a file, not a folder \(ENOTDIR\)/);
});

/** Start a training run in the background; resolves when `file` exists. */
function startTraining(args: string[], file: string) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b; });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const ready = new Promise<void>((res, rej) => {
    const t = setInterval(() => { if (existsSync(file)) { clearInterval(t); res(); } }, 5);
    void exited.then(() => { clearInterval(t); if (!existsSync(file)) rej(new Error(`training exited before ${file}: ${err}`)); else res(); });
  });
  return { child, ready, exited, stderr: () => err };
}

test('cli: kill -9 during training, then --resume: same final weights as an uninterrupted run; Ctrl-C saves a checkpoint', async () => {
  const d = tmp(), csv = join(d, 's.csv');
  writeFileSync(csv, seriesCsv(160));
  const args = (out: string) => ['train', '--task', 'forecast', '--data', csv, '--out', out, '--column', 'value', '--window', '12', '--horizon', '2',
    '--hidden', '8', '--layers', '2', '--dropout', '0.1', '--epochs', '8', '--batch-size', '8', '--seed', '5', '--checkpoint-every', '3', '--schedule', 'plateau'];
  const ref = join(d, 'ref');
  const first = carousel(args(ref));
  assert.equal(first.code, 0, first.err);
  const expected = readFileSync(weightsPath(ref));

  const killed = join(d, 'killed');
  const run = startTraining(args(killed), join(killed, 'checkpoint.safetensors'));
  await run.ready;
  run.child.kill('SIGKILL');
  assert.equal(await run.exited, null, 'killed by the signal');
  assert.ok(!existsSync(join(killed, 'model.json')), 'killed before the end of training');
  const r = carousel(['train', '--out', killed, '--resume']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^resuming forecast LSTM/m);
  assert.ok(readFileSync(weightsPath(killed)).equals(expected), 'bit-identical weights after kill -9 + resume');

  const inter = join(d, 'interrupted');
  const run2 = startTraining(args(inter), join(inter, 'checkpoint.safetensors'));
  await run2.ready;
  run2.child.kill('SIGINT');
  assert.equal(await run2.exited, 130, run2.stderr());
  assert.match(run2.stderr(), /interrupted: checkpoint saved to .*checkpoint\.safetensors; continue with: carousel train --out .* --resume/);
  const r2 = carousel(['train', '--out', inter, '--resume']);
  assert.equal(r2.code, 0, r2.err);
  assert.ok(readFileSync(weightsPath(inter)).equals(expected), 'bit-identical weights after Ctrl-C + resume');
  userError(carousel(['train', '--out', join(d, 'none'), '--resume']), /--resume: no checkpoint in .*none/);
});

test('cli: demo --quick runs end to end on the real data', () => {
  const d = tmp();
  const r = carousel(['demo', '--quick', '--out', d]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /held-out 24 months: LSTM MAE [\d.]+ ppm, seasonal-naive MAE [\d.]+ ppm/);
  assert.match(r.out, /bits per character/);
  for (const f of ['co2-forecast.svg', 'co2-model/model.json', 'sonnets-model/loss.svg', 'sonnets-sample.txt']) assert.ok(existsSync(join(d, f)), f);
});
