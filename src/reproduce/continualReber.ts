/**
 * Gers, Schmidhuber and Cummins 2000 ("Learning to forget", Table 2): the continual embedded Reber
 * grammar. Embedded Reber strings follow each other without a break and the net's state is never
 * reset, so whatever a string left in the cells must be let go of at its end: the forget gate's
 * reason to exist. The original (1997) LSTM, without it, lets its cell states drift and fails.
 *
 * Training: 16 independent endless streams, truncated BPTT over chunks of 50 symbols with the
 * state carried between chunks (the paper trained online with its truncated gradient).
 * Test (ours, after the paper's "perfect solution"): the first training stream continues with
 * `testSymbols` new symbols, from the state training left it in (never reset: the task has no
 * beginning, and a zero state is one the net saw only at the start of training); a symbol is predicted correctly when every output unit is within 0.5 of the
 * legal-successor target; the net is PERFECT when no symbol is wrong, and we report the symbols it
 * ran before its first error.
 */
import { backward, noGrad } from '../autograd/tape.js';
import { mul, scale, sigmoid, sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { slice } from '../ops/shape.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/tidy.js';
import type { Backend } from '../backend/backend.js';
import { embeddedReber, maskTargets, NSYM, type ReberString } from './reber.js';
import { SeqNet, type NetSpec } from './trainer.js';

const B_SYMBOL = 0;

/** An endless stream of embedded Reber strings: each call gives a symbol and the mask of its legal successors. */
export class ReberStream {
  private s: ReberString;
  private i = 0;
  constructor(private readonly rng: Rng) { this.s = embeddedReber(rng); }
  next(): [symbol: number, legalNext: number] {
    const sym = this.s.symbols[this.i];
    const last = this.i === this.s.symbols.length - 1;
    const legal = last ? 1 << B_SYMBOL : this.s.legal[this.i];
    if (last) { this.s = embeddedReber(this.rng); this.i = 0; } else this.i++;
    return [sym, legal];
  }
}

/** K steps of B streams, time-major: x [K, B, 7] one-hot, target [K, B, 7] legal-successor masks. */
function chunk(streams: ReberStream[], K: number): { x: Float32Array; target: Float32Array } {
  const B = streams.length, x = new Float32Array(K * B * NSYM), target = new Float32Array(K * B * NSYM);
  for (let t = 0; t < K; t++) {
    for (let b = 0; b < B; b++) {
      const [sym, legal] = streams[b].next(), o = (t * B + b) * NSYM;
      x[o + sym] = 1;
      maskTargets(legal, target, o);
    }
  }
  return { x, target };
}

export interface ContinualSpec extends NetSpec {
  lr: number;
  /** Training symbols per stream. */
  budget: number;
  testSymbols: number;
}

export interface ContinualResult {
  perfect: boolean;
  /** Symbols of the test stream predicted before the first error (testSymbols when none). */
  firstError: number;
  errors: number;
  seconds: number;
}

export async function trainContinualReber(spec: ContinualSpec, seed: number, backend?: Backend): Promise<ContinualResult> {
  const t0 = Date.now(), B = 16, K = 50;
  const net = new SeqNet({ inputSize: NSYM, outputSize: NSYM }, spec, new Rng(seed), backend);
  const be = net.backend, H = spec.hidden;
  const opt = new Adam(net.parameters(), { lr: spec.lr });
  const dataRng = new Rng(seed * 7919 + 17);
  const streams = Array.from({ length: B }, () => new ReberStream(dataRng));
  let state: [Tensor, Tensor] = [new Tensor(be.alloc('f32', B * H), [1, B, H]), new Tensor(be.alloc('f32', B * H), [1, B, H])];
  for (let seen = 0; seen < spec.budget; seen += K) {
    const { x, target } = chunk(streams, K);
    const next = tidy(() => {
      const xt = new Tensor(be.upload('f32', x), [K, B, NSYM]);
      const r = net.lstm.forward(xt, { h0: state[0], c0: state[1] });
      const y = sigmoid(net.head.forward(r.y));                                   // [K, B, 7]
      const d = sub(y, new Tensor(be.upload('f32', target), [K, B, NSYM]));
      const loss = scale(sum(mul(d, d)), 1 / (K * B)); // mean over steps and streams
      opt.zeroGrad();
      backward(loss);
      clipGradNorm(net.parameters(), 1);
      opt.step();
      // The carried state, cut from the graph (truncated BPTT).
      return [new Tensor(r.hN.storage, r.hN.shape), new Tensor(r.cN.storage, r.cN.shape)] as [Tensor, Tensor];
    });
    state[0].dispose(); state[1].dispose();
    state = next;
    await new Promise((res) => setImmediate(res));
  }
  // Stream 0's state [1, 1, H], for the test that continues it.
  const [h0, c0] = tidy(() => noGrad(() => [slice(state[0], 1, 0, 1), slice(state[1], 1, 0, 1)]));
  state[0].dispose(); state[1].dispose();
  const test = await testStream(net, streams[0], h0, c0, spec.testSymbols);
  return { ...test, seconds: (Date.now() - t0) / 1000 };
}

/** Continue `s` for n symbols from state (h, c) [1, 1, H] (chunks of 1000 steps, state carried; h, c are disposed). */
export async function testStream(net: SeqNet, s: ReberStream, h: Tensor, c: Tensor, n: number): Promise<Omit<ContinualResult, 'seconds'>> {
  const be = net.backend, K = 1000, stream = [s];
  let errors = 0, firstError = -1;
  for (let done = 0; done < n; done += K) {
    const k = Math.min(K, n - done);
    const { x, target } = chunk(stream, k);
    const [y, hN, cN] = tidy(() => noGrad(() => {
      const r = net.lstm.forward(new Tensor(be.upload('f32', x), [k, 1, NSYM]), { h0: h, c0: c });
      return [sigmoid(net.head.forward(r.y)), r.hN, r.cN];
    }));
    h.dispose(); c.dispose();
    h = hN; c = cN;
    const out = await y.data();
    y.dispose();
    for (let t = 0; t < k; t++) {
      let ok = true;
      for (let s = 0; s < NSYM; s++) if (!(Math.abs(out[t * NSYM + s] - target[t * NSYM + s]) < 0.5)) ok = false;
      if (!ok) { errors++; if (firstError < 0) firstError = done + t; }
    }
  }
  h.dispose(); c.dispose();
  return { perfect: errors === 0, firstError: firstError < 0 ? n : firstError, errors };
}
