import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BOS, CharNgramLM, EOS } from '../src/asr/lm.js';
import { Rng } from '../src/tensor/random.js';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) < tol, `${a} != ${b}`);

describe('character n-gram LM (interpolated Kneser-Ney)', () => {
  it('counts and probabilities of a tiny corpus, computed by hand', () => {
    const lm = CharNgramLM.train(['ab', 'b'], 2);
    // Bigrams of "<s>ab</s>" and "<s>b</s>": raw counts.
    assert.equal(lm.count(BOS + 'a'), 1); assert.equal(lm.count('ab'), 1);
    assert.equal(lm.count(BOS + 'b'), 1); assert.equal(lm.count('b' + EOS), 2);
    // Unigrams: continuation counts, distinct left neighbours.
    assert.equal(lm.count('a'), 1); assert.equal(lm.count('b'), 2); assert.equal(lm.count(EOS), 1);
    // D2 = n1/(n1+2 n2) = 3/5, D1 = 2/4. P1(b) = (2-.5)/4 + .5*3/4 * 1/3 = .5; P1(a) = P1(EOS) = .25.
    assert.deepEqual(lm.discounts, [0.5, 0.6]);
    close(Math.exp(lm.logProb(EOS, 'b')), (2 - 0.6) / 2 + 0.6 * 1 / 2 * 0.25);
    close(Math.exp(lm.logProb('a', 'b')), 0.3 * 0.25);
    close(Math.exp(lm.logProb('b', 'b')), 0.3 * 0.5);
    // The sentence start (context BOS): "<s>a", "<s>b".
    close(Math.exp(lm.logProb('b', '')), (1 - 0.6) / 2 + 0.6 * 2 / 2 * 0.5);
    close(Math.exp(lm.logProb('b', 'a')), (1 - 0.6) / 1 + 0.6 * 1 / 1 * 0.5);
    // An unseen context backs off entirely to the unigrams (here over a, b, z, EOS).
    const wide = lm.withVocabulary(['z']);
    close(Math.exp(wide.logProb('b', 'z')), (2 - 0.5) / 4 + 0.5 * 3 / 4 * 0.25);
  });

  it('sums to 1 over the vocabulary and EOS in every context, seen or not, at every order', () => {
    const rng = new Rng(7);
    const text = Array.from({ length: 60 }, () => Array.from({ length: 1 + rng.int(12) }, () => 'abc d'[rng.int(5)]).join(''));
    for (const order of [1, 2, 3, 5]) {
      const lm = CharNgramLM.train(text, order).withVocabulary(['z']);
      for (const ctx of ['', 'a', 'ab', 'dd', 'zzz', 'abcab', 'c a', 'zab']) {
        const s = lm.logProbs(ctx).reduce((acc, lp) => acc + Math.exp(lp), 0);
        close(s, 1, 1e-9);
        assert.ok(lm.logProb('z', ctx) > -Infinity, 'a character outside the corpus keeps some probability');
      }
    }
  });

  it('prefers the corpus\'s words and saves and loads exactly', () => {
    const lm = CharNgramLM.train(['three oh five', 'nine oh oh', 'five three nine'], 4);
    assert.ok(lm.sentenceLogProb('three oh') > lm.sentenceLogProb('thrie uh'));
    const dir = mkdtempSync(join(tmpdir(), 'lm-'));
    lm.save(join(dir, 'lm.json'));
    const back = CharNgramLM.load(join(dir, 'lm.json'));
    for (const s of ['three', 'nine oh five', 'xyz']) assert.equal(back.sentenceLogProb(s), lm.sentenceLogProb(s));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...lm.toJSON(), order: 0 }));
    assert.throws(() => CharNgramLM.load(join(dir, 'bad.json')), /bad\.json: order: expected an integer in \[1, 12\], got 0/);
    writeFileSync(join(dir, 'bad2.json'), JSON.stringify({ ...lm.toJSON(), ngrams: [{ e: 1.5 }, {}, {}, {}] }));
    assert.throws(() => CharNgramLM.load(join(dir, 'bad2.json')), /positive integer count/);
  });
});
