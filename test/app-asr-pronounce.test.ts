import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Posteriors } from '../src/asr/decode.js';
import { espeakPhonemesOne } from '../src/asr/espeakPhonemes.js';
import { PhonemeSet } from '../src/asr/phonemes.js';
import { Pronouncer, pronunciationScore } from '../src/asr/pronounce.js';
import { Rng } from '../src/tensor/random.js';

/** Random log-softmaxed posteriors [T, C]. */
function randomPosteriors(rng: Rng, T: number, C: number): Posteriors {
  const data = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let z = 0;
    for (let c = 0; c < C; c++) { data[t * C + c] = rng.normal() * 1.5; z += Math.exp(data[t * C + c]); }
    for (let c = 0; c < C; c++) data[t * C + c] -= Math.log(z);
  }
  return { T, C, data };
}

/** log P_ctc(labels): every path of T frames summed by brute force, its collapse compared. */
function bruteCtc(p: Posteriors, labels: readonly number[]): number {
  let total = 0;
  const path: number[] = [];
  const visit = (t: number, lp: number) => {
    if (t === p.T) {
      const out: number[] = [];
      path.forEach((c, i) => { if (c !== 0 && c !== path[i - 1]) out.push(c); });
      if (out.length === labels.length && out.every((c, i) => c === labels[i])) total += Math.exp(lp);
      return;
    }
    for (let c = 0; c < p.C; c++) { path[t] = c; visit(t + 1, lp + p.data[t * p.C + c]); }
  };
  visit(0, 0);
  return Math.log(total);
}

describe('pronunciation rescoring (carousel evaluate --pronounce)', () => {
  it('Pronouncer asks each accent once per batch of new texts, and never again for a known one', () => {
    const calls: [string, string[]][] = [];
    const say = (words: readonly string[], voice: string) => { calls.push([voice, [...words]]); return words.map((w) => `${voice}:${w}`); };
    const p = new Pronouncer(['en-us', 'en-gb'], say);
    p.prepare(['pecans', 'peckons', 'pecans', '']);
    assert.deepEqual(calls, [['en-us', ['pecans', 'peckons']], ['en-gb', ['pecans', 'peckons']]]);
    p.prepare(['peckons', 'toomey']);
    assert.deepEqual(calls.slice(2), [['en-us', ['toomey']], ['en-gb', ['toomey']]]);
    p.prepare(['pecans']);
    assert.equal(calls.length, 4);
    assert.deepEqual(p.of('toomey'), ['en-us:toomey', 'en-gb:toomey']);
    assert.deepEqual(p.of(''), ['', '']);
    assert.throws(() => p.of('tomy'), /"tomy" was not prepared/);
    assert.throws(() => new Pronouncer([]), /at least one accent/);
  });

  it('scores the best accent\'s mean over phoneme models of the exact CTC probability, unknown sounds left out', () => {
    const rng = new Rng(3);
    const a = new PhonemeSet(['k', 'p', '@']), b = new PhonemeSet(['@', 'k', 'p', 'z']);
    for (let k = 0; k < 10; k++) {
      const heard = [{ post: randomPosteriors(rng, 4, a.classes), set: a }, { post: randomPosteriors(rng, 4, b.classes), set: b }];
      // Two accents; 'z' is outside the first model's set, 'x' outside both.
      const prons = ['p @ k', 'p z x @'];
      const byHand = Math.max(
        (bruteCtc(heard[0].post, [2, 3, 1]) + bruteCtc(heard[1].post, [3, 1, 2])) / 2,
        (bruteCtc(heard[0].post, [2, 3]) + bruteCtc(heard[1].post, [3, 4, 1])) / 2,
      );
      assert.ok(Math.abs(pronunciationScore(heard, prons) - byHand) < 1e-9, `${pronunciationScore(heard, prons)} against ${byHand}`);
    }
    assert.throws(() => pronunciationScore([], ['p']), /at least one phoneme model/);
  });

  it('gets espeak-ng\'s own phonemes: the batch as word-by-word calls give them', { skip: spawnSync('espeak-ng', ['--version']).error ? 'espeak-ng is not installed' : false }, () => {
    const words = ['pecans', 'peckons', 'toomey', 'tomy', 'xi'];
    const p = new Pronouncer(['en-us', 'en-gb-scotland']);
    p.prepare(words);
    for (const w of words) assert.deepEqual(p.of(w), [espeakPhonemesOne(w, 'en-us'), espeakPhonemesOne(w, 'en-gb-scotland')]);
    // What makes it worth doing: spellings of one sound can sound alike, or not.
    assert.notEqual(p.of('pecans')[0], p.of('peckons')[0]);
  });
});
