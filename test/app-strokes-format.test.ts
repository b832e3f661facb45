import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSteps, encodeStrokes, normalizeStrokes } from '../src/strokes/encode.js';
import { readStrokes, toStrokes, writeStrokes, type Strokes } from '../src/strokes/format.js';
import { joinStrokes, renderHandwriting, resampleStroke, type WriterStyle } from '../src/strokes/render.js';
import { layoutText, loadHersheyFont } from '../src/strokes/hershey.js';
import { Rng } from '../src/tensor/random.js';

test('stroke files: {"strokes": ...} or a bare list, a time stamp ignored; round trip through writeStrokes', () => {
  const s: Strokes = [[[0, 0], [1, 2]], [[3, 4]]];
  assert.deepEqual(toStrokes({ strokes: s }, 'a'), s);
  assert.deepEqual(toStrokes(s, 'a'), s);
  assert.deepEqual(toStrokes([[[0, 0, 17], [1, 2, 18]]], 'a'), [[[0, 0], [1, 2]]]);
  const dir = mkdtempSync(join(tmpdir(), 'carousel-strokes-'));
  writeStrokes(join(dir, 's.json'), [[[0.12345, 1], [2, 3.00049]]]);
  assert.equal(readFileSync(join(dir, 's.json'), 'utf8'), '{"strokes":[[[0.123,1],[2,3]]]}\n');
  assert.deepEqual(readStrokes(join(dir, 's.json')), [[[0.123, 1], [2, 3]]]);
});

test('stroke files: a bad file is refused naming the stroke and point', () => {
  const bad = (json: unknown, re: RegExp) => assert.throws(() => toStrokes(json, 'w.json'), (e: Error) => e.name === 'DataError' && re.test(e.message));
  bad({ points: [] }, /^w\.json: expected \{"strokes": \[\[\[x, y\], \.\.\.\], \.\.\.\]\} or a list of strokes, got \{"points":\[\]\}/);
  bad([], /^w\.json: no strokes$/);
  bad([[[0, 0]], []], /^w\.json: stroke 2: no points$/);
  bad([[[0, 0]], 'abc'], /^w\.json: stroke 2: expected a list of \[x, y\] points, got "abc"/);
  bad([[[0, 0], [1, 2], [1, null]]], /^w\.json: stroke 1, point 3: expected \[x, y\] with finite numbers, got \[1,null\]/);
  bad([[[0, 0], [1]]], /stroke 1, point 2: expected \[x, y\]/);
  const dir = mkdtempSync(join(tmpdir(), 'carousel-strokes-'));
  writeFileSync(join(dir, 'e.json'), ' \n');
  assert.throws(() => readStrokes(join(dir, 'e.json')), /e\.json: empty file, expected stroke JSON/);
  writeFileSync(join(dir, 'n.json'), '{"strokes": [[[0, 0]]');
  assert.throws(() => readStrokes(join(dir, 'n.json')), /n\.json: not JSON \(/);
  assert.throws(() => readStrokes(join(dir, 'none.json')), /none\.json: no such file/);
});

test('encoding: offset removed, unit height from the points\' spread, (dx, dy, pen-up) steps as computed by hand', () => {
  // y values 0, 2, 0, 2 (mean 1, sd 1): height 4, so coordinates are divided by 4 after moving (10, 20) to the origin.
  const n = normalizeStrokes([[[10, 20], [14, 22]], [[18, 20], [18, 22]]]);
  assert.deepEqual(n, [[[0, 0], [1, 0.5]], [[2, 0], [2, 0.5]]]);
  const e = encodeStrokes(n);
  assert.equal(e.frames, 4);
  assert.equal(e.dim, 3);
  assert.deepEqual([...e.data], [0, 0, 0, 1, 0.5, 1, 1, -0.5, 0, 0, 0.5, 1]);
  assert.deepEqual(decodeSteps(e.data, e.frames), n);
  // A flat line takes its width as the unit; a dot stays a dot; neither gives NaN.
  assert.deepEqual(normalizeStrokes([[[5, 1], [9, 1]]]), [[[0, 0], [1, 0]]]);
  assert.deepEqual(normalizeStrokes([[[5, 1]]]), [[[0, 0]]]);
  // A word without ascenders and one with both: the spread keeps the letters' sizes closer than a
  // bounding box would (per letter, 'rose' comes out 2.8 times as wide as 'typhoon' with the box, 1.65 with the spread).
  const f = loadHersheyFont('cursive');
  const letters = (t: string, norm: (s: Strokes) => Strokes) => {
    const s = norm(layoutText(f, t).strokes.map((st) => resampleStroke(st, 1)));
    return (Math.max(...s.flat().map((p) => p[0])) - Math.min(...s.flat().map((p) => p[0]))) / t.length;
  };
  const box = (s: Strokes) => { const ys = s.flat().map((p) => p[1]); const h = Math.max(...ys) - Math.min(...ys); return s.map((st) => st.map(([x, y]) => [x / h, y / h] as [number, number])); };
  const ours = letters('rose', normalizeStrokes) / letters('typhoon', normalizeStrokes), boxed = letters('rose', box) / letters('typhoon', box);
  assert.ok(boxed > 2.5 && ours < 0.65 * boxed && ours < 1.8, `letter size ratio rose/typhoon: ${ours} (bounding box: ${boxed})`);
});

test('rendering: steady pen steps, glyphs that meet joined, and with no distortion every point on the font\'s own path', () => {
  const s = resampleStroke([[0, 0], [10, 0], [10, 5]], 2);
  assert.deepEqual(s, [[0, 0], [2, 0], [4, 0], [6, 0], [8, 0], [10, 0], [10, 2], [10, 4], [10, 5]]);
  assert.deepEqual(joinStrokes([[[0, 0], [1, 0]], [[1.5, 0], [3, 0]], [[9, 9], [9, 10]]]), [[[0, 0], [1, 0], [3, 0]], [[9, 9], [9, 10]]]);
  const font = loadHersheyFont('cursive');
  const plain: WriterStyle = { slant: 0, stretch: 1, tilt: 0, elastic: 0, jitter: 0, scale: 1 };
  const path = layoutText(font, 'minimum').strokes;
  const drawn = renderHandwriting(font, 'minimum', plain, new Rng(1), 3);
  // Cursive m, i, n, u join: 'minimum' is one stroke plus the i dots (Hershey draws each dot as its own stroke).
  assert.ok(drawn.length < path.length, `${drawn.length} strokes from ${path.length}`);
  const segDist = (px: number, py: number) => Math.min(...path.flatMap((st) => st.slice(1).map(([x1, y1], i) => {
    const [x0, y0] = st[i];
    const L = (x1 - x0) ** 2 + (y1 - y0) ** 2, t = L ? Math.max(0, Math.min(1, ((px - x0) * (x1 - x0) + (py - y0) * (y1 - y0)) / L)) : 0;
    return Math.hypot(px - x0 - t * (x1 - x0), py - y0 - t * (y1 - y0));
  })).concat(path.filter((st) => st.length === 1).map(([[x, y]]) => Math.hypot(px - x, py - y))));
  for (const st of drawn) for (const [x, y] of st) assert.ok(segDist(x, y) < 0.3, `point (${x}, ${y}) off the glyph path`);
  for (const st of drawn) for (let i = 1; i < st.length; i++) assert.ok(Math.hypot(st[i][0] - st[i - 1][0], st[i][1] - st[i - 1][1]) <= 3 + 1e-9);
  // Distorted: deterministic by seed, different by seed, finite.
  const style: WriterStyle = { slant: 0.3, stretch: 1.1, tilt: 0.03, elastic: 1.2, jitter: 0.2, scale: 1.4 };
  const a = renderHandwriting(font, 'thou art', style, new Rng(5)), b = renderHandwriting(font, 'thou art', style, new Rng(5)), c = renderHandwriting(font, 'thou art', style, new Rng(6));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.ok(a.flat(2).every(Number.isFinite));
});
