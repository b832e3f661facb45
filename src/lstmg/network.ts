/**
 * LSTM-g (Monner & Reggia 2012, "A generalized LSTM-like training algorithm for second-order
 * recurrent neural networks", Neural Networks 25): a network of units and weighted connections,
 * any of which may be gated by another unit. This file is the network and its forward step
 * (the paper's equations 14-16); the learning rule is learn.ts, the builders builders.ts.
 *
 * Units are numbered in activation order: unit 0 is the bias unit (always 1, the paper's bias as
 * a connection from a constant unit), units 1..I the inputs, then the computed units. Within a
 * step unit j reads unit a's activation of this step when a < j (already activated) and of the
 * previous step otherwise; the same holds for a gater. Connections are stored as typed arrays
 * sorted by target (CSR), not as objects, so networks of thousands of units run.
 */

export const ACTIVATIONS = ['logistic', 'tanh', 'identity'] as const;
export type Activation = typeof ACTIVATIONS[number];

/** Unit kinds in `Topology.act`: 0 is bias or input (set from outside), then the activations. */
export const ACT_INPUT = 0, ACT_LOGISTIC = 1, ACT_TANH = 2, ACT_IDENTITY = 3;

/** What builders hand to `new Network`: every array indexed by unit or by connection. */
export interface Topology {
  /** Number of input units (units 1..inputs). */
  inputs: number;
  /** [N] ACT_* per unit. */
  act: Uint8Array;
  /** [N] self-connection weight w_jj (0: none); not trained. */
  selfWeight: Float64Array;
  /** [N] the unit gating j's self-connection, -1 for none. */
  selfGater: Int32Array;
  /** [C] per connection, any order (Network sorts them by target). */
  from: Int32Array;
  to: Int32Array;
  gater: Int32Array;   // -1: ungated
  weight: Float64Array;
  /** [C] 1 where the learning rule may change the weight (0: a fixed wiring weight). */
  trainable: Uint8Array;
  /** Units whose activations are the network's outputs (they receive targets). */
  outputs: Int32Array;
  /** Optional unit labels, for messages. */
  labels?: string[];
}

export class Network {
  readonly N: number;
  readonly inputs: number;
  readonly act: Uint8Array;
  readonly selfWeight: Float64Array;
  readonly selfGater: Int32Array;
  /** [C] connections sorted by target; inStart[j]..inStart[j+1] are j's incoming ones. */
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly gater: Int32Array;
  readonly weight: Float64Array;
  readonly trainable: Uint8Array;
  readonly inStart: Int32Array; // [N+1]
  readonly outputs: Int32Array;
  readonly labels: string[] | undefined;

  /** [N] states s_j and activations y_j of this step, of the previous step, and f'_j(s_j). */
  readonly s: Float64Array;
  readonly sPrev: Float64Array;
  readonly y: Float64Array;
  readonly yPrev: Float64Array;
  readonly fp: Float64Array;
  /** [outputs] the output activations of the last step. */
  readonly out: Float64Array;

  constructor(t: Topology) {
    const N = t.act.length, C = t.from.length;
    this.N = N; this.inputs = t.inputs;
    this.act = t.act; this.selfWeight = t.selfWeight; this.selfGater = t.selfGater;
    this.outputs = t.outputs; this.labels = t.labels;
    // Counting sort by target, stable, so each unit's inputs are contiguous.
    const inStart = new Int32Array(N + 1);
    for (let c = 0; c < C; c++) inStart[t.to[c] + 1]++;
    for (let j = 0; j < N; j++) inStart[j + 1] += inStart[j];
    const fill = inStart.slice(0, N), perm = new Int32Array(C);
    for (let c = 0; c < C; c++) perm[fill[t.to[c]]++] = c;
    const pick = <A extends Int32Array | Float64Array | Uint8Array>(a: A): A => { const o = new (a.constructor as new (n: number) => A)(C); for (let c = 0; c < C; c++) o[c] = a[perm[c]]; return o; };
    this.from = pick(t.from); this.to = pick(t.to); this.gater = pick(t.gater);
    this.weight = pick(t.weight); this.trainable = pick(t.trainable);
    this.inStart = inStart;
    this.s = new Float64Array(N); this.sPrev = new Float64Array(N);
    this.y = new Float64Array(N); this.yPrev = new Float64Array(N);
    this.fp = new Float64Array(N);
    this.out = new Float64Array(t.outputs.length);
    this.y[0] = this.yPrev[0] = 1;
  }

  get connections(): number { return this.from.length; }

  /** The first computed unit (after the bias and the inputs). */
  get firstComputed(): number { return this.inputs + 1; }

  /** Forget the state: activations and states back to 0 (the bias unit stays 1). */
  reset(): void {
    this.s.fill(0); this.sPrev.fill(0); this.y.fill(0); this.yPrev.fill(0); this.fp.fill(0);
    this.y[0] = this.yPrev[0] = 1;
  }

  /** Unit a's activation as unit j reads it: this step's if a activated before j, else the last step's. */
  read(a: number, j: number): number { return a < j ? this.y[a] : this.yPrev[a]; }

  /** The gain g on a connection into j gated by `g` (eq. 14): the gater's activation, 1 if ungated. */
  gain(g: number, j: number): number { return g < 0 ? 1 : g < j ? this.y[g] : this.yPrev[g]; }

  /** One time step: x [inputs] in, the output activations out (a view, overwritten next step). */
  step(x: ArrayLike<number>): Float64Array {
    if (x.length !== this.inputs) throw new Error(`lstmg: expected an input of ${this.inputs} values, got ${x.length}`);
    const { y, yPrev, s, sPrev, fp, act, from, gater, weight, inStart, selfWeight, selfGater } = this;
    yPrev.set(y); sPrev.set(s);
    for (let i = 0; i < this.inputs; i++) {
      if (!Number.isFinite(x[i])) throw new Error(`lstmg: expected finite inputs, got ${x[i]} at input ${i}`);
      y[i + 1] = x[i];
    }
    for (let j = this.inputs + 1; j < this.N; j++) {
      // eq. 15: s_j = g_jj w_jj ŝ_j + Σ_i g_ji w_ji y_i
      const sg = selfGater[j];
      let sj = selfWeight[j] === 0 ? 0 : (sg < 0 ? 1 : sg < j ? y[sg] : yPrev[sg]) * selfWeight[j] * sPrev[j];
      for (let c = inStart[j], e = inStart[j + 1]; c < e; c++) {
        const a = from[c], g = gater[c];
        const ya = a < j ? y[a] : yPrev[a];
        sj += g < 0 ? weight[c] * ya : (g < j ? y[g] : yPrev[g]) * weight[c] * ya;
      }
      s[j] = sj;
      // eq. 16: y_j = f_j(s_j), and f'_j(s_j) for the learning rule
      switch (act[j]) {
        case ACT_LOGISTIC: { const v = 1 / (1 + Math.exp(-sj)); y[j] = v; fp[j] = v * (1 - v); break; }
        case ACT_TANH: { const v = Math.tanh(sj); y[j] = v; fp[j] = 1 - v * v; break; }
        default: y[j] = sj; fp[j] = 1;
      }
    }
    for (let k = 0; k < this.outputs.length; k++) this.out[k] = y[this.outputs[k]];
    return this.out;
  }

  /** The weights as a copy (for saving or comparing). */
  weights(): Float64Array { return this.weight.slice(); }
}
