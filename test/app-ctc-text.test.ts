import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Alphabet, minFrames, normalizeText } from '../src/asr/alphabet.js';
import { editDistance, errorRates, percent } from '../src/asr/metrics.js';
import { DataError } from '../src/data/errors.js';

describe('CTC alphabet', () => {
  it('normalizes case and white space, builds a sorted alphabet with the blank at 0', () => {
    assert.equal(normalizeText('  Three\t OH\n five '), 'three oh five');
    const a = Alphabet.fromTexts(['Three oh', 'five']);
    assert.deepEqual(a.chars, [' ', 'e', 'f', 'h', 'i', 'o', 'r', 't', 'v']);
    assert.equal(a.classes, 10);
    assert.deepEqual(a.encode('THREE'), [8, 4, 7, 2, 2]);
    assert.equal(a.decode(a.encode('five oh')), 'five oh');
  });
  it('names the characters outside the alphabet and where they are', () => {
    const a = Alphabet.fromTexts(['abc']);
    assert.throws(() => a.encode('ab9x', 'test.jsonl:3'), (e: Error) => e instanceof DataError && /test\.jsonl:3: characters "9", "x" outside/.test(e.message));
  });
  it('counts the frames CTC needs: a blank between equal neighbours', () => {
    assert.equal(minFrames([1, 2, 3]), 3);
    assert.equal(minFrames([1, 1, 1]), 5);
    assert.equal(minFrames([1, 2, 2, 3]), 5);
    assert.equal(minFrames([]), 0);
  });
});

describe('CTC metrics', () => {
  it('edit distance against hand-counted cases', () => {
    assert.equal(editDistance([...'kitten'], [...'sitting']), 3);
    assert.equal(editDistance([...''], [...'abc']), 3);
    assert.equal(editDistance([...'abc'], [...'abc']), 0);
    assert.equal(editDistance(['one', 'two'], ['two']), 1);
  });
  it('edit distance equals a brute-force minimum over edit scripts on short strings', () => {
    // Independent reference: the recursive definition, unmemoized.
    const ref = (a: string, b: string): number => !a.length ? b.length : !b.length ? a.length
      : Math.min(ref(a.slice(1), b) + 1, ref(a, b.slice(1)) + 1, ref(a.slice(1), b.slice(1)) + (a[0] === b[0] ? 0 : 1));
    const words = ['', 'a', 'ab', 'ba', 'abc', 'cab', 'aabb', 'baba', 'cbca'];
    for (const x of words) for (const y of words) assert.equal(editDistance([...x], [...y]), ref(x, y), `${x} vs ${y}`);
  });
  it('corpus CER and WER are total edits over total reference length', () => {
    const r = errorRates(['one two', 'three'], ['one too', 'tree']);
    assert.equal(r.charErrors, 2); // o->o? 'two'->'too': 1; 'three'->'tree': 1
    assert.equal(r.chars, 12);
    assert.equal(r.wordErrors, 2);
    assert.equal(r.words, 3);
    assert.equal(percent(r.wer), '66.67%');
  });
});
