/**
 * The LSTM-g learning rule (Monner & Reggia 2012, equations 10 and 17-24): local in space and
 * time. Each connection j <- i keeps an eligibility trace ε_ji (eq. 17), and for every unit k
 * that j gates an extended trace ε^k_ji (eq. 18); both are updated forward, during the run, so
 * there is no backward pass through time. At a step with targets the error responsibilities δ
 * are gathered within the step, from the outputs back (eqs. 10, 21-23), and each weight moves by
 * α (δ^P_j ε_ji + Σ_k δ_k ε^k_ji) (eq. 24).
 *
 * The truncation the rule makes: a unit's activation read by another unit at the next step is a
 * constant; so are the gains in a trace. A unit's error responsibility gathers only from the
 * units activated after it in the step (those that read its current activation), and memory
 * survives only through self-connections (ε) and through the self-connections of the units a
 * unit gates (ε^k). For outputs δ = t - y (eq. 10): the negative gradient of the cross-entropy
 * for logistic outputs (of half the squared error for identity ones).
 */
import { Network } from './network.js';

export class Learner {
  /** [C] eligibility traces ε_ji, one per connection (eq. 17). */
  readonly eps: Float64Array;
  /** Extended traces ε^k_ji: per gating pair p = (j gates k), one per connection into j, at xOff[p]. */
  readonly xeps: Float64Array;
  /** [C] accumulated weight change direction Σ (δ^P ε + Σ δ_k ε^k), applied by `apply`. */
  readonly dw: Float64Array;
  /** [N] error responsibilities δ_j, δ^P_j of the last `learn`. */
  readonly delta: Float64Array;
  readonly deltaP: Float64Array;

  // Downstream projections of each unit: connections c with from[c] = j < to[c] (CSR over units).
  private readonly outStart: Int32Array;
  private readonly outConn: Int32Array;
  // Gating pairs (j gates k, j < k) grouped by gater j: pairStart[j]..pairStart[j+1].
  private readonly pairStart: Int32Array;
  private readonly pairUnit: Int32Array;   // [P] the gated unit k
  private readonly pairSelf: Uint8Array;   // [P] 1 when j gates k's self-connection
  private readonly pairConnStart: Int32Array; // [P+1] into pairConn
  private readonly pairConn: Int32Array;   // connections into k gated by j
  private readonly xOff: Int32Array;       // [P] offset of the pair's extended traces
  private readonly pairBp: Float64Array;   // [P] the big parenthesis of eqs. 18 and 22, this step
  private readonly isOutput: Uint8Array;   // [N]
  private readonly outIndex: Int32Array;   // [N] index into the target vector, -1 if not an output

  constructor(readonly net: Network) {
    const { N, from, to, gater, inStart, selfGater } = net, C = net.connections, first = net.firstComputed;
    this.eps = new Float64Array(C);
    this.dw = new Float64Array(C);
    this.delta = new Float64Array(N);
    this.deltaP = new Float64Array(N);
    this.isOutput = new Uint8Array(N);
    this.outIndex = new Int32Array(N).fill(-1);
    net.outputs.forEach((u, k) => { this.isOutput[u] = 1; this.outIndex[u] = k; });

    const outCount = new Int32Array(N + 1);
    for (let c = 0; c < C; c++) if (from[c] < to[c]) outCount[from[c] + 1]++;
    for (let j = 0; j < N; j++) outCount[j + 1] += outCount[j];
    this.outStart = outCount.slice();
    this.outConn = new Int32Array(outCount[N]);
    const of = outCount.slice(0, N);
    for (let c = 0; c < C; c++) if (from[c] < to[c]) this.outConn[of[from[c]]++] = c;

    // Gating pairs: j (a computed unit) gates k > j's self-connection or a connection into k.
    const pairs = new Map<number, Map<number, { self: boolean; conns: number[] }>>();
    const pair = (j: number, k: number) => {
      let m = pairs.get(j);
      if (!m) pairs.set(j, m = new Map());
      let p = m.get(k);
      if (!p) m.set(k, p = { self: false, conns: [] });
      return p;
    };
    for (let k = first; k < N; k++) {
      const g = selfGater[k];
      if (g >= first && g < k && net.selfWeight[k] !== 0) pair(g, k).self = true;
      for (let c = inStart[k]; c < inStart[k + 1]; c++) if (gater[c] >= first && gater[c] < k) pair(gater[c], k).conns.push(c);
    }
    const pairStart = new Int32Array(N + 1), units: number[] = [], selfs: number[] = [], connStart = [0], conns: number[] = [], xOff: number[] = [];
    let x = 0;
    for (let j = 0; j < N; j++) {
      pairStart[j] = units.length;
      const m = pairs.get(j);
      if (!m) continue;
      for (const k of [...m.keys()].sort((a, b) => a - b)) {
        const p = m.get(k)!;
        units.push(k); selfs.push(p.self ? 1 : 0); conns.push(...p.conns); connStart.push(conns.length);
        xOff.push(x); x += inStart[j + 1] - inStart[j];
      }
    }
    pairStart[N] = units.length;
    this.pairStart = pairStart;
    this.pairUnit = Int32Array.from(units); this.pairSelf = Uint8Array.from(selfs);
    this.pairConnStart = Int32Array.from(connStart); this.pairConn = Int32Array.from(conns);
    this.xOff = Int32Array.from(xOff);
    this.pairBp = new Float64Array(units.length);
    this.xeps = new Float64Array(x);
  }

  /** Number of gating pairs (j, k) and of extended traces, for reports. */
  get sizes(): { connections: number; pairs: number; extendedTraces: number } {
    return { connections: this.net.connections, pairs: this.pairUnit.length, extendedTraces: this.xeps.length };
  }

  /** Forget state and traces (between independent sequences); accumulated dw is kept. */
  reset(): void {
    this.net.reset();
    this.eps.fill(0); this.xeps.fill(0); this.pairBp.fill(0);
  }

  /** One forward step of the network, then the traces (eqs. 17-18). Returns the outputs. */
  step(x: ArrayLike<number>): Float64Array {
    const out = this.net.step(x);
    this.updateTraces();
    return out;
  }

  private updateTraces(): void {
    const net = this.net, { N, from, gater, weight, inStart, selfWeight, selfGater, y, yPrev, sPrev, fp } = net;
    const { eps, xeps } = this, first = net.firstComputed;
    for (let j = first; j < N; j++) {
      // eq. 17: ε_ji = g_jj w_jj ε̂_ji + g_ji y_i
      const sg = selfGater[j];
      const keep = selfWeight[j] === 0 ? 0 : (sg < 0 ? 1 : sg < j ? y[sg] : yPrev[sg]) * selfWeight[j];
      for (let c = inStart[j], e = inStart[j + 1]; c < e; c++) {
        const a = from[c], g = gater[c];
        const ya = a < j ? y[a] : yPrev[a];
        eps[c] = keep * eps[c] + (g < 0 ? ya : (g < j ? y[g] : yPrev[g]) * ya);
      }
    }
    for (let j = first; j < N; j++) {
      const c0 = inStart[j], n = inStart[j + 1] - c0;
      for (let p = this.pairStart[j]; p < this.pairStart[j + 1]; p++) {
        const k = this.pairUnit[p];
        // The big parenthesis: ∂s_k/∂y_j through the gains j sets on k's connections.
        let bp = this.pairSelf[p] ? selfWeight[k] * sPrev[k] : 0;
        for (let q = this.pairConnStart[p]; q < this.pairConnStart[p + 1]; q++) {
          const c = this.pairConn[q], a = from[c];
          bp += weight[c] * (a < k ? y[a] : yPrev[a]);
        }
        this.pairBp[p] = bp;
        // eq. 18: ε^k_ji = g_kk w_kk ε̂^k_ji + f'_j(s_j) ε_ji (big parenthesis)
        const sg = selfGater[k];
        const keep = selfWeight[k] === 0 ? 0 : (sg < 0 ? 1 : sg < k ? y[sg] : yPrev[sg]) * selfWeight[k];
        const f = fp[j] * bp, o = this.xOff[p];
        for (let i = 0; i < n; i++) xeps[o + i] = keep * xeps[o + i] + f * eps[c0 + i];
      }
    }
  }

  /**
   * The error responsibilities for this step's targets [outputs] (eqs. 10, 21-23) and their weight
   * change direction added to dw (eq. 24). Call after `step`; a step without targets needs no call.
   */
  learn(target: ArrayLike<number>): void {
    const net = this.net, { N, to, gater, weight, inStart, y, yPrev, fp } = net, first = net.firstComputed;
    if (target.length !== net.outputs.length) throw new Error(`lstmg: expected a target of ${net.outputs.length} values, got ${target.length}`);
    for (let k = 0; k < target.length; k++) if (!Number.isFinite(target[k])) throw new Error(`lstmg: expected finite targets, got ${target[k]} at output ${k}`);
    const { delta, deltaP, eps, xeps, dw } = this, trainable = net.trainable;
    for (let j = N - 1; j >= first; j--) {
      let dP: number, d: number;
      if (this.isOutput[j]) {
        d = dP = target[this.outIndex[j]] - y[j]; // eq. 10
      } else {
        let sum = 0; // eq. 21: δ^P_j = f'_j Σ_k δ_k g_kj w_kj over downstream k
        for (let q = this.outStart[j]; q < this.outStart[j + 1]; q++) {
          const c = this.outConn[q], k = to[c], g = gater[c];
          sum += delta[k] * (g < 0 ? 1 : g < k ? net.y[g] : yPrev[g]) * weight[c];
        }
        dP = fp[j] * sum;
        let sumG = 0; // eq. 22: δ^G_j = f'_j Σ_k δ_k (big parenthesis)
        for (let p = this.pairStart[j]; p < this.pairStart[j + 1]; p++) sumG += delta[this.pairUnit[p]] * this.pairBp[p];
        d = dP + fp[j] * sumG; // eq. 23
      }
      delta[j] = d; deltaP[j] = dP;
      // eq. 24: Δw_ji ∝ δ^P_j ε_ji + Σ_k δ_k ε^k_ji
      const c0 = inStart[j], c1 = inStart[j + 1];
      for (let c = c0; c < c1; c++) if (trainable[c]) dw[c] += dP * eps[c];
      for (let p = this.pairStart[j]; p < this.pairStart[j + 1]; p++) {
        const dk = delta[this.pairUnit[p]], o = this.xOff[p] - c0;
        if (dk === 0) continue;
        for (let c = c0; c < c1; c++) if (trainable[c]) dw[c] += dk * xeps[o + c];
      }
    }
    for (let j = 0; j < first; j++) { delta[j] = 0; deltaP[j] = 0; }
  }

  /** w += rate · dw for the trainable weights, then dw = 0. */
  apply(rate: number): void {
    const { weight } = this.net, dw = this.dw;
    for (let c = 0; c < dw.length; c++) { weight[c] += rate * dw[c]; dw[c] = 0; }
  }
}
