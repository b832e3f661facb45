import type { LstmCellOptions, OptionalKernels, PreparedB, Storage } from '../backend.js';
import { lstmCellLayout } from '../lstm-cell.js';
import { WebGpuCore, WebGpuStorage, type Words } from './core.js';
import { openDevice, type GpuContext } from './device.js';
import { CTC } from './wgsl-ctc.js';
import { GRU, LSTM, OPTIM, SOFTMAX } from './wgsl-sets.js';

export { WebGpuCore, WebGpuStorage };

type Native = Pick<OptionalKernels, 'copy2d' | 'adamStep' | 'flushSubnormal' | 'anyNonFinite' | 'softmax' | 'softmaxBackward'
  | 'lstmCellForward' | 'lstmCellBackward' | 'lstmStep' | 'lstmStepBackward' | 'gruCellForward' | 'gruCellBackward'
  | 'prepareB' | 'gemmPrepared' | 'releasePrepared' | 'linear2' | 'ctc'>;

/**
 * The webgpu backend: the core plus the kernel sets it runs natively in WGSL (copy, optim, check,
 * softmax, lstm, gru, packing, ctc); the others (xLSTM, norm, conv) run as their composed
 * fallbacks over the core. Built by `create()` (asynchronous: adapter and device).
 */
export class WebGpuBackend extends WebGpuCore implements Native {
  static async create(): Promise<WebGpuBackend> {
    return new WebGpuBackend(await openDevice());
  }

  constructor(ctx: GpuContext) {
    super(ctx);
    this.addShader('optim', OPTIM);
    this.addShader('softmax', SOFTMAX);
    this.addShader('lstm', LSTM);
    this.addShader('gru', GRU);
    this.addShader('ctc', CTC);
  }

  // ---- copy ----
  copy2d(rows: number, cols: number, src: Storage, sOff: number, ldSrc: number,
    dst: Storage, dOff: number, ldDst: number, accumulate: boolean): void {
    this.strided(accumulate ? 1 : 0, [rows, cols], src, sOff, [ldSrc, 1], dst, dOff, [ldDst, 1]);
  }

  // ---- optim, check ----
  adamStep(p: Storage, g: Storage, m: Storage, v: Storage, vmax: Storage | null, n: number,
    lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, decoupled: boolean, step: number): void {
    if (n <= 0) return;
    const w = this.w();
    w.i[0] = 0; w.i[1] = n; w.i[2] = vmax ? 1 : 0; w.i[3] = decoupled ? 1 : 0;
    w.f[8] = lr; w.f[9] = beta1; w.f[10] = beta2; w.f[11] = eps; w.f[12] = weightDecay;
    w.f[13] = -lr / (1 - beta1 ** step); w.f[14] = 1 / Math.sqrt(1 - beta2 ** step);
    w.f[15] = 1 - beta1; w.f[16] = 1 - beta2;
    this.dispatch1d('optim', [p, g, m, v, vmax ?? p], n);
  }
  flushSubnormal(s: Storage, n: number): void {
    if (n <= 0) return;
    const w = this.w();
    w.i[0] = 1; w.i[1] = n;
    this.dispatch1d('optim', [s, s, s, s, s], n);
  }
  anyNonFinite(x: Storage, xOff: number, n: number, out: Storage, outOff: number): void {
    const w = this.w();
    w.i[0] = 2; w.i[1] = n; w.i[4] = xOff; w.i[5] = outOff; w.i[6] = out.dtype === 'i32' ? 1 : 0;
    this.dispatch('optim', [x, x, x, x, out], 1);
  }

  // ---- softmax ----
  softmax(x: Storage, out: Storage, rows: number, cols: number, log: boolean): void {
    this.softmaxCall(0, x, out, out, rows, cols, log, false);
  }
  softmaxBackward(y: Storage, dy: Storage, dx: Storage, rows: number, cols: number, log: boolean, accumulate: boolean): void {
    this.softmaxCall(1, y, dy, dx, rows, cols, log, accumulate);
  }
  private softmaxCall(mode: number, a: Storage, b: Storage, c: Storage, rows: number, cols: number, log: boolean, acc: boolean): void {
    if (rows <= 0 || cols <= 0) return;
    const w = this.w();
    w.i[0] = mode; w.i[1] = rows; w.i[2] = cols; w.i[3] = log ? 1 : 0; w.i[4] = acc ? 1 : 0;
    const gx = Math.min(rows, 65535);
    this.dispatch('softmax', [a, b, c], gx, Math.ceil(rows / gx));
  }

  // ---- lstm ----
  /** Words 8-18: the cell's layout and options (the standard cell without options). */
  private cellWords(w: Words, cell: LstmCellOptions | undefined): void {
    const L = lstmCellLayout(cell);
    w.i[8] = L.i; w.i[9] = L.f; w.i[10] = L.g; w.i[11] = L.o; w.i[12] = L.G;
    w.i[13] = cell?.forgetGate === 'coupled' ? 1 : 0;
    w.i[14] = cell && !cell.inputActivation ? 0 : 1;
    w.i[15] = cell && !cell.outputActivation ? 0 : 1;
    w.i[16] = cell?.peepholes ? 1 : 0; w.i[17] = cell?.peepOff ?? 0;
    w.i[18] = cell?.gateRecurrence ? 1 : 0;
  }
  lstmCellForward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number, cell?: LstmCellOptions): void {
    if (rows * H <= 0) return;
    const w = this.w();
    this.cellWords(w, cell);
    w.i[0] = 0; w.i[1] = rows; w.i[2] = H; w.i[3] = gOff; w.i[4] = cpOff; w.i[5] = cOff; w.i[6] = hOff; w.i[7] = ldh;
    this.dispatch1d('lstm', [gates, cPrev, cOut, hOut, cell?.peepholes ?? gates, gates, gates], rows * H);
  }
  lstmCellBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number,
    c: Storage, cOff: number, dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number,
    dGates: Storage, dgOff: number, cell?: LstmCellOptions): void {
    if (rows * H <= 0) return;
    const w = this.w();
    this.cellWords(w, cell);
    w.i[0] = 1; w.i[1] = rows; w.i[2] = H; w.i[3] = gOff; w.i[4] = cpOff; w.i[5] = cOff; w.i[6] = dhOff; w.i[7] = ldh;
    w.i[19] = dcOff; w.i[20] = dgOff;
    this.dispatch1d('lstm', [gates, cPrev, c, dh, cell?.peepholes ?? gates, dc, dGates], rows * H);
  }
  lstmStep(rows: number, H: number, hIn: Storage, hInOff: number, ldhIn: number, wHh: PreparedB, gates: Storage, gOff: number,
    cPrev: Storage, cpOff: number, cOut: Storage, cOff: number, hOut: Storage, hOff: number, ldh: number): void {
    this.gemmPrepared(rows, 1, hIn, hInOff, ldhIn, wHh, 1, gates, gOff, 4 * H);
    this.lstmCellForward(rows, H, gates, gOff, cPrev, cpOff, cOut, cOff, hOut, hOff, ldh);
  }
  lstmStepBackward(rows: number, H: number, gates: Storage, gOff: number, cPrev: Storage, cpOff: number, c: Storage, cOff: number,
    dh: Storage, dhOff: number, ldh: number, dc: Storage, dcOff: number, dGates: Storage, dgOff: number, wHh: PreparedB): void {
    this.lstmCellBackward(rows, H, gates, gOff, cPrev, cpOff, c, cOff, dh, dhOff, ldh, dc, dcOff, dGates, dgOff);
    this.gemmPrepared(rows, 1, dGates, dgOff, 4 * H, wHh, 0, dh, dhOff, ldh);
  }

  // ---- gru ----
  gruCellForward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    bhh: Storage | null, hPrev: Storage, hpOff: number, ldhp: number, hOut: Storage, hOff: number, ldh: number): void {
    if (rows * H <= 0) return;
    const w = this.w();
    w.i[0] = 0; w.i[1] = rows; w.i[2] = H; w.i[3] = gxOff; w.i[4] = ghOff; w.i[5] = hpOff; w.i[6] = ldhp; w.i[7] = hOff; w.i[8] = ldh;
    w.i[9] = bhh ? 1 : 0;
    this.dispatch1d('gru', [gx, gh, hPrev, hOut, bhh ?? gx, gx, gx], rows * H);
  }
  gruCellBackward(rows: number, H: number, gx: Storage, gxOff: number, gh: Storage, ghOff: number,
    hPrev: Storage, hpOff: number, ldhp: number, dh: Storage, dhOff: number, ldh: number,
    dGx: Storage, dgxOff: number, dGh: Storage, dghOff: number, dhPrev: Storage, dhpOff: number): void {
    if (rows * H <= 0) return;
    const w = this.w();
    w.i[0] = 1; w.i[1] = rows; w.i[2] = H; w.i[3] = gxOff; w.i[4] = ghOff; w.i[5] = hpOff; w.i[6] = ldhp; w.i[7] = dhOff; w.i[8] = ldh;
    w.i[10] = dgxOff; w.i[11] = dghOff; w.i[12] = dhpOff;
    this.dispatch1d('gru', [gx, gh, hPrev, dh, dGx, dGh, dhPrev], rows * H);
  }

  // ---- ctc ----
  ctc(logProbs: Storage, T: number, N: number, C: number, targets: Storage, inputLengths: Storage,
    targetLengths: Storage, blank: number, loss: Storage, grad: Storage): void {
    if (N <= 0) return;
    // α and β of every item, side by side (the layout is in wgsl-ctc.ts): sum over n of T (2 S_n + 1) each.
    // then each item's row totals Z [N, T].
    const half = T * (2 * targets.length + N);
    const scratch = this.alloc('f32', 2 * half + N * T);
    const w = this.w();
    w.i[0] = T; w.i[1] = N; w.i[2] = C; w.i[3] = blank; w.i[4] = half; w.i[5] = 2 * half;
    const gx = Math.min(N, 65535);
    this.dispatch('ctc', [logProbs, targets, inputLengths, targetLengths, loss, grad, scratch], gx, Math.ceil(N / gx));
    this.dispose(scratch); // back to the pool: later dispatches in this pass run after this one
  }

  // ---- packing: nothing to pack on a GPU; the descriptor, and GEMMs on it ----
  prepareB(transB: boolean, k: number, n: number, b: Storage, bOff: number, ldb: number): PreparedB {
    return { transB, k, n, b, bOff, ldb };
  }
  gemmPrepared(m: number, alpha: number, a: Storage, aOff: number, lda: number, p: PreparedB,
    beta: number, c: Storage, cOff: number, ldc: number): void {
    this.gemm(false, p.transB, m, p.n, p.k, alpha, a, aOff, lda, p.b, p.bOff, p.ldb, beta, c, cOff, ldc);
  }
  releasePrepared(_p: PreparedB): void { /* nothing was made */ }
  linear2(m: number, n: number, k1: number, x1: Storage, x1Off: number, ldx1: number, w1: Storage,
    k2: number, x2: Storage | null, x2Off: number, ldx2: number, w2: Storage | null,
    b1: Storage | null, b2: Storage | null, out: Storage, outOff: number, ldo: number): void {
    // Bias rows broadcast into out, then the products accumulate onto them.
    if (b1) this.strided(0, [m, n], b1, 0, [0, 1], out, outOff, [ldo, 1]);
    if (b2) this.strided(b1 ? 1 : 0, [m, n], b2, 0, [0, 1], out, outOff, [ldo, 1]);
    this.gemm(false, true, m, n, k1, 1, x1, x1Off, ldx1, w1, 0, k1, b1 || b2 ? 1 : 0, out, outOff, ldo);
    if (k2 > 0 && x2 && w2) this.gemm(false, true, m, n, k2, 1, x2, x2Off, ldx2, w2, 0, k2, 1, out, outOff, ldo);
  }
}
