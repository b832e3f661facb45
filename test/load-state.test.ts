// Module.loadStateDict / importStateDict: non-finite values refused (naming the parameter and the
// first bad value) unless allowNonFinite, options checked, and a load keeps the parameters'
// buffers and frees what it uploaded.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { WasmBackend } from '../src/backend/wasm/index.js';
import { ModelFileError } from '../src/io/errors.js';
import { importStateDict } from '../src/io/pytorch.js';
import { serializeSafetensors } from '../src/io/safetensors.js';
import { GRU } from '../src/nn/gru.js';
import { Rng } from '../src/tensor/random.js';
import { forEachBackend, values } from './backends.js';

forEachBackend('loadStateDict', (be) => {
  const gru = () => new GRU({ inputSize: 2, hiddenSize: 3 }, { backend: be, rng: new Rng(4) });

  it('refuses NaN and infinities, naming the parameter, the first bad index and value; nothing changes', async () => {
    const m = gru(), sd = await m.readStateDict(), before = await values(m.parameter('weight_hh_l0'));
    const w = Float32Array.from(sd.get('weight_hh_l0')!.data);
    w[7] = NaN; w[8] = Infinity;
    sd.set('weight_hh_l0', { shape: [9, 3], data: w });
    sd.set('bias_ih_l0', { shape: [9], data: [0, 0, 0, 0, -Infinity, 0, 0, 0, 0] });
    assert.throws(() => m.loadStateDict(sd),
      /loadStateDict: 'weight_hh_l0': expected finite values, got NaN at index 7 \(\[2, 1\] of \[9, 3\]\); 'bias_ih_l0': expected finite values, got -Infinity at index 4$/);
    assert.deepEqual(await values(m.parameter('weight_hh_l0')), before);
  });

  it('{ allowNonFinite: true } loads them; a boolean still means strict', async () => {
    const m = gru(), sd = await m.readStateDict();
    sd.set('bias_hh_l0', { shape: [9], data: [NaN, 1, 2, 3, 4, 5, 6, 7, Infinity] });
    m.loadStateDict(sd, { allowNonFinite: true });
    const b = await values(m.parameter('bias_hh_l0'));
    assert.ok(Number.isNaN(b[0]) && b[8] === Infinity && b[1] === 1);
    m.loadStateDict({ bias_hh_l0: { shape: [9], data: new Float32Array(9) } }, false);
    assert.deepEqual(await values(m.parameter('bias_hh_l0')), new Array(9).fill(0));
    assert.throws(() => m.loadStateDict({ bias_hh_l0: { shape: [9], data: new Float32Array(9) } }, { strict: true }), /missing parameter 'weight_ih_l0'/);
  });

  it('bad options: a clear error', async () => {
    const m = gru(), sd = await m.readStateDict();
    assert.throws(() => m.loadStateDict(sd, { allowNaN: true } as never), /loadStateDict: unknown option\(s\) allowNaN; expected some of strict, allowNonFinite/);
    assert.throws(() => m.loadStateDict(sd, { strict: 'yes' } as never), /loadStateDict strict: expected true or false, got "yes"/);
    assert.throws(() => m.loadStateDict(sd, null as never), /expected options \{ strict, allowNonFinite \} or a boolean \(strict\), got null/);
  });

  it('keeps the parameters\' buffers and frees its uploads (wasm heap unchanged)', async () => {
    const m = gru(), sd = await m.readStateDict(), storages = m.parameters().map((p) => p.storage);
    const used = () => (be instanceof WasmBackend ? be.heap.inUse : 0);
    m.loadStateDict(sd);
    const before = used();
    for (let i = 0; i < 20; i++) m.loadStateDict(sd);
    assert.equal(used(), before);
    assert.deepEqual(m.parameters().map((p) => p.storage), storages);
  });

  it('importStateDict: a file with a NaN weight is refused with its path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'carousel-load-'));
    try {
      const m = gru(), p = join(dir, 'nan.safetensors');
      const entries = [...(await m.readStateDict())].map(([n, t]) => [n, { dtype: 'F32' as const, shape: t.shape, data: Float32Array.from(t.data) }] as const);
      entries[0][1].data[2] = NaN;
      writeFileSync(p, serializeSafetensors(entries.map(([n, t]) => [n, t])));
      assert.throws(() => importStateDict(m, p), (e: Error) => e instanceof ModelFileError &&
        e.message === `${p}: loadStateDict: '${entries[0][0]}': expected finite values, got NaN at index 2 ([1, 0] of [9, 2])`);
      importStateDict(m, p, { allowNonFinite: true });
      assert.ok(Number.isNaN((await values(m.parameter(entries[0][0])))[2]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}, { asyncF32: true });
