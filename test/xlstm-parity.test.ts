import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getBackend, setBackend } from '../src/backend/registry.js';
import type { Backend } from '../src/backend/backend.js';
import { buildParityModel, parityDefaults, runParity } from '../src/tasks/parity.js';

describe('parity task (src/tasks/parity.ts)', () => {
  let prev: Backend;
  before(async () => { prev = getBackend(); await setBackend('reference'); });
  after(async () => { await setBackend(prev.name); });

  it('a small sLSTM stack learns the parity of short strings (far above the 0.5 of guessing)', async () => {
    const r = await runParity({ blocks: 's', dim: 8, heads: 2, steps: 300, trainMax: 10, testMin: 10, testMax: 30, testSamples: 64, batch: 16, lr: 1e-2 });
    assert.ok(r.trainAccuracy >= 0.8, `train accuracy ${r.trainAccuracy}`);
    assert.ok(r.finalLoss < 0.3, `loss ${r.finalLoss}`);
    for (const a of [r.trainAccuracy, r.testAccuracy]) assert.ok(a >= 0 && a <= 1);
  });
  it('layouts: one block per letter, sLSTM at the s positions; bad layouts are rejected', () => {
    const m = buildParityModel({ ...parityDefaults, blocks: 'msm' });
    assert.deepEqual(m.slstmAt, [1]);
    assert.equal(m.blocks.length, 3);
    assert.throws(() => buildParityModel({ ...parityDefaults, blocks: 'mx' }), /--blocks must be letters s \(sLSTM\) and m \(mLSTM\)/);
  });
});
