import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCmudict, parseCmudict, stripStress } from '../src/data/cmudict.js';
import { layoutText, loadHersheyFont, parseJhf } from '../src/strokes/hershey.js';

test('CMUdict: the whole dictionary with its variants, known entries as the file has them', () => {
  const d = loadCmudict();
  // 133,784 lines of dict.txt: 125,005 distinct words (counted with awk/sort -u on the file).
  assert.equal(d.size, 125005);
  assert.equal([...d.values()].reduce((s, p) => s + p.length, 0), 133784);
  assert.deepEqual(d.get('AACHEN'), [['AA1', 'K', 'AH0', 'N']]);
  assert.deepEqual(d.get('A'), [['AH0'], ['EY1']]);
  assert.equal(stripStress('EY1'), 'EY');
  assert.throws(() => parseCmudict('HELLO  HH AH0 L OW1\nbad line without phones\n', 'x.txt'), /x\.txt:2: expected 'WORD  PHONE PHONE/);
});

test('Hershey: the futural digit 1 decodes to its known vertices; text advances by glyph widths', () => {
  const f = loadHersheyFont('futural');
  const one = f.get('1')!;
  // "5H\NJPISFS[": left H-R = -10, right \-R = 10; N J -> (-4,-8), P I -> (-2,-9), S F -> (1,-12), S [ -> (1,9).
  assert.deepEqual(one, { left: -10, right: 10, strokes: [[[-4, -8], [-2, -9], [1, -12], [1, 9]]] });
  const sp = f.get(' ')!;
  assert.deepEqual(sp.strokes, []);
  const { width, strokes } = layoutText(f, '11');
  assert.equal(width, 40);
  assert.deepEqual(strokes[1][0], [-4 + 10 + 20, -8]);
  for (const name of ['cursive', 'scriptc', 'scripts']) assert.ok(loadHersheyFont(name).get('a')!.strokes.length > 0, name);
  assert.throws(() => loadHersheyFont('nosuchfont'), /no .*nosuchfont\.jhf \(install Debian's hershey-fonts-data/);
  // A glyph split over two lines (the original 72-column files) joins; a short glyph is refused.
  const lines = Array.from({ length: 95 }, () => '12345  1JZ');
  lines[17] = '12345  5H\\NJPI';
  lines.splice(18, 0, 'SFS[');
  assert.deepEqual(parseJhf(lines.join('\n'), 'w.jhf').get('1')!.strokes, one.strokes);
  assert.throws(() => parseJhf('12345  5H\\NJ\n', 'c.jhf'), /c\.jhf:1: glyph of 5 vertices ends after 2/);
});
