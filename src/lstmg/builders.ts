/**
 * Building LSTM-g networks: a graph builder for arbitrary user graphs (units in activation
 * order, weighted connections, any of them gated by a unit, self-connections), and two LSTM
 * layers expressed as LSTM-g graphs: the paper's memory-cell architecture (lstmNetwork) and
 * Carousel's / PyTorch's peephole LSTM layer with given weights (torchLstmNetwork).
 */
import type { LSTM } from '../nn/lstm.js';
import type { Rng } from '../tensor/random.js';
import { ACT_IDENTITY, ACT_INPUT, ACT_LOGISTIC, ACT_TANH, ACTIVATIONS, Network, type Activation } from './network.js';

const ACT_CODE: Record<Activation, number> = { logistic: ACT_LOGISTIC, tanh: ACT_TANH, identity: ACT_IDENTITY };

export interface ConnectOptions {
  /** The unit whose activation gates (multiplies) this connection. */
  gater?: number;
  /** false: a fixed wiring weight the learning rule leaves alone (default true). */
  trainable?: boolean;
}

/**
 * A graph under construction. Unit 0 is the bias unit (activation 1), units 1..inputs the
 * inputs; `units` appends computed units, and the order of the calls is the activation order.
 */
export class GraphBuilder {
  private readonly act: number[] = [];
  private readonly labels: string[] = [];
  private readonly selfW: number[] = [];
  private readonly selfG: number[] = [];
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  private readonly gater: number[] = [];
  private readonly weight: number[] = [];
  private readonly trainable: number[] = [];
  private outputUnits: number[] = [];

  constructor(readonly inputs: number) {
    if (!Number.isInteger(inputs) || inputs < 1) throw new Error(`lstmg.GraphBuilder: expected a positive integer number of inputs, got ${JSON.stringify(inputs)}`);
    this.push(ACT_INPUT, 'bias');
    for (let i = 0; i < inputs; i++) this.push(ACT_INPUT, `in${i}`);
  }

  /** The bias unit (always 1): connect from it to give a unit a bias. */
  get bias(): number { return 0; }
  /** Input unit i (0-based). */
  input(i: number): number { if (!Number.isInteger(i) || i < 0 || i >= this.inputs) throw new Error(`lstmg: expected an input index in 0..${this.inputs - 1}, got ${i}`); return i + 1; }
  /** All input units. */
  inputUnits(): number[] { return Array.from({ length: this.inputs }, (_, i) => i + 1); }
  get size(): number { return this.act.length; }

  /** Append n computed units with the activation; returns their indices. */
  units(n: number, activation: Activation, label = 'u'): number[] {
    if (!Number.isInteger(n) || n < 1) throw new Error(`lstmg.units: expected a positive integer count, got ${JSON.stringify(n)}`);
    if (!ACTIVATIONS.includes(activation)) throw new Error(`lstmg.units: expected an activation among ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(activation)}`);
    return Array.from({ length: n }, (_, i) => this.push(ACT_CODE[activation], n === 1 ? label : `${label}${i}`));
  }

  /** A connection from -> to with a weight, optionally gated by a unit. */
  connect(from: number, to: number, weight: number, opts: ConnectOptions = {}): void {
    this.check('from', from); this.check('to', to);
    if (this.act[to] === ACT_INPUT) throw new Error(`lstmg.connect: expected a computed unit as target, got ${this.name(to)} (bias and inputs are set from outside)`);
    if (from === to) throw new Error(`lstmg.connect: expected two different units, got ${this.name(to)} twice (use selfConnect)`);
    if (!Number.isFinite(weight)) throw new Error(`lstmg.connect: expected a finite weight, got ${weight}`);
    const g = opts.gater ?? -1;
    if (g !== -1) this.check('gater', g);
    this.from.push(from); this.to.push(to); this.gater.push(g); this.weight.push(weight);
    this.trainable.push(opts.trainable === false ? 0 : 1);
  }

  /** Unit j's self-connection s_j += g_jj w_jj ŝ_j (w_jj is fixed, as the memory cells' 1). */
  selfConnect(unit: number, weight = 1, gater = -1): void {
    this.check('unit', unit);
    if (this.act[unit] === ACT_INPUT) throw new Error(`lstmg.selfConnect: expected a computed unit, got ${this.name(unit)}`);
    if (!Number.isFinite(weight) || weight === 0) throw new Error(`lstmg.selfConnect: expected a finite non-zero weight, got ${weight}`);
    if (gater !== -1) this.check('gater', gater);
    this.selfW[unit] = weight; this.selfG[unit] = gater;
  }

  /** The output units, in the order targets are given. */
  setOutputs(units: number[]): void {
    for (const u of units) {
      this.check('output', u);
      if (this.act[u] === ACT_INPUT) throw new Error(`lstmg.setOutputs: expected computed units, got ${this.name(u)}`);
    }
    if (new Set(units).size !== units.length) throw new Error('lstmg.setOutputs: expected distinct units, got a repeat');
    this.outputUnits = [...units];
  }

  build(): Network {
    if (this.outputUnits.length === 0) throw new Error('lstmg.build: expected output units (setOutputs), got none');
    const net = new Network({
      inputs: this.inputs,
      act: Uint8Array.from(this.act), selfWeight: Float64Array.from(this.selfW), selfGater: Int32Array.from(this.selfG),
      from: Int32Array.from(this.from), to: Int32Array.from(this.to), gater: Int32Array.from(this.gater),
      weight: Float64Array.from(this.weight), trainable: Uint8Array.from(this.trainable),
      outputs: Int32Array.from(this.outputUnits), labels: [...this.labels],
    });
    this.checkRepeats(net);
    return net;
  }

  /** One connection per (from, to, gater): checked per target on the sorted lists (no per-connection objects). */
  private checkRepeats(net: Network): void {
    const N1 = net.N + 1;
    for (let j = 0; j < net.N; j++) {
      const c0 = net.inStart[j], n = net.inStart[j + 1] - c0;
      if (n < 2) continue;
      const keys = new Float64Array(n);
      for (let i = 0; i < n; i++) keys[i] = net.from[c0 + i] * N1 + net.gater[c0 + i] + 1;
      keys.sort();
      for (let i = 1; i < n; i++) {
        if (keys[i] !== keys[i - 1]) continue;
        const from = Math.floor(keys[i] / N1), g = keys[i] - from * N1 - 1;
        throw new Error(`lstmg.connect: expected one connection ${this.name(from)} -> ${this.name(j)}${g >= 0 ? ` gated by ${this.name(g)}` : ''}, got a second`);
      }
    }
  }

  private push(act: number, label: string): number {
    this.act.push(act); this.labels.push(label); this.selfW.push(0); this.selfG.push(-1);
    return this.act.length - 1;
  }
  private name(u: number): string { return `unit ${u} (${this.labels[u]})`; }
  private check(what: string, u: number): void {
    if (!Number.isInteger(u) || u < 0 || u >= this.act.length) throw new Error(`lstmg: expected ${what} to be a unit index in 0..${this.act.length - 1}, got ${JSON.stringify(u)}`);
  }
}

export interface LstmNetworkConfig {
  inputs: number;
  /** Memory cells, each with its own input, forget and output gate. */
  cells: number;
  outputs: number;
  rng: Rng;
  /** Initial weights uniform in [-init, init] (default 0.1). */
  init?: number;
  /** Added to the forget gates' initial bias weights, so cells start out remembering (default 0). */
  forgetBias?: number;
  /**
   * Recurrence between cells: 'none' (default; each gate sees its own cell only), 'gated' (every
   * cell's output, the cell gated by its output gate, feeds every input and forget gate at the
   * next step) or 'cells' (every cell feeds every other cell's gates ungated, as peepholes across
   * cells: input and forget gates read last step's states, output gates this step's).
   */
  recurrent?: 'none' | 'gated' | 'cells';
}

/** Unit indices of an LSTM layer built by lstmNetwork / torchLstmNetwork. */
export interface LstmUnits {
  inputGate: number[]; forgetGate: number[]; cell: number[]; outputGate: number[]; output: number[];
}

/**
 * The paper's LSTM architecture as an LSTM-g network: memory cells are linear (identity) units
 * with a self-connection of weight 1 gated by their forget gate; the input layer feeds the cells
 * through connections gated by the cell's input gate; the cells feed the (logistic) output layer
 * through connections gated by the cell's output gate; every gate sees the input layer and its
 * own cell (peepholes: input and forget gates the last step's state, the output gate this
 * step's); every computed unit has a bias. Activation order: input gates, forget gates, cells,
 * output gates, outputs.
 */
export function lstmNetwork(c: LstmNetworkConfig): { net: Network; units: LstmUnits } {
  for (const k of ['inputs', 'cells', 'outputs'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`lstmg.lstmNetwork: expected ${k} to be a positive integer, got ${JSON.stringify(c[k])}`);
  }
  const a = c.init ?? 0.1, r = () => c.rng.uniform(-a, a);
  const b = new GraphBuilder(c.inputs), ins = b.inputUnits();
  const ig = b.units(c.cells, 'logistic', 'i'), fg = b.units(c.cells, 'logistic', 'f');
  const cell = b.units(c.cells, 'identity', 'c'), og = b.units(c.cells, 'logistic', 'o');
  const out = b.units(c.outputs, 'logistic', 'y');
  for (let m = 0; m < c.cells; m++) {
    for (const g of [ig[m], fg[m], og[m]]) {
      b.connect(b.bias, g, r() + (g === fg[m] ? c.forgetBias ?? 0 : 0));
      for (const x of ins) b.connect(x, g, r());
      b.connect(cell[m], g, r()); // peephole
    }
    b.connect(b.bias, cell[m], r(), { gater: ig[m] });
    for (const x of ins) b.connect(x, cell[m], r(), { gater: ig[m] });
    b.selfConnect(cell[m], 1, fg[m]);
    for (const y of out) b.connect(cell[m], y, r(), { gater: og[m] });
  }
  if (c.recurrent === 'gated') {
    for (let m = 0; m < c.cells; m++) for (let n = 0; n < c.cells; n++) for (const g of [ig[n], fg[n]]) b.connect(cell[m], g, r(), { gater: og[m] });
  } else if (c.recurrent === 'cells') {
    for (let m = 0; m < c.cells; m++) for (let n = 0; n < c.cells; n++) if (m !== n) for (const g of [ig[n], fg[n], og[n]]) b.connect(cell[m], g, r());
  } else if (c.recurrent !== undefined && c.recurrent !== 'none') {
    throw new Error(`lstmg.lstmNetwork: expected recurrent to be 'none', 'gated' or 'cells', got ${JSON.stringify(c.recurrent)}`);
  }
  for (const y of out) b.connect(b.bias, y, r());
  b.setOutputs(out);
  return { net: b.build(), units: { inputGate: ig, forgetGate: fg, cell, outputGate: og, output: out } };
}

/** One peephole LSTM layer's weights in PyTorch's layout (gate rows i, f, g, o). */
export interface TorchLstmWeights {
  inputSize: number;
  hiddenSize: number;
  wIh: ArrayLike<number>; // [4H, I]
  wHh: ArrayLike<number>; // [4H, H]
  bIh?: ArrayLike<number> | null; // [4H]
  bHh?: ArrayLike<number> | null; // [4H]
  wci?: ArrayLike<number> | null; // [H] i peeks at c_{t-1}
  wcf?: ArrayLike<number> | null; // [H] f peeks at c_{t-1}
  wco?: ArrayLike<number> | null; // [H] o peeks at c_t
}

/**
 * Carousel's (PyTorch's) LSTM layer, with peepholes or without, as an LSTM-g graph computing the
 * same h_t. Per cell: gates i, f, o (logistic), the cell input z = tanh(...) (PyTorch's g), the
 * memory cell c (identity, self-connection 1 gated by f, input z with weight 1 gated by i), its
 * squashed copy tanh(c), and h (identity, input tanh(c) with weight 1 gated by o), which the gates
 * and z read at the next step. The wiring weights of 1 are fixed. Outputs are the h units.
 */
export function torchLstmNetwork(w: TorchLstmWeights): { net: Network; units: LstmUnits & { cellInput: number[]; squashed: number[] } } {
  const I = w.inputSize, H = w.hiddenSize;
  const need = (name: string, a: ArrayLike<number> | null | undefined, n: number) => {
    if (a && a.length !== n) throw new Error(`lstmg.torchLstmNetwork: expected ${name} of ${n} values, got ${a.length}`);
  };
  need('wIh', w.wIh, 4 * H * I); need('wHh', w.wHh, 4 * H * H); need('bIh', w.bIh, 4 * H); need('bHh', w.bHh, 4 * H);
  need('wci', w.wci, H); need('wcf', w.wcf, H); need('wco', w.wco, H);
  const b = new GraphBuilder(I), ins = b.inputUnits();
  const ig = b.units(H, 'logistic', 'i'), fg = b.units(H, 'logistic', 'f'), z = b.units(H, 'tanh', 'z');
  const cell = b.units(H, 'identity', 'c'), og = b.units(H, 'logistic', 'o');
  const sq = b.units(H, 'tanh', 'tanh_c'), h = b.units(H, 'identity', 'h');
  const gates = [ig, fg, z, og]; // PyTorch's row blocks i, f, g, o
  const peep = [w.wci, w.wcf, null, w.wco];
  for (let q = 0; q < 4; q++) {
    for (let n = 0; n < H; n++) {
      const row = q * H + n, u = gates[q][n];
      b.connect(b.bias, u, (w.bIh?.[row] ?? 0) + (w.bHh?.[row] ?? 0));
      for (let a = 0; a < I; a++) b.connect(ins[a], u, w.wIh[row * I + a]);
      for (let m = 0; m < H; m++) b.connect(h[m], u, w.wHh[row * H + m]); // h_{t-1}: h is activated later
      const p = peep[q];
      if (p) b.connect(cell[n], u, p[n]); // i, f: c_{t-1}; o: c_t (the cell is activated before o)
    }
  }
  for (let n = 0; n < H; n++) {
    b.connect(z[n], cell[n], 1, { gater: ig[n], trainable: false });
    b.selfConnect(cell[n], 1, fg[n]);
    b.connect(cell[n], sq[n], 1, { trainable: false });
    b.connect(sq[n], h[n], 1, { gater: og[n], trainable: false });
  }
  b.setOutputs(h);
  return { net: b.build(), units: { inputGate: ig, forgetGate: fg, cell, outputGate: og, output: h, cellInput: z, squashed: sq } };
}

/** torchLstmNetwork from a one-layer, one-direction Carousel LSTM (nn.LSTM or the peephole cell). */
export function fromLSTM(lstm: LSTM): ReturnType<typeof torchLstmNetwork> {
  const cell = lstm.cell;
  const plain = !cell || (cell.inputGate && cell.forgetGate === 'gate' && cell.outputGate && cell.inputActivation && cell.outputActivation && !cell.gateRecurrence);
  if (lstm.numLayers !== 1 || lstm.numDirections !== 1 || lstm.projSize || !plain) {
    throw new Error(`lstmg.fromLSTM: expected a one-layer, one-direction LSTM without projection, with or without peepholes, got numLayers ${lstm.numLayers}, ${lstm.numDirections} directions, projSize ${lstm.projSize}, variant ${cell ? JSON.stringify(cell) : 'none'}`);
  }
  const l = lstm.weights[0][0], host = (t: { dataSync(): ArrayLike<number> } | null | undefined) => (t ? Array.from(t.dataSync()) : null);
  return torchLstmNetwork({
    inputSize: lstm.inputSize, hiddenSize: lstm.hiddenSize,
    wIh: host(l.wIh)!, wHh: host(l.wHh)!, bIh: host(l.bIh), bHh: host(l.bHh), wci: host(l.wci), wcf: host(l.wcf), wco: host(l.wco),
  });
}
