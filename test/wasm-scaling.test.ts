import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WasmBackend, wasmSimdSupported } from '../src/backend/wasm/index.js';
import { randArray, rng } from './util/random.js';

/**
 * What keeps the threaded LSTM backward step scaling (issue 11 item 7): the fused step gives each
 * thread a chunk of 4 rows, so a batch of 32 keeps only 8 threads busy; with fewer chunks than
 * threads the step runs as its two threaded calls (the cell backward by rows, the dh GEMM by
 * columns), which give every thread work. Either way the bits are those of one thread.
 */
describe('wasm LSTM backward step on more threads than 4-row chunks', { skip: !wasmSimdSupported() && 'no WebAssembly SIMD' }, () => {
  const made: WasmBackend[] = [];
  after(() => { for (const b of made) b.terminate(); });
  async function backend(threads: number): Promise<WasmBackend> {
    const b = new WasmBackend({ threads });
    b.parallelMinMacs = 0; b.rowParallelMinElements = 0;
    await b.ready();
    made.push(b);
    return b;
  }

  it('8 rows on 4 threads run the cell and the GEMM split separately; on 2 threads fused; same bits as 1 thread', async () => {
    const rows = 8, H = 16, r = rng(7);
    const whh = randArray(r, 4 * H * H, 0.3), gates = randArray(r, rows * 4 * H).map((v) => 0.5 + 0.45 * v);
    const cp = randArray(r, rows * H), c = randArray(r, rows * H), dh0 = randArray(r, rows * H), dc0 = randArray(r, rows * H);
    const results: Float32Array[][] = [];
    for (const [threads, unfused] of [[1, 1], [2, 0], [4, 1]] as const) {
      const w = await backend(threads);
      let cellCalls = 0;
      const cell = w.lstmCellBackward.bind(w);
      w.lstmCellBackward = (...args: Parameters<WasmBackend['lstmCellBackward']>) => { cellCalls++; cell(...args); };
      const p = w.prepareB(false, 4 * H, H, w.upload('f32', whh), 0, H);
      const dh = w.upload('f32', dh0), dc = w.upload('f32', dc0), dg = w.alloc('f32', rows * 4 * H);
      w.lstmStepBackward(rows, H, w.upload('f32', gates), 0, w.upload('f32', cp), 0, w.upload('f32', c), 0, dh, 0, H, dc, 0, dg, 0, p);
      assert.equal(cellCalls, unfused, `${threads} threads: ${unfused ? 'the two calls' : 'the fused step'}`);
      results.push([dh, dc, dg].map((s) => Float32Array.from(w.readSync(s) as Float32Array)));
    }
    for (const [i, name] of ['dh', 'dc', 'dGates'].entries()) {
      assert.deepEqual(results[1][i], results[0][i], `${name}, 2 threads`);
      assert.deepEqual(results[2][i], results[0][i], `${name}, 4 threads`);
    }
  });
});
