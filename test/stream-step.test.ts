// The one streaming step (src/ops/step.ts: lstmStep / gruStep) against the full-sequence forward,
// for every LSTM cell and GRU, on every registered backend; and StreamingModel push() over it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { listBackends, loadBackend } from '../src/backend/registry.js';
import { backendSuiteSkip } from './backends.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { StreamingModel } from '../src/models/stream.js';
import { GRU, type GRUConfig } from '../src/nn/gru.js';
import { LSTM, type LSTMConfig } from '../src/nn/lstm.js';
import { LSTM_VARIANTS, type LstmVariant } from '../src/ops/lstm-cell.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';

const TOL = 1e-5;
const T = 6, B = 2, I = 3, H = 5;

/** A tensor's values, read asynchronously (webgpu has no synchronous read). */
async function arr(t: Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < TOL, `${what} [${i}]: ${got[i]} vs ${want[i]}`);
}

const randn = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.normal());

const lstmCases: [string, Partial<LSTMConfig>][] = [
  ['plain', {}], ['2 layers', { numLayers: 2 }], ['projSize, 2 layers', { projSize: 3, numLayers: 2 }],
  ['peepholes', { peepholes: true }], ['no bias', { bias: false }],
  ...(Object.keys(LSTM_VARIANTS) as LstmVariant[]).map((v): [string, Partial<LSTMConfig>] => [`variant ${v}, 2 layers`, { variant: v, numLayers: 2 }]),
];
const gruCases: [string, Partial<GRUConfig>][] = [['plain', {}], ['2 layers', { numLayers: 2 }], ['no bias', { bias: false }]];

for (const name of listBackends()) {
  describe(`one streaming step equals forward (${name})`, () => {
    const why = backendSuiteSkip(name, { asyncF32: true }); // unavailable here (reads are awaited: webgpu runs it too)
    let be: Backend;
    it('loads', { skip: why ?? false }, async () => { be = await loadBackend(name); });

    for (const [label, cfg] of lstmCases) {
      it(`LSTM ${label}: y at each step, final h and c`, { skip: why ?? false }, async () => {
        const rng = new Rng(11);
        const m = new LSTM({ inputSize: I, hiddenSize: H, ...cfg }, { backend: be, rng });
        const L = m.numLayers, Hout = m.outputSize;
        const xs = randn(rng, T * B * I);
        const h0 = tensor(randn(rng, L * B * Hout), [L, B, Hout], { backend: be });
        const c0 = tensor(randn(rng, L * B * H), [L, B, H], { backend: be });
        const whole = noGrad(() => m.forward(tensor(xs, [T, B, I], { backend: be }), { h0, c0 }));
        const want = await arr(whole.y);
        const s = m.stream(B);
        s.reset(h0, c0);
        for (let t = 0; t < T; t++) {
          const y = await arr(s.step(tensor(xs.slice(t * B * I, (t + 1) * B * I), [B, I], { backend: be })));
          close(y, want.slice(t * B * Hout, (t + 1) * B * Hout), `t=${t} y`);
        }
        close(await arr(s.h), await arr(whole.hN), 'hN');
        close(await arr(s.c), await arr(whole.cN), 'cN');
        s.dispose();
      });
    }

    for (const [label, cfg] of gruCases) {
      it(`GRU ${label}: y at each step, final h`, { skip: why ?? false }, async () => {
        const rng = new Rng(12);
        const m = new GRU({ inputSize: I, hiddenSize: H, ...cfg }, { backend: be, rng });
        const L = m.numLayers;
        const xs = randn(rng, T * B * I);
        const h0 = tensor(randn(rng, L * B * H), [L, B, H], { backend: be });
        const whole = noGrad(() => m.forward(tensor(xs, [T, B, I], { backend: be }), { h0 }));
        const want = await arr(whole.y);
        const s = m.stream(B);
        s.reset(h0);
        for (let t = 0; t < T; t++) {
          const y = await arr(s.step(tensor(xs.slice(t * B * I, (t + 1) * B * I), [B, I], { backend: be })));
          close(y, want.slice(t * B * H, (t + 1) * B * H), `t=${t} y`);
        }
        close(await arr(s.h), await arr(whole.hN), 'hN');
        s.dispose();
      });
    }

    // On webgpu a step takes one buffer from its pool per stream and step (60 in the 20 steps of 3
    // streams below, found when this suite first ran there): pooled, so nothing grows, but not yet
    // traced to its op; until then the test says so rather than passing.
    const allocSkip = why ?? (name === 'webgpu' ? 'webgpu takes one pooled buffer per streaming step (not yet traced to its op)' : false);
    it('a step allocates nothing on the backend (LSTMP 2 layers, FGR, GRU)', { skip: allocSkip }, async () => {
      const streams = [
        new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, projSize: 3 }, { backend: be }).stream(1),
        new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, variant: 'FGR' }, { backend: be }).stream(1),
        new GRU({ inputSize: I, hiddenSize: H, numLayers: 2 }, { backend: be }).stream(1),
      ];
      const x = tensor([0.1, -0.2, 0.3], [1, I], { backend: be });
      for (const s of streams) s.step(x);
      const raw = be as unknown as { alloc: (...a: unknown[]) => unknown };
      const original = raw.alloc;
      let count = 0;
      raw.alloc = function (...a: unknown[]) { count++; return original.apply(this, a); };
      try { for (let t = 0; t < 20; t++) for (const s of streams) s.step(x); } finally { raw.alloc = original; }
      assert.equal(count, 0);
      for (const s of streams) s.dispose();
    });

    for (const cell of ['lstm', 'gru', 'fgr', 'peephole']) {
      it(`StreamingModel (${cell}, 2 layers): push equals forward, step equals push`, { skip: why ?? false }, async () => {
        const rng = new Rng(13);
        const m = new SequenceModel({ task: 'forecast', cell, inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 3 },
          { backend: be, rng });
        m.eval();
        const xs = randn(rng, T * 2);
        const s = new StreamingModel(m);
        for (let t = 0; t < T; t++) {
          const out = await arr(s.push(m.input(xs.slice(t * 2, t * 2 + 2), [1, 2])));
          const want = await arr(noGrad(() => m.forwardLast(m.input(xs.slice(0, (t + 1) * 2), [t + 1, 1, 2]))));
          close(out, want, `t=${t}`);
        }
        // The pure step from push's state gives push's next output, and leaves push's state alone.
        const state = await Promise.all(s.state!.map(async (t) => tensor(await arr(t), t.shape, { backend: be })));
        const x = m.input([0.5, -0.5], [1, 2]);
        const pure = s.step(x, state);
        close(await arr(s.state![0]), await arr(state[0]), 'state untouched by step()');
        close(await arr(s.push(x)), await arr(pure.output), 'step vs push');
        close(await arr(pure.state[0]), await arr(s.state![0]), 'step state vs push state');
        s.resetState();
        assert.equal(s.state, null);
      });
    }

    it('StreamingModel charlm (lstm): push logits equal forwardLM over the text', { skip: why ?? false }, async () => {
      const rng = new Rng(14);
      const m = new SequenceModel({ task: 'charlm', cell: 'lstm', inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: false, dropout: 0, outputSize: 7, vocabSize: 7 },
        { backend: be, rng });
      m.eval();
      const ids = [1, 4, 0, 6, 2, 3];
      const whole = await arr(noGrad(() => m.forwardLM(m.input(ids, [T, 1], 'i32'), null).logits));
      const s = new StreamingModel(m);
      for (const [t, id] of ids.entries()) close(await arr(s.push(m.input([id], [1], 'i32'))), whole.slice(t * 7, (t + 1) * 7), `t=${t}`);
    });
  });
}
