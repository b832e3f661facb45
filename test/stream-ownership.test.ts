// StreamingModel's memory contract (src/models/stream.ts): push() returns an output the stream
// owns (valid until the next push; keep() makes it the caller's), takes values as well as
// tensors, frees what it allocates; step() and generateText() leave nothing behind; dispose().
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Backend } from '../src/backend/backend.js';
import { WasmBackend } from '../src/backend/wasm/index.js';
import { CharVocab } from '../src/data/text.js';
import { generateText } from '../src/models/generate.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';
import { StreamingModel } from '../src/models/stream.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { keep, tidy } from '../src/tensor/tidy.js';
import { forEachBackend, values } from './backends.js';

function model(be: Backend, arch: Partial<Architecture> = {}): SequenceModel {
  return new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 5, numLayers: 2, bidirectional: false, dropout: 0,
    outputSize: 3, ...arch }, { backend: be, rng: new Rng(21) }).eval();
}
const lm = (be: Backend, cell = 'lstm') => model(be, { task: 'charlm', cell, inputSize: 4, outputSize: 7, vocabSize: 7 });
/** Bytes in the wasm heap's live blocks (null on other backends). */
const inUse = (be: Backend) => (be instanceof WasmBackend ? be.heap.inUse : null);

forEachBackend('StreamingModel memory contract', (be) => {
  for (const cell of ['lstm', 'gru', 'xlstm']) {
    it(`${cell}: values in any form give what the same tensor gives`, async () => {
      const m = model(be, { cell }), a = new StreamingModel(m), b = new StreamingModel(m);
      const xs = [[0.5, -1], [0.25, 2], [-0.75, 0.1], [1, 1]];
      const forms = [(x: number[]) => [x], (x: number[]) => x, (x: number[]) => Float32Array.from(x), (x: number[]) => [Float32Array.from(x)]];
      for (const [t, x] of xs.entries()) {
        const want = await values(a.push(tensor([x], undefined, { backend: be })));
        assert.deepEqual(await values(b.push(forms[t](x))), want, `t=${t}`);
      }
      a.dispose(); b.dispose();
    });
  }

  it('charlm: a token id as a number or [id] gives what the i32 tensor gives (streaming and xLSTM cores)', async () => {
    for (const cell of ['gru', 'xlstm']) {
      const m = lm(be, cell), a = new StreamingModel(m), b = new StreamingModel(m);
      for (const [t, id] of [3, 0, 6, 2].entries()) {
        const want = await values(a.push(m.input([id], [1], 'i32')));
        assert.deepEqual(await values(b.push(t % 2 ? id : [id])), want, `${cell} t=${t}`);
      }
      a.dispose(); b.dispose();
    }
  });

  it('batches of values: B rows, or B * inputSize numbers; the batch must stay that of the kept state', async () => {
    const m = model(be), a = new StreamingModel(m), b = new StreamingModel(m);
    const want = await values(a.push(tensor([[1, 2], [3, 4]], undefined, { backend: be })));
    assert.deepEqual(await values(b.push([1, 2, 3, 4])), want);
    assert.throws(() => b.push([[1, 2]]), /expected a batch of 2 \(the kept state's\), got 1/);
  });

  it('bad values: a clear error naming what was expected and what was given', async () => {
    const s = new StreamingModel(model(be)), c = new StreamingModel(lm(be));
    assert.throws(() => s.push([[1, 2, 3]]), /streaming: expected rows of 2 values, got 3 values in row 0/);
    assert.throws(() => s.push([1, 2, 3]), /streaming: expected B rows of 2 values \(B \* 2 numbers\), got 3 numbers/);
    assert.throws(() => s.push([[1, NaN]]), /streaming: expected finite numbers, got NaN at position 1/);
    assert.throws(() => s.push([]), /streaming: expected at least one row, got none/);
    assert.throws(() => s.push('1' as unknown as number), /streaming: expected a Tensor, a number or an array of numbers, got string/);
    assert.throws(() => c.push(7), /streaming charlm: expected token ids \(integers in \[0, 7\)\), got 7 at position 0/);
    assert.throws(() => c.push([1.5]), /expected token ids \(integers in \[0, 7\)\), got 1.5 at position 0/);
    assert.throws(() => c.push([[1]]), /streaming charlm: expected token ids \[B\] as numbers, got nested arrays/);
    const bad = tensor([9], [1], { backend: be, dtype: 'i32' });
    if (be.readSync) assert.throws(() => c.push(bad), /streaming charlm token ids: index 9 at position 0 out of range \[0, 7\)/);
    // Where reads are transfers (webgpu) ids on the device are checked there, and the error comes with the next read.
    else await assert.rejects(c.push(bad).data(), /^Error: streaming charlm token ids: index out of range \[0, 7\) \(found by a device-side check since the last read\)$/);
    assert.equal(s.state, null, 'a refused input leaves the stream as it was');
  });

  it("push()'s output is valid until the next push, which frees it (unless kept); the input stays the caller's", async () => {
    const m = model(be), s = new StreamingModel(m), x = tensor([[0.5, 0.5]], undefined, { backend: be });
    const y1 = s.push(x), v1 = await values(y1);
    const y2 = s.push(x);
    assert.notEqual(y2.storage, y1.storage);
    if (be instanceof WasmBackend) assert.throws(() => y1.dataSync(), /used after it was freed/);
    assert.deepEqual(await values(x), [0.5, 0.5], 'the input tensor is untouched and alive');
    keep(y2);
    const v2 = await values(y2);
    s.push(x); s.push(x);
    assert.deepEqual(await values(y2), v2, 'a kept output survives later pushes');
    y2.dispose();
    assert.notDeepEqual(v2, v1);
  });

  it('an output fed back as the next input (inputSize = outputSize) is read before it is freed', async () => {
    const m = model(be, { outputSize: 2 }), a = new StreamingModel(m), b = new StreamingModel(m);
    let y = a.push([[0.1, 0.2]]), z = b.push([[0.1, 0.2]]);
    for (let t = 0; t < 4; t++) {
      const copy = await values(z);
      y = a.push(y);
      z = b.push([copy]);
      assert.deepEqual(await values(y), await values(z), `t=${t}`);
    }
  });

  it('inside tidy(), returned or not, and disposed by the caller: the stream carries on', async () => {
    const m = model(be), s = new StreamingModel(m), ref = new StreamingModel(m);
    for (let t = 0; t < 3; t++) {
      ref.push([[t, 1]]);
      tidy(() => { s.push([[t, 1]]); });             // the output freed by tidy
      const want = await values(ref.push([[t, 2]]));
      const y = tidy(() => s.push([[t, 2]]));        // returned, then freed by the caller
      assert.deepEqual(await values(y), want, `t=${t}`);
      y.dispose();
    }
    assert.deepEqual(await values(s.push([[5, 5]])), await values(ref.push([[5, 5]])));
  });

  it('dispose() frees the state, scratch and last output; the stream refuses use afterwards', async () => {
    const m = model(be), before = inUse(be);
    const s = new StreamingModel(m);
    for (let t = 0; t < 5; t++) s.push([[t, -t]]);
    const r = s.step([[1, 1]], null); // the caller's: freed here, not by the stream
    for (const u of [r.output, ...r.state]) u.dispose();
    const y = s.push([[1, 1]]);
    s.dispose();
    if (before !== null) {
      assert.throws(() => y.dataSync(), /used after it was freed/);
      assert.equal(inUse(be), before, 'every block the stream took is back');
    }
    assert.throws(() => s.push([[1, 1]]), /this StreamingModel was disposed; make a new one/);
    assert.throws(() => s.step([[1, 1]], null), /disposed/);
  });

  it('step() in a plain loop: only the returned output and state are the caller\'s', async () => {
    for (const cell of ['lstm', 'xlstm']) {
      const m = model(be, { cell }), s = new StreamingModel(m);
      let r = s.step([[0, 1]], null);
      const before = inUse(be);
      for (let t = 0; t < 20; t++) {
        const next = s.step([[t, 1]], r.state);
        for (const u of [r.output, ...r.state]) u.dispose();
        r = next;
      }
      if (before !== null) assert.equal(inUse(be), before, `${cell}: the wasm heap holds what it held after the first step`);
      s.dispose();
    }
  });

  it('generateText frees everything it allocated once it returns', async () => {
    const chars = [...'abcdef\n'];
    const m = lm(be), vocab = new CharVocab(chars);
    await generateText(m, vocab, { seed: 'ab', length: 5, rng: new Rng(1) }); // warm: kernel scratch, flags
    const before = inUse(be);
    const text = await generateText(m, vocab, { seed: 'abc', length: 40, rng: new Rng(2), temperature: 0.7 });
    assert.equal(text.length, 40);
    if (before !== null) assert.equal(inUse(be), before);
  });
}, { asyncF32: true });
