import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Alphabet } from '../src/asr/alphabet.js';
import { beamDecode, greedyDecode, Lexicon, type Posteriors } from '../src/asr/decode.js';
import { combinePosteriors } from '../src/asr/ensemble.js';
import { CharNgramLM } from '../src/asr/lm.js';
import { ctcBeamSearch } from '../src/loss/ctcDecode.js';
import { ctcLoss } from '../src/loss/ctc.js';
import { ctcLogLikelihood, rescoreDecode } from '../src/asr/rescore.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';

/** Random log-softmaxed posteriors [T, C]. */
function randomPosteriors(rng: Rng, T: number, C: number, sharp = 1.5): Posteriors {
  const data = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let z = 0;
    for (let c = 0; c < C; c++) { data[t * C + c] = rng.normal() * sharp; z += Math.exp(data[t * C + c]); }
    for (let c = 0; c < C; c++) data[t * C + c] -= Math.log(z);
  }
  return { T, C, data };
}

/** Every path's probability summed by its collapsed labelling: the exact CTC distribution. */
function bruteForce(p: Posteriors, alphabet: Alphabet): Map<string, number> {
  const out = new Map<string, number>();
  const path = new Array<number>(p.T).fill(0);
  const visit = (t: number, lp: number) => {
    if (t === p.T) {
      let s = '', prev = -1;
      for (const c of path) { if (c !== 0 && c !== prev) s += alphabet.decode([c]); prev = c; }
      out.set(s, (out.get(s) ?? 0) + Math.exp(lp));
      return;
    }
    for (let c = 0; c < p.C; c++) { path[t] = c; visit(t + 1, lp + p.data[t * p.C + c]); }
  };
  visit(0, 0);
  return out;
}

describe('CTC prefix beam search with a language model', () => {
  const ab = new Alphabet(['a', 'b']);

  it('with no LM and a wide beam it finds the most probable labelling of a brute-force enumeration', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const p = randomPosteriors(rng, 5, 3);
      const exact = [...bruteForce(p, ab).entries()].sort((x, y) => y[1] - x[1]);
      const [h] = beamDecode(p, ab, { beamWidth: 1000, minLogProb: -Infinity });
      assert.equal(h.text, exact[0][0], `trial ${trial}`);
      assert.ok(Math.abs(h.ctcLogProb - Math.log(exact[0][1])) < 1e-9, `trial ${trial}: ${h.ctcLogProb} vs ${Math.log(exact[0][1])}`);
    }
  });

  it('with LM weight 0 it equals ctcBeamSearch, beam for beam', async () => {
    const rng = new Rng(11);
    const abc = new Alphabet(['a', 'b', 'c']);
    const lm = CharNgramLM.train(['abc', 'cab'], 3);
    for (let trial = 0; trial < 10; trial++) {
      const p = randomPosteriors(rng, 12, 4, 1);
      const ref = (await ctcBeamSearch(tensor(Array.from(p.data), [p.T, 1, p.C]), { beamWidth: 4, topK: 3 }))[0];
      const got = beamDecode(p, abc, { beamWidth: 4, topK: 3, lm, alpha: 0, minLogProb: -Infinity });
      assert.deepEqual(got.map((h) => h.text), ref.map((d) => abc.decode(d.labels)));
      got.forEach((h, i) => assert.ok(Math.abs(h.ctcLogProb - ref[i].logProb) < 1e-4));
    }
  });

  it('the LM overturns an acoustically close call, and greedy decoding does not', () => {
    // One frame: b a little more likely than a.
    const p: Posteriors = { T: 1, C: 3, data: [Math.log(0.15), Math.log(0.4), Math.log(0.45)] };
    assert.equal(greedyDecode(p, ab), 'b');
    const lm = CharNgramLM.train(Array(20).fill('a').concat(['b']), 2);
    assert.equal(beamDecode(p, ab, { lm, alpha: 0 })[0].text, 'b');
    assert.equal(beamDecode(p, ab, { lm, alpha: 1 })[0].text, 'a');
  });

  it('the insertion bonus trades against the blank', () => {
    // Two frames, each: blank 0.6, a 0.4. P("") = 0.36, P("a") = 0.4*0.6*2 + 0.16 = 0.64: "a" wins,
    // unless each character costs 2 nats (log 0.64 - 2 < log 0.36).
    const p: Posteriors = { T: 2, C: 3, data: [Math.log(0.6), Math.log(0.4), -30, Math.log(0.6), Math.log(0.4), -30] };
    assert.equal(beamDecode(p, ab, {})[0].text, 'a');
    assert.equal(beamDecode(p, ab, { beta: -2 })[0].text, '');
  });

  it('a lexicon keeps every word of the output in it', () => {
    const abs = new Alphabet([' ', 'a', 'b']);
    const rng = new Rng(5);
    const lex = new Lexicon(['ab', 'ba', 'b']);
    for (let trial = 0; trial < 10; trial++) {
      const p = randomPosteriors(rng, 10, 4, 2);
      const [h] = beamDecode(p, abs, { beamWidth: 8, lexicon: lex, minLogProb: -Infinity });
      for (const w of h.text.split(' ').filter(Boolean)) assert.ok(lex.has(w), `trial ${trial}: '${w}' of '${h.text}' is not a word`);
    }
    // Acoustically "aa": the lexicon makes it a word.
    const aa: Posteriors = { T: 2, C: 4, data: [-9, -9, Math.log(0.9), Math.log(0.1), -9, -9, Math.log(0.9), Math.log(0.1)] };
    assert.equal(greedyDecode(aa, abs), 'a');
    assert.ok(['ab', 'ba', 'b'].includes(beamDecode(aa, abs, { lexicon: lex })[0].text));
  });
});

describe('combinePosteriors (carousel evaluate/transcribe with several --model)', () => {
  it('is the product of the models\' probabilities, each raised to 1/M, renormalised per frame', () => {
    const rng = new Rng(21), T = 7, C = 5;
    const models = [0, 1, 2].map(() => [randomPosteriors(rng, T, C), randomPosteriors(rng, 3, C)]);
    const got = combinePosteriors(models);
    for (let u = 0; u < 2; u++) {
      const { T: Tu } = models[0][u];
      assert.equal(got[u].T, Tu);
      for (let t = 0; t < Tu; t++) {
        // In probabilities: p(c) = prod_m p_m(c)^(1/3) / sum_c' prod_m p_m(c')^(1/3).
        const prod = Array.from({ length: C }, (_, c) => models.reduce((a, m) => a * Math.exp(m[u].data[t * C + c]) ** (1 / 3), 1));
        const z = prod.reduce((a, b) => a + b, 0);
        for (let c = 0; c < C; c++) assert.ok(Math.abs(Math.exp(got[u].data[t * C + c]) - prod[c] / z) < 1e-6, `u ${u} t ${t} c ${c}`);
      }
    }
    // One model, or a model with itself: its own posteriors.
    const same = combinePosteriors([models[0], models[0]]);
    for (let j = 0; j < T * C; j++) assert.ok(Math.abs(same[0].data[j] - models[0][0].data[j]) < 1e-6);
    assert.throws(() => combinePosteriors([models[0], [models[1][1], models[1][0]]]), /utterance 0 is \[7, 5\] in one model and \[3, 5\] in another/);
  });
});

describe('sentence-level combination (carousel evaluate/transcribe --speeds)', () => {
  const ab = new Alphabet(['a', 'b']);

  it('ctcLogLikelihood is the brute-force sum over alignments, and ctcLoss\'s negative', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 6; k++) {
      const p = randomPosteriors(rng, 4 + (k % 3), ab.classes);
      const exact = bruteForce(p, ab);
      for (const text of ['', 'a', 'ab', 'aa', 'bab', 'abab']) {
        const got = ctcLogLikelihood(p, ab.encode(text));
        const want = exact.has(text) ? Math.log(exact.get(text)!) : -Infinity;
        if (want === -Infinity) assert.equal(got, -Infinity, `'${text}' cannot fit ${p.T} frames`);
        else assert.ok(Math.abs(got - want) < 1e-9, `'${text}' over ${p.T} frames: ${got} vs ${want}`);
        if (text && want !== -Infinity) {
          const loss = ctcLoss(tensor(Float32Array.from(p.data), [p.T, p.C]), ab.encode(text), [p.T], [text.length], { reduction: 'none' }).item();
          assert.ok(Math.abs(-loss - got) < 1e-4, `ctcLoss ${loss} vs ${got}`);
        }
      }
    }
    assert.throws(() => ctcLogLikelihood(randomPosteriors(rng, 3, 3), [3]), /labels in \[1, 2\], got 3 at 0/);
  });

  it('rescoreDecode ranks the beam\'s candidates by the views\' mean CTC log-likelihood, LM and bonus; one view of the frame posteriors keeps the beam\'s best', () => {
    const rng = new Rng(8), lm = CharNgramLM.train(['ab', 'ba', 'aab', 'abb'], 2);
    let overturned = 0;
    for (let k = 0; k < 30; k++) {
      const frame = randomPosteriors(rng, 6, ab.classes, 1), views = [randomPosteriors(rng, 6, ab.classes, 1), randomPosteriors(rng, 4, ab.classes, 1)];
      const o = { beamWidth: 32, lm, alpha: 0.5, beta: 0.3, minLogProb: -Infinity };
      const cands = beamDecode(frame, ab, { ...o, topK: 16 });
      const got = rescoreDecode(frame, views, ab, o);
      // By hand: every candidate's mean over the views of its exact CTC probability, LM and bonus.
      const score = (t: string) => (views.reduce((s, v) => s + Math.log(bruteForce(v, ab).get(t) ?? 0), 0) / 2) + 0.5 * lm.withVocabulary(ab.chars).sentenceLogProb(t) + 0.3 * t.length;
      const best = cands.map((h) => h.text).reduce((x, y) => (score(y) > score(x) ? y : x));
      assert.equal(got[0].text, best);
      assert.ok(Math.abs(got[0].score - score(best)) < 1e-9);
      assert.deepEqual(got.map((h) => h.text).sort(), cands.map((h) => h.text).sort());
      if (best !== cands[0].text) overturned++;
      // The frame posteriors as the only view, with the beam exact (wide, nothing pruned): the beam's own ranking.
      assert.equal(rescoreDecode(frame, [frame], ab, o)[0].text, cands[0].text);
    }
    assert.ok(overturned > 0, 'the views overturn some of the beam\'s choices (else this test shows nothing)');
  });
});
