import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ActivationOp, Kernels, OptionalKernelName, Storage } from '../src/backend/backend.js';
import { CpuStorage, ReferenceBackend, ReferenceCore } from '../src/backend/reference/index.js';
import * as xlstm from '../src/ops/composed/xlstm.js';
import * as norm from '../src/ops/composed/norm.js';
import type { DType } from '../src/backend/dtype.js';
import { Rng } from '../src/tensor/random.js';

/**
 * The composed xLSTM and norm fallbacks (src/ops/composed/xlstm.ts, norm.ts), run on the reference
 * CORE alone, against the reference kernels (the oracle) on storages holding the same values.
 */

/** A reference core that counts allocations and disposals (every scratch must be given back). */
class CountingCore extends ReferenceCore {
  allocs = 0;
  disposes = 0;
  override alloc(dtype: DType, length: number): Storage { this.allocs++; return super.alloc(dtype, length); }
  override dispose(s: Storage): void { this.disposes++; super.dispose(s); }
}

const core = new CountingCore();
const oracle = new ReferenceBackend();

type Fallbacks = Record<string, (k: Kernels, ...a: any[]) => unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
const names = ['slstmCellForward', 'slstmCellBackward', 'mlstmForward', 'mlstmBackward', 'groupNormForward',
  'groupNormBackward', 'activationForward', 'activationBackward', 'causalConv1dForward', 'causalConv1dBackward'] as const;

/**
 * kernels(core) and the registry `composed` (src/ops/kernels.ts, src/ops/composed/index.ts). While
 * the registry cannot be loaded (other fallback files of the restructuring still missing), the
 * fallbacks of this file are called on a plain object of the core's bound methods instead: they
 * use core kernels only, so that runs the very same code.
 */
async function load(): Promise<{ k: Kernels; composed: Fallbacks; via: string }> {
  try {
    const { kernels } = await import('../src/ops/kernels.js');
    const { composed } = await import('../src/ops/composed/index.js');
    return { k: kernels(core), composed: composed as unknown as Fallbacks, via: 'kernels(core) + composed registry' };
  } catch (e) {
    const w: Record<string, unknown> = { name: core.name, dtypes: core.dtypes };
    const proto = core as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['alloc', 'upload', 'read', 'readSync', 'dispose', 'fill', 'copyStrided', 'unary', 'unaryBackward',
      'binary', 'affine', 'reduce', 'gemm', 'gatherRows', 'scatterAddRows']) w[m] = proto[m].bind(core);
    const fb: Fallbacks = { ...xlstm, ...norm } as unknown as Fallbacks;
    for (const n of names) w[n] = (...a: unknown[]) => fb[n](w as unknown as Kernels, ...a);
    const why = (e as Error).message.split('\n')[0];
    return { k: w as unknown as Kernels, composed: fb, via: `direct imports (registry not loadable: ${why})` };
  }
}
const loaded = load();

/** Run composed.<name>(k, ...args) and check every scratch buffer it allocated was disposed. */
async function runComposed(name: typeof names[number] & OptionalKernelName, ...args: unknown[]): Promise<void> {
  const { k, composed } = await loaded;
  const a0 = core.allocs, d0 = core.disposes;
  composed[name](k, ...args);
  assert.equal(core.disposes - d0, core.allocs - a0, `${name}: allocated ${core.allocs - a0} scratch buffers, disposed ${core.disposes - d0}`);
}

const arr = (s: Storage) => (s as CpuStorage).array;

/** A pair of storages with the same values: one on the core (composed), one on the oracle. */
interface Pair { c: Storage; r: Storage }
function pair(dt: DType, vals: ArrayLike<number>): Pair {
  return { c: core.upload(dt, vals), r: oracle.upload(dt, vals) };
}
function draw(rng: Rng, n: number, scale = 1, offset = 0): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround(offset + scale * rng.normal()));
}
function randPair(rng: Rng, dt: DType, n: number, scale = 1, offset = 0): Pair { return pair(dt, draw(rng, n, scale, offset)); }

/**
 * |got - want| <= tol (|want| + floor max|want| + tiny), elementwise, and the same non-finite values
 * (the floor term admits the absolute rounding of sums whose terms cancel: 1e-3 in f64, where both
 * sides compute in f64; 0.1 in f32, where the fallback rounds every step to f32 and the reference
 * computes in f64, so a result that cancels carries an absolute error of the terms' f32 ulps).
 */
function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string, floor = 1e-3): number {
  assert.equal(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i])) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (!Number.isFinite(w) || !Number.isFinite(g)) { assert.ok(Object.is(g, w) || (g === w), `${what}[${i}]: got ${g}, want ${w}`); continue; }
    const e = Math.abs(g - w) / (Math.abs(w) + floor * scale + 1e-300);
    worst = Math.max(worst, e);
    assert.ok(e <= tol, `${what}[${i}]: got ${g}, want ${w} (relative error ${e.toExponential(2)} > ${tol})`);
  }
  return worst;
}
function check(p: Pair, tol: number, what: string): number {
  return assertClose(arr(p.c), arr(p.r), tol, what, p.c.dtype === 'f32' ? 0.1 : 1e-3);
}

const TOL: Record<DType, number> = { f64: 1e-9, f32: 1e-4 } as Record<DType, number>;

// ---------------------------------------------------------------------------------------------

describe('composed sLSTM cell (on the reference core) = reference kernel', () => {
  const cases: { dt: DType; rows: number; H: number; ldh: number; exp: boolean; scale: number }[] = [
    { dt: 'f64', rows: 1, H: 5, ldh: 5, exp: true, scale: 1 },
    { dt: 'f64', rows: 3, H: 4, ldh: 7, exp: true, scale: 1 },
    { dt: 'f64', rows: 3, H: 4, ldh: 7, exp: false, scale: 1 },
    { dt: 'f64', rows: 2, H: 3, ldh: 8, exp: true, scale: 30 },
    { dt: 'f64', rows: 2, H: 3, ldh: 8, exp: false, scale: 30 },
    { dt: 'f32', rows: 3, H: 4, ldh: 6, exp: false, scale: 3 },
    { dt: 'f32', rows: 3, H: 4, ldh: 6, exp: true, scale: 3 },
  ];
  for (const { dt, rows, H, ldh, exp, scale } of cases) {
    for (const first of [true, false]) {
      it(`${dt} rows ${rows} H ${H} ldh ${ldh} ${exp ? 'exp' : 'sigmoid'} forget, pre-activations x${scale}, ${first ? 'first' : 'later'} step`, async () => {
        const rng = new Rng(1000 + rows * 31 + H * 7 + ldh + (exp ? 1 : 0) + scale + (first ? 500 : 0) + (dt === 'f32' ? 77 : 0));
        const R = rows * H, pOff = 3, hOff = 2;
        const pre = randPair(rng, dt, pOff + rows * 4 * H, scale);
        // State buffers with three slots: slot 1 is the previous step's, slot 2 this step's.
        const stateVals = (s: number, o: number) => { const v = draw(rng, 3 * R, s, o); return v; };
        const cVals = stateVals(1, 0), nVals = stateVals(0.5, 1.5), mVals = stateVals(scale, 0);
        const c = pair(dt, cVals), n = pair(dt, nVals), m = pair(dt, mVals);
        const h = randPair(rng, dt, hOff + rows * ldh);
        const prevOff = R, curOff = 2 * R;
        const fwdArgs = (s: 'c' | 'r') => [rows, H, exp, first, pre[s], pOff, c[s], n[s], m[s], prevOff, curOff, h[s], hOff, ldh] as const;
        await runComposed('slstmCellForward', ...fwdArgs('c'));
        oracle.slstmCellForward(...fwdArgs('r'));
        const tol = TOL[dt];
        check(c, tol, 'c'); check(n, tol, 'n'); check(m, tol, 'm'); check(h, tol, 'h');

        // Backward from the oracle's states (the same values on both sides).
        const cs = pair(dt, arr(c.r)), ns = pair(dt, arr(n.r)), ms = pair(dt, arr(m.r));
        const dyOff = 1, ldy = H + 2;
        const dy = randPair(rng, dt, dyOff + rows * ldy), dhRec = randPair(rng, dt, R);
        const dc = randPair(rng, dt, R), dn = randPair(rng, dt, R), dm = randPair(rng, dt, R);
        const dpOff = 5, dPre = randPair(rng, dt, dpOff + rows * 4 * H + 2);
        const bwdArgs = (s: 'c' | 'r') => [rows, H, exp, first, pre[s], pOff, cs[s], ns[s], ms[s], prevOff, curOff,
          dy[s], dyOff, ldy, dhRec[s], dc[s], dn[s], dm[s], dPre[s], dpOff] as const;
        await runComposed('slstmCellBackward', ...bwdArgs('c'));
        oracle.slstmCellBackward(...bwdArgs('r'));
        check(dPre, tol, 'dPre'); check(dc, tol, 'dc'); check(dn, tol, 'dn'); check(dm, tol, 'dm');
      });
    }
  }

  it('f64 in place (curOff === prevOff), as inference updates the state', async () => {
    const rng = new Rng(7), dt: DType = 'f64', rows = 2, H = 3, R = rows * H;
    for (const exp of [true, false]) {
      const pre = randPair(rng, dt, rows * 4 * H, 2);
      const c = randPair(rng, dt, R), n = randPair(rng, dt, R, 0.5, 1.5), m = randPair(rng, dt, R, 2);
      const h = randPair(rng, dt, R);
      const args = (s: 'c' | 'r') => [rows, H, exp, false, pre[s], 0, c[s], n[s], m[s], 0, 0, h[s], 0, H] as const;
      await runComposed('slstmCellForward', ...args('c'));
      oracle.slstmCellForward(...args('r'));
      check(c, 1e-9, 'c'); check(n, 1e-9, 'n'); check(m, 1e-9, 'm'); check(h, 1e-9, 'h');
    }
  });
});

// ---------------------------------------------------------------------------------------------

interface MlstmCase {
  dt: DType; T: number; B: number; NH: number; DH: number; chunk: number; exp: boolean; init: boolean; big: boolean;
  /** ĩ around this value (exp(±800) overflows f64: only the stabilized form stays finite). */
  huge?: number;
}

function mlstmName(c: MlstmCase): string {
  return `${c.dt} T ${c.T} B ${c.B} NH ${c.NH} DH ${c.DH} ${c.chunk ? `chunk ${c.chunk}` : 'recurrent'} ` +
    `${c.exp ? 'exp' : 'sigmoid'} forget, ${c.init ? 'initial state' : 'zero state'}${c.big ? ', gates ~30' : ''}${c.huge ? `, input gate ~${c.huge}` : ''}`;
}

describe('composed mLSTM (on the reference core) = reference kernel', () => {
  const cases: MlstmCase[] = [];
  for (const exp of [false, true]) {
    for (const init of [false, true]) {
      for (const chunk of [0, 2, 3, 8]) cases.push({ dt: 'f64', T: 5, B: 2, NH: 2, DH: 3, chunk, exp, init, big: false });
      for (const chunk of [0, 2, 8]) cases.push({ dt: 'f64', T: 5, B: 2, NH: 2, DH: 3, chunk, exp, init, big: true });
    }
  }
  cases.push({ dt: 'f64', T: 1, B: 1, NH: 1, DH: 2, chunk: 0, exp: false, init: false, big: false });
  cases.push({ dt: 'f64', T: 4, B: 1, NH: 3, DH: 1, chunk: 4, exp: true, init: true, big: false });
  for (const huge of [800, -800]) {
    for (const chunk of [0, 2]) cases.push({ dt: 'f64', T: 4, B: 2, NH: 1, DH: 2, chunk, exp: huge < 0, init: false, big: false, huge });
  }
  cases.push({ dt: 'f32', T: 5, B: 2, NH: 2, DH: 3, chunk: 0, exp: false, init: true, big: false });
  cases.push({ dt: 'f32', T: 5, B: 2, NH: 2, DH: 3, chunk: 2, exp: true, init: false, big: false });

  for (const cs of cases) {
    it(mlstmName(cs), async () => {
      const { dt, T, B, NH, DH, chunk, exp, init, big, huge } = cs;
      const rng = new Rng(cases.indexOf(cs) * 7919 + 13);
      const H = NH * DH, G = B * NH, DD = DH * DH, S = chunk > 0 ? Math.ceil(T / chunk) : T;
      const tol = TOL[dt];
      const q = randPair(rng, dt, T * B * H), k = randPair(rng, dt, T * B * H), v = randPair(rng, dt, T * B * H);
      // Large pre-activations exercise the stabilizer: ĩ of either sign up to ~30, f̃ with a large offset.
      const igVals = big ? Float64Array.from(draw(rng, T * G), (x, i) => Math.fround((i % 3 === 0 ? 30 : i % 3 === 1 ? -30 : 5) + x))
        : huge ? draw(rng, T * G, 3, huge) : draw(rng, T * G, 2);
      const fgVals = big ? draw(rng, T * G, 3, exp ? -2 : 30) : draw(rng, T * G, 1.5, exp ? -0.5 : 2);
      const ig = pair(dt, igVals), fg = pair(dt, fgVals);
      const C0 = init ? randPair(rng, dt, G * DD) : null, n0 = init ? randPair(rng, dt, G * DH, 0.5, 1) : null;
      const m0 = init ? randPair(rng, dt, G, big ? 20 : 1) : null;
      const h = pair(dt, new Float64Array(T * B * H)), C = pair(dt, new Float64Array(S * G * DD));
      const n = pair(dt, new Float64Array(S * G * DH)), m = pair(dt, new Float64Array(S * G));
      const side = (p: Pair | null, s: 'c' | 'r') => (p ? p[s] : null);
      const fwd = (s: 'c' | 'r') => [T, B, NH, DH, chunk, exp, q[s], k[s], v[s], ig[s], fg[s], h[s], C[s], n[s], m[s],
        side(C0, s), side(n0, s), side(m0, s)] as const;
      await runComposed('mlstmForward', ...fwd('c'));
      oracle.mlstmForward(...fwd('r'));
      check(h, tol, 'h'); check(C, tol, 'C'); check(n, tol, 'n'); check(m, tol, 'm');
      for (const x of arr(h.r)) assert.ok(Number.isFinite(x), 'reference h finite');

      // Backward from the oracle's saved states (the same values on both sides).
      const Cs = pair(dt, arr(C.r)), ns = pair(dt, arr(n.r)), ms = pair(dt, arr(m.r));
      const dh = randPair(rng, dt, T * B * H), dCn = randPair(rng, dt, G * DD), dnn = randPair(rng, dt, G * DH), dmn = randPair(rng, dt, G);
      const junk = (len: number) => randPair(rng, dt, len, 9); // outputs are overwritten
      const dq = junk(T * B * H), dk = junk(T * B * H), dv = junk(T * B * H), dig = junk(T * G), dfg = junk(T * G);
      const dC0 = init ? junk(G * DD) : null, dn0 = init ? junk(G * DH) : null, dm0 = init ? junk(G) : null;
      const bwd = (s: 'c' | 'r') => [T, B, NH, DH, chunk, exp, q[s], k[s], v[s], ig[s], fg[s], Cs[s], ns[s], ms[s],
        dh[s], dCn[s], dnn[s], dmn[s], dq[s], dk[s], dv[s], dig[s], dfg[s],
        side(C0, s), side(n0, s), side(m0, s), side(dC0, s), side(dn0, s), side(dm0, s)] as const;
      await runComposed('mlstmBackward', ...bwd('c'));
      oracle.mlstmBackward(...bwd('r'));
      check(dq, tol, 'dq'); check(dk, tol, 'dk'); check(dv, tol, 'dv'); check(dig, tol, 'dig'); check(dfg, tol, 'dfg');
      if (dC0 && dn0 && dm0) { check(dC0, tol, 'dC0'); check(dn0, tol, 'dn0'); check(dm0, tol, 'dm0'); }
    });
  }
});

// ---------------------------------------------------------------------------------------------

describe('composed group norm, activations, causal conv1d (on the reference core) = reference kernels', () => {
  const gnCases: { dt: DType; rows: number; C: number; G: number; affine: boolean; want: [boolean, boolean, boolean] }[] = [
    { dt: 'f64', rows: 4, C: 6, G: 1, affine: false, want: [true, true, true] },
    { dt: 'f64', rows: 4, C: 6, G: 1, affine: true, want: [true, true, true] },
    { dt: 'f64', rows: 3, C: 8, G: 4, affine: true, want: [true, true, true] },
    { dt: 'f64', rows: 3, C: 8, G: 2, affine: false, want: [true, false, false] },
    { dt: 'f64', rows: 5, C: 6, G: 3, affine: true, want: [false, true, false] },
    { dt: 'f64', rows: 5, C: 6, G: 3, affine: true, want: [true, false, true] },
    { dt: 'f64', rows: 2, C: 4, G: 4, affine: true, want: [false, false, true] },
    { dt: 'f32', rows: 4, C: 6, G: 2, affine: true, want: [true, true, true] },
  ];
  for (const { dt, rows, C, G, affine, want } of gnCases) {
    it(`groupNorm ${dt} rows ${rows} C ${C} G ${G} ${affine ? 'w, b' : 'no w, b'}, grads ${want.map((x, i) => (x ? ['dx', 'dw', 'db'][i] : '-')).join(' ')}`, async () => {
      const rng = new Rng(rows * 100 + C * 10 + G + (affine ? 1000 : 0) + (dt === 'f32' ? 5000 : 0) + want.reduce((a, x, i) => a + (x ? 1 << (i + 13) : 0), 0));
      const tol = TOL[dt], N = rows * C, eps = 1e-5;
      const x = randPair(rng, dt, N, 2, 0.5);
      const w = affine ? randPair(rng, dt, C, 0.5, 1) : null, b = affine ? randPair(rng, dt, C) : null;
      const y = randPair(rng, dt, N), mean = randPair(rng, dt, rows * G), rstd = randPair(rng, dt, rows * G);
      const side = (p: Pair | null, s: 'c' | 'r') => (p ? p[s] : null);
      const fwd = (s: 'c' | 'r') => [rows, C, G, eps, x[s], side(w, s), side(b, s), y[s], mean[s], rstd[s]] as const;
      await runComposed('groupNormForward', ...fwd('c'));
      oracle.groupNormForward(...fwd('r'));
      check(y, tol, 'y'); check(mean, tol, 'mean'); check(rstd, tol, 'rstd');
      const ms = pair(dt, arr(mean.r)), rs = pair(dt, arr(rstd.r));
      const dy = randPair(rng, dt, N);
      const dx = want[0] ? randPair(rng, dt, N, 9) : null, dw = want[1] ? randPair(rng, dt, C, 9) : null;
      const db = want[2] ? randPair(rng, dt, C, 9) : null;
      const bwd = (s: 'c' | 'r') => [rows, C, G, x[s], side(w, s), ms[s], rs[s], dy[s], side(dx, s), side(dw, s), side(db, s)] as const;
      await runComposed('groupNormBackward', ...bwd('c'));
      oracle.groupNormBackward(...bwd('r'));
      if (dx) check(dx, tol, 'dx');
      if (dw) check(dw, tol, 'dw');
      if (db) check(db, tol, 'db');
    });
  }

  for (const op of ['gelu', 'silu'] as ActivationOp[]) {
    for (const dt of ['f64', 'f32'] as DType[]) {
      it(`${op} ${dt} forward and backward`, async () => {
        const rng = new Rng(op === 'gelu' ? 11 : 12), n = 64, tol = TOL[dt];
        const xv = draw(rng, n, 3);
        xv[0] = 0; xv[1] = 40; xv[2] = -40; xv[3] = 1e-8;
        const x = pair(dt, xv), y = randPair(rng, dt, n), dy = randPair(rng, dt, n), dx = randPair(rng, dt, n);
        await runComposed('activationForward', op, x.c, y.c, n);
        oracle.activationForward(op, x.r, y.r, n);
        check(y, tol, 'y');
        await runComposed('activationBackward', op, x.c, dy.c, dx.c, n);
        oracle.activationBackward(op, x.r, dy.r, dx.r, n);
        check(dx, tol, 'dx');
      });
    }
  }

  const convCases: { dt: DType; T: number; B: number; C: number; K: number; bias: boolean; want: [boolean, boolean, boolean] }[] = [
    { dt: 'f64', T: 6, B: 2, C: 3, K: 1, bias: false, want: [true, true, true] },
    { dt: 'f64', T: 6, B: 2, C: 3, K: 1, bias: true, want: [true, true, true] },
    { dt: 'f64', T: 6, B: 2, C: 3, K: 4, bias: false, want: [true, true, true] },
    { dt: 'f64', T: 6, B: 2, C: 3, K: 4, bias: true, want: [true, true, true] },
    { dt: 'f64', T: 3, B: 1, C: 2, K: 4, bias: true, want: [true, true, true] },
    { dt: 'f64', T: 5, B: 3, C: 2, K: 4, bias: true, want: [true, false, false] },
    { dt: 'f64', T: 5, B: 3, C: 2, K: 4, bias: false, want: [false, true, false] },
    { dt: 'f64', T: 5, B: 3, C: 2, K: 4, bias: true, want: [false, false, true] },
    { dt: 'f32', T: 6, B: 2, C: 3, K: 4, bias: true, want: [true, true, true] },
  ];
  for (const { dt, T, B, C, K, bias, want } of convCases) {
    it(`causal conv1d ${dt} T ${T} B ${B} C ${C} K ${K} ${bias ? 'bias' : 'no bias'}, grads ${want.map((x, i) => (x ? ['dx', 'dw', 'db'][i] : '-')).join(' ')}`, async () => {
      const rng = new Rng(T * 1000 + B * 100 + C * 10 + K + (bias ? 7 : 0) + (dt === 'f32' ? 3 : 0) + want.reduce((a, x, i) => a + (x ? 1 << (i + 16) : 0), 0));
      const tol = TOL[dt], N = T * B * C;
      const x = randPair(rng, dt, N), w = randPair(rng, dt, C * K), bs = bias ? randPair(rng, dt, C) : null;
      const y = randPair(rng, dt, N, 9);
      await runComposed('causalConv1dForward', T, B, C, K, x.c, w.c, bs ? bs.c : null, y.c);
      oracle.causalConv1dForward(T, B, C, K, x.r, w.r, bs ? bs.r : null, y.r);
      check(y, tol, 'y');
      const dy = randPair(rng, dt, N);
      const dx = want[0] ? randPair(rng, dt, N, 9) : null, dw = want[1] ? randPair(rng, dt, C * K, 9) : null;
      const db = want[2] ? randPair(rng, dt, C, 9) : null;
      await runComposed('causalConv1dBackward', T, B, C, K, x.c, w.c, dy.c, dx ? dx.c : null, dw ? dw.c : null, db ? db.c : null);
      oracle.causalConv1dBackward(T, B, C, K, x.r, w.r, dy.r, dx ? dx.r : null, dw ? dw.r : null, db ? db.r : null);
      if (dx) check(dx, tol, 'dx');
      if (dw) check(dw, tol, 'dw');
      if (db) check(db, tol, 'db');
    });
  }
});

it('how the fallbacks were reached', async () => {
  const { via } = await loaded;
  console.log(`# composed-xlstm: fallbacks called through ${via}`);
});
