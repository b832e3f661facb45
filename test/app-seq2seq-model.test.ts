// The encoder-decoder's gradients by finite differences (f64), and beam search against brute force.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { crossEntropy } from '../src/loss/crossEntropy.js';
import { beamSearch } from '../src/seq2seq/beam.js';
import { IGNORE, makeBatch, Seq2Seq, type Seq2SeqConfig } from '../src/seq2seq/model.js';
import { EOS } from '../src/seq2seq/vocab.js';
import { Rng } from '../src/tensor/random.js';
import { F64, gradcheck } from './util/gradcheck.js';

const base: Seq2SeqConfig = { cell: 'lstm', decoderCell: 'lstm', srcVocab: 6, tgtVocab: 7, embedding: 3, hidden: 3, layers: 1, bidirectional: true, attention: 'general', dropout: 0 };
// Sources of different lengths (padding and masking in play), targets of different lengths.
const SRC = [[4, 5, 4], [5], [4, 4, 5, 5]], TGT = [[4, 5], [6, 4, 5], [5]];

describe('seq2seq gradients by finite differences (f64 reference)', () => {
  const cases: [string, Partial<Seq2SeqConfig>, number][] = [
    ['general attention, bidirectional LSTM encoder', {}, 0],
    ['additive attention', { attention: 'additive' }, 0],
    ['GRU encoder and decoder, 2 layers, unidirectional', { cell: 'gru', decoderCell: 'gru', layers: 2, bidirectional: false }, 0],
    ['scheduled sampling 0.5 (fixed draws)', {}, 0.5],
  ];
  for (const [name, cfg, sampling] of cases) {
    it(name, () => {
      const model = new Seq2Seq({ ...base, ...cfg }, { ...F64, rng: new Rng(3) });
      const b = makeBatch(SRC, TGT);
      gradcheck(() => { const r = new Rng(9); return model.loss(b, sampling, () => r.next()); }, model.parameters(), { tol: 1e-5 });
    });
  }
});

describe('teacher forcing', () => {
  it('the loss counts each target token and its </s>, not the padding', () => {
    const model = new Seq2Seq(base, { ...F64, rng: new Rng(4) });
    const b = makeBatch(SRC, TGT);
    assert.equal(b.tokens, 2 + 3 + 1 + 3);
    const { logits } = model.teacherForced(b);
    // Mean over the 9 counted rows equals the 'sum' over them / 9, and the padded rows are IGNORE.
    const mean = crossEntropy(logits, b.tgtOut, 'mean', IGNORE).item();
    const sum = crossEntropy(logits, b.tgtOut, 'sum', IGNORE).item();
    assert.ok(Math.abs(mean - sum / 9) < 1e-12);
    assert.equal([...b.tgtOut].filter((t) => t === IGNORE).length, b.T * b.B - 9);
  });
});

/** log P(y </s> | x) by teacher forcing: an independent path to beam search's scores. */
function logProb(model: Seq2Seq, src: number[], y: number[]): number {
  return noGrad(() => -crossEntropy(model.teacherForced(makeBatch([src], [y])).logits, makeBatch([src], [y]).tgtOut, 'sum', IGNORE).item());
}

describe('beam search', () => {
  const model = new Seq2Seq({ ...base, tgtVocab: 6, hidden: 4 }, { ...F64, rng: new Rng(21) });
  model.eval();
  // Tokens a hypothesis may hold: everything but <pad> and <s>, </s> ending it.
  const emit = [3, 4, 5];
  const all = (maxTokens: number): number[][] => {
    const out: number[][] = [[]];
    let layer: number[][] = [[]];
    for (let n = 1; n < maxTokens; n++) { layer = layer.flatMap((y) => emit.map((t) => [...y, t])); out.push(...layer); }
    return out;
  };

  for (const alpha of [0, 1]) {
    it(`a wide beam finds the best sequence of brute force (alpha ${alpha})`, () => {
      const maxTokens = 4; // y of at most 3 tokens, then </s>
      for (const src of [[4, 5, 4], [5]]) {
        let best = { y: [] as number[], score: -Infinity, lp: 0 };
        for (const y of all(maxTokens)) {
          const lp = logProb(model, src, y), score = lp / Math.pow(y.length + 1, alpha);
          if (score > best.score) best = { y, score, lp };
        }
        const [h] = beamSearch(model, [src], { beam: 64, alpha, maxLength: () => maxTokens });
        assert.deepEqual(h.ids, best.y, `source ${src}`);
        assert.ok(Math.abs(h.logProb - best.lp) < 1e-9, `log P ${h.logProb} vs ${best.lp}`);
        assert.ok(h.finished);
      }
    });
  }

  it('beam 1 is greedy decoding (argmax of each step, fed back)', () => {
    for (const src of SRC) {
      const y: number[] = [];
      for (let step = 0; step < 13; step++) {
        const { logits } = noGrad(() => model.teacherForced(makeBatch([src], [y])));
        const V = logits.shape[1], last = logits.dataSync().slice(y.length * V, (y.length + 1) * V);
        let k = 3; // argmax over the tokens a hypothesis may hold (not <pad> 0 nor <s> 1)
        for (let v = 2; v < V; v++) if (last[v] > last[k]) k = v;
        if (k === EOS) break;
        y.push(k);
      }
      const [h] = beamSearch(model, [src], { beam: 1, maxLength: () => 13 });
      assert.deepEqual(h.ids, y);
    }
  });

  it('decoding a batch gives what decoding each source alone gives', () => {
    const sources = [[4, 5, 4], [5], [4, 4, 5, 5], [5, 5], [4]];
    for (const beam of [1, 3]) {
      const together = beamSearch(model, sources, { beam, chunk: 5 });
      const alone = sources.map((s) => beamSearch(model, [s], { beam })[0]);
      together.forEach((h, i) => {
        assert.deepEqual(h.ids, alone[i].ids, `source ${i}, beam ${beam}`);
        assert.equal(h.finished, alone[i].finished);
        assert.ok(Math.abs(h.logProb - alone[i].logProb) < 1e-9, `log P ${h.logProb} vs ${alone[i].logProb}`);
      });
    }
  });

  it('attention weights per output step sum to 1 over the source', () => {
    const [h] = beamSearch(model, [[4, 5, 4]], { beam: 2, keepWeights: true });
    assert.equal(h.weights!.length, h.ids.length + (h.finished ? 1 : 0));
    for (const w of h.weights!) assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  });
});
