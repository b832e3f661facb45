import type { Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import type { GRUConfig, GRUForwardOptions, GRUOutput } from '../nn/gru.js';
import type { RecurrentStream } from '../nn/lstmStream.js';
import type { ModuleOptions } from '../nn/module.js';
import { BatchOrder, RecurrentBase } from '../nn/rnn.js';
import { kernels } from '../ops/kernels.js';
import { batchSizes, copyRows } from '../ops/recurrent.js';
import { concat, permute } from '../ops/shape.js';
import { checkOptions } from '../tensor/check.js';
import { Tensor, type Parameter } from '../tensor/tensor.js';
import { checkStepInput, loadState } from './lstm.js';
import { INFERENCE_ONLY, type HasQuantized, type WeightSource } from './source.js';
import type { QuantizedWeight } from './weight.js';

interface QGruWeights { wIh: QuantizedWeight; wHh: QuantizedWeight; bIh: Parameter | null; bHh: Parameter | null }

/**
 * torch.nn.GRU for inference with W_ih and W_hh quantized (src/quant/scheme.ts), biases f32:
 * gruLayer's inference path (ops/gru.ts) with quantized products and the same cell kernel.
 */
export class QuantGRU extends RecurrentBase implements HasQuantized {
  readonly weights: QGruWeights[][] = [];
  readonly quantized = new Map<string, QuantizedWeight>();

  constructor(config: GRUConfig, src: WeightSource, opts?: ModuleOptions) {
    super('GRU', config, [], opts);
    if (this.dtype !== 'f32') throw new Error(`quantized GRU: runs in f32, got ${this.dtype}`);
    const H = this.hiddenSize, G = 3 * H;
    const q = (name: string, rows: number, cols: number) => { const w = src.quant(name, rows, cols); this.quantized.set(name, w); return w; };
    const f = (name: string, shape: number[]) => this.addParameterValues(name, shape, src.float(name, shape));
    for (let l = 0; l < this.numLayers; l++) {
      const I = l === 0 ? this.inputSize : H * this.numDirections;
      const dirs: QGruWeights[] = [];
      for (let d = 0; d < this.numDirections; d++) {
        const s = this.suffix(l, d);
        dirs.push({
          wIh: q(`weight_ih${s}`, G, I), wHh: q(`weight_hh${s}`, G, H),
          bIh: this.bias ? f(`bias_ih${s}`, [G]) : null, bHh: this.bias ? f(`bias_hh${s}`, [G]) : null,
        });
      }
      this.weights.push(dirs);
    }
    this.training = false;
  }

  override train(on = true): this {
    if (on) throw new Error(`quantized GRU: ${INFERENCE_ONLY}`);
    return super.train(false);
  }

  get outputSize(): number { return this.hiddenSize; }

  stream(batch = 1): QuantGRUStream { return new QuantGRUStream(this, batch); }

  forward(input: Tensor, opts: GRUForwardOptions = {}): GRUOutput {
    checkOptions('GRU.forward', opts, ['h0', 'lengths']);
    let x = this.timeMajor(input);
    const [T, B] = x.shape;
    const order = new BatchOrder(opts.lengths, T, B, x);
    const lengths = opts.lengths ? order.sorted : null;
    const h0 = order.toSorted(this.initialState('h0', opts.h0, B, this.hiddenSize));
    x = order.toSorted(x);
    const hs: Tensor[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const r = this.layer(x, this.layerSlice(h0, l), this.weights[l], lengths);
      x = r.y; hs.push(r.hN);
    }
    let y = order.toOriginal(x);
    if (this.batchFirst) y = permute(y, [1, 0, 2]);
    return { y, hN: order.toOriginal(hs.length === 1 ? hs[0] : concat(hs, 0)) };
  }

  private layer(x: Tensor, h0: Tensor, dirs: readonly QGruWeights[], lengths: ArrayLike<number> | null): { y: Tensor; hN: Tensor } {
    const [T, B, I] = x.shape, D = dirs.length, H = this.hiddenSize, G = 3 * H, DH = D * H;
    const be = kernels(x.backend), bs = batchSizes(lengths, T, B);
    const y = new Tensor(be.alloc('f32', T * B * DH), [T, B, DH]);
    const hN = new Tensor(be.alloc('f32', D * B * H), [D, B, H]);
    for (let d = 0; d < D; d++) {
      const w = dirs[d], reverse = d === 1;
      const GX = be.alloc('f32', T * B * G), GHs = be.alloc('f32', B * G); // [T, B, 3H] x W_ih^T + b_ih; [B, 3H] h W_hh^T
      w.wIh.apply(T * B, x.storage, 0, I, w.bIh?.storage ?? null, GX, 0, G, false);
      const h = hN.storage, hOff = d * B * H;
      copyRows(be, B, H, h0.storage, hOff, H, h, hOff, H);
      for (let step = 0; step < T; step++) {
        const t = reverse ? T - 1 - step : step, n = bs[t];
        if (n === 0) continue;
        const g = t * B * G, yo = t * B * DH + d * H;
        w.wHh.apply(n, h, hOff, H, null, GHs, 0, G, false);
        be.gruCellForward(n, H, GX, g, GHs, 0, w.bHh?.storage ?? null, h, hOff, H, y.storage, yo, DH);
        copyRows(be, n, H, y.storage, yo, DH, h, hOff, H);
      }
      be.dispose(GX); be.dispose(GHs);
    }
    return { y, hN };
  }
}

/** Streaming inference with a quantized GRU (GRUStream's contract): buffers made once. */
export class QuantGRUStream implements RecurrentStream {
  readonly h: Tensor;   // [L, B, H]
  readonly y: Tensor;   // [B, H]
  private readonly gx: Storage;   // [B, 3H]
  private readonly gh: Storage;   // [B, 3H]
  private readonly hNew: Storage; // [B, H] (the cell may not overwrite h_{t-1}, which it reads)

  constructor(private readonly m: QuantGRU, readonly batch = 1) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`GRU.stream: expected a positive integer batch size, got ${batch}`);
    if (m.numDirections !== 1) throw new Error('GRU.stream: a bidirectional GRU needs the whole sequence; it cannot run one step at a time');
    const be = kernels(m.backend), L = m.numLayers, H = m.hiddenSize, B = batch;
    this.h = new Tensor(be.alloc('f32', L * B * H), [L, B, H]);
    this.y = new Tensor(be.alloc('f32', B * H), [B, H]);
    this.gx = be.alloc('f32', B * 3 * H);
    this.gh = be.alloc('f32', B * 3 * H);
    this.hNew = be.alloc('f32', B * H);
    for (const s of this.storages()) keepStorage(s);
  }

  get state(): Tensor[] { return [this.h]; }
  reset(h0?: Tensor | null): void { loadState('h0', h0, this.h); }
  refresh(): void { /* weights are fixed */ }

  step(x: Tensor): Tensor {
    const m = this.m, B = this.batch, H = m.hiddenSize, G = 3 * H;
    checkStepInput(x, B, m.inputSize, this.h);
    const be = kernels(m.backend), h = this.h.storage;
    let inp = x.storage, inOff = 0, I = m.inputSize;
    for (let l = 0; l < m.numLayers; l++) {
      const w = m.weights[l][0], hOff = l * B * H;
      w.wIh.apply(B, inp, inOff, I, w.bIh?.storage ?? null, this.gx, 0, G, false);
      w.wHh.apply(B, h, hOff, H, null, this.gh, 0, G, false);
      be.gruCellForward(B, H, this.gx, 0, this.gh, 0, w.bHh?.storage ?? null, h, hOff, H, this.hNew, 0, H);
      be.copy2d(B, H, this.hNew, 0, H, h, hOff, H, false);
      inp = h; inOff = hOff; I = H;
    }
    be.copy2d(B, H, h, (m.numLayers - 1) * B * H, H, this.y.storage, 0, H, false);
    return this.y;
  }

  dispose(): void { for (const s of this.storages()) this.m.backend.dispose(s); }
  private storages(): Storage[] { return [this.h.storage, this.y.storage, this.gx, this.gh, this.hNew]; }
}
