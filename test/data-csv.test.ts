import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, numericColumns, firstNumericColumn } from '../src/data/csv.js';
import { DataError } from '../src/data/errors.js';
import { Normalizer } from '../src/data/normalize.js';
import { makeWindows, gatherWindows, seasonalNaive } from '../src/data/series.js';
import { CharVocab, batchify } from '../src/data/text.js';
import { parseSequences, padBatch } from '../src/data/sequences.js';
import { prepareForecast } from '../src/train/recipes.js';

test('CSV: quotes, doubled quotes, CRLF, multi-line fields, blank lines, BOM', () => {
  const t = parseCsv('\ufeffa,"b, c",d\r\n1,"x ""y""",3\r\n\r\n4,"two\nlines",6\n', 'f.csv');
  assert.deepEqual(t.header, ['a', 'b, c', 'd']);
  assert.deepEqual(t.rows, [['1', 'x "y"', '3'], ['4', 'two\nlines', '6']]);
  assert.deepEqual(t.lines, [2, 4]);
  // No trailing newline; empty fields are kept.
  assert.deepEqual(parseCsv('a,b\n,2', 'g').rows, [['', '2']]);
});

test('CSV: malformed rows name the file, line and column', () => {
  const msg = (text: string) => { try { parseCsv(text, 'bad.csv'); } catch (e) { assert.ok(e instanceof DataError); return (e as Error).message; } return 'no error'; };
  assert.equal(msg('a,b\n1,2\n3\n'), 'bad.csv line 3: expected 2 fields (as in the header), got 1');
  assert.equal(msg('a,b\n1,"open\n'), `bad.csv line 2, column 2: quoted field is never closed (missing '"')`);
  assert.equal(msg('a,b\n1,"x"y\n'), `bad.csv line 2, column 2: unexpected character 'y' after a closing quote (expected ',' or end of line)`);
  assert.equal(msg('a,b\n1,x"y\n'), `bad.csv line 2, column 2: stray '"' inside an unquoted field (quote the whole field and double inner quotes)`);
  assert.equal(msg(''), 'bad.csv: the file is empty (expected a header line and data rows)');
  assert.equal(msg('a,a\n1,2\n'), "bad.csv line 1: column name 'a' appears twice (columns 1 and 2)");
});

test('CSV numbers: missing column, non-numeric, NaN, empty and infinite values are named', () => {
  const t = parseCsv('date,v,w\n2020,1.5,2\n2021,abc,3\n2022,NaN,4\n2023,,5\n2024,1e999,6\n', 's.csv');
  assert.throws(() => numericColumns(t, ['x']), /s\.csv: no column 'x' \(the columns are: date, v, w\)/);
  const one = (rows: string) => parseCsv(`date,v\n${rows}`, 's.csv');
  assert.throws(() => numericColumns(one('2021,abc\n'), ['v']), /^DataError: s\.csv line 2, column 2 \('v'\): expected a number, got 'abc'$/);
  assert.throws(() => numericColumns(one('1,2\n2022,NaN\n'), ['v']), /s\.csv line 3, column 2 \('v'\): value is NaN/);
  assert.throws(() => numericColumns(one('2023,\n'), ['v']), /line 2, column 2 \('v'\): missing value/);
  assert.throws(() => numericColumns(one('2024,1e999\n'), ['v']), /expected a finite number, got '1e999'/);
  assert.deepEqual(Array.from(numericColumns(t, ['w'])[0]), [2, 3, 4, 5, 6]);
  assert.equal(firstNumericColumn(t), 'date');
  assert.equal(firstNumericColumn(parseCsv('d,v\n2020-01-01,3\n', 'x')), 'v');
});

test('windows: inputs, targets relative to the last value, time-major batches', () => {
  const a = [0, 1, 2, 3, 4, 5, 6], b = [10, 11, 12, 13, 14, 15, 16];
  const w = makeWindows([a, b], [1], 3, 2);
  assert.equal(w.n, 3);
  assert.deepEqual(Array.from(w.x.subarray(0, 6)), [0, 10, 1, 11, 2, 12]);
  assert.deepEqual(Array.from(w.y), [1, 2, 1, 2, 1, 2]); // b[3]-b[2], b[4]-b[2], ...
  assert.deepEqual(Array.from(w.anchor), [12, 13, 14]);
  const g = gatherWindows(w, [2, 0]);
  // [W=3, B=2, F=2]: t=0: window 2 starts at row 2, window 0 at row 0.
  assert.deepEqual(Array.from(g.x.subarray(0, 4)), [2, 12, 0, 10]);
  assert.throws(() => makeWindows([a], [0], 5, 3), /the series has 7 rows, shorter than window \+ horizon = 5 \+ 3 = 8/);
  assert.deepEqual(seasonalNaive([1, 2, 3, 4, 5, 6], 5, 4), [3, 4, 5, 6, 3]);
});

test('forecast split: no validation target leaks into training; normalization from training rows only', () => {
  const rows = Array.from({ length: 60 }, (_, i) => `${i},${Math.sin(i / 3) + i * 0.1}`).join('\n');
  const d = prepareForecast(`t,v\n${rows}\n`, 'x.csv', { columns: ['v'], window: 8, horizon: 4, valFraction: 0.2 });
  const total = 60 - 8 - 4 + 1;
  assert.equal(d.val!.n, Math.floor(total * 0.2));
  // Last training window's last target row < first validation window's first target row.
  const lastTrainTarget = (d.train.n - 1) + 8 + 4 - 1, firstValTarget = (60 - d.val!.n - 8 - 4 + 1) + 8;
  assert.ok(lastTrainTarget < firstValTarget, `${lastTrainTarget} < ${firstValTarget}`);
  assert.equal(d.trainRows, lastTrainTarget + 1);
  const ref = Normalizer.fit(d.raw, d.trainRows);
  assert.deepEqual(d.norm.toJSON(), ref.toJSON());
  assert.throws(() => prepareForecast('t,v\n1,2\n2,3\n', 'short.csv', { window: 4, horizon: 1, valFraction: 0.1 }), /short\.csv: the series has 2 rows, shorter than window \+ horizon/);
});

test('normalizer: fit, inverse, JSON round trip, constant column', () => {
  const n = Normalizer.fit([[1, 2, 3, 4], [5, 5, 5, 5]]);
  assert.equal(n.mean[0], 2.5);
  assert.ok(Math.abs(n.std[0] - Math.sqrt(1.25)) < 1e-12);
  assert.equal(n.std[1], 1);
  assert.ok(Math.abs(n.inverse(n.forward(3.3, 0), 0) - 3.3) < 1e-12);
  assert.deepEqual(Normalizer.fromJSON(JSON.parse(JSON.stringify(n))).toJSON(), n.toJSON());
  assert.throws(() => Normalizer.fromJSON({ mean: [0], std: [0] }), /std of feature 0 must be positive/);
});

test('text: vocabulary, encode/decode, unknown characters, batchify into streams', () => {
  const v = CharVocab.fromText('hello, world');
  assert.deepEqual(v.chars, [' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
  assert.equal(v.decode(v.encode('world')), 'world');
  assert.throws(() => v.encode('hi', 'seed text'), /seed text: character "i" at position 1 is not in the model's vocabulary of 9 characters/);
  const s = batchify(Int32Array.from([0, 1, 2, 3, 4, 5, 6]), 2);
  assert.equal(s.L, 3);
  assert.deepEqual(Array.from(s.data), [0, 3, 1, 4, 2, 5]); // [L, B]: stream 0 = 0 1 2, stream 1 = 3 4 5
  assert.throws(() => batchify(Int32Array.from([1, 2, 3]), 2), /too few for 2 parallel streams/);
});

test('sequences: CSV and JSON Lines, labels, multivariate steps, errors, padding', () => {
  const csv = parseSequences('label,sequence\nup,1 2 3\ndown,3 2\nup,"0;1;2;3"\n', 'a.csv');
  assert.deepEqual(csv.labels, ['down', 'up']);
  assert.deepEqual(csv.samples.map((s) => [s.length, s.label]), [[3, 1], [2, 0], [4, 1]]);
  const multi = parseSequences('label,sequence\na,1 2; 3 4; 5 6\nb,"7 8;"\n', 'm.csv');
  assert.equal(multi.features, 2);
  assert.deepEqual(Array.from(multi.samples[0].data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseSequences('label,sequence\na,1 2; 3 4\nb,7 8\n', 'm.csv'), /m\.csv line 3: step 1 has 1 features, expected 2/);
  const j = parseSequences('{"sequence": [[1, 2], [3, 4]], "label": 1}\n\n{"sequence": [[5, 6]], "label": 0}\n', 'b.jsonl');
  assert.equal(j.features, 2);
  assert.deepEqual(j.labels, ['0', '1']);
  assert.throws(() => parseSequences('{"sequence": [1, "x"], "label": 1}\n', 'c.jsonl'), /c\.jsonl line 1: sequence step 2: expected a finite number, got "x"/);
  assert.throws(() => parseSequences('{"sequence": [1, 2]\n', 'd.jsonl'), /d\.jsonl line 1: not valid JSON/);
  assert.throws(() => parseSequences('label,sequence\na,1 x\n', 'e.csv'), /e\.csv line 2, column 2 \('sequence'\): expected a number, got 'x'/);
  assert.throws(() => parseSequences('label,sequence\na,1\nb,2\n', 'f.csv', ['a']), /f\.csv line 3: label 'b' is not one of the model's classes \(a\)/);
  assert.throws(() => parseSequences('seq\n1\n', 'g.csv'), /no column 'label'/);
  const p = padBatch(csv.samples, [1, 2], 1);
  assert.equal(p.T, 4);
  assert.deepEqual(p.lengths, [2, 4]);
  // [T, B, F]: t=0 (3, 0), t=1 (2, 1), t=2 (pad 0, 2), t=3 (0, 3)
  assert.deepEqual(Array.from(p.x), [3, 0, 2, 1, 0, 2, 0, 3]);
});
