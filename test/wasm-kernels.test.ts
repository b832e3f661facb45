import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BinaryOp, Storage, UnaryOp } from '../src/backend/backend.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { setWasmThreads, WasmBackend, WasmStorage } from '../src/backend/wasm/index.js';
import type { DType } from '../src/backend/dtype.js';
import { kernels } from '../src/ops/kernels.js';
import { assertMatches } from './util/assert.js';
import { randArray as randArrayOf, rng } from './util/random.js';

/**
 * Every kernel the wasm backend overrides, against the reference backend (the oracle) on random
 * shapes: odd sizes, all transposes, offsets, leading dimensions larger than the row, beta
 * 0 / 1 / other, on 1 and 2 threads (with the parallel thresholds at 0 so small calls split too).
 */
const rand = rng(12345);
const randArray = (n: number, scale = 1) => randArrayOf(rand, n, scale);
const ref = kernels(new ReferenceBackend()); // the oracle, with the composed fused steps it does not define

/** Same data on both backends. */
function pair(w: WasmBackend, data: ArrayLike<number>, dtype: DType = 'f32'): [Storage, Storage] {
  return [w.upload(dtype, data), ref.upload(dtype, data)];
}
const close = (got: ArrayLike<number>, want: ArrayLike<number>, what: string, rtol = 2e-6, atol = 1e-6) => assertMatches(got, want, what, rtol, atol);

const backends: { name: string; w: WasmBackend }[] = [];
before(async () => {
  const w1 = new WasmBackend({ threads: 1 });
  const w2 = new WasmBackend({ threads: 2 });
  w2.parallelMinMacs = 0; w2.ctcParallelMinCells = 0; w2.rowParallelMinElements = 0; w2.linear2ParallelMinMacs = 0;
  await w1.ready(); await w2.ready();
  backends.push({ name: '1 thread', w: w1 }, { name: '2 threads', w: w2 });
});
after(() => { for (const b of backends) b.w.terminate(); });

describe('wasm backend: gemm matches the reference', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [1, 7, 5], [2, 33, 17], [3, 64, 64], [4, 8, 256], [5, 9, 300], [17, 31, 13], [33, 65, 257],
    [64, 40, 1], [130, 70, 90], [1, 1024, 64], [2, 300, 100], [200, 3, 600],
  ];
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) for (const transB of [false, true]) {
      it(`m=${m} n=${n} k=${k} transA=${transA} transB=${transB}`, () => {
        for (const { name, w } of backends) {
          for (const [beta, alpha] of [[0, 1], [1, 0.5], [-0.7, 1.3]]) {
            const lda = (transA ? m : k) + (m % 3), ldb = (transB ? k : n) + 2, ldc = n + (k % 4);
            const aOff = 3, bOff = 1, cOff = 5;
            const aRows = transA ? k : m, bRows = transB ? n : k;
            const A = randArray(aOff + aRows * lda), B = randArray(bOff + bRows * ldb), C = randArray(cOff + m * ldc + 2);
            if (beta === 0) C.fill(NaN, cOff); // beta 0 must not read C (BLAS semantics)
            const [wa, ra] = pair(w, A), [wb, rb] = pair(w, B), [wc, rc] = pair(w, C);
            w.gemm(transA, transB, m, n, k, alpha, wa, aOff, lda, wb, bOff, ldb, beta, wc, cOff, ldc);
            ref.gemm(transA, transB, m, n, k, alpha, ra, aOff, lda, rb, bOff, ldb, beta, rc, cOff, ldc);
            const got = w.readSync(wc), want = ref.readSync!(rc);
            // between rows (ldc > n) C is left alone; NaN there compares as NaN
            close(got, want, `gemm ${name} beta=${beta}`, 1e-5, 2e-6 * Math.sqrt(k + 1));
          }
        }
      });
    }
  }
  it('rejects a matrix that does not fit its storage', () => {
    const w = backends[0].w;
    const a = w.alloc('f32', 10), b = w.alloc('f32', 10), c = w.alloc('f32', 10);
    assert.throws(() => w.gemm(false, false, 4, 4, 4, 1, a, 0, 4, b, 0, 4, 0, c, 0, 4), /gemm A: expected a \[4, 4\] matrix/);
    assert.throws(() => w.gemm(false, false, 2, 2, 2, 1, a, 0, 1, b, 0, 2, 0, c, 0, 2), /leading dimension 1 \(>= 2\)/);
  });
});

describe('wasm backend: prepared (prepacked) B matches the reference gemm', () => {
  // k past one KC block (256), n not a multiple of the 8-wide panels, m below and above the 4-row tile
  const shapes: [number, number, number][] = [[1, 40, 30], [3, 17, 5], [4, 8, 256], [5, 33, 300], [32, 1024, 256], [33, 260, 600], [7, 1, 9]];
  for (const [m, n, k] of shapes) {
    for (const transB of [false, true]) {
      it(`m=${m} n=${n} k=${k} transB=${transB}`, () => {
        for (const { name, w } of backends) {
          const lda = k + 1, ldb = (transB ? k : n) + 3, ldc = n + 2, aOff = 2, bOff = 3, cOff = 1;
          const B = randArray(bOff + (transB ? n : k) * ldb);
          const [wb, rb] = pair(w, B);
          const pw = w.prepareB(transB, k, n, wb, bOff, ldb), pr = ref.prepareB(transB, k, n, rb, bOff, ldb);
          for (const [beta, alpha] of [[0, 1], [1, 0.5], [-0.7, 1.3]]) {
            const A = randArray(aOff + m * lda), C = randArray(cOff + m * ldc);
            if (beta === 0) C.fill(NaN, cOff);
            const [wa, ra] = pair(w, A), [wc, rc] = pair(w, C);
            w.gemmPrepared(m, alpha, wa, aOff, lda, pw, beta, wc, cOff, ldc);
            ref.gemmPrepared(m, alpha, ra, aOff, lda, pr, beta, rc, cOff, ldc);
            close(w.readSync(wc), ref.readSync!(rc), `gemmPrepared ${name} beta=${beta}`, 1e-5, 2e-6 * Math.sqrt(k + 1));
          }
          w.releasePrepared(pw); ref.releasePrepared(pr);
          w.releasePrepared(pw); // twice is harmless
        }
      });
    }
  }
  it('rejects a B that does not fit its storage', () => {
    const w = backends[0].w;
    assert.throws(() => w.prepareB(false, 4, 4, w.alloc('f32', 10), 0, 4), /prepareB: expected a \[4, 4\] matrix/);
  });
});

describe('wasm backend: the fused LSTM step (recurrent GEMM + cell, threaded by hidden units) matches the reference', () => {
  for (const [rows, H, K] of [[4, 16, 16], [5, 24, 40], [32, 64, 300], [3, 16, 8], [6, 20, 16]] as const) {
    it(`rows=${rows} H=${H} K=${K}`, () => {
      for (const { name, w } of backends) {
        const hOff = 1, ldhIn = K + 2, gOff = 3, cpOff = 2, cOff = 4, oOff = 5, ldh = H + 3;
        const [whh, rwhh] = pair(w, randArray(4 * H * K, 0.3));
        const pw = w.prepareB(true, K, 4 * H, whh, 0, K), pr = ref.prepareB(true, K, 4 * H, rwhh, 0, K);
        const [wh, rh] = pair(w, randArray(hOff + rows * ldhIn)), [wg, rg] = pair(w, randArray(gOff + rows * 4 * H, 2));
        const [wcp, rcp] = pair(w, randArray(cpOff + rows * H)), [wc, rc] = pair(w, randArray(cOff + rows * H));
        const [wo, ro] = pair(w, randArray(oOff + rows * ldh));
        w.lstmStep(rows, H, wh, hOff, ldhIn, pw, wg, gOff, wcp, cpOff, wc, cOff, wo, oOff, ldh);
        ref.lstmStep(rows, H, rh, hOff, ldhIn, pr, rg, gOff, rcp, cpOff, rc, cOff, ro, oOff, ldh);
        close(w.readSync(wg), ref.readSync!(rg), `${name} gates`, 1e-5, 1e-6 * Math.sqrt(K));
        close(w.readSync(wc), ref.readSync!(rc), `${name} c`, 1e-5, 1e-6 * Math.sqrt(K));
        close(w.readSync(wo), ref.readSync!(ro), `${name} h`, 1e-5, 1e-6 * Math.sqrt(K));
        // c updated in place (inference): cOut is cPrev
        const [wc2, rc2] = pair(w, randArray(rows * H));
        w.lstmStep(rows, H, wh, hOff, ldhIn, pw, wg, gOff, wc2, 0, wc2, 0, wo, oOff, ldh);
        ref.lstmStep(rows, H, rh, hOff, ldhIn, pr, rg, gOff, rc2, 0, rc2, 0, ro, oOff, ldh);
        close(w.readSync(wc2), ref.readSync!(rc2), `${name} c in place`, 1e-5, 1e-6 * Math.sqrt(K));
        w.releasePrepared(pw); ref.releasePrepared(pr);
      }
    });
  }
});

describe('wasm backend: anyNonFinite matches the reference', () => {
  it('flags a NaN / infinity at every position class, and only then', () => {
    const w = backends[0].w;
    for (const n of [0, 1, 5, 16, 17, 100]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        for (const at of [-1, 0, n - 1, Math.floor(n / 2)]) {
          if (at >= n) continue;
          const a = randArray(n, 1e30); // large but finite
          if (at >= 0) { a[at] = bad; if (at + 3 < n) a[at + 3] = NaN; }
          const [ws, rs] = pair(w, a);
          const fw = w.alloc('f32', 2), fr = ref.alloc('f32', 2);
          w.anyNonFinite(ws, 0, n, fw, 1); ref.anyNonFinite(rs, 0, n, fr, 1);
          assert.equal(w.readSync(fw)[1], ref.readSync!(fr)[1], `n=${n} bad=${bad} at=${at}`);
          assert.equal(w.readSync(fw)[1], at >= 0 ? 1 : 0, `n=${n} bad=${bad} at=${at}`);
        }
      }
    }
  });
});

describe('wasm backend: flushSubnormal matches the reference', () => {
  it('zeroes subnormals of both signs, keeps normals, zeros, infinities and NaN', () => {
    const w = backends[0].w;
    const a = [1e-39, -1e-39, 1.2e-38, -1.2e-38, 0, -0, 1, NaN, Infinity, -Infinity, 1e-45, 3e-38, -5e-39];
    const [ws, rs] = pair(w, a);
    w.flushSubnormal(ws, a.length); ref.flushSubnormal(rs, a.length);
    const got = Array.from(w.readSync(ws)), want = Array.from(ref.readSync!(rs));
    assert.deepEqual(got.map(String), want.map(String));
    assert.deepEqual(got.map((v) => v === 0), [true, true, false, false, true, true, false, false, false, false, true, false, true]);
    assert.ok(Number.isNaN(got[7]));
  });
});

describe('wasm backend: the fused Adam step matches the reference', () => {
  for (const [amsgrad, decoupled, wd] of [[false, false, 0], [false, false, 0.1], [true, true, 0.01], [true, false, 0]] as const) {
    it(`amsgrad=${amsgrad} decoupled=${decoupled} weightDecay=${wd}, 3 steps, subnormal moments flushed`, () => {
      const w = backends[0].w, n = 37;
      const P = randArray(n), M = randArray(n, 0.1), V = randArray(n, 0.1).map(Math.abs), X = randArray(n, 0.1).map(Math.abs);
      M[3] = 1e-39; V[4] = 1e-39; M[5] = -2e-39; // subnormal state (b1 m stays subnormal where g = 0)
      const [wp, rp] = pair(w, P), [wm, rm] = pair(w, M), [wv, rv] = pair(w, V), [wx, rx] = pair(w, X);
      for (let step = 1; step <= 3; step++) {
        const G = randArray(n);
        G[3] = 0; G[4] = 0; G[5] = 0;
        const [wg, rg] = pair(w, G);
        w.adamStep(wp, wg, wm, wv, amsgrad ? wx : null, n, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled, step);
        ref.adamStep(rp, rg, rm, rv, amsgrad ? rx : null, n, 1e-2, 0.9, 0.999, 1e-8, wd, decoupled, step);
        close(w.readSync(wp), ref.readSync!(rp), `p step ${step}`, 1e-5, 1e-6);
        close(w.readSync(wm), ref.readSync!(rm), `m step ${step}`, 1e-5, 1e-8);
        close(w.readSync(wv), ref.readSync!(rv), `v step ${step}`, 1e-5, 1e-8);
        if (amsgrad) close(w.readSync(wx), ref.readSync!(rx), `vmax step ${step}`, 1e-5, 1e-8);
        if (decoupled || wd === 0) { // (coupled decay makes g' = wd p nonzero there)
          for (const k of [3, 5]) assert.equal(w.readSync(wm)[k], 0, `subnormal m[${k}] flushed`);
          assert.equal(w.readSync(wv)[4], 0, 'subnormal v flushed');
        }
      }
    });
  }
});

describe('wasm backend: the fused LSTM backward step (cell backward + dh GEMM, threaded by rows) matches the reference', () => {
  for (const [rows, H] of [[8, 8], [9, 16], [13, 24], [32, 64], [5, 16]] as const) {
    it(`rows=${rows} H=${H}`, () => {
      for (const { name, w } of backends) {
        const gOff = 2, cpOff = 1, cOff = 3, dhOff = 4, ldh = H + 3, dcOff = 2, dgOff = 1;
        const [wwh, rwh] = pair(w, randArray(4 * H * H, 0.3));
        const pw = w.prepareB(false, 4 * H, H, wwh, 0, H), pr = ref.prepareB(false, 4 * H, H, rwh, 0, H);
        const gates = randArray(gOff + rows * 4 * H).map((v) => 0.5 + 0.45 * v); // activations in (0, 1)
        const [wg, rg] = pair(w, gates), [wcp, rcp] = pair(w, randArray(cpOff + rows * H)), [wc, rc] = pair(w, randArray(cOff + rows * H));
        const [wdh, rdh] = pair(w, randArray(dhOff + rows * ldh)), [wdc, rdc] = pair(w, randArray(dcOff + rows * H));
        const [wdg, rdg] = pair(w, randArray(dgOff + rows * 4 * H));
        w.lstmStepBackward(rows, H, wg, gOff, wcp, cpOff, wc, cOff, wdh, dhOff, ldh, wdc, dcOff, wdg, dgOff, pw);
        ref.lstmStepBackward(rows, H, rg, gOff, rcp, cpOff, rc, cOff, rdh, dhOff, ldh, rdc, dcOff, rdg, dgOff, pr);
        close(w.readSync(wdg), ref.readSync!(rdg), `${name} dGates`, 1e-5, 1e-6);
        close(w.readSync(wdc), ref.readSync!(rdc), `${name} dc`, 1e-5, 1e-6);
        close(w.readSync(wdh), ref.readSync!(rdh), `${name} dh`, 1e-5, 1e-6 * Math.sqrt(4 * H));
        w.releasePrepared(pw);
      }
    });
  }
});

describe('wasm backend: linear2 (a streaming step\'s x W1^T + h W2^T + biases) matches the reference', () => {
  // n past and below the 8-row blocks, k not a multiple of 4, with and without the second pair and biases
  const shapes: [number, number, number, number][] = [[1, 1024, 64, 256], [1, 13, 5, 7], [2, 40, 3, 0], [3, 24, 17, 9], [1, 8, 4, 4]];
  for (const [m, n, k1, k2] of shapes) {
    for (const biases of [0, 1, 2]) {
      it(`m=${m} n=${n} k1=${k1} k2=${k2} biases=${biases}`, () => {
        for (const { name, w } of backends) {
          const ldx1 = k1 + 2, ldx2 = k2 + 1, ldo = n + 3, x1Off = 1, x2Off = 2, oOff = 3;
          const [wx1, rx1] = pair(w, randArray(x1Off + m * ldx1)), [ww1, rw1] = pair(w, randArray(n * k1));
          const [wx2, rx2] = pair(w, randArray(x2Off + m * ldx2 + 1)), [ww2, rw2] = pair(w, randArray(n * k2 + 1));
          const [wb1, rb1] = pair(w, randArray(n)), [wb2, rb2] = pair(w, randArray(n));
          const O = randArray(oOff + m * ldo);
          const [wo, ro] = pair(w, O);
          const b1 = biases >= 1, b2 = biases >= 2;
          w.linear2(m, n, k1, wx1, x1Off, ldx1, ww1, k2, k2 ? wx2 : null, x2Off, ldx2, k2 ? ww2 : null, b1 ? wb1 : null, b2 ? wb2 : null, wo, oOff, ldo);
          ref.linear2(m, n, k1, rx1, x1Off, ldx1, rw1, k2, k2 ? rx2 : null, x2Off, ldx2, k2 ? rw2 : null, b1 ? rb1 : null, b2 ? rb2 : null, ro, oOff, ldo);
          close(w.readSync(wo), ref.readSync!(ro), `linear2 ${name}`, 1e-5, 2e-6 * Math.sqrt(k1 + k2 + 1));
        }
      });
    }
  }
  it('rejects a W that does not fit its storage', () => {
    const w = backends[0].w;
    assert.throws(() => w.linear2(1, 8, 4, w.alloc('f32', 4), 0, 4, w.alloc('f32', 31), 0, null, 0, 0, null, null, null, w.alloc('f32', 8), 0, 8),
      /linear2 W1: expected 32 elements/);
  });
});

describe('wasm backend: fused recurrent cells match the reference', () => {
  for (const [rows, H] of [[1, 1], [1, 7], [2, 16], [3, 33], [5, 64]] as const) {
    it(`LSTM forward and backward, rows=${rows} H=${H}`, () => {
      for (const { name, w } of backends) {
        const gOff = 2, cpOff = 1, cOff = 3, hOff = 4, ldh = H + 3;
        const gates = randArray(gOff + rows * 4 * H, 4), cPrev = randArray(cpOff + rows * H, 2);
        const [wg, rg] = pair(w, gates), [wcp, rcp] = pair(w, cPrev);
        const [wc, rc] = pair(w, new Float32Array(cOff + rows * H)), [wh, rh] = pair(w, randArray(hOff + rows * ldh));
        w.lstmCellForward(rows, H, wg, gOff, wcp, cpOff, wc, cOff, wh, hOff, ldh);
        ref.lstmCellForward(rows, H, rg, gOff, rcp, cpOff, rc, cOff, rh, hOff, ldh);
        close(w.readSync(wg), ref.readSync!(rg), `${name} gates`);
        close(w.readSync(wc), ref.readSync!(rc), `${name} c`);
        close(w.readSync(wh), ref.readSync!(rh), `${name} h`);
        const dhOff = 1, dcOff = 2, dgOff = 3;
        const [wdh, rdh] = pair(w, randArray(dhOff + rows * ldh)), [wdc, rdc] = pair(w, randArray(dcOff + rows * H));
        const [wdg, rdg] = pair(w, randArray(dgOff + rows * 4 * H));
        w.lstmCellBackward(rows, H, wg, gOff, wcp, cpOff, wc, cOff, wdh, dhOff, ldh, wdc, dcOff, wdg, dgOff);
        ref.lstmCellBackward(rows, H, rg, gOff, rcp, cpOff, rc, cOff, rdh, dhOff, ldh, rdc, dcOff, rdg, dgOff);
        close(w.readSync(wdc), ref.readSync!(rdc), `${name} dc`, 1e-5, 1e-6);
        close(w.readSync(wdg), ref.readSync!(rdg), `${name} dGates`, 1e-5, 1e-6);
      }
    });
    for (const withBias of [true, false]) {
      it(`GRU forward and backward, rows=${rows} H=${H} b_hh=${withBias}`, () => {
        for (const { name, w } of backends) {
          const gxOff = 1, ghOff = 2, hpOff = 3, ldhp = H + 1, hOff = 2, ldh = H + 2;
          const [wgx, rgx] = pair(w, randArray(gxOff + rows * 3 * H, 3)), [wgh, rgh] = pair(w, randArray(ghOff + rows * 3 * H, 3));
          const [wb, rb] = pair(w, randArray(3 * H)), [whp, rhp] = pair(w, randArray(hpOff + rows * ldhp));
          const [who, rho] = pair(w, randArray(hOff + rows * ldh));
          w.gruCellForward(rows, H, wgx, gxOff, wgh, ghOff, withBias ? wb : null, whp, hpOff, ldhp, who, hOff, ldh);
          ref.gruCellForward(rows, H, rgx, gxOff, rgh, ghOff, withBias ? rb : null, rhp, hpOff, ldhp, rho, hOff, ldh);
          close(w.readSync(wgx), ref.readSync!(rgx), `${name} gx`);
          close(w.readSync(wgh), ref.readSync!(rgh), `${name} gh`);
          close(w.readSync(who), ref.readSync!(rho), `${name} h`);
          const dhOff = 1, dgxOff = 2, dghOff = 3, dhpOff = 1;
          const [wdh, rdh] = pair(w, randArray(dhOff + rows * ldh)), [wdgx, rdgx] = pair(w, randArray(dgxOff + rows * 3 * H));
          const [wdgh, rdgh] = pair(w, randArray(dghOff + rows * 3 * H)), [wdhp, rdhp] = pair(w, randArray(dhpOff + rows * H));
          w.gruCellBackward(rows, H, wgx, gxOff, wgh, ghOff, whp, hpOff, ldhp, wdh, dhOff, ldh, wdgx, dgxOff, wdgh, dghOff, wdhp, dhpOff);
          ref.gruCellBackward(rows, H, rgx, gxOff, rgh, ghOff, rhp, hpOff, ldhp, rdh, dhOff, ldh, rdgx, dgxOff, rdgh, dghOff, rdhp, dhpOff);
          close(w.readSync(wdgx), ref.readSync!(rdgx), `${name} dGx`, 1e-5, 1e-6);
          close(w.readSync(wdgh), ref.readSync!(rdgh), `${name} dGh`, 1e-5, 1e-6);
          close(w.readSync(wdhp), ref.readSync!(rdhp), `${name} dhPrev`, 1e-5, 1e-6);
        }
      });
    }
  }
});

describe('wasm backend: CTC matches the reference', () => {
  function logSoftmaxRows(x: Float32Array, C: number): Float32Array {
    const out = new Float32Array(x.length);
    for (let r = 0; r < x.length / C; r++) {
      let mx = -Infinity; for (let c = 0; c < C; c++) mx = Math.max(mx, x[r * C + c]);
      let s = 0; for (let c = 0; c < C; c++) s += Math.exp(x[r * C + c] - mx);
      for (let c = 0; c < C; c++) out[r * C + c] = x[r * C + c] - mx - Math.log(s);
    }
    return out;
  }
  const cases: { T: number; N: number; C: number; blank: number; S: number[]; Tn: number[]; repeats?: boolean }[] = [
    { T: 12, N: 3, C: 5, blank: 0, S: [3, 0, 5], Tn: [12, 7, 11] },
    { T: 30, N: 4, C: 6, blank: 5, S: [4, 10, 1, 7], Tn: [30, 25, 30, 16], repeats: true },
    { T: 200, N: 5, C: 30, blank: 0, S: [40, 20, 1, 60, 0], Tn: [200, 150, 10, 180, 1] },
    { T: 5, N: 2, C: 4, blank: 0, S: [4, 2], Tn: [5, 0] },
    { T: 4, N: 2, C: 3, blank: 0, S: [3, 1], Tn: [4, 4], repeats: true }, // sample 0 impossible: 1,1,1 needs 5 steps
  ];
  for (const cs of cases) {
    it(`T=${cs.T} N=${cs.N} C=${cs.C} blank=${cs.blank} S=${cs.S.join(',')}`, () => {
      const { T, N, C, blank } = cs;
      const lp = logSoftmaxRows(randArray(T * N * C, 3), C);
      const labels: number[] = [];
      for (const S of cs.S) for (let s = 0; s < S; s++) {
        let l = Math.floor(rand() * (C - 1)); if (l >= blank) l++;
        if (cs.repeats && s > 0 && rand() < 0.5) l = labels[labels.length - 1];
        labels.push(l);
      }
      if (cs.repeats && cs.S[0] === 3 && T === 4) { labels[0] = 1; labels[1] = 1; labels[2] = 1; }
      for (const { name, w } of backends) {
        const [wl, rl] = pair(w, lp), [wt, rt] = pair(w, labels, 'i32');
        const [wi, ri] = pair(w, cs.Tn, 'i32'), [wtl, rtl] = pair(w, cs.S, 'i32');
        const [wloss, rloss] = pair(w, new Float32Array(N)), [wg, rg] = pair(w, new Float32Array(T * N * C));
        w.ctc(wl, T, N, C, wt, wi, wtl, blank, wloss, wg);
        ref.ctc(rl, T, N, C, rt, ri, rtl, blank, rloss, rg);
        close(w.readSync(wloss), ref.readSync!(rloss), `${name} loss`, 2e-6, 1e-5);
        close(w.readSync(wg), ref.readSync!(rg), `${name} grad`, 1e-5, 2e-6);
      }
    });
  }
});

describe('wasm backend: elementwise kernels match the reference', () => {
  const ops: UnaryOp[] = ['neg', 'exp', 'log', 'sqrt', 'abs', 'square', 'sigmoid', 'tanh', 'relu', 'softplus', 'logsigmoid'];
  const special = [0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 0.3, -0.62, 0.63, 5, -5, 20, -20, 88, -88, 89, -89, 100, -100, 1e30, -1e30,
    Infinity, -Infinity, NaN, 1e-40, 3.4e38];
  for (const op of ops) {
    it(`unary ${op} and its backward (special values, random, odd lengths)`, () => {
      for (const { name, w } of backends) {
        for (const n of [1, 3, 4, 5, 37, 1000]) {
          const x = randArray(n, op === 'exp' ? 30 : 12);
          if (n === 1000) x.set(special);
          if (op === 'log' || op === 'sqrt') for (let i = 0; i < n; i++) if (i >= special.length || n < 1000) x[i] = Math.abs(x[i]) * 10 ** (Math.floor(rand() * 20) - 10);
          const [wx, rx] = pair(w, x), [wy, ry] = pair(w, new Float32Array(n));
          w.unary(op, wx, 0, wy, 0, n); ref.unary(op, rx, 0, ry, 0, n);
          // relative error ~1e-7 of the transcendental approximations; tiny absolute floor for denormals
          close(w.readSync(wy), ref.readSync!(ry), `${name} ${op} n=${n}`, 5e-7, 1e-37);
          for (const acc of [false, true]) {
            const dy = randArray(n); if (n > 3) dy[1] = 0;
            const [wdy, rdy] = pair(w, dy), [wdx, rdx] = pair(w, randArray(n));
            w.unaryBackward(op, wx, wy, wdy, wdx, n, acc); ref.unaryBackward(op, rx, ry, rdy, rdx, n, acc);
            // f'(x) is evaluated from the f32 y (1 - y cancels near 1), and accumulation cancels: errors
            // are f32 roundings of the operands (|dy|, |dx| <= 1), hence the absolute floor
            close(w.readSync(wdx), ref.readSync!(rdx), `${name} ${op}' n=${n} acc=${acc}`, 2e-6, 3e-7);
          }
        }
      }
    });
  }
  const bops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'max', 'min'];
  it('binary ops: same shape, scalar and row/column broadcasts, NaN in max/min', () => {
    for (const { name, w } of backends) for (const op of bops) {
      const layouts: { shape: number[]; aStr: number[]; bStr: number[]; na: number; nb: number }[] = [
        { shape: [37], aStr: [1], bStr: [1], na: 37, nb: 37 },
        { shape: [3, 5, 7], aStr: [35, 7, 1], bStr: [35, 7, 1], na: 105, nb: 105 },
        { shape: [6, 9], aStr: [9, 1], bStr: [0, 0], na: 54, nb: 1 },
        { shape: [6, 9], aStr: [0, 0], bStr: [9, 1], na: 1, nb: 54 },
        { shape: [6, 9], aStr: [9, 1], bStr: [0, 1], na: 54, nb: 9 },
        { shape: [6, 9], aStr: [9, 1], bStr: [1, 0], na: 54, nb: 6 },
        { shape: [2, 3, 4], aStr: [12, 4, 1], bStr: [0, 4, 1], na: 24, nb: 12 },
        { shape: [2, 3, 4], aStr: [1, 2, 6], bStr: [12, 4, 1], na: 24, nb: 24 },
        { shape: [1, 5, 1], aStr: [0, 1, 0], bStr: [5, 1, 1], na: 5, nb: 5 },
        { shape: [0, 4], aStr: [4, 1], bStr: [4, 1], na: 0, nb: 0 },
      ];
      for (const L of layouts) {
        const a = randArray(L.na), b = randArray(L.nb);
        if (L.na > 2) a[2] = NaN;
        if (L.nb > 3) b[3] = NaN;
        const size = L.shape.reduce((x, y) => x * y, 1);
        const [wa, ra] = pair(w, a), [wb, rb] = pair(w, b), [wo, ro] = pair(w, new Float32Array(size));
        w.binary(op, L.shape, wa, 0, L.aStr, wb, 0, L.bStr, wo, 0); ref.binary(op, L.shape, ra, 0, L.aStr, rb, 0, L.bStr, ro, 0);
        close(w.readSync(wo), ref.readSync!(ro), `${name} ${op} ${JSON.stringify(L.shape)} ${L.aStr}/${L.bStr}`, 1e-7, 0);
      }
    }
  });
  it('affine (overwrite and accumulate) and fill', () => {
    for (const { name, w } of backends) for (const n of [1, 6, 101]) for (const acc of [false, true]) {
      const [wx, rx] = pair(w, randArray(n)), [wo, ro] = pair(w, randArray(n + 3));
      w.affine(wx, 0, wo, 0, n, -1.7, 0.25, acc); ref.affine(rx, 0, ro, 0, n, -1.7, 0.25, acc);
      close(w.readSync(wo), ref.readSync!(ro), `${name} affine n=${n} acc=${acc}`, 1e-7, 1e-7);
      w.fill(wo, 1, n, 3.5); ref.fill(ro, 1, n, 3.5);
      close(w.readSync(wo), ref.readSync!(ro), `${name} fill`, 1e-7, 1e-7);
    }
  });
  it('softmax and log-softmax, forward and backward (accumulate), rows of -inf', () => {
    for (const { name, w } of backends) for (const [rows, cols] of [[1, 1], [3, 7], [4, 64], [2, 1001]]) for (const log of [false, true]) {
      const x = randArray(rows * cols, 20);
      if (rows > 2) x.fill(-Infinity, cols, 2 * cols); // a row of -inf (NaN, as the reference)
      if (cols > 3) x[2] = -Infinity;
      const [wx, rx] = pair(w, x), [wy, ry] = pair(w, new Float32Array(rows * cols));
      w.softmax(wx, wy, rows, cols, log); ref.softmax(rx, ry, rows, cols, log);
      // log-softmax is x - logsumexp with |x| ~ 20: f32 rounding of those is ~1e-6 absolute
      close(w.readSync(wy), ref.readSync!(ry), `${name} softmax log=${log} ${rows}x${cols}`, 2e-6, 3e-6);
      for (const acc of [false, true]) {
        const [wdy, rdy] = pair(w, randArray(rows * cols)), [wdx, rdx] = pair(w, randArray(rows * cols));
        w.softmaxBackward(wy, wdy, wdx, rows, cols, log, acc); ref.softmaxBackward(ry, rdy, rdx, rows, cols, log, acc);
        close(w.readSync(wdx), ref.readSync!(rdx), `${name} softmaxBackward log=${log} acc=${acc}`, 1e-5, 1e-5);
      }
    }
  });
  it('copyStrided: contiguous, slices, transposes, broadcasts, sum-reductions, i32, rank 3', () => {
    for (const { name, w } of backends) {
      const cases: { shape: number[]; sOff: number; sStr: number[]; dOff: number; dStr: number[]; ns: number; nd: number }[] = [
        { shape: [50], sOff: 3, sStr: [1], dOff: 1, dStr: [1], ns: 60, nd: 60 },
        { shape: [4, 6], sOff: 0, sStr: [6, 1], dOff: 0, dStr: [1, 4], ns: 24, nd: 24 },
        { shape: [4, 6], sOff: 2, sStr: [10, 1], dOff: 5, dStr: [6, 1], ns: 50, nd: 40 },
        { shape: [5, 7], sOff: 0, sStr: [7, 1], dOff: 0, dStr: [0, 1], ns: 35, nd: 7 },
        { shape: [5, 7], sOff: 0, sStr: [7, 1], dOff: 0, dStr: [1, 0], ns: 35, nd: 5 },
        { shape: [5, 7], sOff: 0, sStr: [0, 1], dOff: 0, dStr: [7, 1], ns: 7, nd: 35 },
        { shape: [2, 3, 4], sOff: 0, sStr: [12, 4, 1], dOff: 0, dStr: [1, 8, 2], ns: 24, nd: 24 },
        { shape: [2, 3, 4], sOff: 1, sStr: [12, 4, 1], dOff: 2, dStr: [12, 4, 1], ns: 30, nd: 30 },
      ];
      for (const c of cases) for (const acc of [false, true]) for (const dtype of ['f32', 'i32'] as DType[]) {
        if (dtype === 'i32' && acc && c.dStr.includes(0)) continue;
        const src = randArray(c.ns, 100), dst = randArray(c.nd, 100);
        if (dtype === 'i32') { for (let i = 0; i < src.length; i++) src[i] = Math.round(src[i]); for (let i = 0; i < dst.length; i++) dst[i] = Math.round(dst[i]); }
        const [ws, rs] = pair(w, src, dtype), [wd, rd] = pair(w, dst, dtype);
        w.copyStrided(c.shape, ws, c.sOff, c.sStr, wd, c.dOff, c.dStr, acc);
        ref.copyStrided(c.shape, rs, c.sOff, c.sStr, rd, c.dOff, c.dStr, acc);
        close(w.readSync(wd), ref.readSync!(rd), `${name} copyStrided ${JSON.stringify(c)} acc=${acc} ${dtype}`, 1e-6, 1e-5);
      }
    }
  });
});

describe('wasm backend: memory', () => {
  it('storages are zero-filled views into linear memory, reused after dispose, valid across memory growth', () => {
    const w = backends[0].w;
    const a = w.upload('f32', [1, 2, 3]);
    assert.ok(a instanceof WasmStorage);
    // The storage's values are the linear memory's bytes at its ptr, and its array is a view of them (not a copy).
    const ptr = (a as WasmStorage).ptr;
    const atPtr = new Float32Array(w.memory.buffer, ptr, 3);
    assert.deepEqual([...atPtr], [1, 2, 3], 'the storage lives in linear memory at its ptr');
    (a as WasmStorage).array[1] = 7;
    assert.equal(atPtr[1], 7, 'its array is a view of the linear memory');
    w.dispose(a);
    const b = w.alloc('f32', 3) as WasmStorage;
    assert.equal(b.ptr, ptr, 'a freed block of the same size is reused');
    assert.deepEqual([...w.readSync(b)], [0, 0, 0], 'and zero-filled');
    b.array.set([4, 5, 6]);
    const before = w.memory.buffer.byteLength;
    const big = w.alloc('f32', before / 4 + 1000); // forces memory.grow
    assert.ok(w.memory.buffer.byteLength > before);
    assert.deepEqual([...w.readSync(b)], [4, 5, 6], 'old views survive growth');
    w.unary('neg', b, 0, b, 0, 3);
    assert.deepEqual([...w.readSync(b)], [-4, -5, -6]);
    assert.equal(w.readSync(big).length, before / 4 + 1000);
    w.dispose(big);
  });
  it('f64 storages fall back to plain JS memory and reference kernels', () => {
    const w = backends[0].w;
    assert.deepEqual(w.dtypes, ['f32', 'f64']);
    const a = w.upload('f64', [1, 2]);
    assert.ok(!(a instanceof WasmStorage));
    const o = w.alloc('f64', 2);
    w.unary('exp', a, 0, o, 0, 2);
    assert.deepEqual([...w.readSync(o)], [Math.exp(1), Math.exp(2)]);
  });
  it('setWasmThreads sets the thread count of every backend and rejects nonsense', () => {
    const w = new WasmBackend({ threads: 1 });
    setWasmThreads(3);
    assert.equal(w.threads, 3);
    assert.equal(new WasmBackend().threads, 3);
    assert.equal(new WasmBackend({ threads: 1 }).threads, 1);
    assert.throws(() => setWasmThreads(0), /setWasmThreads: expected a positive integer, got 0/);
    setWasmThreads(1);
    assert.equal(w.threads, 1);
    backends[1].w.setThreads(2); // (it set the shared test backends too)
  });
  it('kernels refuse ranges outside a storage instead of writing past it', () => {
    const w = backends[0].w;
    const a = w.alloc('f32', 4);
    assert.throws(() => w.unary('exp', a, 0, a, 0, 5), /unary: expected 5 elements at offset 0 within a storage of 4/);
    assert.throws(() => w.lstmCellForward(1, 2, a, 0, a, 0, a, 0, a, 0, 2), /lstmCellForward gates: expected 8 elements/);
  });
});

describe('wasm backend: microbenchmark entry points (for bench/)', () => {
  it('gemmGflops and simdPeakGflops run and return finite positive rates', async () => {
    const { gemmGflops, simdPeakGflops, closeBench } = await import('../src/backend/wasm/bench.js');
    try {
      const g = await gemmGflops(48, 40, 33, 2);
      assert.ok(Number.isFinite(g) && g > 0, `gemm: ${g}`);
      const p = await simdPeakGflops(2);
      assert.ok(Number.isFinite(p.perThread) && p.perThread > 0 && p.total >= p.perThread, JSON.stringify(p));
    } finally { closeBench(); }
  });

  it('int8PeakGmacs runs the build\'s int8 inner step: 16 multiply-adds a step in the relaxed build, 8 in SIMD128', async () => {
    const { int8PeakGmacs, closeBench } = await import('../src/backend/wasm/bench.js');
    try {
      const p = await int8PeakGmacs(2);
      assert.ok(Number.isFinite(p.perThread) && p.perThread > 0 && p.total >= p.perThread, JSON.stringify(p));
      const w = new WasmBackend({ threads: 1 });
      try {
        assert.equal(w.int8MacsPerRound(), w.kernels.kernel_build() === 1 ? 12 * 16 : 12 * 8);
      } finally { w.terminate(); }
    } finally { closeBench(); }
  });
});

describe('wasm backend: a random mix of threaded jobs, back to back, matches the reference', () => {
  // The pool's hand-overs between job kinds (chunked GEMMs, fused steps, slot jobs split by rows)
  // are where a race would show: run them in random order with every split forced.
  // Now and then the caller idles long enough (5 ms) for the worker to fall asleep, so the next
  // post wakes it slowly while the caller takes the chunks itself and moves on to the next job.
  it('300 random calls on 2 threads, with pauses that let the worker sleep', () => {
    const w = backends[1].w;
    for (let it = 0; it < 300; it++) {
      if (it % 3 === 0 && rand() < 0.5) { const until = performance.now() + 5; while (performance.now() < until); }
      const kind = it % 2 === 0 ? Math.floor(rand() * 2) * 3 : [1, 2, 4][Math.floor(rand() * 3)]; // chunked, then anything
      const m = 4 + Math.floor(rand() * 6), H = 8 * (2 + Math.floor(rand() * 3));
      const K = 5 + Math.floor(rand() * 40);
      if (kind === 0) { // chunked GEMM
        const n = 9 + Math.floor(rand() * 40);
        const [wa, ra] = pair(w, randArray(m * K)), [wb, rb] = pair(w, randArray(n * K)), [wc, rc] = pair(w, randArray(m * n));
        w.gemm(false, true, m, n, K, 1, wa, 0, K, wb, 0, K, 1, wc, 0, n); ref.gemm(false, true, m, n, K, 1, ra, 0, K, rb, 0, K, 1, rc, 0, n);
        close(w.readSync(wc), ref.readSync!(rc), `call ${it} gemm`, 1e-5, 1e-5);
      } else if (kind === 1) { // fused LSTM step (chunked by units)
        const [wwh, rwh] = pair(w, randArray(4 * H * K, 0.3));
        const pw = w.prepareB(true, K, 4 * H, wwh, 0, K), pr = ref.prepareB(true, K, 4 * H, rwh, 0, K);
        const [wh, rh] = pair(w, randArray(m * K)), [wg, rg] = pair(w, randArray(m * 4 * H)), [wc, rc] = pair(w, randArray(m * H));
        const [wo, ro] = pair(w, randArray(m * H));
        w.lstmStep(m, H, wh, 0, K, pw, wg, 0, wc, 0, wc, 0, wo, 0, H); ref.lstmStep(m, H, rh, 0, K, pr, rg, 0, rc, 0, rc, 0, ro, 0, H);
        close(w.readSync(wo), ref.readSync!(ro), `call ${it} lstmStep h`, 1e-5, 1e-5);
        close(w.readSync(wc), ref.readSync!(rc), `call ${it} lstmStep c`, 1e-5, 1e-5);
        w.releasePrepared(pw);
      } else if (kind === 2) { // row-split cell (slot jobs), applied in place: a double run would show
        const [wg, rg] = pair(w, randArray(m * 4 * H, 3)), [wcp, rcp] = pair(w, randArray(m * H));
        const [wc, rc] = pair(w, randArray(m * H)), [wh, rh] = pair(w, randArray(m * H));
        w.lstmCellForward(m, H, wg, 0, wcp, 0, wc, 0, wh, 0, H); ref.lstmCellForward(m, H, rg, 0, rcp, 0, rc, 0, rh, 0, H);
        close(w.readSync(wg), ref.readSync!(rg), `call ${it} cell gates`); close(w.readSync(wh), ref.readSync!(rh), `call ${it} cell h`);
      } else if (kind === 3) { // streaming step (chunked by columns)
        const [wx, rx] = pair(w, randArray(K)), [ww1, rw1] = pair(w, randArray(4 * H * K)), [wo, ro] = pair(w, randArray(4 * H));
        w.linear2(1, 4 * H, K, wx, 0, K, ww1, 0, null, 0, 0, null, null, null, wo, 0, 4 * H);
        ref.linear2(1, 4 * H, K, rx, 0, K, rw1, 0, null, 0, 0, null, null, null, ro, 0, 4 * H);
        close(w.readSync(wo), ref.readSync!(ro), `call ${it} linear2`, 1e-5, 1e-5);
      } else { // row-split softmax (slot jobs)
        const [wx, rx] = pair(w, randArray(m * K, 3)), [wy, ry] = pair(w, new Float32Array(m * K));
        w.softmax(wx, wy, m, K, true); ref.softmax(rx, ry, m, K, true);
        close(w.readSync(wy), ref.readSync!(ry), `call ${it} logSoftmax`, 2e-6, 3e-6);
      }
    }
  });
});
