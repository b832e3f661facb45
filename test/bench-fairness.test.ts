/**
 * The bench compares like with like (issue 11 item 6): headline ratios pair Carousel and a peer at
 * the same thread count and leave out peers that compute something else; a peer whose timed model
 * disagrees with Carousel beyond 1e-4 is dropped, not timed; TF.js's LSTM runs sigmoid gates.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArgs } from '../bench/args.js';
import { checked, maxDiff, MAX_DIFF } from '../bench/check.js';
import { report } from '../bench/report.js';
import { b3Diff, b3Model } from '../bench/suites/tfjs.js';
import type { Result } from '../bench/types.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { Rng } from '../src/tensor/random.js';
import { loadOptional } from '../bench/optional.js';

const row = (lib: string, backend: string, threads: number, value: number, bench = 'B3'): Result =>
  ({ bench, lib, backend, threads, metric: 'time', value, unit: 'ms' });

describe('bench report: ratios', () => {
  const rows: Result[] = [
    row('carousel', 'wasm-relaxed', 1, 10), row('carousel', 'wasm-relaxed', 2, 6),
    row('pytorch', 'cpu/openblas:Haswell', 1, 4), row('pytorch', 'cpu/openblas:Haswell', 2, 3),
    row('pytorch', 'cpu/openblas:Prescott', 2, 2), row('neataptic', 'js', 1, 100), row('tfjs', 'cpu', 1, 50),
    row('pytorch', 'cpu/blas?', 1, 900),
  ];
  const text = report(rows, [], { targets: true });
  const ratios = text.split('\n').filter((l) => l.startsWith('| B3 |'))[1].split('|').map((c) => c.trim());
  const header = text.split('\n').find((l) => l.startsWith('| bench | Carousel best |'))!.split('|').map((c) => c.trim());

  it('pair Carousel at tN with each peer at tN', () => {
    const at = (col: string) => ratios[header.indexOf(col)];
    assert.equal(at('pytorch cpu/openblas:Haswell t1'), '2.50'); // 10 / 4, not Carousel's best (t2) over a t1 peer
    assert.equal(at('pytorch cpu/openblas:Haswell t2'), '2.00'); // 6 / 3
    assert.equal(at('tfjs cpu t1'), '0.200');                    // 10 / 50
    assert.match(ratios[2], /^6\.00 ms \(carousel wasm-relaxed t2\)$/);
  });
  it('leave the classic libraries and PyTorch on OpenBLAS\'s generic kernel out of the ratios, saying so', () => {
    assert.ok(!header.some((h) => /Prescott|neataptic/.test(h)), header.join(' | '));
    assert.match(text, /^Not in the ratios \(times above only\): pytorch cpu\/openblas:Prescott t2 \(OpenBLAS's generic kernel\); neataptic js t1 \(another configuration \(see the notes\)\); pytorch cpu\/blas\? t1 \(no optimised BLAS found\)\.$/m);
    assert.match(text, /^\| bench \| unit \| .*pytorch cpu\/openblas:Prescott t2.*neataptic js t1/m); // still in the times table
  });
  it('report how each configuration scales with threads', () => {
    assert.match(text, /^\| B3 \| carousel wasm-relaxed \| t2 1\.67x \|$/m);
  });
});

describe('bench options: thread counts', () => {
  it('--threads 1,2,4,8,16 is accepted and the peers run at the same counts unless --peer-threads says otherwise', () => {
    const o = parseArgs(['--threads', '1,2,4,8,16']);
    assert.deepEqual(o.threads, [1, 2, 4, 8, 16]);
    assert.deepEqual(o.peerThreads, [1, 2, 4, 8, 16]);
    assert.deepEqual(parseArgs(['--threads', '1,2,4', '--peer-threads', '2']).peerThreads, [2]);
  });
});

describe('bench cross-check: a peer that disagrees is dropped', () => {
  const o = { lib: 'onnxruntime', backend: 'cpu', threads: 2 };
  const timed = async () => [row('onnxruntime', 'cpu', 2, 1)];
  it('within 1e-4: timed, with the difference', async () => {
    const r = await checked(o, 'B3', 5e-5, 'wasm-relaxed t2', timed);
    assert.deepEqual(r.map((x) => x.metric), ['time', 'max_abs_diff_vs_carousel']);
  });
  it('beyond 1e-4, or NaN: not timed, a skipped row with the difference', async () => {
    for (const d of [MAX_DIFF * 1.5, NaN]) {
      let ran = false;
      const r = await checked(o, 'B3', d, 'wasm-relaxed t2', async () => { ran = true; return []; });
      assert.equal(ran, false);
      assert.equal(r[0].metric, 'skipped');
      assert.match(r[0].unit, /^dropped: its output differs from Carousel's \(wasm-relaxed t2\) by (1\.50e-4|NaN) > 0\.0001 on the timed model and inputs$/);
      assert.equal(r[1].metric, 'max_abs_diff_vs_carousel');
    }
    assert.equal(maxDiff([1, NaN], [1, 2]), Infinity);
    assert.equal(maxDiff([1, 2], [1, 2, 3]), Infinity);
  });
});

const tfl = loadOptional('@tensorflow/tfjs');
describe('TF.js B3 model', { skip: !tfl.ok && 'no @tensorflow/tfjs' }, () => {
  it('computes Carousel\'s LSTM (sigmoid gates) on the same weights', async () => {
    assert.ok(tfl.ok);
    const tf = tfl.mod as { setBackend(b: string): Promise<boolean>; ready(): Promise<void> };
    await tf.setBackend('cpu');
    await tf.ready();
    const s = { input: 5, hidden: 8, length: 7, batch: 3 };
    const rng = new Rng(4);
    const x = Float32Array.from({ length: s.batch * s.length * s.input }, () => rng.uniform(-2, 2));
    const d = await b3Diff(tf, b3Model(tf, s), s, new ReferenceBackend(), x);
    assert.ok(d <= 1e-5, `max |tfjs - Carousel| = ${d}`);
  });
});
