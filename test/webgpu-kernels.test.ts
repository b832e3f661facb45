import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kernels, LstmCellOptions, Storage } from '../src/backend/backend.js';
import { lstmCellLayout } from '../src/backend/lstm-cell.js';
import { kernelListing, kernels } from '../src/ops/kernels.js';
import { reference, webgpuForSuite } from './backends.js';
import { assertMatches } from './util/assert.js';
import { randArray as randArrayOf, rng } from './util/random.js';

/**
 * The kernel sets webgpu runs natively in WGSL, against the reference backend's kernels (the
 * oracle): every LstmCellOptions variant forward and backward, the fused LSTM steps, GRU,
 * softmax / logSoftmax, Adam / AdamW / AMSGrad, flushSubnormal, anyNonFinite, copy2d, linear2.
 */
const gpu = webgpuForSuite();
const rand = rng(77);
const randArray = (n: number, scale = 1) => randArrayOf(rand, n, scale);
const ref: Kernels = kernels(reference);

const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 1e-5, atol = 1e-6) => assertMatches(got, want, what, rtol, atol);

/** Run `fn` on both backends' kernels and compare the storages it returns. */
async function same(k: Kernels, what: string, fn: (k: Kernels) => Storage[], rtol?: number, atol?: number): Promise<void> {
  const got = fn(k), want = fn(ref);
  for (let i = 0; i < got.length; i++) close(await k.read(got[i]), await ref.read(want[i]), `${what} #${i}`, rtol, atol);
}

const std = { inputGate: true, forgetGate: 'gate', outputGate: true, inputActivation: true, outputActivation: true, peepholes: null, peepOff: 0, gateRecurrence: false } as const;
/** Every option of the fused cell, alone and in the combinations the Greff variants use. */
const VARIANTS: [string, Omit<LstmCellOptions, 'peepholes'> & { peep: boolean }][] = [
  ['peepholes', { ...std, peep: true }],
  ['NIG', { ...std, inputGate: false, peep: false }],
  ['NFG', { ...std, forgetGate: 'none', peep: false }],
  ['CIFG + peepholes', { ...std, forgetGate: 'coupled', peep: true }],
  ['NOG', { ...std, outputGate: false, peep: false }],
  ['NIAF', { ...std, inputActivation: false, peep: false }],
  ['NOAF + peepholes', { ...std, outputActivation: false, peep: true }],
  ['FGR', { ...std, gateRecurrence: true, peep: false }],
  ['FGR + peepholes + CIFG', { ...std, forgetGate: 'coupled', gateRecurrence: true, peep: true }],
];

describe('webgpu native kernel sets against the reference', { skip: gpu.skip }, () => {
  const g = gpu.backend!;
  const k = kernels(g);

  it('runs copy, optim, check, softmax, lstm, gru and packing natively', () => {
    const native = new Set(kernelListing(g).filter((r) => r.runs === 'native').map((r) => r.set));
    for (const set of ['copy', 'optim', 'check', 'softmax', 'lstm', 'gru', 'packing']) assert.ok(native.has(set as never), `${set} native`);
  });

  it('lstmCellForward / lstmCellBackward, standard cell: offsets, row strides, c updated in place', async () => {
    const rows = 3, H = 5, ldh = 7;
    const G = randArray(2 + rows * 4 * H, 2), C = randArray(rows * H + 1), dH = randArray(rows * ldh), dC = randArray(rows * H);
    await same(k, 'lstm standard', (b) => {
      const gates = b.upload('f32', G), cp = b.upload('f32', C), c = b.alloc('f32', rows * H + 1), h = b.alloc('f32', rows * ldh);
      b.lstmCellForward(rows, H, gates, 2, cp, 1, c, 1, h, 0, ldh);
      const dh = b.upload('f32', dH), dc = b.upload('f32', dC), dg = b.alloc('f32', rows * 4 * H + 3);
      b.lstmCellBackward(rows, H, gates, 2, cp, 1, c, 1, dh, 0, ldh, dc, 0, dg, 3);
      const inPlace = b.upload('f32', C);
      b.lstmCellForward(rows, H, b.upload('f32', G), 2, inPlace, 1, inPlace, 1, b.alloc('f32', rows * ldh), 0, ldh);
      return [gates, c, h, dc, dg, inPlace];
    });
  });

  for (const [name, v] of VARIANTS) {
    it(`lstmCellForward / lstmCellBackward, ${name}`, async () => {
      const rows = 2, H = 4, ldh = 5;
      const Gn = lstmCellLayout({ ...v, peepholes: null }).G;
      const Gt = randArray(rows * Gn * H, 2), C = randArray(rows * H), P = randArray(3 + 3 * H), dH = randArray(rows * ldh), dC = randArray(rows * H);
      const dGin = randArray(rows * Gn * H);
      await same(k, `lstm ${name}`, (b) => {
        const cell: LstmCellOptions = { ...v, peepholes: v.peep ? b.upload('f32', P) : null, peepOff: v.peep ? 3 : 0 };
        const gates = b.upload('f32', Gt), cp = b.upload('f32', C), c = b.alloc('f32', rows * H), h = b.alloc('f32', rows * ldh);
        b.lstmCellForward(rows, H, gates, 0, cp, 0, c, 0, h, 0, ldh, cell);
        const dh = b.upload('f32', dH), dc = b.upload('f32', dC), dg = b.upload('f32', dGin);
        b.lstmCellBackward(rows, H, gates, 0, cp, 0, c, 0, dh, 0, ldh, dc, 0, dg, 0, cell);
        return [gates, c, h, dc, dg];
      });
    });
  }

  it('lstmStep / lstmStepBackward with a prepared W_hh', async () => {
    const rows = 3, H = 6, K = 6, ldh = 8;
    const W = randArray(4 * H * K, 0.5), hIn = randArray(rows * ldh), Gx = randArray(rows * 4 * H), C = randArray(rows * H), dH = randArray(rows * ldh);
    await same(k, 'lstmStep', (b) => {
      const w = b.upload('f32', W), x = b.upload('f32', hIn), gates = b.upload('f32', Gx), cp = b.upload('f32', C);
      const c = b.alloc('f32', rows * H), h = b.alloc('f32', rows * ldh);
      const pf = b.prepareB(true, K, 4 * H, w, 0, K, rows);
      b.lstmStep(rows, H, x, 0, ldh, pf, gates, 0, cp, 0, c, 0, h, 0, ldh);
      const pb = b.prepareB(false, 4 * H, H, w, 0, H, rows);
      const dh = b.upload('f32', dH), dc = b.alloc('f32', rows * H), dg = b.alloc('f32', rows * 4 * H);
      b.lstmStepBackward(rows, H, gates, 0, cp, 0, c, 0, dh, 0, ldh, dc, 0, dg, 0, pb);
      b.releasePrepared(pf); b.releasePrepared(pb);
      return [gates, c, h, dh, dc, dg];
    }, 2e-5, 2e-6);
  });

  it('gruCellForward / gruCellBackward, with and without b_hh', async () => {
    const rows = 3, H = 5, ldhp = 6, ldh = 7;
    const GX = randArray(rows * 3 * H, 2), GH = randArray(rows * 3 * H, 2), B = randArray(3 * H), HP = randArray(rows * ldhp), DH = randArray(rows * ldh);
    for (const withBias of [true, false]) {
      await same(k, `gru bias ${withBias}`, (b) => {
        const gx = b.upload('f32', GX), gh = b.upload('f32', GH), hp = b.upload('f32', HP), h = b.alloc('f32', rows * ldh);
        b.gruCellForward(rows, H, gx, 0, gh, 0, withBias ? b.upload('f32', B) : null, hp, 0, ldhp, h, 0, ldh);
        const dh = b.upload('f32', DH), dgx = b.alloc('f32', rows * 3 * H), dgh = b.alloc('f32', rows * 3 * H), dhp = b.alloc('f32', rows * H);
        b.gruCellBackward(rows, H, gx, 0, gh, 0, hp, 0, ldhp, dh, 0, ldh, dgx, 0, dgh, 0, dhp, 0);
        return [gx, gh, h, dgx, dgh, dhp];
      });
    }
  });

  it('softmax and logSoftmax, forward and backward (accumulating), wide rows and a row of -inf', async () => {
    for (const [rows, cols] of [[3, 7], [2, 300], [1, 1]]) {
      const X = randArray(rows * cols, 5), DY = randArray(rows * cols), DX = randArray(rows * cols);
      if (rows === 3) for (let j = 0; j < cols; j++) X[cols + j] = -Infinity;
      for (const log of [false, true]) {
        await same(k, `softmax ${rows}x${cols} log ${log}`, (b) => {
          const x = b.upload('f32', X), y = b.alloc('f32', rows * cols);
          b.softmax(x, y, rows, cols, log);
          const yf = b.upload('f32', X.map((v) => (Number.isFinite(v) ? v : 0)));
          b.softmax(yf, yf, rows, cols, log); // a finite copy, in place, for the backward
          const dx = b.upload('f32', DX), dx2 = b.alloc('f32', rows * cols);
          b.softmaxBackward(yf, b.upload('f32', DY), dx, rows, cols, log, true);
          b.softmaxBackward(yf, b.upload('f32', DY), dx2, rows, cols, log, false);
          return [y, yf, dx, dx2];
        }, 2e-5, 2e-6);
      }
    }
  });

  it('adamStep (Adam, AdamW, AMSGrad) over several steps, flushSubnormal, anyNonFinite', async () => {
    const n = 50, P = randArray(n), grads = [randArray(n), randArray(n), randArray(n, 1e-3)];
    for (const [decoupled, amsgrad, wd] of [[false, false, 0], [true, false, 0.01], [false, true, 0.1], [true, true, 0]] as const) {
      await same(k, `adam decoupled ${decoupled} amsgrad ${amsgrad}`, (b) => {
        const p = b.upload('f32', P), m = b.alloc('f32', n), v = b.alloc('f32', n), vmax = amsgrad ? b.alloc('f32', n) : null;
        grads.forEach((gr, t) => b.adamStep(p, b.upload('f32', gr), m, v, vmax, n, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled, t + 1));
        return vmax ? [p, m, v, vmax] : [p, m, v];
      }, 2e-5, 1e-7);
    }
    const tiny = [1e-39, -1e-40, 1.5e-38, 0, -2, 3e-45];
    const fl = g.upload('f32', tiny);
    k.flushSubnormal(fl, tiny.length);
    assert.deepEqual([...await g.read(fl)], [0, 0, Math.fround(1.5e-38), 0, -2, 0]);
    const flag = g.alloc('f32', 3);
    const x = g.upload('f32', [...new Array(200).fill(1), NaN, 1, Infinity]);
    k.anyNonFinite(x, 0, 200, flag, 0);   // all finite
    k.anyNonFinite(x, 150, 51, flag, 1);  // ends on the NaN
    k.anyNonFinite(x, 201, 2, flag, 2);   // an infinity
    assert.deepEqual([...await g.read(flag)], [0, 1, 1]);
  });

  it('copy2d (accumulating) and linear2 (one or two products, biases or none)', async () => {
    const S = randArray(40), D = randArray(60);
    await same(k, 'copy2d', (b) => {
      const s = b.upload('f32', S), d = b.upload('f32', D), d2 = b.upload('f32', D);
      b.copy2d(4, 5, s, 3, 9, d, 2, 12, false);
      b.copy2d(4, 5, s, 3, 9, d2, 2, 12, true);
      return [d, d2];
    });
    const m = 3, n = 8, k1 = 5, k2 = 4;
    const X1 = randArray(m * 6), W1 = randArray(n * k1), X2 = randArray(m * k2 + 1), W2 = randArray(n * k2), B1 = randArray(n), B2 = randArray(n), O = randArray(m * 10);
    for (const [two, bias] of [[true, true], [false, false], [true, false]]) {
      await same(k, `linear2 two ${two} bias ${bias}`, (b) => {
        const out = b.upload('f32', O);
        b.linear2(m, n, k1, b.upload('f32', X1), 1, 6, b.upload('f32', W1), two ? k2 : 0, two ? b.upload('f32', X2) : null, 1, k2,
          two ? b.upload('f32', W2) : null, bias ? b.upload('f32', B1) : null, bias ? b.upload('f32', B2) : null, out, 2, 10);
        return [out];
      }, 1e-5, 1e-6);
    }
  });
});
