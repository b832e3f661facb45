import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Alphabet } from '../src/asr/alphabet.js';
import { BEAM_BATCH, beamDecodeAll } from '../src/asr/beamThreads.js';
import { beamDecode, Lexicon, type Posteriors } from '../src/asr/decode.js';
import { CharNgramLM } from '../src/asr/lm.js';
import { Rng } from '../src/tensor/random.js';

/** Random log-softmaxed posteriors [T, C], written into `data` (a view into a larger buffer, if given). */
function randomPosteriors(rng: Rng, T: number, C: number, data = new Float32Array(T * C)): Posteriors {
  for (let t = 0; t < T; t++) {
    let z = 0;
    for (let c = 0; c < C; c++) { data[t * C + c] = rng.normal() * 2; z += Math.exp(data[t * C + c]); }
    for (let c = 0; c < C; c++) data[t * C + c] -= Math.log(z);
  }
  return { T, C, data };
}

describe('beam search on worker threads (beamDecodeAll)', { timeout: 120_000 }, () => {
  const alphabet = new Alphabet([' ', 'a', 'b', 'c', 'd']);
  const rng = new Rng(11);
  // 3.5 batches of utterances; every fourth one a view into a shared buffer (as a batch's rows are).
  const shared = new Float32Array(64 * 40 * alphabet.classes);
  const posts = Array.from({ length: Math.floor(3.5 * BEAM_BATCH) }, (_, u) => {
    const T = 12 + (u % 9) * 3;
    return randomPosteriors(rng, T, alphabet.classes, u % 4 === 0 ? shared.subarray(u * 40 * alphabet.classes, (u * 40 + T) * alphabet.classes) : undefined);
  });
  const lm = CharNgramLM.train(['abc', 'cab', 'dab', 'bad cab', 'a dab', 'cad'], 3);
  const lexicon = new Lexicon(['ab', 'cab', 'dab', 'bad', 'a', 'cad', 'abc']);
  const one = (o: Parameters<typeof beamDecode>[2]) => posts.map((p) => beamDecode(p, alphabet, o));

  it('gives beamDecode\'s hypotheses, utterance by utterance and in order, on 3 threads as on 1', async () => {
    for (const o of [{ beamWidth: 8 }, { beamWidth: 8, lm, alpha: 0.8, beta: 1, topK: 4 }, { beamWidth: 6, lm, alpha: 0.5, beta: 0.5, lexicon, topK: 3 }, { beamWidth: 4, lm, alpha: 0, beta: 2 }]) {
      const expected = one(o);
      assert.deepEqual(await beamDecodeAll(posts, alphabet, o, 3), expected);
      assert.deepEqual(await beamDecodeAll(posts, alphabet, o, 1), expected);
    }
    // Another LM and lexicon after the first: the threads take the new ones, not the ones they keep.
    const lm2 = CharNgramLM.train(['dd', 'cc dd', 'bd'], 2), lex2 = new Lexicon(['dd', 'cc', 'bd', 'd']);
    const o2 = { beamWidth: 5, lm: lm2, alpha: 1, beta: 1, lexicon: lex2, topK: 2 };
    assert.deepEqual(await beamDecodeAll(posts, alphabet, o2, 3), one(o2));
    const o3 = { beamWidth: 5, lm, alpha: 1, beta: 1, topK: 2 };
    assert.deepEqual(await beamDecodeAll(posts, alphabet, o3, 3), one(o3));
    // Calls at once share the threads one after the other, each with its own answers.
    const both = await Promise.all([beamDecodeAll(posts, alphabet, o2, 3), beamDecodeAll(posts.slice(5), alphabet, o3, 2)]);
    assert.deepEqual(both, [one(o2), one(o3).slice(5)]);
  });

  it('reports a thread\'s error, and works again afterwards', async () => {
    const bad = [...posts.slice(0, BEAM_BATCH), { T: 2, C: 3, data: new Float32Array(6) }, ...posts.slice(BEAM_BATCH)];
    await assert.rejects(() => beamDecodeAll(bad, alphabet, { beamWidth: 4 }, 2), /beam search of utterances 16\.\.: beamDecode: expected 6 classes \(the alphabet and the blank\), got 3/);
    assert.deepEqual(await beamDecodeAll(posts, alphabet, { beamWidth: 4 }, 2), one({ beamWidth: 4 }));
    await assert.rejects(() => beamDecodeAll(posts, alphabet, {}, 0), /a width of at least 1 thread, got 0/);
  });
});
