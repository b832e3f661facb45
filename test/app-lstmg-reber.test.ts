// The embedded Reber grammar with LSTM-g (`carousel reproduce lstmg-reber`): the per-step
// criterion on hand-made predictions (right ones pass, one wrong symbol fails, the final T/P
// counts), the same strings judged alike on the LSTM-g side and the BPTT side, the online loop's
// targets, and the row's verdict.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lstmNetwork } from '../src/lstmg/builders.js';
import { Learner } from '../src/lstmg/learn.js';
import { allWithin, reberBatch } from '../src/reproduce/embeddedReber.js';
import { findExperiments } from '../src/reproduce/experiments.js';
import { lstmgReberExperiment, predictsLegal, runReberString } from '../src/reproduce/lstmgReber.js';
import { embeddedReber, NSYM, outerIndex, REBER_SYMBOLS } from '../src/reproduce/reber.js';
import { Rng } from '../src/tensor/random.js';

/** The right prediction of a step: 0.9 for each legal successor, 0.1 for the rest. */
const right = (mask: number): number[] => Array.from({ length: NSYM }, (_, s) => ((mask >> s) & 1 ? 0.9 : 0.1));

describe('lstmg-reber: the criterion', () => {
  it('right predictions pass at every step; one wrong symbol at one step fails; guessing the final T/P fails', () => {
    const rng = new Rng(4);
    for (let n = 0; n < 50; n++) {
      const s = embeddedReber(rng);
      for (let t = 0; t < s.symbols.length - 1; t++) {
        assert.ok(predictsLegal(right(s.legal[t]), s.legal[t]));
        for (let k = 0; k < NSYM; k++) {
          const p = right(s.legal[t]);
          p[k] = 1 - p[k]; // one symbol wrong: a legal one missed or an illegal one predicted
          assert.equal(predictsLegal(p, s.legal[t]), false, `step ${t}, symbol ${REBER_SYMBOLS[k]}`);
        }
      }
      // After the inner E only the remembered T/P is legal: naming both (a guess) is wrong.
      const o = outerIndex(s), both = right(s.legal[o]);
      both[1] = both[2] = 0.9;
      assert.equal(predictsLegal(both, s.legal[o]), false);
      assert.equal(predictsLegal(right(s.legal[o]), s.legal[o]), true);
    }
    assert.throws(() => predictsLegal([0.1, 0.9], 3), /expected 7 outputs, got 2/);
  });

  it('judges strings exactly as the BPTT side does (allWithin on the same strings)', () => {
    const rng = new Rng(11), strings = Array.from({ length: 40 }, () => embeddedReber(rng));
    const b = reberBatch(strings), y = new Float32Array(b.target.length), ours: boolean[] = [];
    strings.forEach((s, i) => {
      let ok = true;
      for (let t = 0; t < s.symbols.length - 1; t++) {
        const p = right(s.legal[t]);
        if (i % 3 === 0 && t === (i * 7) % (s.symbols.length - 1)) p[i % NSYM] = 1 - p[i % NSYM]; // spoil a third of the strings
        if (!predictsLegal(p, s.legal[t])) ok = false;
        y.set(p, (t * b.B + i) * NSYM);
      }
      ours.push(ok);
    });
    const theirs = allWithin(y, b, NSYM, 0.5);
    assert.equal(ours.filter((v) => !v).length, 14);
    assert.equal(theirs.score, ours.filter(Boolean).length / strings.length);
  });
});

describe('lstmg-reber: online LSTM-g', () => {
  it('each step is trained toward its legal successors (the same weights as stepping, learning and applying by hand)', () => {
    const mk = () => new Learner(lstmNetwork({ inputs: NSYM, cells: 3, outputs: NSYM, rng: new Rng(6), recurrent: 'gated', forgetBias: 2 }).net);
    const a = mk(), b = mk(), s = embeddedReber(new Rng(2));
    runReberString(a, s, 0.05);
    b.reset();
    for (let t = 0; t < s.symbols.length - 1; t++) {
      b.step(Array.from({ length: NSYM }, (_, k) => (k === s.symbols[t] ? 1 : 0)));
      b.learn(Array.from({ length: NSYM }, (_, k) => (s.legal[t] >> k) & 1));
      b.apply(0.05);
    }
    assert.deepEqual(Array.from(a.net.weights()), Array.from(b.net.weights()));
    assert.notDeepEqual(Array.from(a.net.weights()), Array.from(mk().net.weights()));
    // Without a rate nothing moves.
    const w = a.net.weights();
    runReberString(a, s, null);
    assert.deepEqual(Array.from(a.net.weights()), Array.from(w));
  });

  it('`carousel reproduce lstmg-reber` finds the experiment; its verdict needs LSTM-g to solve a majority of seeds', () => {
    assert.equal(findExperiments(['lstmg-reber'])[0].name, 'lstmg-reber');
    const e = lstmgReberExperiment();
    const o = (g: boolean, b: boolean) => [{ label: 'LSTM-g', solved: g, sequences: g ? 10_000 : null, score: g ? 1 : 0.5, seconds: 1 }, { label: 'BPTT', solved: b, sequences: b ? 5000 : null, score: 0.9, seconds: 1 }];
    const v = e.verdict([o(true, false), o(true, true), o(false, true)], 'quick');
    assert.equal(v.met, true);
    assert.match(v.ours, /LSTM-g 2\/3 solved \(mean 10,000 strings\)/);
    assert.match(v.note, /BPTT LSTM beside it: 2\/3 solved \(mean 5,000 strings\)/);
    assert.match(v.note, /the unsolved LSTM-g nets got 0\.500 of the test strings right$/);
    assert.equal(e.verdict([o(true, true), o(false, true)], 'quick').met, false);
  });
});
