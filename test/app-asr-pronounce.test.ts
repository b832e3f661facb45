import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { Posteriors } from '../src/asr/decode.js';
import { espeakPhonemes, espeakPhonemesOne } from '../src/asr/espeakPhonemes.js';
import { loadCmudict } from '../src/data/cmudict.js';
import { PhonemeSet } from '../src/asr/phonemes.js';
import { Pronouncer, pronunciationScore, SLICE } from '../src/asr/pronounce.js';
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
  it('Pronouncer asks each accent once per batch of new texts, and never again for a known one', async () => {
    const calls: [string, string[]][] = [];
    const say = async (words: readonly string[], voice: string) => { calls.push([voice, [...words]]); return words.map((w) => `${voice}:${w}`); };
    const p = new Pronouncer(['en-us', 'en-gb'], say, 4);
    await p.prepare(['pecans', 'peckons', 'pecans', '']);
    assert.deepEqual(calls, [['en-us', ['pecans', 'peckons']], ['en-gb', ['pecans', 'peckons']]]);
    await p.prepare(['peckons', 'toomey']);
    assert.deepEqual(calls.slice(2), [['en-us', ['toomey']], ['en-gb', ['toomey']]]);
    await p.prepare(['pecans']);
    assert.equal(calls.length, 4);
    assert.deepEqual(p.of('toomey'), ['en-us:toomey', 'en-gb:toomey']);
    assert.deepEqual(p.of(''), ['', '']);
    assert.throws(() => p.of('tomy'), /"tomy" was not prepared/);
    assert.throws(() => new Pronouncer([]), /at least one accent/);
    assert.throws(() => new Pronouncer(['en-us'], say, 0), /a width of at least 1 process, got 0/);
  });

  it('Pronouncer slices a large batch over its processes, several running at once, in the order given', async () => {
    const calls: [string, number, number][] = [];
    let running = 0, most = 0;
    const say = async (words: readonly string[], voice: string) => {
      calls.push([voice, words.length, running]);
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return words.map((w) => `${voice}:${w}`);
    };
    const texts = Array.from({ length: 2 * SLICE + 50 }, (_, i) => `w${i}`);
    const p = new Pronouncer(['en-us', 'en-gb'], say, 4);
    await p.prepare(texts);
    // 4 processes, 2 accents: each accent's 450 texts in 2 slices of 225 (each at least SLICE), all 4 at once.
    assert.deepEqual(calls.map(([v, n]) => [v, n]), [['en-us', 225], ['en-us', 225], ['en-gb', 225], ['en-gb', 225]]);
    assert.equal(most, 4);
    for (const t of texts) assert.deepEqual(p.of(t), [`en-us:${t}`, `en-gb:${t}`]);
    // One process at a time: no slicing, and never two at once.
    calls.length = 0; most = 0;
    const q = new Pronouncer(['en-us', 'en-gb', 'en-029'], say, 1);
    await q.prepare(texts);
    assert.deepEqual(calls, [['en-us', texts.length, 0], ['en-gb', texts.length, 0], ['en-029', texts.length, 0]]);
    assert.equal(most, 1);
    // A process that answers for the wrong number of texts is an error, not a shifted table.
    const short = new Pronouncer(['en-us'], async (w) => w.slice(1).map(String), 2);
    await assert.rejects(() => short.prepare(['a', 'b']), /expected 2 pronunciations from en-us, got 1/);
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

  it('gets espeak-ng\'s own phonemes: the batch as word-by-word calls give them', { skip: spawnSync('espeak-ng', ['--version']).error ? 'espeak-ng is not installed' : false }, async () => {
    const words = ['pecans', 'peckons', 'toomey', 'tomy', 'xi'];
    const p = new Pronouncer(['en-us', 'en-gb-scotland']);
    await p.prepare(words);
    for (const w of words) assert.deepEqual(p.of(w), [espeakPhonemesOne(w, 'en-us'), espeakPhonemesOne(w, 'en-gb-scotland')]);
    // What makes it worth doing: spellings of one sound can sound alike, or not.
    assert.notEqual(p.of('pecans')[0], p.of('peckons')[0]);
    // Sliced over 3 processes (600 words: 3 slices of SLICE), espeak-ng says what one batch says.
    const many = [...loadCmudict().keys()].filter((w) => /^[a-z]+$/.test(w)).slice(0, 3 * SLICE);
    const sliced = new Pronouncer(['en-us'], undefined, 3);
    await sliced.prepare(many);
    assert.deepEqual(many.map((w) => sliced.of(w)[0]), await espeakPhonemes(many, 'en-us'));
  });
});
