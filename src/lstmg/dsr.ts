/**
 * The distracted sequence recall task of Monner & Reggia 2012 (section 4.1), and LSTM-g's online
 * training on it. Ten symbols, one input unit each: four targets, four distractors, two prompts.
 * A trial is 24 steps: 22 symbols holding two targets (each drawn from the four, at two distinct
 * random positions) among distractors, then the two prompts. The four output units (one per
 * target symbol) must be 0 at every step except at the prompts, where the first prompt asks for
 * the first target and the second prompt for the second, whenever they came. A trial is correct
 * when every output at every step is within 0.5 of its target (rounds to it).
 */
import { Rng } from '../tensor/random.js';
import { trainOnline } from './online.js';
import { Learner } from './learn.js';
import { lstmNetwork } from './builders.js';

export const DSR_TARGETS = 4, DSR_DISTRACTORS = 4, DSR_PROMPTS = 2;
export const DSR_SYMBOLS = DSR_TARGETS + DSR_DISTRACTORS + DSR_PROMPTS; // 10 input units
export const DSR_LENGTH = 24;
/** Symbol ids: targets 0-3, distractors 4-7, prompts 8-9. */
export const DSR_PROMPT = [DSR_TARGETS + DSR_DISTRACTORS, DSR_TARGETS + DSR_DISTRACTORS + 1] as const;

/** One trial: the symbol at each step, and the target symbol (0-3) asked for at each prompt. */
export interface DsrTrial { symbols: number[]; answers: [number, number] }

export function dsrTrial(rng: Rng): DsrTrial {
  const body = DSR_LENGTH - DSR_PROMPTS;
  const symbols = Array.from({ length: body }, () => DSR_TARGETS + rng.int(DSR_DISTRACTORS));
  const p1 = rng.int(body);
  let p2 = rng.int(body - 1);
  if (p2 >= p1) p2++;
  const [first, second] = p1 < p2 ? [p1, p2] : [p2, p1];
  const answers: [number, number] = [rng.int(DSR_TARGETS), rng.int(DSR_TARGETS)];
  symbols[first] = answers[0]; symbols[second] = answers[1];
  symbols.push(DSR_PROMPT[0], DSR_PROMPT[1]);
  return { symbols, answers };
}

/** The one-hot input [DSR_SYMBOLS] and the target [DSR_TARGETS] of step t, written into x and y. */
export function dsrStep(trial: DsrTrial, t: number, x: Float64Array | Float32Array, y: Float64Array | Float32Array): void {
  x.fill(0); y.fill(0);
  x[trial.symbols[t]] = 1;
  const body = DSR_LENGTH - DSR_PROMPTS;
  if (t >= body) y[trial.answers[t - body]] = 1;
}

export interface DsrConfig {
  /** Memory cells (default 8). */
  cells?: number;
  /** Learning rate α (default 0.03). */
  rate?: number;
  /** With it, α decays as α / (1 + n / rateDecay) after n training trials (halved at n = rateDecay); without, α stays. */
  rateDecay?: number;
  /** Initial forget-gate bias added (default 2: cells start out remembering). */
  forgetBias?: number;
  /** Recurrence between cells (lstmNetwork's option; default 'none'). */
  recurrent?: 'none' | 'gated' | 'cells';
  /** Most training trials before giving up. */
  budget: number;
  /** Training trials between tests. */
  checkEvery: number;
  /** Trials in each test (default 1000) and the fraction that must be correct (default 0.95). */
  testTrials?: number;
  criterion?: number;
  /** Called after each test with the trials seen and the fraction right. */
  onTest?: (trials: number, score: number) => void;
}

export interface DsrResult { solved: boolean; trials: number | null; score: number; seconds: number }

/** Run one trial (state reset first); with `learn`, weights change online at every step (the paper's regime). Returns whether every output was within 0.5. */
export function runTrial(l: Learner, trial: DsrTrial, rate: number | null): boolean {
  const x = new Float64Array(DSR_SYMBOLS), y = new Float64Array(DSR_TARGETS);
  l.reset();
  let ok = true;
  for (let t = 0; t < DSR_LENGTH; t++) {
    dsrStep(trial, t, x, y);
    const out = rate === null ? l.net.step(x) : l.step(x);
    for (let k = 0; k < DSR_TARGETS; k++) if (!(Math.abs(out[k] - y[k]) < 0.5)) ok = false;
    if (rate !== null) { l.learn(y); l.apply(rate); }
  }
  return ok;
}

/** Fraction of fresh trials an LSTM-g network gets right, without learning. */
export function dsrScore(l: Learner, rng: Rng, trials: number): number {
  let good = 0;
  for (let i = 0; i < trials; i++) if (runTrial(l, dsrTrial(rng), null)) good++;
  return good / trials;
}

/** The learning rate after n training trials: α, or α / (1 + n / rateDecay) with a decay. */
export function dsrRate(c: Pick<DsrConfig, 'rate' | 'rateDecay'>, n: number): number {
  const a = c.rate ?? 0.03;
  if (c.rateDecay === undefined) return a;
  if (!(c.rateDecay > 0)) throw new Error(`lstmg.dsr: expected rateDecay to be a positive number of trials, got ${c.rateDecay}`);
  return a / (1 + n / c.rateDecay);
}

/** Train an LSTM-g network of the paper's architecture on DSR from seed until it passes or the budget is spent. */
export async function trainDsrLstmg(c: DsrConfig, seed: number): Promise<DsrResult> {
  const { net } = lstmNetwork({ inputs: DSR_SYMBOLS, cells: c.cells ?? 8, outputs: DSR_TARGETS, rng: new Rng(seed), recurrent: c.recurrent, forgetBias: c.forgetBias ?? 2 });
  const l = new Learner(net);
  const data = new Rng(seed * 7919 + 17), test = new Rng(seed * 104729 + 3);
  const n = c.testTrials ?? 1000;
  dsrRate(c, 0); // checks the decay before any training
  const r = await trainOnline({
    budget: c.budget, checkEvery: c.checkEvery, criterion: c.criterion ?? 0.95, onTest: c.onTest,
    trainOne: (seen) => runTrial(l, dsrTrial(data), dsrRate(c, seen)), test: () => dsrScore(l, test, n),
  });
  return { solved: r.solved, trials: r.seen, score: r.score, seconds: r.seconds };
}
