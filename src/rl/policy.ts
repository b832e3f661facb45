import { join } from 'node:path';
import { noGrad } from '../autograd/tape.js';
import { loadAppWeights, readAppModel, saveAppModel } from '../io/appModel.js';
import { ModelFileError } from '../io/errors.js';
import { META_FILE } from '../io/modelDir.js';
import { GRU } from '../nn/gru.js';
import { Linear } from '../nn/linear.js';
import { LSTM } from '../nn/lstm.js';
import { Module, type ModuleOptions, type TensorData } from '../nn/module.js';
import { addScalar, exp, reshape, scale, tanh } from '../ops/index.js';
import type { Rng } from '../tensor/random.js';
import type { Parameter, Tensor } from '../tensor/tensor.js';
import { ENV_NAMES, EnvError, makeEnv, type ActionSpace, type Env } from './envs/env.js';

/** What rebuilds a policy: saved in its model.json (app 'policy'), with the environment it acts in. */
export interface PolicyConfig {
  env: string;
  envOptions: Record<string, unknown>;
  cell: 'lstm' | 'gru';
  hidden: number;
  observation: number;
  action: ActionSpace;
  /** A value head (the critic of actor-critic methods). */
  critic: boolean;
}

/** The policy's outputs over a sequence (or one step: T = 1). */
export interface PolicyOutput {
  /** Discrete: logits [T, B, n]. Continuous: the action mean [T, B, dim], tanh-squashed into [low, high]. */
  out: Tensor;
  /** The critic's state values [T, B] (null without a critic). */
  value: Tensor | null;
  /** The recurrent state after the last step: h [1, B, H] (and c [1, B, H] for an LSTM). */
  state: RecurrentState;
}

export interface RecurrentState { h: Tensor; c?: Tensor }

/** Options for a new policy's initial weights (not saved: the weights are). */
export interface PolicyInit extends ModuleOptions {
  /** Added to the LSTM's forget-gate bias, so memory lasts from the start (Gers et al. 2000). Default 1. */
  forgetBias?: number;
  /** The continuous action's initial log standard deviation (in units of half the action range). Default log 0.5. */
  logStd?: number;
}

export const POLICY_APP = 'policy';

/**
 * A recurrent policy (Wierstra et al. 2007/2010; Bakker 2002): an LSTM (or GRU) over the
 * observations, a linear head giving the action distribution (discrete: logits of a softmax;
 * continuous: a Gaussian with a tanh-squashed mean in [low, high] and a learned, state-independent
 * log standard deviation, in units of half the range), and optionally a linear value head.
 * Parameter names as PyTorch's: rnn.weight_ih_l0, ..., head.weight, head.bias, log_std,
 * value.weight, value.bias.
 *
 * forward() runs whole episodes with autograd (BPTT in one fused recurrent op); step() runs one
 * step with a carried state, with or without autograd; controller() copies the weights into a
 * plain-number controller, the fast way to act.
 */
export class RecurrentPolicy extends Module {
  readonly rnn: LSTM | GRU;
  readonly head: Linear;
  readonly value: Linear | null;
  readonly logStd: Parameter | null;

  constructor(readonly config: PolicyConfig, init: PolicyInit = {}) {
    super(init);
    checkPolicyConfig(config, 'RecurrentPolicy config');
    const { hidden: H, observation: I, action } = config;
    const rnnConfig = { inputSize: I, hiddenSize: H };
    this.rnn = this.addModule('rnn', config.cell === 'lstm' ? new LSTM(rnnConfig, init) : new GRU(rnnConfig, init));
    this.head = this.addModule('head', new Linear({ inFeatures: H, outFeatures: actionWidth(action) }, init));
    this.logStd = action.kind === 'continuous' ? this.addParameterValues('log_std', [action.dim], new Array(action.dim).fill(init.logStd ?? Math.log(0.5))) : null;
    this.value = config.critic ? this.addModule('value', new Linear({ inFeatures: H, outFeatures: 1 }, init)) : null;
    const fb = init.forgetBias ?? 1;
    if (config.cell === 'lstm' && fb !== 0) {
      const b = this.rnn.parameter('bias_hh_l0');
      const v = Float64Array.from(b.dataSync());
      for (let j = H; j < 2 * H; j++) v[j] += fb; // gate rows i, f, g, o: the f block
      this.rnn.loadStateDict(new Map([['bias_hh_l0', { shape: [4 * H], data: v }]]), false);
    }
  }

  /** Whole sequences: obs [T, B, I]; lengths: each episode's steps (outputs past them are padding). */
  forward(obs: Tensor, opts: { lengths?: ArrayLike<number> | null; state?: RecurrentState | null } = {}): PolicyOutput {
    const [T, B] = obs.shape;
    const s = opts.state;
    let y: Tensor, state: RecurrentState;
    if (this.rnn instanceof LSTM) {
      const r = this.rnn.forward(obs, { lengths: opts.lengths ?? null, h0: s?.h ?? null, c0: s?.c ?? null });
      y = r.y; state = { h: r.hN, c: r.cN };
    } else {
      const r = this.rnn.forward(obs, { lengths: opts.lengths ?? null, h0: s?.h ?? null });
      y = r.y; state = { h: r.hN };
    }
    let out = this.head.forward(y); // [T, B, A]
    const a = this.config.action;
    if (a.kind === 'continuous') out = addScalar(scale(tanh(out), (a.high - a.low) / 2), (a.high + a.low) / 2);
    const value = this.value ? reshape(this.value.forward(y), [T, B]) : null;
    return { out, value, state };
  }

  /** One step for a batch: obs [B, I] and the state the last step returned (null: start of episodes). */
  step(obs: Tensor, state: RecurrentState | null = null): PolicyOutput {
    const [B, I] = obs.shape;
    return this.forward(reshape(obs, [1, B, I]), { state });
  }

  /** The Gaussian's standard deviation [dim] in action units (continuous actions). */
  std(): Tensor {
    const a = this.config.action;
    if (a.kind !== 'continuous' || !this.logStd) throw new Error('RecurrentPolicy.std: the policy has discrete actions');
    return scale(exp(this.logStd), (a.high - a.low) / 2);
  }

  /** A plain-number controller holding a copy of the current weights (see PolicyController). */
  controller(): PolicyController {
    return noGrad(() => new PolicyController(this.config, this.stateDict()));
  }

  /** All parameters as one vector, in namedParameters() order (the evolution strategies' genome). */
  getFlat(): Float64Array {
    const ps = this.namedParameters();
    const out = new Float64Array(ps.reduce((n, [, p]) => n + p.size, 0));
    let k = 0;
    for (const [, p] of ps) { out.set(p.dataSync(), k); k += p.size; }
    return out;
  }

  /** Overwrite every parameter from one vector laid out as getFlat()'s. */
  setFlat(v: ArrayLike<number>): void {
    const ps = this.namedParameters();
    const n = ps.reduce((s, [, p]) => s + p.size, 0);
    if (v.length !== n) throw new Error(`RecurrentPolicy.setFlat: expected ${n} values, got ${v.length}`);
    const dict = new Map<string, TensorData>();
    let k = 0;
    for (const [name, p] of ps) { dict.set(name, { shape: [...p.shape], data: Array.prototype.slice.call(v, k, k + p.size) as number[] }); k += p.size; }
    this.loadStateDict(dict, true);
  }
}

function actionWidth(a: ActionSpace): number { return a.kind === 'discrete' ? a.n : a.dim; }

/** The config for a policy acting in env. */
export function policyConfigFor(envName: string, envOptions: Record<string, unknown>, cell: 'lstm' | 'gru', hidden: number, critic: boolean): PolicyConfig {
  const env = makeEnv(envName, envOptions);
  return { env: envName, envOptions, cell, hidden, observation: env.observationSize, action: env.action, critic };
}

/** Check a (possibly read from disk) config: its shape, and that it fits its environment. */
export function checkPolicyConfig(c: unknown, where: string): PolicyConfig {
  const bad = (field: string, expected: string, got: unknown) => new ModelFileError(`${where}: ${field}: expected ${expected}, got ${JSON.stringify(got) ?? 'nothing'}`);
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw bad('config', 'an object', c);
  const o = c as Record<string, unknown>;
  if (typeof o.env !== 'string' || !(ENV_NAMES as readonly string[]).includes(o.env)) throw bad('env', `one of ${ENV_NAMES.join(', ')}`, o.env);
  if (typeof o.envOptions !== 'object' || o.envOptions === null || Array.isArray(o.envOptions)) throw bad('envOptions', 'an object', o.envOptions);
  if (o.cell !== 'lstm' && o.cell !== 'gru') throw bad('cell', '"lstm" or "gru"', o.cell);
  if (!Number.isInteger(o.hidden) || (o.hidden as number) < 1 || (o.hidden as number) > 4096) throw bad('hidden', 'an integer in [1, 4096]', o.hidden);
  if (typeof o.critic !== 'boolean') throw bad('critic', 'true or false', o.critic);
  let env: Env;
  try { env = makeEnv(o.env, o.envOptions as Record<string, unknown>); } catch (e) {
    if (e instanceof EnvError) throw new ModelFileError(`${where}: envOptions: ${e.message}`);
    throw e;
  }
  if (o.observation !== env.observationSize) throw bad('observation', `${env.observationSize} (what ${o.env} observes)`, o.observation);
  if (JSON.stringify(o.action) !== JSON.stringify(env.action)) throw bad('action', JSON.stringify(env.action), o.action);
  return o as unknown as PolicyConfig;
}

/** Save a policy as an application model directory (app 'policy'; see src/io/appModel.ts). */
export async function savePolicy(dir: string, policy: RecurrentPolicy, training?: Record<string, unknown>): Promise<void> {
  await saveAppModel(dir, POLICY_APP, policy.config, policy, training);
}

/** Load a saved policy, its config checked against its environment and its weights against the config. */
export function loadPolicy(dir: string, init: ModuleOptions = {}): { policy: RecurrentPolicy; config: PolicyConfig; training?: Record<string, unknown> } {
  const { meta, tensors, weightsFile } = readAppModel<PolicyConfig>(dir, POLICY_APP);
  const config = checkPolicyConfig(meta.config, `${join(dir, META_FILE)}: config`);
  const policy = new RecurrentPolicy(config, { ...init, forgetBias: 0 });
  loadAppWeights(policy, tensors, weightsFile);
  return { policy, config, training: meta.training };
}

/**
 * The policy in plain numbers: B episodes at once, one step per call, the recurrent state
 * carried in Float64Arrays. Same equations as torch.nn.LSTM / nn.GRU and the heads (weights
 * read once; f32 weights computed in f64, so outputs agree with the module to f32 rounding).
 */
export class PolicyController {
  readonly H: number;
  readonly I: number;
  readonly A: number;
  private readonly wIh: Float64Array; // [G*H, I]
  private readonly wHh: Float64Array; // [G*H, H]
  private readonly b: Float64Array;   // [G*H] b_ih + b_hh (GRU: b_ih, with b_hn kept apart)
  private readonly bHn: Float64Array | null; // GRU: [H], inside the reset product
  private readonly wHead: Float64Array; // [A, H]
  private readonly bHead: Float64Array; // [A]
  private readonly wV: Float64Array | null; // [H]
  private readonly bV: number;
  /** Continuous actions: the standard deviation [dim] in action units. */
  readonly std: Float64Array | null;
  private batch = 0;
  private h = new Float64Array(0); // [B, H]
  private c = new Float64Array(0); // [B, H]
  private gates = new Float64Array(0); // [G*H] scratch

  constructor(readonly config: PolicyConfig, params: Map<string, TensorData>) {
    const H = this.H = config.hidden, I = this.I = config.observation;
    const a = config.action, A = this.A = actionWidth(a);
    const G = config.cell === 'lstm' ? 4 : 3;
    const get = (name: string, size: number): Float64Array => {
      const t = params.get(name);
      if (!t) throw new Error(`PolicyController: missing parameter '${name}'`);
      if (t.data.length !== size) throw new Error(`PolicyController: '${name}': expected ${size} values, got ${t.data.length}`);
      return Float64Array.from(t.data);
    };
    this.wIh = get('rnn.weight_ih_l0', G * H * I);
    this.wHh = get('rnn.weight_hh_l0', G * H * H);
    const bIh = get('rnn.bias_ih_l0', G * H), bHh = get('rnn.bias_hh_l0', G * H);
    this.b = bIh.map((v, j) => (config.cell === 'gru' && j >= 2 * H ? v : v + bHh[j]));
    this.bHn = config.cell === 'gru' ? bHh.slice(2 * H) : null;
    this.wHead = get('head.weight', A * H);
    this.bHead = get('head.bias', A);
    this.wV = config.critic ? get('value.weight', H) : null;
    this.bV = config.critic ? get('value.bias', 1)[0] : 0;
    const half = a.kind === 'continuous' ? (a.high - a.low) / 2 : 0;
    this.std = a.kind === 'continuous' ? get('log_std', A).map((v) => Math.exp(v) * half) : null;
  }

  /** Start `batch` new episodes (zero state). */
  reset(batch: number): void {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`PolicyController.reset: expected a positive batch size, got ${batch}`);
    this.batch = batch;
    this.h = new Float64Array(batch * this.H);
    this.c = new Float64Array(batch * this.H);
    this.gates = new Float64Array((this.config.cell === 'lstm' ? 4 : 3) * this.H);
  }

  /** Zero one episode's state (it restarts while the others go on). */
  resetOne(b: number): void { this.h.fill(0, b * this.H, (b + 1) * this.H); this.c.fill(0, b * this.H, (b + 1) * this.H); }

  /**
   * One step: obs [B, I] -> out [B, A] (logits, or the continuous mean in action units) and the
   * values [B] (critic only). `active` (optional, [B]): rows to leave untouched when false.
   */
  step(obs: Float64Array, active?: ArrayLike<boolean>): { out: Float64Array; value: Float64Array | null } {
    const { H, I, A, batch: B } = this;
    if (B === 0) throw new Error('PolicyController.step: call reset(batch) first');
    if (obs.length !== B * I) throw new Error(`PolicyController.step: expected ${B}x${I} observations, got ${obs.length}`);
    const out = new Float64Array(B * A), value = this.wV ? new Float64Array(B) : null;
    const g = this.gates, lstm = this.config.cell === 'lstm';
    const a = this.config.action;
    for (let b = 0; b < B; b++) {
      if (active && !active[b]) continue;
      const x = b * I, hb = b * H;
      const G = g.length;
      for (let r = 0; r < G; r++) {
        let s = this.b[r];
        const wi = r * I;
        for (let k = 0; k < I; k++) s += this.wIh[wi + k] * obs[x + k];
        if (lstm || r < 2 * H) {
          const wh = r * H;
          for (let k = 0; k < H; k++) s += this.wHh[wh + k] * this.h[hb + k];
        }
        g[r] = s;
      }
      if (lstm) {
        for (let j = 0; j < H; j++) {
          const i = sigmoid(g[j]), f = sigmoid(g[H + j]), gg = Math.tanh(g[2 * H + j]), o = sigmoid(g[3 * H + j]);
          const c = f * this.c[hb + j] + i * gg;
          this.c[hb + j] = c;
          g[j] = o * Math.tanh(c); // the new h, kept in the scratch until every unit is done
        }
      } else {
        for (let j = 0; j < H; j++) {
          let hn = this.bHn![j];
          const wh = (2 * H + j) * H;
          for (let k = 0; k < H; k++) hn += this.wHh[wh + k] * this.h[hb + k];
          const r = sigmoid(g[j]), z = sigmoid(g[H + j]);
          const n = Math.tanh(g[2 * H + j] + r * hn);
          g[j] = (1 - z) * n + z * this.h[hb + j];
        }
      }
      for (let j = 0; j < H; j++) this.h[hb + j] = g[j];
      for (let k = 0; k < A; k++) {
        let s = this.bHead[k];
        for (let j = 0; j < H; j++) s += this.wHead[k * H + j] * this.h[hb + j];
        out[b * A + k] = a.kind === 'continuous' ? (a.high + a.low) / 2 + ((a.high - a.low) / 2) * Math.tanh(s) : s;
      }
      if (value) {
        let s = this.bV;
        for (let j = 0; j < H; j++) s += this.wV![j] * this.h[hb + j];
        value[b] = s;
      }
    }
    return { out, value };
  }

  /**
   * Actions for a step's outputs: discrete, sampled from the softmax (greedy: the most likely);
   * continuous, mean + std * N(0, 1) (greedy: the mean). Returns one number per episode
   * (discrete) or dim numbers per episode, row-major.
   */
  act(out: Float64Array, rng: Rng, greedy = false): Float64Array {
    const A = this.A, B = out.length / A, a = this.config.action;
    if (a.kind === 'discrete') {
      const acts = new Float64Array(B);
      for (let b = 0; b < B; b++) acts[b] = greedy ? argmax(out, b * A, A) : sampleSoftmax(out, b * A, A, rng);
      return acts;
    }
    const acts = new Float64Array(B * A);
    for (let i = 0; i < acts.length; i++) acts[i] = greedy ? out[i] : out[i] + this.std![i % A] * rng.normal();
    return acts;
  }
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

function argmax(v: Float64Array, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (v[off + k] > v[off + best]) best = k;
  return best;
}

/** A draw from softmax(v[off..off+n]). */
export function sampleSoftmax(v: Float64Array, off: number, n: number, rng: Rng): number {
  let m = -Infinity;
  for (let k = 0; k < n; k++) m = Math.max(m, v[off + k]);
  let z = 0;
  for (let k = 0; k < n; k++) z += Math.exp(v[off + k] - m);
  let u = rng.next() * z;
  for (let k = 0; k < n; k++) { u -= Math.exp(v[off + k] - m); if (u < 0) return k; }
  return n - 1;
}
