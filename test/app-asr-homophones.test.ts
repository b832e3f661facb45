import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { espeakPhonemes, espeakPhonemesOne, joinWords } from '../src/asr/espeakPhonemes.js';
import { homophoneFloor } from '../src/asr/homophones.js';
import { makeSpeechData, wordSplit } from '../src/asr/speechData.js';

const espeak = spawnSync('espeak-ng', ['--version']).status === 0;

test('homophones: shared sounds, the closest training spelling, and the floor of a deterministic listener on a hand-made list', () => {
  const sounds: Record<string, string> = {
    smitheson: 'S1', smith: 'S1', smyth: 'S1', knight: 'S2', night: 'S2', nite: 'S2',
    aab: 'S3', aac: 'S3', aad: 'S3', rein: 'S4', rain: 'S4', reign: 'S4', xyz: 'S5',
  };
  const f = homophoneFloor({ train: ['smitheson', 'smith', 'knight', 'rein'], val: ['nite'], test: ['smyth', 'night', 'aab', 'aac', 'aad', 'rain', 'reign', 'xyz'] }, (w) => sounds[w]);
  assert.equal(f.testWords, 8);
  assert.equal(f.sharedWithTrain, 4); // smyth, night, rain, reign
  assert.equal(f.sharedWithAny, 7); // all but xyz
  // smyth -> smith (not smitheson), night -> knight, rain -> rein, reign -> rein: 1 edit each over 19 characters.
  assert.equal(f.trainChoice.charErrors, 4);
  assert.equal(f.trainChoice.chars, 19);
  assert.equal(f.trainChoice.wer, 1);
  assert.equal(f.trainChoiceAll.charErrors, 4);
  assert.equal(f.trainChoiceAll.chars, 31);
  // Test words alike: {aab, aac, aad} (2 wrong; pairs 1+1+1 over 2 -> at least 2 edits) and {rain, reign} (1 wrong, 2 edits).
  assert.equal(f.floor.groups, 2);
  assert.equal(f.floor.wer, 3 / 8);
  assert.equal(f.floor.cer, 4 / 31);
  assert.equal(f.floor.cerChoice, 4 / 31);
  assert.throws(() => homophoneFloor({ train: ['a'], val: [], test: ['b'] }, (w) => (w === 'a' ? 'x' : undefined)), /no phonemes for 'b'/);
});

test('espeak phonemes: a line of output per word, words joined by |', async () => {
  assert.equal(joinWords("l 'V n tS  r u: m\n"), "l 'V n tS | r u: m");
  await assert.rejects(() => espeakPhonemes(['ok', 'two\nlines'], 'en-us'), /expected words of one non-blank line each, got "two\\nlines" at 1/);
});

test('espeak phonemes: the batch says what a call of its own says', { skip: espeak ? false : 'espeak-ng is not installed' }, async () => {
  const words = ['smotherman', 'lunchroom', 'read', 'xi', 'knight'];
  const ph = await espeakPhonemes(words, 'en-us');
  assert.deepEqual(ph, words.map((w) => espeakPhonemesOne(w, 'en-us')));
  assert.match(ph[1], / \| /);
  assert.equal((await espeakPhonemes(['night'], 'en-us'))[0], ph[4]);
});

test('wordSplit is the word split carousel data speech --words deals', { skip: espeak ? false : 'espeak-ng is not installed' }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'carousel-p2g-split-'));
  try {
    await makeSpeechData({ kind: 'words', out, count: 3, seed: 4 });
    const s = wordSplit(4);
    assert.deepEqual(readFileSync(join(out, 'lm-text.txt'), 'utf8').trim().split('\n'), s.train);
    const tested = readFileSync(join(out, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).text as string);
    assert.ok(tested.every((w) => s.test.includes(w)), `test words ${tested} expected in the split's test words`);
  } finally { rmSync(out, { recursive: true, force: true }); }
});
