import type { LstmCellOptions, Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import { lstmCellLayout } from '../backend/lstm-cell.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { GruWeights } from './gru.js';
import type { LstmWeights } from './lstm.js';
import { cellOptions, checkCellSpec, gateRecurrenceForward, type LstmCellSpec } from './lstm-cell.js';
import { checkFinite } from './checks.js';
import { kernels } from './kernels.js';

/**
 * THE streaming step: one time step of a stacked unidirectional LSTM or GRU, on state buffers
 * made once (the step objects below) and updated in place. Every streaming path runs through
 * here: LSTM.stream / GRU.stream (src/nn), StreamingModel (src/models/stream.ts, and with it
 * `carousel predict` and text generation) and the bench's B2.
 *
 * A step reads the module's weights as they are at that step (the weight tensors are held by
 * reference), records nothing on the tape, allocates nothing on the backend (CPU backends: the
 * input's finite check reads a kept flag; a GPU defers it), and runs as
 * in eval(): no dropout between layers. Per layer and step:
 *   LSTM: gates = x W_ih^T + h W_hh^T + b (one linear2) [+ act_{t-1} W_gr^T, FGR], the fused cell
 *         kernel updating c in place and writing h (or r = o tanh c, then h = r W_hr^T: LSTMP).
 *   GRU:  gx = x W_ih^T + b_ih (linear2), gh = h W_hh^T (gemm), the fused cell kernel.
 */

/**
 * The buffers of an LSTM stream: the state (h, c and, for FGR, the last gate activations), the
 * top layer's output and one step's scratch, all made here once and kept out of tidy() scopes.
 *
 * Peepholes: the kernel reads (w_ci, w_cf, w_co) as one [3H] vector, so each layer's are packed
 * here once. The packed copy is refreshed by `refresh()` and by `reset()`; call refresh() after
 * changing the weights in place while a stream runs (an optimizer step, loadStateDict). Every
 * other weight is read directly at each step.
 */
export class LstmStepState {
  readonly batch: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly outputSize: number;
  readonly numLayers: number;
  readonly h: Tensor;          // [L, B, Hout] h_{t-1} before a step, h_t after
  readonly c: Tensor;          // [L, B, H]
  /** FGR only: [L, B, 4H] the last step's gate activations (i, f, g, o); zeros before the first step. */
  readonly act: Tensor | null;
  readonly y: Tensor;          // [B, Hout] the top layer's h after the last step
  /** @internal */ readonly gates: Storage;          // [B, G*H] one layer's pre-activations, then activations
  /** @internal */ readonly r: Storage | null;       // [B, H] o * tanh(c) before the projection (LSTMP)
  /** @internal */ readonly peeps: (Storage | null)[]; // per layer [3H] (w_ci, w_cf, w_co) packed for the kernel
  /** @internal */ readonly cells: (LstmCellOptions | undefined)[]; // per layer kernel options (undefined: standard cell)
  /** @internal */ readonly GH: number;              // gate width of one row, G*H

  /** `layers`: one weight set per layer, bottom first (one direction); `what` names the stream in errors. */
  constructor(readonly layers: readonly LstmWeights[], readonly spec: LstmCellSpec | undefined, batch: number, readonly what = 'lstmStep') {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`${what}: expected a positive integer batch size, got ${batch}`);
    if (layers.length < 1) throw new Error(`${what}: expected at least one layer`);
    if (spec) checkCellSpec(what, spec);
    const w0 = layers[0], be = kernels(w0.wIh.backend), dt = w0.wIh.dtype, B = this.batch = batch;
    const NG = lstmCellLayout(cellOptions(spec, null, false)).G;
    const H = this.hiddenSize = w0.wHh.shape[0] / NG, Hout = this.outputSize = w0.wHr ? w0.wHr.shape[0] : H;
    const L = this.numLayers = layers.length;
    this.inputSize = w0.wIh.shape[1];
    this.GH = NG * H;
    this.h = new Tensor(be.alloc(dt, L * B * Hout), [L, B, Hout]);
    this.c = new Tensor(be.alloc(dt, L * B * H), [L, B, H]);
    this.act = spec?.gateRecurrence ? new Tensor(be.alloc(dt, L * B * 4 * H), [L, B, 4 * H]) : null;
    this.y = new Tensor(be.alloc(dt, B * Hout), [B, Hout]);
    this.gates = be.alloc(dt, B * this.GH);
    this.r = w0.wHr ? be.alloc(dt, B * H) : null;
    this.peeps = layers.map(() => (spec?.peepholes ? be.alloc(dt, 3 * H) : null));
    this.cells = this.peeps.map((p) => cellOptions(spec, p, false));
    // The state owns these (dispose()); they outlive any tidy() scope it was made in.
    for (const s of this.storages()) keepStorage(s);
    this.refresh();
  }

  /** Re-pack the peephole vectors from the current weights (see the class comment). */
  refresh(): void {
    const be = kernels(this.h.backend), H = this.hiddenSize;
    this.layers.forEach((w, l) => {
      const p = this.peeps[l];
      if (!p) return;
      [w.wci, w.wcf, w.wco].forEach((v, k) => { if (v) be.copy2d(1, H, v.storage, 0, H, p, k * H, H, false); });
    });
  }

  /** Start again from h0 [L, B, Hout], c0 [L, B, H] and (FGR) act0 [L, B, 4H]; zeros where absent. Refreshes. */
  reset(h0?: Tensor | null, c0?: Tensor | null, act0?: Tensor | null): void {
    loadState(this.what, 'h0', h0, this.h);
    loadState(this.what, 'c0', c0, this.c);
    if (this.act) loadState(this.what, 'act0', act0, this.act);
    this.refresh();
  }

  /** The state as tensors (the live buffers, updated in place by each step): [h, c] or, for FGR, [h, c, act]. */
  get state(): Tensor[] { return this.act ? [this.h, this.c, this.act] : [this.h, this.c]; }

  /** Return the buffers to the backend; the state cannot be used afterwards. */
  dispose(): void {
    const be = this.h.backend;
    for (const s of this.storages()) be.dispose(s);
  }

  private storages(): Storage[] {
    return [this.h.storage, this.c.storage, this.act?.storage ?? null, this.y.storage, this.gates, this.r, ...this.peeps]
      .filter((s): s is Storage => s !== null);
  }

}

/** One time step of the stacked LSTM whose buffers `s` holds: x [B, I] -> the top layer's new h, s.y [B, Hout]. */
export function lstmStep(s: LstmStepState, x: Tensor): Tensor {
  const B = s.batch, H = s.hiddenSize, Hout = s.outputSize;
  const { gates, r, cells, GH } = s; // scratch made once by the state
  checkStepInput(s.what, x, B, s.inputSize, s.h);
  const be = kernels(s.h.backend), h = s.h.storage, c = s.c.storage;
  let inp = x.storage, inOff = 0, I = s.inputSize;
  for (let l = 0; l < s.numLayers; l++) {
    const w = s.layers[l], hOff = l * B * Hout, cOff = l * B * H, cell = cells[l];
    // gates [B, GH] = x W_ih^T + h_{t-1} W_hh^T + b_ih + b_hh in one pass (h is read before the cell overwrites it)
    be.linear2(B, GH, I, inp, inOff, I, w.wIh.storage, Hout, h, hOff, Hout, w.wHh.storage,
      w.bIh?.storage ?? null, w.bHh?.storage ?? null, gates, 0, GH);
    // FGR: + [i, f, o]_{t-1} W_gr^T (act is zero before the first step, as forward skips it there)
    if (s.act) gateRecurrenceForward(be, B, H, s.act.storage, l * B * GH, w.wGr!.storage, gates, 0);
    if (r) {
      be.lstmCellForward(B, H, gates, 0, c, cOff, c, cOff, r, 0, H, cell);                              // c in place, r [B, H]
      be.gemm(false, true, B, Hout, H, 1, r, 0, H, w.wHr!.storage, 0, H, 0, h, hOff, Hout);         // h [B, Hout] = r W_hr^T
    } else {
      be.lstmCellForward(B, H, gates, 0, c, cOff, c, cOff, h, hOff, Hout, cell);                        // c in place, h [B, H]
    }
    if (s.act) be.copy2d(1, B * GH, gates, 0, B * GH, s.act.storage, l * B * GH, B * GH, false);   // keep [i, f, g, o]_t
    inp = h; inOff = hOff; I = Hout; // the next layer reads this layer's h
  }
  be.copy2d(B, Hout, h, (s.numLayers - 1) * B * Hout, Hout, s.y.storage, 0, Hout, false);
  return s.y;
}

/** The buffers of a GRU stream: h, the top layer's output and one step's scratch, made once. */
export class GruStepState {
  readonly batch: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly h: Tensor;   // [L, B, H] h_{t-1} before a step, h_t after
  readonly y: Tensor;   // [B, H] the top layer's h after the last step
  /** @internal */ readonly gx: Storage;   // [B, 3H] x W_ih^T + b_ih, then the activations (r, z, n)
  /** @internal */ readonly gh: Storage;   // [B, 3H] h W_hh^T (+ b_hh, added by the kernel)
  /** @internal */ readonly hNew: Storage; // [B, H] the kernel's output (it may not overwrite h_{t-1}, which it reads)

  constructor(readonly layers: readonly GruWeights[], batch: number, readonly what = 'gruStep') {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`${what}: expected a positive integer batch size, got ${batch}`);
    if (layers.length < 1) throw new Error(`${what}: expected at least one layer`);
    const w0 = layers[0], be = kernels(w0.wIh.backend), dt = w0.wIh.dtype, B = this.batch = batch;
    const H = this.hiddenSize = w0.wHh.shape[1], L = this.numLayers = layers.length;
    this.inputSize = w0.wIh.shape[1];
    this.h = new Tensor(be.alloc(dt, L * B * H), [L, B, H]);
    this.y = new Tensor(be.alloc(dt, B * H), [B, H]);
    this.gx = be.alloc(dt, B * 3 * H);
    this.gh = be.alloc(dt, B * 3 * H);
    this.hNew = be.alloc(dt, B * H);
    for (const s of this.storages()) keepStorage(s);
  }

  /** Nothing is packed for a GRU; here so both step states answer the same calls. */
  refresh(): void { /* weights are read directly at each step */ }

  /** Start again from h0 [L, B, H] (zeros when absent). */
  reset(h0?: Tensor | null): void { loadState(this.what, 'h0', h0, this.h); }

  /** The state as tensors (the live buffer, updated in place by each step): [h]. */
  get state(): Tensor[] { return [this.h]; }

  dispose(): void {
    const be = this.h.backend;
    for (const s of this.storages()) be.dispose(s);
  }

  private storages(): Storage[] { return [this.h.storage, this.y.storage, this.gx, this.gh, this.hNew]; }
}

/** One time step of the stacked GRU whose buffers `s` holds (nn.GRU semantics): x [B, I] -> s.y [B, H]. */
export function gruStep(s: GruStepState, x: Tensor): Tensor {
  const B = s.batch, H = s.hiddenSize, G = 3 * H;
  const { gx, gh, hNew } = s; // scratch made once by the state
  checkStepInput(s.what, x, B, s.inputSize, s.h);
  const be = kernels(s.h.backend), h = s.h.storage;
  let inp = x.storage, inOff = 0, I = s.inputSize;
  for (let l = 0; l < s.numLayers; l++) {
    const w = s.layers[l], hOff = l * B * H;
    be.linear2(B, G, I, inp, inOff, I, w.wIh.storage, 0, null, 0, 0, null, w.bIh?.storage ?? null, null, gx, 0, G); // gx [B, 3H]
    be.gemm(false, true, B, G, H, 1, h, hOff, H, w.wHh.storage, 0, H, 0, gh, 0, G);                                // gh [B, 3H]
    be.gruCellForward(B, H, gx, 0, gh, 0, w.bHh?.storage ?? null, h, hOff, H, hNew, 0, H);
    be.copy2d(B, H, hNew, 0, H, h, hOff, H, false);
    inp = h; inOff = hOff; I = H;
  }
  be.copy2d(B, H, h, (s.numLayers - 1) * B * H, H, s.y.storage, 0, H, false);
  return s.y;
}

/** x [B, I] checked against a step's batch, input size, backend and dtype; finite on CPU without allocating. */
function checkStepInput(what: string, x: Tensor, B: number, I: number, like: Tensor): void {
  if (x.rank !== 2 || x.shape[0] !== B || x.shape[1] !== I) throw new Error(`${what} step: expected x of shape [${B}, ${I}], got ${fmt(x.shape)}`);
  if (x.backend !== like.backend || x.dtype !== like.dtype) {
    throw new Error(`${what} step: x is ${x.dtype} on ${x.backend.name}, the module is ${like.dtype} on ${like.backend.name}`);
  }
  checkFinite(`${what} step x`, x); // CPU: reads a kept flag (no allocation); a device: deferred
}

/** Copy `src` (or zeros when absent) into the state tensor `dst`, checking its shape. */
function loadState(what: string, name: string, src: Tensor | null | undefined, dst: Tensor): void {
  const be = kernels(dst.backend);
  if (!src) { be.fill(dst.storage, 0, dst.size, 0); return; }
  if (fmt(src.shape) !== fmt(dst.shape)) throw new Error(`${what} reset: expected ${name} of shape ${fmt(dst.shape)}, got ${fmt(src.shape)}`);
  if (src.backend !== dst.backend || src.dtype !== dst.dtype) {
    throw new Error(`${what} reset: ${name} is ${src.dtype} on ${src.backend.name}, the state is ${dst.dtype} on ${dst.backend.name}`);
  }
  checkFinite(`${what} ${name}`, src);
  be.copy2d(1, dst.size, src.storage, 0, dst.size, dst.storage, 0, dst.size, false);
}
