import type { Rng } from '../../tensor/random.js';
import { checkRunning, continuousAction, discreteAction, EnvOptions, type ActionSpace, type Env, type StepResult } from './env.js';
import { deg, renderCart, signed } from './poleRender.js';

/**
 * Barto, Sutton & Anderson (1983), "Neuronlike adaptive elements that can solve difficult learning
 * control problems", as in Sutton & Anderson's pole.c: cart 1 kg, pole 0.1 kg with half-length
 * 0.5 m, g = 9.8 m/s², force ±10 N, Euler steps of 0.02 s, no friction; the pole falls at
 * |θ| > 12° and the cart leaves the track at |x| > 2.4 m.
 */
export const CARTPOLE = {
  gravity: 9.8, massCart: 1.0, massPole: 0.1, halfLength: 0.5, forceMag: 10, tau: 0.02,
  thetaLimit: (12 * Math.PI) / 180, xLimit: 2.4,
} as const;

/** The state [x, ẋ, θ, θ̇] after one Euler step under force F (θ > 0: the pole leans towards +x). */
export function cartPoleStep(s: readonly number[], force: number): number[] {
  const { gravity: g, massCart: mc, massPole: mp, halfLength: l, tau } = CARTPOLE;
  const [x, xd, th, thd] = s;
  const cos = Math.cos(th), sin = Math.sin(th), total = mc + mp;
  const temp = (force + mp * l * thd * thd * sin) / total;
  const thacc = (g * sin - cos * temp) / (l * (4 / 3 - (mp * cos * cos) / total));
  const xacc = temp - (mp * l * thacc * cos) / total;
  return [x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc];
}

/**
 * Single pole balancing. Observations, scaled as the double pole's: [x/4.8, ẋ/2, θ/0.52, θ̇/2],
 * or without velocities [x/4.8, θ/0.52] (then the policy must estimate them: it needs memory).
 * Actions: discrete (0: push left, 1: push right, ±10 N, as Barto et al.) or, with
 * continuous: true, a force in [-10, 10] N. Reward +1 for every step the pole stays up; the
 * episode succeeds when it reaches maxSteps. Each reset draws every state variable uniformly in
 * ±startNoise (0.05 by default; 0: Barto's start at rest, upright).
 */
export class CartPole implements Env {
  readonly name = 'cart-pole';
  readonly observationSize: number;
  readonly action: ActionSpace;
  readonly velocities: boolean;
  readonly maxSteps: number;
  readonly startNoise: number;
  private s = [0, 0, 0, 0];
  private t = 0;
  private running = false;
  private force = 0;

  constructor(options: Record<string, unknown>) {
    const o = new EnvOptions('cart-pole', options, ['velocities', 'maxSteps', 'continuous', 'startNoise']);
    this.velocities = o.bool('velocities', true);
    this.maxSteps = o.int('maxSteps', 1000, 1);
    this.startNoise = o.num('startNoise', 0.05, 0, 0.2);
    this.action = o.bool('continuous', false) ? { kind: 'continuous', dim: 1, low: -CARTPOLE.forceMag, high: CARTPOLE.forceMag } : { kind: 'discrete', n: 2 };
    this.observationSize = this.velocities ? 4 : 2;
  }

  /** The physical state [x, ẋ, θ, θ̇] (a copy). */
  get state(): number[] { return [...this.s]; }

  reset(rng: Rng): Float64Array {
    this.s = this.s.map(() => rng.uniform(-this.startNoise, this.startNoise));
    this.t = 0;
    this.force = 0;
    this.running = true;
    return this.observe();
  }

  private observe(): Float64Array {
    const [x, xd, th, thd] = this.s;
    return this.velocities ? Float64Array.of(x / 4.8, xd / 2, th / 0.52, thd / 2) : Float64Array.of(x / 4.8, th / 0.52);
  }

  step(action: number | Float64Array): StepResult {
    checkRunning('cart-pole', this.running);
    const F = CARTPOLE.forceMag;
    this.force = this.action.kind === 'discrete' ? (discreteAction('cart-pole', 2, action) === 1 ? F : -F) : continuousAction('cart-pole', -F, F, action);
    this.s = cartPoleStep(this.s, this.force);
    this.t++;
    const failed = Math.abs(this.s[0]) > CARTPOLE.xLimit || Math.abs(this.s[2]) > CARTPOLE.thetaLimit;
    const done = failed || this.t >= this.maxSteps;
    this.running = !done;
    const r = { observation: this.observe(), reward: failed ? 0 : 1, done };
    return done ? { ...r, success: !failed } : r;
  }

  render(): string {
    const [x, , th] = this.s;
    return renderCart(x, CARTPOLE.xLimit, [th], `t=${this.t} x=${signed(x)} m θ=${deg(th)} F=${signed(this.force, 1)} N`);
  }
}
