import type { LstmCellOptions, Storage } from '../backend/backend.js';
import { lstmCellLayout } from '../backend/lstm-cell.js';
import { keepStorage } from '../backend/scope.js';
import { cellOptions } from '../ops/lstm-cell.js';
import { checkFinite } from '../ops/checks.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { LSTM } from './lstm.js';
import { kernels } from '../ops/kernels.js';

/**
 * Streaming inference with an LSTM: one time step per call, the state kept in backend memory
 * between calls, and nothing allocated per step (every buffer is made once, here). Each step of
 * each layer is: the biases, two GEMMs (input and recurrent), the fused cell kernel updating c and
 * h in place, and the projection GEMM for LSTMP. It reads the module's current weights at every
 * step, records nothing on the tape and runs as in eval() (no dropout between layers).
 *
 *   const s = lstm.stream(1); for (const x of frames) { const y = s.step(x); ... }   // x [B, I] -> y [B, Hout]
 */
export class LSTMStream {
  /** The state [L, B, Hout] and [L, B, H]: read it, or set it with reset(). */
  readonly h: Tensor;
  readonly c: Tensor;
  /** The top layer's h after the last step [B, Hout]: overwritten by the next step. */
  readonly y: Tensor;
  private readonly gates: Storage;       // [B, G*H] one step's gate pre-activations / activations
  private readonly r: Storage | null;    // [B, H] o * tanh(c) before the projection (LSTMP)
  private readonly peeps: Storage | null; // [3H] (ci, cf, co) packed for the kernel
  private readonly cell: LstmCellOptions | undefined;
  private readonly GH: number;

  constructor(readonly lstm: LSTM, readonly batch = 1) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`LSTM.stream: expected a positive integer batch size, got ${batch}`);
    if (lstm.numDirections !== 1) throw new Error('LSTM.stream: a bidirectional LSTM needs the whole sequence; it cannot run one step at a time');
    if (lstm.cell?.gateRecurrence) throw new Error('LSTM.stream: the FGR variant is not supported for streaming (use forward over the sequence)');
    const be = kernels(lstm.backend), dt = lstm.dtype, B = batch, H = lstm.hiddenSize, L = lstm.numLayers, Hout = lstm.outputSize;
    this.h = new Tensor(be.alloc(dt, L * B * Hout), [L, B, Hout]);
    this.c = new Tensor(be.alloc(dt, L * B * H), [L, B, H]);
    this.y = new Tensor(be.alloc(dt, B * Hout), [B, Hout]);
    this.peeps = lstm.cell?.peepholes ? be.alloc(dt, 3 * H) : null;
    this.cell = cellOptions(lstm.cell, this.peeps, false);
    this.GH = lstmCellLayout(this.cell).G * H;
    this.gates = be.alloc(dt, B * this.GH);
    this.r = lstm.projSize ? be.alloc(dt, B * H) : null;
    // The stream owns these (dispose()); they outlive any tidy() scope it was made in.
    for (const s of [this.h.storage, this.c.storage, this.y.storage, this.peeps, this.gates, this.r]) if (s) keepStorage(s);
  }

  /** Start again from h0 [L, B, Hout] and c0 [L, B, H] (zeros when absent). */
  reset(h0?: Tensor | null, c0?: Tensor | null): void {
    const be = kernels(this.lstm.backend);
    for (const [name, src, dst] of [['h0', h0, this.h], ['c0', c0, this.c]] as const) {
      if (!src) { be.fill(dst.storage, 0, dst.size, 0); continue; }
      if (fmt(src.shape) !== fmt(dst.shape)) throw new Error(`LSTM.stream reset: expected ${name} of shape ${fmt(dst.shape)}, got ${fmt(src.shape)}`);
      checkFinite(`LSTM.stream ${name}`, src);
      be.copy2d(1, dst.size, src.storage, 0, dst.size, dst.storage, 0, dst.size, false);
    }
  }

  /** One time step: x [B, I] -> the top layer's new h [B, Hout] (this.y). */
  step(x: Tensor): Tensor {
    const m = this.lstm, be = kernels(m.backend), B = this.batch, H = m.hiddenSize, Hout = m.outputSize, GH = this.GH;
    if (x.rank !== 2 || x.shape[0] !== B || x.shape[1] !== m.inputSize) {
      throw new Error(`LSTM.stream step: expected x of shape [${B}, ${m.inputSize}], got ${fmt(x.shape)}`);
    }
    if (x.backend !== m.backend || x.dtype !== m.dtype) throw new Error(`LSTM.stream step: x is ${x.dtype} on ${x.backend.name}, the module is ${m.dtype} on ${m.backend.name}`);
    checkFinite('LSTM.stream step x', x);
    let inp = x.storage, inOff = 0, I = m.inputSize;
    for (let l = 0; l < m.numLayers; l++) {
      const w = m.weights[l][0], hOff = l * B * Hout, cOff = l * B * H;
      // gates [B, GH] = x W_ih^T + h W_hh^T + b_ih + b_hh, one pass (h is read before the cell overwrites it)
      be.linear2(B, GH, I, inp, inOff, I, w.wIh.storage, Hout, this.h.storage, hOff, Hout, w.wHh.storage,
        w.bIh?.storage ?? null, w.bHh?.storage ?? null, this.gates, 0, GH);
      if (this.peeps) {
        const peep = [w.wci, w.wcf, w.wco];
        for (let k = 0; k < 3; k++) { const p = peep[k]; if (p) be.copy2d(1, H, p.storage, 0, H, this.peeps, k * H, H, false); }
      }
      if (this.r) {
        be.lstmCellForward(B, H, this.gates, 0, this.c.storage, cOff, this.c.storage, cOff, this.r, 0, H, this.cell);
        be.gemm(false, true, B, Hout, H, 1, this.r, 0, H, w.wHr!.storage, 0, H, 0, this.h.storage, hOff, Hout);
      } else {
        be.lstmCellForward(B, H, this.gates, 0, this.c.storage, cOff, this.c.storage, cOff, this.h.storage, hOff, Hout, this.cell);
      }
      inp = this.h.storage; inOff = hOff; I = Hout; // the next layer reads this layer's h
    }
    be.copy2d(B, Hout, this.h.storage, (m.numLayers - 1) * B * Hout, Hout, this.y.storage, 0, Hout, false);
    return this.y;
  }

  /** Return the buffers to the backend; the stream cannot be used afterwards. */
  dispose(): void {
    const be = kernels(this.lstm.backend);
    for (const s of [this.h.storage, this.c.storage, this.y.storage, this.gates, this.r, this.peeps]) if (s) be.dispose(s);
  }
}
