import { test } from 'node:test';
import assert from 'node:assert/strict';
import { numericColumns, parseCsv } from '../src/data/csv.js';
import { DataError } from '../src/data/errors.js';
import { Normalizer } from '../src/data/normalize.js';
import { printable } from '../src/data/printable.js';
import { parseSequences } from '../src/data/sequences.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { Adam } from '../src/optim/adam.js';
import { Rng } from '../src/tensor/random.js';
import { fit } from '../src/train/fit.js';
import { ForecastTask } from '../src/train/forecastTask.js';
import { prepareForecast } from '../src/train/recipes.js';

const message = (f: () => unknown): string => {
  try { f(); } catch (e) { assert.ok(e instanceof DataError, `a DataError, got ${(e as Error).stack}`); return (e as Error).message; }
  return 'no error';
};
const column = (cells: string[]) => { const t = parseCsv(`v\n${cells.join('\n')}\n`, 's.csv'); return () => numericColumns(t, ['v']); };

test('printable: control characters (C0, DEL, C1, ESC) shown as \\xHH, long text cut with its length', () => {
  assert.equal(printable('a\x1b]0;owned\x07b\x1b[2J\x7f\x9b\n'), 'a\\x1b]0;owned\\x07b\\x1b[2J\\x7f\\x9b\\x0a');
  assert.equal(printable('ok \u202eevil'), 'ok \\u202eevil');
  assert.equal(printable('x'.repeat(50), 10), 'xxxxxxxxxx... (50 characters)');
  assert.equal(printable('é😀', 10), 'é😀');
});

test('CSV numbers: decimal only, 32-bit range, hostile cells quoted short', { timeout: 60000 }, () => {
  assert.deepEqual(Array.from(column(['1', '-2.5', '.5', '7.', '+3e-2', ' 4 '])()[0]), [1, -2.5, 0.5, 7, 0.03, 4]);
  // Number() would read these as 31, 5, 7 and 1000.
  assert.equal(message(column(['1', '0x1F'])), "s.csv line 3, column 1 ('v'): expected a decimal number, got '0x1F' (hexadecimal, octal and binary are not read)");
  assert.match(message(column(['0b101'])), /expected a decimal number, got '0b101'/);
  assert.match(message(column(['0o7'])), /expected a decimal number, got '0o7'/);
  assert.match(message(column(['1_000'])), /expected a number, got '1_000'/);
  assert.match(message(column(['Infinity'])), /expected a finite number, got 'Infinity'/);
  // Finite as a double, but Infinity in the models' 32-bit floats.
  assert.equal(message(column(['1e300'])), "s.csv line 2, column 1 ('v'): expected a number between -3.4e38 and 3.4e38 (the models compute in 32-bit floats), got '1e300'");
  assert.match(message(column(['-4e38'])), /got '-4e38'/);
  // A 2-million-digit cell, quoted cut short. A check that backtracks (quadratic or worse) would
  // take hours on it, which the test's timeout catches; no wall-clock assertion (machines differ).
  const huge = '9'.repeat(2_000_000) + 'x';
  const m = message(column([huge]));
  assert.ok(m.length < 200, m.slice(0, 300));
  assert.match(m, /expected a number, got '9{40}\.\.\. \(2000001 characters\)'/);
  assert.match(message(column(['9'.repeat(400)])), /expected a finite number, got '9{40}\.\.\. \(400 characters\)'/);
  // A cell with an escape sequence is quoted escaped.
  assert.match(message(column(['\x1b[2Jx'])), /got '\\x1b\[2Jx'/);
});

test('sequence data: the same number grammar in CSV and JSON Lines', () => {
  assert.match(message(() => parseSequences('label,sequence\na,1 0x10 2\nb,1 2\n', 'q.csv')), /q\.csv line 2, column 2 \('sequence'\): expected a decimal number, got '0x10'/);
  assert.match(message(() => parseSequences('{"sequence": [1, 1e300], "label": "a"}\n{"sequence": [1], "label": "b"}\n', 'q.jsonl')), /q\.jsonl line 1: sequence step 2: expected a number between -3\.4e38 and 3\.4e38/);
});

test('JSON Lines labels: 1 and "1" are refused (class names are text), other labels and types are fine', () => {
  const jl = (...labels: string[]) => labels.map((l, i) => `{"sequence": [${i}], "label": ${l}}`).join('\n') + '\n';
  assert.equal(message(() => parseSequences(jl('"1"', '2', '1'), 'l.jsonl')),
    'l.jsonl line 3: label 1 (a number) has the same text as the string label on line 1; class names are text, so use one type for both');
  assert.match(message(() => parseSequences(jl('true', '"true"'), 'l.jsonl')), /l\.jsonl line 2: label "true" \(a string\) has the same text as the boolean label on line 1/);
  assert.match(message(() => parseSequences(jl('"a"', '[1]'), 'l.jsonl')), /l\.jsonl line 2: "label": expected a string, number or boolean, got an array/);
  assert.match(message(() => parseSequences(jl('"a"', '{"x": 1}'), 'l.jsonl')), /got an object/);
  assert.deepEqual(parseSequences(jl('1', '2', '1.0', '"a"'), 'l.jsonl').labels, ['1', '2', 'a']);
});

test('normalization is scale-invariant: a series at 1e-13 (or 1e-300, 1e30) scale standardizes like at scale 1', () => {
  const base = Array.from({ length: 50 }, (_, i) => Math.sin(i / 3) + 2);
  const n1 = Normalizer.fit([base]);
  for (const k of [1e-13, 1e-300, 1e30]) {
    const nk = Normalizer.fit([base.map((v) => v * k)]);
    assert.ok(Math.abs(nk.std[0] / (n1.std[0] * k) - 1) < 1e-12, `std at scale ${k}: ${nk.std[0]}`);
    for (let i = 0; i < base.length; i++) assert.ok(Math.abs(nk.forward(base[i] * k, 0) - n1.forward(base[i], 0)) < 1e-9);
  }
  // Constant columns, at any scale, carry no scale: std 1.
  assert.deepEqual(Normalizer.fit([[5, 5, 5], [3e-13, 3e-13], [0, 0]]).std, [1, 1, 1]);
});

test('a forecaster at 1e-13 scale learns as at scale 1 (before: std forced to 1, nothing learned)', async () => {
  const series = (k: number) => 'v\n' + Array.from({ length: 120 }, (_, i) => String((Math.sin(i / 4) + 0.3 * Math.sin(i / 9)) * k)).join('\n') + '\n';
  const run = async (k: number) => {
    const d = prepareForecast(series(k), 's.csv', { window: 8, horizon: 2, valFraction: 0.2 });
    const rng = new Rng(3);
    const model = new SequenceModel({ task: 'forecast', cell: 'lstm', hiddenSize: 8, numLayers: 1, bidirectional: false, dropout: 0, inputSize: 1, outputSize: 2 }, { rng });
    const task = new ForecastTask(model, d.train, d.val, 16, [d.norm.std[0]]);
    await fit(task, { epochs: 8, optimizer: new Adam(model.parameters(), { lr: 0.02 }), rng });
    const r = await task.evaluate(d.val!);
    // MAE relative to the MAE of repeating the last value (persistence), in the data's units.
    let base = 0;
    for (let i = 0; i < d.val!.y.length; i++) base += Math.abs(d.val!.y[i]) * d.norm.std[0];
    return r.metrics.mae / (base / d.val!.y.length);
  };
  const at1 = await run(1), tiny = await run(1e-13);
  assert.ok(at1 < 0.5, `learns at scale 1: relative MAE ${at1}`);
  assert.ok(Math.abs(tiny - at1) < 0.02 * at1, `relative MAE at 1e-13 scale ${tiny}, at scale 1 ${at1}`);
});
