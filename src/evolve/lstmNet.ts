/**
 * A one-layer LSTM (nn.LSTM's cell: gate rows i, f, g, o; with peepholes when the layout has
 * weight_ci/cf/co_l0, as nn.LSTM({ peepholes: true }): i and f see c_{t-1}, o sees c_t) and an
 * optional linear head, stepped one
 * input at a time in plain Float64 arithmetic. Evaluating a genome means thousands of single
 * steps at batch 1, where a Module forward's per-call cost dominates; this is the same function
 * (tested equal to nn.LSTM to ~1e-12 on the reference backend), with its weights read from the
 * genome by their PyTorch names.
 */
import { sliceOf, type GenomeLayout } from './genome.js';

export interface LstmNetNames {
  /** Prefix of the LSTM's parameters ('' for a bare nn.LSTM, 'lstm.' inside a module). */
  lstm: string;
  /** Prefix of the Linear head's weight and bias (omit: no head, the output is h). */
  head?: string;
}

export class LstmNet {
  readonly inputSize: number;
  readonly hidden: number;
  readonly outputSize: number;
  /** [4H, I], [4H, H] row-major; b = bias_ih + bias_hh [4H]. */
  private readonly wIh: Float64Array;
  private readonly wHh: Float64Array;
  private readonly b: Float64Array;
  /** Peepholes [H] each (null: none). */
  private readonly peep: { ci: Float64Array; cf: Float64Array; co: Float64Array } | null;
  /** Head [O, H] and [O] (empty without a head). */
  private readonly wOut: Float64Array;
  private readonly bOut: Float64Array;
  readonly h: Float64Array;
  readonly c: Float64Array;
  /** The head's output after each step (h itself without a head). */
  readonly out: Float64Array;
  private readonly gates: Float64Array;

  constructor(genome: Float64Array, layout: GenomeLayout, names: LstmNetNames) {
    if (genome.length !== layout.size) throw new Error(`LstmNet: expected a genome of ${layout.size} values, got ${genome.length}`);
    const get = (n: string) => { const s = sliceOf(layout, n); return { s, v: genome.subarray(s.offset, s.offset + s.size) }; };
    const ih = get(`${names.lstm}weight_ih_l0`), hh = get(`${names.lstm}weight_hh_l0`);
    const H = this.hidden = hh.s.shape[1];
    this.inputSize = ih.s.shape[1];
    if (ih.s.shape[0] !== 4 * H) throw new Error(`LstmNet: expected weight_ih_l0 of ${4 * H} rows (gates i, f, g, o), got ${ih.s.shape[0]}`);
    this.wIh = ih.v; this.wHh = hh.v;
    this.b = new Float64Array(4 * H);
    for (const n of ['bias_ih_l0', 'bias_hh_l0']) {
      if (!layout.slices.some((x) => x.name === names.lstm + n)) continue; // bias: false
      const v = get(names.lstm + n).v;
      for (let i = 0; i < 4 * H; i++) this.b[i] += v[i];
    }
    const has = (n: string) => layout.slices.some((x) => x.name === `${names.lstm}${n}_l0`);
    const peeps = ['weight_ci', 'weight_cf', 'weight_co'].filter(has);
    if (peeps.length !== 0 && peeps.length !== 3) throw new Error(`LstmNet: expected all three peepholes (weight_ci, weight_cf, weight_co) or none, got ${peeps.join(', ')}`);
    this.peep = peeps.length ? { ci: get(`${names.lstm}weight_ci_l0`).v, cf: get(`${names.lstm}weight_cf_l0`).v, co: get(`${names.lstm}weight_co_l0`).v } : null;
    if (names.head !== undefined) {
      const w = get(`${names.head}weight`);
      this.outputSize = w.s.shape[0];
      this.wOut = w.v;
      this.bOut = layout.slices.some((x) => x.name === `${names.head}bias`) ? get(`${names.head}bias`).v : new Float64Array(this.outputSize);
    } else {
      this.outputSize = H; this.wOut = new Float64Array(0); this.bOut = new Float64Array(0);
    }
    this.h = new Float64Array(H); this.c = new Float64Array(H); this.gates = new Float64Array(4 * H);
    this.out = names.head !== undefined ? new Float64Array(this.outputSize) : this.h;
  }

  reset(): void { this.h.fill(0); this.c.fill(0); }

  /** One step on input x [I]; returns `out` (overwritten by the next step). */
  step(x: ArrayLike<number>): Float64Array {
    const H = this.hidden, I = this.inputSize, { wIh, wHh, b, gates, h, c } = this;
    for (let r = 0; r < 4 * H; r++) {
      let s = b[r];
      const oi = r * I, oh = r * H;
      for (let k = 0; k < I; k++) s += wIh[oi + k] * x[k];
      for (let k = 0; k < H; k++) s += wHh[oh + k] * h[k];
      gates[r] = s;
    }
    const p = this.peep;
    if (p) {
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[j] + p.ci[j] * c[j]), f = sigmoid(gates[H + j] + p.cf[j] * c[j]), g = Math.tanh(gates[2 * H + j]);
        c[j] = f * c[j] + i * g;
        h[j] = sigmoid(gates[3 * H + j] + p.co[j] * c[j]) * Math.tanh(c[j]);
      }
    } else {
      for (let j = 0; j < H; j++) {
        const i = sigmoid(gates[j]), f = sigmoid(gates[H + j]), g = Math.tanh(gates[2 * H + j]), o = sigmoid(gates[3 * H + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * Math.tanh(c[j]);
      }
    }
    if (this.out !== h) {
      const O = this.outputSize;
      for (let r = 0; r < O; r++) { let s = this.bOut[r]; for (let k = 0; k < H; k++) s += this.wOut[r * H + k] * h[k]; this.out[r] = s; }
    }
    return this.out;
  }
}

function sigmoid(x: number): number { return 1 / (1 + Math.exp(-x)); }
