import type { LstmCellOptions, Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import { isStandardLstmCell, lstmCellLayout } from '../backend/lstm-cell.js';
import type { RecurrentStream } from '../nn/lstmStream.js';
import type { ModuleOptions } from '../nn/module.js';
import { BatchOrder, RecurrentBase } from '../nn/rnn.js';
import type { LSTMConfig, LSTMForwardOptions, LSTMOutput } from '../nn/lstm.js';
import { checkFinite } from '../ops/checks.js';
import { kernels } from '../ops/kernels.js';
import { cellOptions, gateOrder, gateRecurrenceForward, packPeepholes, peepholeNames, resolveLstmCell, type LstmCellSpec } from '../ops/lstm-cell.js';
import { batchSizes, copyRows } from '../ops/recurrent.js';
import { concat, permute } from '../ops/shape.js';
import { checkOptions } from '../tensor/check.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { INFERENCE_ONLY, type HasQuantized, type WeightSource } from './source.js';
import type { QuantizedWeight } from './weight.js';
import { fusedSequence, fusedStep, type FusedInput, type FusedStep } from './step.js';

/** One direction of a quantized LSTM layer. */
interface QLstmWeights {
  wIh: QuantizedWeight;        // [G*H, I]
  wHh: QuantizedWeight;        // [G*H, Hout]
  wHr: QuantizedWeight | null; // [Hout, H] projection
  bias: Storage | null;        // [G*H] b_ih + b_hh, summed once
  wci: Tensor | null; wcf: Tensor | null; wco: Tensor | null; // [H] peepholes (f32)
  wGr: Tensor | null;          // [3H, 3H] FGR gate recurrence (f32)
}

/**
 * torch.nn.LSTM for inference with W_ih, W_hh (and LSTMP's W_hr) quantized (src/quant/scheme.ts);
 * biases, peepholes and FGR's weight_gr stay f32. Every cell the float LSTM has (peepholes, each
 * of Greff et al.'s variants, projection), stacked, bidirectional, variable lengths. Parameter
 * names are the float module's. The step is the float one's (ops/lstm.ts, ops/step.ts) with
 * each product a quantized GEMM; the cell kernels are the same.
 */
export class QuantLSTM extends RecurrentBase implements HasQuantized {
  readonly projSize: number;
  readonly cell: LstmCellSpec | undefined;
  readonly weights: QLstmWeights[][] = [];
  readonly quantized = new Map<string, QuantizedWeight>();

  constructor(config: LSTMConfig, src: WeightSource, opts?: ModuleOptions) {
    super('LSTM', config, ['projSize', 'peepholes', 'variant'], opts);
    if (this.dtype !== 'f32') throw new Error(`quantized LSTM: runs in f32, got ${this.dtype}`);
    const P = this.projSize = config.projSize ?? 0;
    const cell = this.cell = resolveLstmCell('LSTM', config.variant, config.peepholes, P);
    const NG = gateOrder(cell).length, peeps = peepholeNames(cell), H = this.hiddenSize, Hout = P || H, G = NG * H;
    const q = (name: string, rows: number, cols: number) => { const w = src.quant(name, rows, cols); this.quantized.set(name, w); return w; };
    const f = (name: string, shape: number[]) => this.addParameterValues(name, shape, src.float(name, shape));
    for (let l = 0; l < this.numLayers; l++) {
      const I = l === 0 ? this.inputSize : Hout * this.numDirections;
      const dirs: QLstmWeights[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const s = this.suffix(l, d);
        const wIh = q(`weight_ih${s}`, G, I), wHh = q(`weight_hh${s}`, G, Hout);
        const bIh = this.bias ? f(`bias_ih${s}`, [G]) : null, bHh = this.bias ? f(`bias_hh${s}`, [G]) : null;
        let bias: Storage | null = null;
        if (bIh && bHh) {
          const a = bIh.dataSync(), b = bHh.dataSync();
          bias = this.backend.upload('f32', Float32Array.from(a, (v, i) => v + b[i]));
          keepStorage(bias);
        }
        dirs.push({
          wIh, wHh, bias, wHr: P ? q(`weight_hr${s}`, P, H) : null,
          wci: peeps.includes('ci') ? f(`weight_ci${s}`, [H]) : null,
          wcf: peeps.includes('cf') ? f(`weight_cf${s}`, [H]) : null,
          wco: peeps.includes('co') ? f(`weight_co${s}`, [H]) : null,
          wGr: cell?.gateRecurrence ? f(`weight_gr${s}`, [3 * H, 3 * H]) : null,
        });
      }
      this.weights.push(dirs);
    }
    this.training = false;
  }

  override train(on = true): this {
    if (on) throw new Error(`quantized LSTM: ${INFERENCE_ONLY}`);
    return super.train(false);
  }

  get outputSize(): number { return this.projSize || this.hiddenSize; }

  stream(batch = 1): QuantLSTMStream { return new QuantLSTMStream(this, batch); }

  forward(input: Tensor, opts: LSTMForwardOptions = {}): LSTMOutput {
    checkOptions('LSTM.forward', opts, ['h0', 'c0', 'lengths']);
    let x = this.timeMajor(input);
    const [T, B] = x.shape;
    const H = this.hiddenSize, Hout = this.outputSize;
    const order = new BatchOrder(opts.lengths, T, B, x);
    const lengths = opts.lengths ? order.sorted : null;
    const h0 = order.toSorted(this.initialState('h0', opts.h0, B, Hout));
    const c0 = order.toSorted(this.initialState('c0', opts.c0, B, H));
    x = order.toSorted(x);
    const hs: Tensor[] = [], cs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const r = this.layer(x, this.layerSlice(h0, l), this.layerSlice(c0, l), this.weights[l], lengths);
      x = r.y; hs.push(r.hN); cs.push(r.cN);
    }
    let y = order.toOriginal(x);
    if (this.batchFirst) y = permute(y, [1, 0, 2]);
    const hN = order.toOriginal(hs.length === 1 ? hs[0] : concat(hs, 0));
    const cN = order.toOriginal(cs.length === 1 ? cs[0] : concat(cs, 0));
    return { y, hN, cN };
  }

  /** One layer, both directions: lstmLayer's inference path (ops/lstm.ts) with quantized products. */
  private layer(x: Tensor, h0: Tensor, c0: Tensor, dirs: readonly QLstmWeights[], lengths: ArrayLike<number> | null): { y: Tensor; hN: Tensor; cN: Tensor } {
    const [T, B, I] = x.shape, D = dirs.length, H = this.hiddenSize, Hout = this.outputSize;
    const be = kernels(x.backend), GH = lstmCellLayout(cellOptions(this.cell, null, false)).G * H, DH = D * Hout;
    const bs = batchSizes(lengths, T, B);
    const y = new Tensor(be.alloc('f32', T * B * DH), [T, B, DH]);
    const hN = new Tensor(be.alloc('f32', D * B * Hout), [D, B, Hout]);
    const cN = new Tensor(be.alloc('f32', D * B * H), [D, B, H]);
    for (let d = 0; d < D; d++) {
      const w = dirs[d], reverse = d === 1;
      const G = be.alloc('f32', T * B * GH);                 // [T, B, GH] gate pre-activations, then activations
      const R = w.wHr ? be.alloc('f32', B * H) : null;        // [B, H] o * tanh(c) before the projection
      const peeps = this.cell?.peepholes ? packPeepholes(be, 'f32', H, w.wci, w.wcf, w.wco) : null;
      const cell = cellOptions(this.cell, peeps, false);
      // The plain cell (no projection, peepholes, variant): the backend's fused step where it has one.
      const fused = !R && !w.wGr && isStandardLstmCell(cell) ? fusedStep(this.backend) : null;
      w.wIh.apply(T * B, x.storage, 0, I, w.bias, G, 0, GH, false);
      if (w.wGr) for (let t = 0; t < T; t++) if (bs[t] < B) be.fill(G, (t * B + bs[t]) * GH, (B - bs[t]) * GH, 0);
      const h = hN.storage, c = cN.storage, hOff = d * B * Hout, cOff = d * B * H;
      copyRows(be, B, Hout, h0.storage, hOff, Hout, h, hOff, Hout);
      copyRows(be, B, H, c0.storage, cOff, H, c, cOff, H);
      // Every row runs every step (no shorter lengths): the whole recurrence at once where the backend can.
      const seq = fused && bs.every((n) => n === B) ? fusedSequence(this.backend) : null;
      if (seq && seq(T, B, H, reverse, w.wHh, G, 0, h, hOff, c, cOff, y.storage, d * Hout, DH)) {
        for (const s of [G, R, peeps]) if (s) be.dispose(s);
        continue;
      }
      for (let step = 0; step < T; step++) {
        const t = reverse ? T - 1 - step : step, n = bs[t];
        if (n === 0) continue;
        const g = t * B * GH, yo = t * B * DH + d * Hout;
        if (fused && fused(n, H, h, hOff, Hout, w.wHh, G, g, c, cOff, c, cOff, y.storage, yo, DH)) {
          copyRows(be, n, Hout, y.storage, yo, DH, h, hOff, Hout);
          continue;
        }
        w.wHh.apply(n, h, hOff, Hout, null, G, g, GH, true);
        if (w.wGr && step > 0) {
          const tp = reverse ? t + 1 : t - 1;
          gateRecurrenceForward(be, Math.min(n, bs[tp]), H, G, tp * B * GH, w.wGr.storage, G, g);
        }
        if (R) {
          be.lstmCellForward(n, H, G, g, c, cOff, c, cOff, R, 0, H, cell);
          w.wHr!.apply(n, R, 0, H, null, y.storage, yo, DH, false);
        } else {
          be.lstmCellForward(n, H, G, g, c, cOff, c, cOff, y.storage, yo, DH, cell);
        }
        copyRows(be, n, Hout, y.storage, yo, DH, h, hOff, Hout);
      }
      for (const s of [G, R, peeps]) if (s) be.dispose(s);
    }
    return { y, hN, cN };
  }
}

/**
 * Streaming inference with a quantized LSTM (LSTMStream's contract, src/nn/lstmStream.ts): the
 * state and one step's scratch made once, nothing allocated per step.
 */
export class QuantLSTMStream implements RecurrentStream {
  readonly h: Tensor;          // [L, B, Hout]
  readonly c: Tensor;          // [L, B, H]
  readonly act: Tensor | null; // FGR: [L, B, 4H] the last step's gate activations
  readonly y: Tensor;          // [B, Hout]
  private readonly gates: Storage;           // [B, GH]
  private readonly r: Storage | null;        // [B, H] (LSTMP)
  private readonly hNext: Storage | null;    // [B, Hout] the fused step's output (it may not write the h it reads)
  private readonly fused: FusedStep | null;
  private readonly inputs: (FusedInput | null)[]; // per layer: the fused step's input product (int8), its x set each step
  private readonly peeps: (Storage | null)[]; // per layer [3H]
  private readonly cells: (LstmCellOptions | undefined)[];
  private readonly GH: number;

  constructor(private readonly m: QuantLSTM, readonly batch = 1) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`LSTM.stream: expected a positive integer batch size, got ${batch}`);
    if (m.numDirections !== 1) throw new Error('LSTM.stream: a bidirectional LSTM needs the whole sequence; it cannot run one step at a time');
    const be = kernels(m.backend), L = m.numLayers, H = m.hiddenSize, Hout = m.outputSize, B = batch;
    this.GH = lstmCellLayout(cellOptions(m.cell, null, false)).G * H;
    this.h = new Tensor(be.alloc('f32', L * B * Hout), [L, B, Hout]);
    this.c = new Tensor(be.alloc('f32', L * B * H), [L, B, H]);
    this.act = m.cell?.gateRecurrence ? new Tensor(be.alloc('f32', L * B * 4 * H), [L, B, 4 * H]) : null;
    this.y = new Tensor(be.alloc('f32', B * Hout), [B, Hout]);
    this.gates = be.alloc('f32', B * this.GH);
    this.r = m.projSize ? be.alloc('f32', B * H) : null;
    this.peeps = m.weights.map(([w]) => (m.cell?.peepholes ? packPeepholes(be, 'f32', H, w.wci, w.wcf, w.wco) : null));
    this.cells = this.peeps.map((p) => cellOptions(m.cell, p, false));
    this.fused = !m.projSize && !this.act && this.cells.every((c) => isStandardLstmCell(c)) ? fusedStep(m.backend) : null;
    this.hNext = this.fused ? be.alloc('f32', B * Hout) : null;
    // Made once: a step only points them at its x (nothing allocated per step).
    this.inputs = m.weights.map(([w]) => (w.wIh.scheme === 'int8' && w.wHh.scheme === 'int8' ? { x: this.h.storage, xOff: 0, ldx: 0, w: w.wIh, bias: w.bias } : null));
    for (const s of this.storages()) keepStorage(s);
  }

  get state(): Tensor[] { return this.act ? [this.h, this.c, this.act] : [this.h, this.c]; }

  reset(h0?: Tensor | null, c0?: Tensor | null, act0?: Tensor | null): void {
    loadState('h0', h0, this.h);
    loadState('c0', c0, this.c);
    if (this.act) loadState('act0', act0, this.act);
  }

  /** The weights are fixed (inference only): nothing to re-read. */
  refresh(): void { /* nothing packed from weights that can change */ }

  step(x: Tensor): Tensor {
    const m = this.m, B = this.batch, H = m.hiddenSize, Hout = m.outputSize, GH = this.GH;
    checkStepInput(x, B, m.inputSize, this.h);
    const be = kernels(m.backend), h = this.h.storage, c = this.c.storage, gates = this.gates, r = this.r;
    let inp = x.storage, inOff = 0, I = m.inputSize;
    for (let l = 0; l < m.numLayers; l++) {
      const w = m.weights[l][0], hOff = l * B * Hout, cOff = l * B * H, cell = this.cells[l];
      // int8: the fused step takes the input product too (one synchronisation a step).
      const input = this.inputs[l];
      if (input) { input.x = inp; input.xOff = inOff; input.ldx = I; }
      if (!input) w.wIh.apply(B, inp, inOff, I, w.bias, gates, 0, GH, false);   // x W_ih^T + b
      if (this.fused && this.fused(B, H, h, hOff, Hout, w.wHh, gates, 0, c, cOff, c, cOff, this.hNext!, 0, Hout, input)) {
        be.copy2d(B, Hout, this.hNext!, 0, Hout, h, hOff, Hout, false);
        inp = h; inOff = hOff; I = Hout;
        continue;
      }
      if (input) w.wIh.apply(B, inp, inOff, I, w.bias, gates, 0, GH, false);
      w.wHh.apply(B, h, hOff, Hout, null, gates, 0, GH, true);      // + h_{t-1} W_hh^T
      if (this.act) gateRecurrenceForward(be, B, H, this.act.storage, l * B * GH, w.wGr!.storage, gates, 0);
      if (r) {
        be.lstmCellForward(B, H, gates, 0, c, cOff, c, cOff, r, 0, H, cell);
        w.wHr!.apply(B, r, 0, H, null, h, hOff, Hout, false);
      } else {
        be.lstmCellForward(B, H, gates, 0, c, cOff, c, cOff, h, hOff, Hout, cell);
      }
      if (this.act) be.copy2d(1, B * GH, gates, 0, B * GH, this.act.storage, l * B * GH, B * GH, false);
      inp = h; inOff = hOff; I = Hout;
    }
    be.copy2d(B, Hout, h, (m.numLayers - 1) * B * Hout, Hout, this.y.storage, 0, Hout, false);
    return this.y;
  }

  dispose(): void { for (const s of this.storages()) this.m.backend.dispose(s); }

  private storages(): Storage[] {
    return [this.h.storage, this.c.storage, this.act?.storage ?? null, this.y.storage, this.gates, this.r, this.hNext, ...this.peeps]
      .filter((s): s is Storage => s !== null);
  }
}

/** x [B, I] checked against the stream (as ops/step.ts does for the float step). */
export function checkStepInput(x: Tensor, B: number, I: number, like: Tensor): void {
  if (x.rank !== 2 || x.shape[0] !== B || x.shape[1] !== I) throw new Error(`quantized stream step: expected x of shape [${B}, ${I}], got ${fmt(x.shape)}`);
  if (x.backend !== like.backend || x.dtype !== like.dtype) throw new Error(`quantized stream step: x is ${x.dtype} on ${x.backend.name}, the model is ${like.dtype} on ${like.backend.name}`);
  checkFinite('quantized stream step x', x);
}

/** Copy `src` (zeros when absent) into the state tensor `dst`. */
export function loadState(name: string, src: Tensor | null | undefined, dst: Tensor): void {
  const be = kernels(dst.backend);
  if (!src) { be.fill(dst.storage, 0, dst.size, 0); return; }
  if (fmt(src.shape) !== fmt(dst.shape)) throw new Error(`quantized stream reset: expected ${name} of shape ${fmt(dst.shape)}, got ${fmt(src.shape)}`);
  if (src.backend !== dst.backend || src.dtype !== dst.dtype) throw new Error(`quantized stream reset: ${name} is ${src.dtype} on ${src.backend.name}, the state is ${dst.dtype} on ${dst.backend.name}`);
  checkFinite(`quantized stream ${name}`, src);
  be.copy2d(1, dst.size, src.storage, 0, dst.size, dst.storage, 0, dst.size, false);
}
