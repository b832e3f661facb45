// Pairs files, vocabularies, error rates and the CMUdict G2P split.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCmudict } from '../src/data/cmudict.js';
import { DataError } from '../src/data/errors.js';
import { g2pData, groupBySource, pairsText, readPairs, splitGroups } from '../src/seq2seq/data.js';
import { bestReference, editDistance, errorRates } from '../src/seq2seq/metrics.js';
import { UNK, Vocab } from '../src/seq2seq/vocab.js';

describe('pairs files', () => {
  it('reads source<TAB>target lines, \\r\\n endings too, and picks the tokenization of each side', () => {
    const r = readPairs('cat\tK AE T\r\ndog\tD AO G\n', 'p.tsv', 'auto', 'auto');
    assert.equal(r.srcMode, 'char');
    assert.equal(r.tgtMode, 'space');
    assert.deepEqual(r.pairs.map((p) => [p.src, p.tgt, p.line]), [[['c', 'a', 't'], ['K', 'AE', 'T'], 1], [['d', 'o', 'g'], ['D', 'AO', 'G'], 2]]);
  });
  const bad: [string, string, RegExp][] = [
    ['an empty line', 'a\tb\n\nc\td\n', /^p\.tsv:2: empty line; expected 'source<TAB>target'$/],
    ['no tab', 'a\tb\nc d\n', /^p\.tsv:2: expected 'source<TAB>target' \(one tab\), got 0 tabs in 'c d'$/],
    ['two tabs', 'a\tb\tc\n', /^p\.tsv:1: expected .* got 2 tabs/],
    ['an empty target', 'a\tb\nc\t \n', /^p\.tsv:2: empty target after the tab$/],
    ['an empty source', '\tb\n', /^p\.tsv:1: empty source before the tab$/],
    ['no lines', '', /^p\.tsv: no lines/],
  ];
  for (const [what, text, re] of bad) {
    it(`refuses ${what}, naming the line`, () => {
      assert.throws(() => readPairs(text, 'p.tsv', 'auto', 'auto'), (e: Error) => e instanceof DataError && re.test(e.message));
    });
  }
  it('groups the references of a source, dropping repeats', () => {
    const r = readPairs('read\tR IY D\nread\tR EH D\nred\tR EH D\nread\tR IY D\n', 'p', 'char', 'space');
    const g = groupBySource(r.pairs);
    assert.deepEqual(g.map((x) => [x.src.join(''), x.refs.map((p) => p.join(' '))]), [['read', ['R IY D', 'R EH D']], ['red', ['R EH D']]]);
  });
});

describe('vocabulary', () => {
  it('specials first, then the sorted tokens; unknown tokens map to <unk> and are reported', () => {
    const v = Vocab.build([['b', 'a'], ['c']], 'char');
    assert.deepEqual(v.tokens, ['<pad>', '<s>', '</s>', '<unk>', 'a', 'b', 'c']);
    assert.deepEqual(v.encode(['a', 'z', 'c']), { ids: [4, UNK, 6], unknown: ['z'] });
    assert.deepEqual(v.decode([4, 5, 2, 6]), ['a', 'b']);
    assert.equal(v.has('<unk>'), false, 'a special is not a token of the data');
    assert.deepEqual(Vocab.fromJSON(JSON.parse(JSON.stringify(v)), 'x').tokens, v.tokens);
    assert.throws(() => Vocab.fromJSON({ mode: 'word', tokens: [] }, 'cfg'), /^Error: cfg: expected/);
  });
});

describe('error rates', () => {
  it('edit distance', () => {
    assert.equal(editDistance([], []), 0);
    assert.equal(editDistance(['a'], []), 1);
    assert.equal(editDistance('kitten'.split(''), 'sitting'.split('')), 3);
    assert.equal(editDistance('flaw'.split(''), 'lawn'.split('')), 2);
  });
  it('scores against the closest of several references', () => {
    assert.deepEqual(bestReference(['R', 'EH', 'D'], [['R', 'IY', 'D'], ['R', 'EH', 'D']]), { distance: 0, length: 3 });
    const r = errorRates(
      [['R', 'EH', 'D'], ['K', 'AE'], ['D', 'AO', 'G', 'Z']],
      [[['R', 'IY', 'D'], ['R', 'EH', 'D']], [['K', 'AE', 'T']], [['D', 'AO', 'G']]],
    );
    assert.equal(r.edits, 0 + 1 + 1);
    assert.equal(r.referenceTokens, 3 + 3 + 3);
    assert.equal(r.wrongSequences, 2);
    assert.ok(Math.abs(r.tokenErrorRate - 2 / 9) < 1e-15);
    assert.ok(Math.abs(r.sequenceErrorRate - 2 / 3) < 1e-15);
  });
});

describe('the CMUdict G2P split', () => {
  it('keeps words of letters and apostrophes, strips stress, merges pronunciations, splits by word', () => {
    const dict = parseCmudict([
      "READ  R IY1 D", "READ(1)  R EH1 D", "RECORD  R EH1 K ER0 D", "RECORD(1)  R EH0 K AO1 R D", "RECORD(2)  R EH1 K ER2 D",
      "O'BRIEN  OW0 B R AY1 AH0 N", "A.  EY1", "CO-OP  K OW1 AA0 P",
    ].join('\n'), 'dict');
    const d = g2pData(dict);
    assert.equal(d.dropped, 2);
    const all = [...d.train, ...d.val, ...d.test];
    assert.equal(all.length, 3);
    const rec = all.find((g) => g.src.join('') === 'record')!;
    assert.deepEqual(rec.refs.map((r) => r.join(' ')), ['R EH K ER D', 'R EH K AO R D']);
    assert.ok(all.some((g) => g.src.join('') === "o'brien"));
  });
  it('the real dictionary: 90/5/5 of the words, disjoint, seeded (same every run), 39 phones', () => {
    const d = g2pData();
    const n = d.train.length + d.val.length + d.test.length;
    assert.ok(Math.abs(d.val.length - 0.05 * n) <= 1 && Math.abs(d.test.length - 0.05 * n) <= 1);
    const words = (gs: typeof d.train) => new Set(gs.map((g) => g.src.join('')));
    const tr = words(d.train), te = words(d.test), va = words(d.val);
    assert.equal(tr.size + te.size + va.size, n, 'no word twice');
    for (const w of te) assert.ok(!tr.has(w) && !va.has(w));
    const phones = new Set(d.train.flatMap((g) => g.refs.flat()));
    assert.equal(phones.size, 39);
    assert.ok([...phones].every((p) => /^[A-Z]+$/.test(p)));
    // Fixed by its seed: the first test and validation words of every run (the README's numbers are on this split).
    assert.deepEqual(d.test.slice(0, 5).map((g) => g.src.join('')), ['hatmaker', 'shanken', 'corradino', 'sucked', 'suddreth']);
    assert.deepEqual(d.val.slice(0, 3).map((g) => g.src.join('')), ['colonist', 'tyrrell', 'alday']);
    assert.match(pairsText(d.test.slice(0, 1), 'char', 'space'), /^[a-z']+\t[A-Z]+( [A-Z]+)*\n/);
  });
  it('splitGroups: fractions of the groups, every group once', () => {
    const gs = Array.from({ length: 100 }, (_, i) => ({ src: [String(i)], refs: [['x']], line: i + 1 }));
    const [a, b, c] = splitGroups(gs, [0.9, 0.05, 0.05], 1);
    assert.deepEqual([a.length, b.length, c.length], [90, 5, 5]);
    assert.equal(new Set([...a, ...b, ...c]).size, 100);
  });
});
