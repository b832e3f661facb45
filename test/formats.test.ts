// The input formats are described once (src/data/formats.ts): the help of train, evaluate and
// predict and the README print that text, and its examples parse as it says.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATA_FORMATS } from '../src/data/formats.js';
import { parseSequences } from '../src/data/sequences.js';

const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const README = new URL('../../README.md', import.meta.url).pathname;
const carousel = (args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });

test('formats: train, evaluate and predict --help and the README hold the one description', () => {
  for (const c of ['train', 'evaluate', 'predict']) {
    const r = carousel([c, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(DATA_FORMATS), `${c} --help does not print DATA_FORMATS`);
  }
  assert.ok(readFileSync(README, 'utf8').includes(`\`\`\`text\n${DATA_FORMATS}\n\`\`\``), 'README.md does not hold DATA_FORMATS verbatim');
});

test('formats: the classification examples parse as the description says', () => {
  const csv = parseSequences('label,sequence\nup,0.1 2; 0.3 1; 0.5 0\ndown,0.2 1; 0.1 0\n', 'x.csv');
  assert.equal(csv.features, 2);
  assert.deepEqual(csv.samples.map((s) => s.length), [3, 2]);
  assert.deepEqual(Array.from(csv.samples[0].data), Array.from(Float32Array.from([0.1, 2, 0.3, 1, 0.5, 0])));
  const one = parseSequences('label,sequence\na,0.1 0.3 0.2\nb,1 2\n', 'y.csv');
  assert.equal(one.features, 1);
  assert.deepEqual(one.samples.map((s) => s.length), [3, 2]);
  const jsonl = parseSequences('{"sequence": [[0.1, 2], [0.3, 1]], "label": "up"}\n{"sequence": [[1, 1]], "label": "down"}\n', 'z.jsonl');
  assert.equal(jsonl.features, 2);
  assert.deepEqual(jsonl.labels, ['down', 'up']);
  assert.equal(parseSequences('{"sequence": [0.1, 0.3], "label": "a"}\n{"sequence": [1], "label": "b"}\n', 'w.jsonl').features, 1);
  assert.throws(() => parseSequences('{"sequence": [1], "label": 1}\n{"sequence": [2], "label": "1"}\n', 'v.jsonl'), /line 1.*line 2|line 2.*line 1/);
});

test('formats: predict writes RFC 4180 CSV (a column name holding a comma is quoted)', () => {
  const d = mkdtempSync(join(tmpdir(), 'carousel-formats-'));
  const rows = Array.from({ length: 40 }, (_, i) => `2024-01-01T${String(i % 24).padStart(2, '0')}:00,${Math.sin(i / 3).toFixed(3)}`);
  writeFileSync(join(d, 's.csv'), `time,"temp, C"\n${rows.join('\n')}\n`);
  const t = carousel(['train', '--task', 'forecast', '--data', join(d, 's.csv'), '--out', join(d, 'm'), '--window', '6', '--horizon', '2', '--epochs', '1', '--hidden', '3']);
  assert.equal(t.status, 0, t.stderr);
  const p = carousel(['predict', '--model', join(d, 'm'), '--data', join(d, 's.csv')]);
  assert.equal(p.status, 0, p.stderr);
  assert.match(p.stdout, /^step,"temp, C"\n1,-?[\d.e-]+\n2,-?[\d.e-]+\n$/);
});
