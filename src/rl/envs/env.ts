import type { Rng } from '../../tensor/random.js';
import { CartPole } from './cartpole.js';
import { DoublePole } from './doublePole.js';
import { TMaze } from './tmaze.js';

/** What an environment accepts: one of n actions, or a vector of dim reals in [low, high]. */
export type ActionSpace = { kind: 'discrete'; n: number } | { kind: 'continuous'; dim: number; low: number; high: number };

export interface StepResult {
  observation: Float64Array;
  reward: number;
  /** The episode is over (goal, failure or the step limit); call reset() before stepping again. */
  done: boolean;
  /** Set on the last step: whether the episode counts as solved (T-maze goal, poles balanced to the limit). */
  success?: boolean;
}

/**
 * A control task, deterministic given the generator handed to reset(): the same seed gives the
 * same episodes. Observations are fresh arrays (the caller may keep them).
 */
export interface Env {
  readonly name: string;
  readonly observationSize: number;
  readonly action: ActionSpace;
  reset(rng: Rng): Float64Array;
  step(action: number | Float64Array): StepResult;
  /** The current state as a text frame (a few lines, no trailing newline). */
  render(): string;
}

/** A bad environment name, option or action: one line naming what was expected and what was given. */
export class EnvError extends Error {
  constructor(message: string) { super(message); this.name = 'EnvError'; }
}

export const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return Array.isArray(v) ? 'an array' : typeof v;
};

/** Options an environment reads, each checked: unknown names are refused, naming the known ones. */
export class EnvOptions {
  constructor(readonly env: string, private readonly o: Record<string, unknown>, known: readonly string[]) {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new EnvError(`${env}: expected options as an object, got ${show(o)}`);
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) throw new EnvError(`${env}: unknown option '${k}' (expected ${known.join(', ')})`);
    }
  }

  int(name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.o[name];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new EnvError(`${this.env} ${name}: expected an integer in [${min}, ${max}], got ${show(v)}`);
    }
    return v;
  }

  num(name: string, def: number, min: number, max: number): number {
    const v = this.o[name];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new EnvError(`${this.env} ${name}: expected a number in [${min}, ${max}], got ${show(v)}`);
    }
    return v;
  }

  bool(name: string, def: boolean): boolean {
    const v = this.o[name];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') throw new EnvError(`${this.env} ${name}: expected true or false, got ${show(v)}`);
    return v;
  }
}

/** The one number a discrete environment's step() takes: an integer in [0, n). */
export function discreteAction(env: string, n: number, a: number | Float64Array): number {
  const v = typeof a === 'number' ? a : a.length === 1 ? a[0] : NaN;
  if (!Number.isInteger(v) || v < 0 || v >= n) {
    throw new EnvError(`${env} step: expected an action index in 0..${n - 1}, got ${typeof a === 'number' ? a : `an array of ${a.length}`}`);
  }
  return v;
}

/** A continuous environment's force: a finite number (or one-element array), clipped to [low, high]. */
export function continuousAction(env: string, low: number, high: number, a: number | Float64Array): number {
  const v = typeof a === 'number' ? a : a.length === 1 ? a[0] : NaN;
  if (!Number.isFinite(v)) throw new EnvError(`${env} step: expected a finite force in [${low}, ${high}], got ${typeof a === 'number' ? a : a.length === 1 ? a[0] : `an array of ${a.length}`}`);
  return Math.min(high, Math.max(low, v));
}

/** Guards step() after the end of an episode and before the first reset. */
export function checkRunning(env: string, running: boolean): void {
  if (!running) throw new EnvError(`${env} step: the episode is over (or never started): call reset(rng) first`);
}

/** The environments by name, for the commands and saved policies. */
export const ENV_NAMES = ['tmaze', 'cart-pole', 'double-pole'] as const;

/** A new environment: 'tmaze' { length, maxSteps }, 'cart-pole' / 'double-pole' { velocities, maxSteps, ... }. */
export function makeEnv(name: string, options: Record<string, unknown> = {}): Env {
  switch (name) {
    case 'tmaze': return new TMaze(options);
    case 'cart-pole': return new CartPole(options);
    case 'double-pole': return new DoublePole(options);
    default: throw new EnvError(`unknown environment ${show(name)}: expected one of ${ENV_NAMES.join(', ')}`);
  }
}
