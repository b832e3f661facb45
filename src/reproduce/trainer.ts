/**
 * The one training loop of `carousel reproduce`: an LSTM (any cell of the family) with a linear
 * read-out at every step, sigmoid outputs and a weighted squared error, as the 1997 paper's nets
 * (sigmoid output units, squared error). Batches of whole sequences (BPTT through each), Adam,
 * gradient norm clipped. Every `checkEvery` sequences the experiment's own success test runs on
 * fresh sequences; training stops at the first pass or when the budget is spent.
 */
import { backward, noGrad } from '../autograd/tape.js';
import type { Backend } from '../backend/backend.js';
import { mul, sigmoid, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { concat } from '../ops/shape.js';
import { LSTM } from '../nn/lstm.js';
import { Linear } from '../nn/linear.js';
import type { LstmVariant } from '../ops/lstm-cell.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/tidy.js';

/** A batch of B sequences of T steps, time-major. */
export interface SeqBatch {
  T: number;
  B: number;
  x: Float32Array;      // [T, B, I] inputs
  target: Float32Array; // [T, B, O] targets in [0, 1] (sigmoid outputs)
  weight: Float32Array; // [T, B] 1 where the step's output is trained, 0 elsewhere
}

/** What the trainer needs from an experiment. */
export interface SeqTask {
  inputSize: number;
  outputSize: number;
  /** A fresh training batch of B sequences. */
  batch(rng: Rng, B: number): SeqBatch;
  /**
   * The paper's success test: run `net` on fresh sequences (drawn from rng) and say whether the
   * criterion holds; `score` is a number to report when it does not (fraction correct, error).
   */
  test(net: SeqNet, rng: Rng): Promise<{ pass: boolean; score: number }>;
}

export interface NetSpec {
  hidden: number;
  /** The read-out also sees the step's input (y_t from [h_t, x_t]), as in the 1997 nets whose output units had connections from the input layer. */
  skip?: boolean;
  /** undefined: nn.LSTM (forget gate, no peepholes); else one of the family's variants. */
  variant?: LstmVariant;
  /**
   * Initial bias of the input gates (added to PyTorch's uniform init). The 1997 paper biased its
   * input gates negative so that cells start closed and are not used up by unimportant inputs
   * ("abuse", its section 4); 0: PyTorch's init alone.
   */
  inputGateBias?: number;
  /**
   * Initial bias of the forget gates (added to PyTorch's uniform init): +1 starts the cells
   * remembering (Gers et al. 2000; Jozefowicz et al. 2015); only for cells that have a forget gate.
   */
  forgetGateBias?: number;
}

/** LSTM + a linear read-out at every step, sigmoid outputs. */
export class SeqNet {
  readonly lstm: LSTM;
  readonly head: Linear;
  constructor(readonly task: { inputSize: number; outputSize: number }, spec: NetSpec, rng: Rng, backend?: Backend) {
    const opts = { rng, backend };
    this.lstm = new LSTM({ inputSize: task.inputSize, hiddenSize: spec.hidden, ...(spec.variant ? { variant: spec.variant } : {}) }, opts);
    this.skip = spec.skip ?? false;
    if (spec.inputGateBias) {
      // The input gate is the first block of bias_ih (gate rows i, [f,] g, o).
      const b = this.lstm.parameter('bias_ih_l0');
      this.backend.affine(b.storage, 0, b.storage, 0, spec.hidden, 1, spec.inputGateBias, false);
    }
    if (spec.forgetGateBias) {
      // The forget gate's block of bias_ih: second (i, f, g, o), or first where the cell has no input gate.
      const cell = this.lstm.cell;
      if (cell && cell.forgetGate !== 'gate') throw new Error(`SeqNet: forgetGateBias needs a cell with a forget gate, got variant ${spec.variant}`);
      const f = !cell || cell.inputGate ? 1 : 0;
      const b = this.lstm.parameter('bias_ih_l0');
      this.backend.affine(b.storage, f * spec.hidden, b.storage, f * spec.hidden, spec.hidden, 1, spec.forgetGateBias, false);
    }
    this.head = new Linear({ inFeatures: spec.hidden + (this.skip ? task.inputSize : 0), outFeatures: task.outputSize }, opts);
  }
  readonly skip: boolean;
  get backend(): Backend { return this.lstm.backend; }
  parameters() { return [...this.lstm.parameters(), ...this.head.parameters()]; }

  /** Sigmoid outputs [T, B, O] for inputs x [T, B, I] (graph recorded unless under noGrad). */
  forward(x: Tensor): Tensor {
    const h = this.lstm.forward(x).y; // [T, B, H]
    return sigmoid(this.head.forward(this.skip ? concat([h, x], 2) : h));
  }

  /** Outputs [T, B, O] on the host, no gradient. */
  async predict(b: SeqBatch): Promise<Float32Array> {
    const y = tidy(() => noGrad(() => this.forward(this.input(b))));
    const out = await y.data();
    y.dispose();
    return out as Float32Array;
  }

  input(b: SeqBatch): Tensor {
    return new Tensor(this.backend.upload('f32', b.x), [b.T, b.B, this.task.inputSize]);
  }
}

export interface TrainSpec extends NetSpec {
  batch: number;
  lr: number;
  /** Most training sequences before giving up. */
  budget: number;
  /** Sequences between success tests. */
  checkEvery: number;
  clip?: number;
}

export interface TrainResult {
  solved: boolean;
  /** Training sequences seen when the test first passed (null: never within the budget). */
  sequences: number | null;
  /** The last test's score. */
  score: number;
  seconds: number;
  /** The net as training left it. */
  net: SeqNet;
}

/** Train a fresh net on the task from `seed` until its test passes or the budget is spent. */
export async function trainUntilSolved(task: SeqTask, spec: TrainSpec, seed: number, backend?: Backend): Promise<TrainResult> {
  const t0 = Date.now();
  const net = new SeqNet(task, spec, new Rng(seed), backend);
  const opt = new Adam(net.parameters(), { lr: spec.lr });
  const dataRng = new Rng(seed * 7919 + 17), testRng = new Rng(seed * 104729 + 3);
  let seen = 0, score = NaN, nextCheck = spec.checkEvery;
  while (seen < spec.budget) {
    const b = task.batch(dataRng, spec.batch);
    trainStep(net, opt, b, spec.clip ?? 1);
    seen += b.B;
    if (seen >= nextCheck || seen >= spec.budget) {
      nextCheck += spec.checkEvery;
      const r = await task.test(net, testRng);
      score = r.score;
      if (r.pass) return { solved: true, sequences: seen, score, seconds: (Date.now() - t0) / 1000, net };
    }
    // Let the event loop turn: backends that free device memory from finalizers need it.
    await new Promise((r) => setImmediate(r));
  }
  return { solved: false, sequences: null, score, seconds: (Date.now() - t0) / 1000, net };
}

/** One Adam step on the weighted squared error sum_{t,b,o} w[t,b] (y - target)^2 / sum(w). */
export function trainStep(net: SeqNet, opt: Adam, b: SeqBatch, clip: number): void {
  tidy(() => {
    const O = net.task.outputSize, be = net.backend;
    let wsum = 0;
    for (let i = 0; i < b.weight.length; i++) wsum += b.weight[i];
    const y = net.forward(net.input(b));                                          // [T, B, O]
    const target = new Tensor(be.upload('f32', b.target), [b.T, b.B, O]);
    const w = new Tensor(be.upload('f32', b.weight.map((v) => v / Math.max(wsum, 1))), [b.T, b.B, 1]);
    const d = sub(y, target);
    const loss = sum(mul(mul(d, d), w));                                          // scalar
    opt.zeroGrad();
    backward(loss);
    clipGradNorm(net.parameters(), clip);
    opt.step();
  });
}
