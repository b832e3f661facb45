// One attention step (src/seq2seq/attention.ts) against PyTorch 1.13: forward and backward, both
// kinds, with per-sequence lengths whose padded keys hold random values the mask must ignore.
// Fixtures: scripts/fixtures/seq2seq_attention.py.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { backward } from '../src/autograd/tape.js';
import { getBackend } from '../src/backend/registry.js';
import { add, mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';
import { Attention } from '../src/seq2seq/attention.js';
import { Tensor } from '../src/tensor/tensor.js';
import { assertMatches } from './util/assert.js';
import { F64 } from './util/gradcheck.js';

interface Flat { shape: number[]; data: number[] }
interface Fixture {
  kind: 'general' | 'additive'; lengths: number[]; attnSize: number; query: Flat; keys: Flat; params: Record<string, Flat>;
  wc: Flat; ww: Flat; context: Flat; weights: Flat; loss: number; grad: Record<string, Flat>;
}

const load = (kind: string): Fixture => JSON.parse(readFileSync(new URL(`../../test/data/seq2seq/attention_${kind}.json`, import.meta.url), 'utf8'));

for (const kind of ['general', 'additive'] as const) {
  describe(`attention step (${kind}) against PyTorch`, () => {
    const f = load(kind);
    const [B, S, K] = f.keys.shape, Q = f.query.shape[1];
    for (const [label, o, rtol, atol] of [['f64 reference', F64, 1e-10, 1e-12], ['f32 default backend', { backend: getBackend(), dtype: 'f32' as const }, 1e-4, 1e-5]] as const) {
      it(`context, weights and every gradient match (${label})`, () => {
        const att = new Attention({ kind, querySize: Q, keySize: K, attnSize: f.attnSize }, o);
        att.loadStateDict(new Map(Object.entries(f.params)));
        const leaf = (x: Flat, grad = true) => { const t = new Tensor(o.backend.upload(o.dtype, x.data), x.shape); t.requiresGrad = grad; return t; };
        const q = leaf(f.query), keys = leaf(f.keys);
        const mem = att.prepare(keys, f.lengths);
        const r = att.step(q, mem);
        assert.deepEqual(r.context.shape, [B, K]);
        assert.deepEqual(r.weights.shape, [B, S]);
        assertMatches(r.context.dataSync(), f.context.data, 'context', rtol, atol);
        assertMatches(r.weights.dataSync(), f.weights.data, 'weights', rtol, atol);
        // Past each length the weight is exactly 0.
        const w = r.weights.dataSync();
        f.lengths.forEach((n, b) => { for (let s = n; s < S; s++) assert.equal(w[b * S + s], 0, `weight of padded position ${s} of sequence ${b}`); });
        const loss = add(sum(mul(r.context, leaf(f.wc, false))), sum(mul(r.weights, leaf(f.ww, false))));
        assertMatches([loss.item()], [f.loss], 'loss', rtol, atol);
        backward(loss);
        assertMatches(q.grad!.dataSync(), f.grad.query.data, 'd query', rtol, atol);
        assertMatches(keys.grad!.dataSync(), f.grad.keys.data, 'd keys', rtol, atol);
        for (const [name, p] of att.namedParameters()) assertMatches(p.grad!.dataSync(), f.grad[name].data, `d ${name}`, rtol, atol);
      });
    }
  });
}
