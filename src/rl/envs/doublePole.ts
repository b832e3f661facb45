import type { Rng } from '../../tensor/random.js';
import { checkRunning, continuousAction, EnvOptions, type ActionSpace, type Env, type StepResult } from './env.js';
import { deg, renderCart, signed } from './poleRender.js';

/**
 * Double pole balancing: Wieland (1991), "Evolving neural network controllers for unstable
 * systems", with the constants and integration of Gomez & Miikkulainen (1999), Gomez, Schmidhuber
 * & Miikkulainen (2008) and Igel (2003): cart 1 kg on a 4.8 m track, poles of 0.1 kg and 0.01 kg with
 * half-lengths 0.5 m and 0.05 m, friction 0.0005 (cart on track) and 0.000002 (pole hinges),
 * force in [-10, 10] N held for two 4th-order Runge-Kutta steps of 0.01 s; a failure is
 * |x| > 2.4 m or a pole beyond 36°. Gravity is -9.8 in Wieland's sign convention (θ > 0: the pole
 * leans towards +x, as in the single pole).
 */
export const DOUBLE_POLE = {
  gravity: -9.8, massCart: 1.0, massPole: [0.1, 0.01], halfLength: [0.5, 0.05],
  muCart: 0.0005, muPole: 0.000002, forceMag: 10, tau: 0.01, stepsPerAction: 2,
  thetaLimit: (36 * Math.PI) / 180, xLimit: 2.4,
  /** The long pole's start angle (0.07 rad, about 4°; the short one starts upright). */
  startAngle: 0.07,
} as const;

/** d/dt of the state [x, ẋ, θ1, θ̇1, θ2, θ̇2] under force F (Wieland's equations). */
export function doublePoleDerivatives(s: readonly number[], force: number): number[] {
  const { gravity: g, massCart: M, massPole, halfLength, muCart, muPole } = DOUBLE_POLE;
  const xd = s[1];
  const F = force - muCart * Math.sign(xd);
  let fSum = 0, mSum = 0;
  for (let i = 0; i < 2; i++) {
    const th = s[2 + 2 * i], thd = s[3 + 2 * i], m = massPole[i], l = halfLength[i];
    const cos = Math.cos(th), sin = Math.sin(th);
    const fric = (muPole * thd) / (m * l);
    fSum += m * l * thd * thd * sin + 0.75 * m * cos * (fric + g * sin); // effective force of pole i on the cart
    mSum += m * (1 - 0.75 * cos * cos); // effective mass of pole i
  }
  const xacc = (F + fSum) / (M + mSum);
  const out = [xd, xacc, 0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const th = s[2 + 2 * i], thd = s[3 + 2 * i], l = halfLength[i];
    out[2 + 2 * i] = thd;
    out[3 + 2 * i] = (-0.75 * (xacc * Math.cos(th) + g * Math.sin(th) + (muPole * thd) / (massPole[i] * l))) / l;
  }
  return out;
}

/** One classical Runge-Kutta step of length h under a constant force. */
export function rk4Step(s: readonly number[], force: number, h: number, f = doublePoleDerivatives): number[] {
  const k1 = f(s, force);
  const k2 = f(s.map((v, i) => v + (h / 2) * k1[i]), force);
  const k3 = f(s.map((v, i) => v + (h / 2) * k2[i]), force);
  const k4 = f(s.map((v, i) => v + h * k3[i]), force);
  return s.map((v, i) => v + (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]));
}

/**
 * Observations as Igel's and Gomez's: [x/4.8, ẋ/2, θ1/0.52, θ̇1/2, θ2/0.52, θ̇2/2], or without
 * velocities [x/4.8, θ1/0.52, θ2/0.52] (the partially observable task: it needs memory). Action:
 * a force in [-10, 10] N. Reward +1 for every decision step (0.02 s) both poles stay up; the
 * episode succeeds at maxSteps (the literature's benchmark is 100,000 steps, 30 simulated minutes;
 * the default here is 1000). startNoise adds a uniform ±startNoise to every state variable.
 */
export class DoublePole implements Env {
  readonly name = 'double-pole';
  readonly observationSize: number;
  readonly action: ActionSpace = { kind: 'continuous', dim: 1, low: -DOUBLE_POLE.forceMag, high: DOUBLE_POLE.forceMag };
  readonly velocities: boolean;
  readonly maxSteps: number;
  readonly startNoise: number;
  readonly startAngle: number;
  private s = [0, 0, 0, 0, 0, 0];
  private t = 0;
  private running = false;
  private force = 0;

  constructor(options: Record<string, unknown>) {
    const o = new EnvOptions('double-pole', options, ['velocities', 'maxSteps', 'startNoise', 'startAngle']);
    this.velocities = o.bool('velocities', true);
    this.maxSteps = o.int('maxSteps', 1000, 1);
    this.startNoise = o.num('startNoise', 0, 0, 0.2);
    this.startAngle = o.num('startAngle', DOUBLE_POLE.startAngle, -DOUBLE_POLE.thetaLimit, DOUBLE_POLE.thetaLimit);
    this.observationSize = this.velocities ? 6 : 3;
  }

  /** The physical state [x, ẋ, θ1, θ̇1, θ2, θ̇2] (a copy). */
  get state(): number[] { return [...this.s]; }

  reset(rng: Rng): Float64Array {
    this.s = [0, 0, this.startAngle, 0, 0, 0].map((v) => (this.startNoise > 0 ? v + rng.uniform(-this.startNoise, this.startNoise) : v));
    this.t = 0;
    this.force = 0;
    this.running = true;
    return this.observe();
  }

  private observe(): Float64Array {
    const [x, xd, t1, t1d, t2, t2d] = this.s;
    return this.velocities ? Float64Array.of(x / 4.8, xd / 2, t1 / 0.52, t1d / 2, t2 / 0.52, t2d / 2) : Float64Array.of(x / 4.8, t1 / 0.52, t2 / 0.52);
  }

  step(action: number | Float64Array): StepResult {
    checkRunning('double-pole', this.running);
    const F = DOUBLE_POLE.forceMag;
    this.force = continuousAction('double-pole', -F, F, action);
    for (let k = 0; k < DOUBLE_POLE.stepsPerAction; k++) this.s = rk4Step(this.s, this.force, DOUBLE_POLE.tau);
    this.t++;
    const lim = DOUBLE_POLE.thetaLimit;
    const failed = Math.abs(this.s[0]) > DOUBLE_POLE.xLimit || Math.abs(this.s[2]) > lim || Math.abs(this.s[4]) > lim;
    const done = failed || this.t >= this.maxSteps;
    this.running = !done;
    const r = { observation: this.observe(), reward: failed ? 0 : 1, done };
    return done ? { ...r, success: !failed } : r;
  }

  render(): string {
    const [x, , t1, , t2] = this.s;
    return renderCart(x, DOUBLE_POLE.xLimit, [t1, t2], `t=${this.t} x=${signed(x)} m θ1=${deg(t1)} θ2=${deg(t2)} F=${signed(this.force, 1)} N`);
  }
}
