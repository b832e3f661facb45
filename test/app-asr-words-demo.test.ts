import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { carousel } from './util/cli.js';

const espeak = spawnSync(process.env.CAROUSEL_ESPEAK ?? 'espeak-ng', ['--version']).status === 0;

// --quick: a tiny model, one epoch; the numbers mean nothing, the path and the lines do.
test('demo speech --words: also scores beam + LM held to the whole dictionary, and writes that lexicon', { skip: espeak ? false : 'espeak-ng is not installed' }, () => {
  const out = mkdtempSync(join(tmpdir(), 'words-demo-'));
  const r = carousel(['demo', 'speech', '--words', '--quick', '--out', out]);
  assert.equal(r.code, 0, r.err);
  const lex = /^beam\+lm\+lexicon: CER (\d+\.\d\d)% WER \d+\.\d\d% \(closed vocabulary: every CMUdict word, the test words included: (\d+) words, (.+)\)$/m.exec(r.out);
  assert.ok(lex, r.out);
  const words = readFileSync(lex[3], 'utf8').trim().split('\n');
  assert.equal(words.length, Number(lex[2]));
  assert.ok(words.length > 120000 && words.includes('zucchini'), `${words.length} words`);
});
