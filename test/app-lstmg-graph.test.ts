// LSTM-g graphs and the distracted sequence recall task: the builder's checks (one-line errors
// naming what was expected and what was given), a hand-computed second-order step, the task's
// trials against its description, and the rule learning a small memory task.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder, lstmNetwork } from '../src/lstmg/builders.js';
import { DSR_LENGTH, DSR_SYMBOLS, DSR_TARGETS, dsrRate, dsrStep, dsrTrial, trainDsrLstmg } from '../src/lstmg/dsr.js';
import { Learner } from '../src/lstmg/learn.js';
import { dsrBatch, dsrExperiment } from '../src/reproduce/dsr.js';
import { findExperiments } from '../src/reproduce/experiments.js';
import { Rng } from '../src/tensor/random.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('lstmg: graphs', () => {
  it('a gated connection and a gated self-connection compute the paper\'s equations 14-16 by hand', () => {
    const b = new GraphBuilder(2);
    const [g] = b.units(1, 'logistic', 'g'), [m] = b.units(1, 'identity', 'm'), [o] = b.units(1, 'tanh', 'o');
    b.connect(b.input(0), g, 0.5); b.connect(b.bias, g, -0.2);
    b.connect(b.input(1), m, 2, { gater: g }); b.selfConnect(m, 0.9, g);
    b.connect(m, o, 0.7); b.connect(o, g, 0.3); // o -> g reads last step's o
    b.setOutputs([o]);
    const net = b.build();
    let s = 0, yo = 0;
    for (const [x0, x1] of [[1, 0.5], [-1, 2], [0.3, -0.4]]) {
      const yg = sig(0.5 * x0 - 0.2 + 0.3 * yo);
      s = yg * 0.9 * s + yg * 2 * x1;
      yo = Math.tanh(0.7 * s);
      assert.ok(Math.abs(net.step([x0, x1])[0] - yo) < 1e-15);
    }
  });

  it('refuses bad graphs with one line naming what was expected and what was given', () => {
    const b = new GraphBuilder(2);
    const [u] = b.units(1, 'tanh');
    const cases: [() => void, RegExp][] = [
      [() => new GraphBuilder(0), /expected a positive integer number of inputs, got 0/],
      [() => b.units(2, 'relu' as 'tanh'), /expected an activation among logistic, tanh, identity, got "relu"/],
      [() => b.connect(u, b.input(0), 1), /expected a computed unit as target, got unit 1 \(in0\)/],
      [() => b.connect(u, 9, 1), /expected to to be a unit index in 0\.\.3, got 9/],
      [() => b.connect(u, u, 1), /expected two different units.*use selfConnect/],
      [() => b.connect(b.input(0), u, NaN), /expected a finite weight, got NaN/],
      [() => b.selfConnect(u, 0), /expected a finite non-zero weight, got 0/],
      [() => b.input(2), /expected an input index in 0\.\.1, got 2/],
      [() => b.build(), /expected output units \(setOutputs\), got none/],
      [() => { const d = new GraphBuilder(2), [v] = d.units(1, 'tanh'); d.connect(d.input(1), v, 1); d.connect(d.input(1), v, 2); d.setOutputs([v]); d.build(); },
        /expected one connection unit 2 \(in1\) -> unit 3 \(u\), got a second/],
      [() => b.setOutputs([b.bias]), /expected computed units, got unit 0 \(bias\)/],
    ];
    for (const [f, re] of cases) assert.throws(f, (e: Error) => re.test(e.message) && !e.message.includes('\n'), String(re));
    b.setOutputs([u]);
    const net = b.build(), l = new Learner(net);
    assert.throws(() => net.step([1]), /expected an input of 2 values, got 1/);
    assert.throws(() => net.step([1, NaN]), /expected finite inputs, got NaN at input 1/);
    l.step([1, 2]);
    assert.throws(() => l.learn([Infinity]), /expected finite targets, got Infinity at output 0/);
    assert.throws(() => l.learn([1, 0]), /expected a target of 1 values, got 2/);
  });

  it('lstmNetwork wires the paper\'s architecture: gates, gated cell inputs and outputs, forget-gated self-connections', () => {
    const { net, units } = lstmNetwork({ inputs: 3, cells: 2, outputs: 4, rng: new Rng(1) });
    const gatedBy = (g: number) => Array.from(net.gater.keys()).filter((c) => net.gater[c] === g).map((c) => [net.labels![net.from[c]], net.labels![net.to[c]]].join('>'));
    assert.deepEqual(gatedBy(units.inputGate[0]).sort(), ['bias>c0', 'in0>c0', 'in1>c0', 'in2>c0']);
    assert.deepEqual(gatedBy(units.outputGate[1]).sort(), ['c1>y0', 'c1>y1', 'c1>y2', 'c1>y3']);
    assert.equal(net.selfGater[units.cell[0]], units.forgetGate[0]);
    assert.equal(net.selfWeight[units.cell[0]], 1);
  });
});

describe('lstmg: distracted sequence recall', () => {
  it('each trial is 22 symbols with exactly two targets among distractors, then the two prompts asking for them in order', () => {
    const rng = new Rng(7), seenTarget = new Set<number>(), firstAt = new Set<number>();
    for (let n = 0; n < 2000; n++) {
      const tr = dsrTrial(rng);
      assert.equal(tr.symbols.length, DSR_LENGTH);
      const pos = tr.symbols.slice(0, 22).flatMap((s, i) => (s < DSR_TARGETS ? [i] : []));
      assert.equal(pos.length, 2);
      assert.deepEqual(pos.map((p) => tr.symbols[p]), tr.answers);
      for (let i = 0; i < 22; i++) if (!pos.includes(i)) assert.ok(tr.symbols[i] >= 4 && tr.symbols[i] < 8);
      assert.deepEqual(tr.symbols.slice(22), [8, 9]);
      tr.answers.forEach((a) => seenTarget.add(a)); firstAt.add(pos[0]);
      const x = new Float64Array(DSR_SYMBOLS), y = new Float64Array(DSR_TARGETS);
      for (let t = 0; t < DSR_LENGTH; t++) {
        dsrStep(tr, t, x, y);
        assert.equal(x.reduce((a, v) => a + v, 0), 1); assert.equal(x[tr.symbols[t]], 1);
        assert.deepEqual(Array.from(y), [0, 1, 2, 3].map((k) => (t >= 22 && tr.answers[t - 22] === k ? 1 : 0)));
      }
    }
    assert.equal(seenTarget.size, 4);
    assert.equal(firstAt.size, 21); // the first target can be anywhere but the last body position
  });

  it('the BPTT batch is the same trials, time-major', () => {
    const b = dsrBatch(new Rng(3), 5), tr = new Rng(3);
    for (let s = 0; s < 5; s++) {
      const trial = dsrTrial(tr);
      for (let t = 0; t < DSR_LENGTH; t++) assert.equal(b.x[(t * 5 + s) * DSR_SYMBOLS + trial.symbols[t]], 1);
      assert.equal(b.target[(23 * 5 + s) * DSR_TARGETS + trial.answers[1]], 1);
    }
  });

  it('`carousel reproduce dsr` finds the experiment; its verdict needs LSTM-g to solve a majority of seeds', () => {
    assert.equal(findExperiments(['dsr'])[0].name, 'dsr');
    const e = dsrExperiment();
    const o = (g: boolean, b: boolean) => [{ label: 'LSTM-g', solved: g, sequences: g ? 10_000 : null, score: g ? 0.97 : 0.5, seconds: 1 }, { label: 'BPTT', solved: b, sequences: b ? 5000 : null, score: 0.9, seconds: 1 }];
    const v = e.verdict([o(true, false), o(true, true), o(false, true)], 'quick');
    assert.equal(v.met, true);
    assert.match(v.ours, /LSTM-g 2\/3 solved \(mean 10,000 trials\)/);
    assert.match(v.note, /BPTT LSTM beside it: 2\/3 solved \(mean 5,000 trials\)/);
    assert.match(v.note, /the unsolved LSTM-g nets got 0\.500 of the test trials right$/);
    assert.equal(e.verdict([o(true, true), o(false, true)], 'quick').met, false);
  });

  it('the learning rate decays as α / (1 + n / rateDecay) when asked, and stays otherwise; a bad decay is refused', async () => {
    const c = { rate: 0.05, rateDecay: 50_000 };
    assert.equal(dsrRate(c, 0), 0.05);
    assert.ok(Math.abs(dsrRate(c, 50_000) - 0.025) < 1e-15);
    assert.ok(Math.abs(dsrRate(c, 200_000) - 0.01) < 1e-15);
    assert.equal(dsrRate({ rate: 0.05 }, 200_000), 0.05);
    assert.equal(dsrRate({}, 10), 0.03);
    for (const bad of [0, -1, NaN]) assert.throws(() => dsrRate({ rate: 0.05, rateDecay: bad }, 0), /expected rateDecay to be a positive number of trials, got/);
    await assert.rejects(trainDsrLstmg({ rate: 0.05, rateDecay: 0, budget: 10, checkEvery: 10 }, 1), /expected rateDecay to be a positive number of trials, got 0/);
    assert.match(dsrExperiment().setup, /α 0\.05 decaying as α \/ \(1 \+ n \/ 50,000\)/);
  });

  it('the rule learns to recall a symbol across a delay (two memory cells, online; forget gates biased open)', () => {
    // Two symbols, then 4 blanks, then a prompt: output the first symbol. Needs the cell to hold it.
    const { net } = lstmNetwork({ inputs: 3, cells: 2, outputs: 2, rng: new Rng(2), forgetBias: 2 });
    const l = new Learner(net), rng = new Rng(5), T = 6;
    const trial = (learn: boolean) => {
      const k = rng.int(2);
      l.reset();
      let ok = true;
      for (let t = 0; t < T; t++) {
        const x = [t === 0 && k === 0 ? 1 : 0, t === 0 && k === 1 ? 1 : 0, t === T - 1 ? 1 : 0];
        const y = [t === T - 1 && k === 0 ? 1 : 0, t === T - 1 && k === 1 ? 1 : 0];
        const out = l.step(x);
        if (Math.abs(out[0] - y[0]) >= 0.5 || Math.abs(out[1] - y[1]) >= 0.5) ok = false;
        if (learn) { l.learn(y); l.apply(0.2); }
      }
      return ok;
    };
    const score = () => { let g = 0; for (let i = 0; i < 200; i++) if (trial(false)) g++; return g / 200; };
    const before = score();
    for (let i = 0; i < 3000; i++) trial(true);
    const after = score();
    assert.ok(before < 0.9, `untrained ${before}`);
    assert.equal(after, 1, `after 3000 trials ${after}`);
  });
});
