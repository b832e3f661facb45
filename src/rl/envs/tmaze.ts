import type { Rng } from '../../tensor/random.js';
import { checkRunning, discreteAction, EnvOptions, type ActionSpace, type Env, type StepResult } from './env.js';

/** Actions, as in Bakker (2002): move North, East, South or West. */
export const NORTH = 0, EAST = 1, SOUTH = 2, WEST = 3;
const ACTION_NAMES = ['N', 'E', 'S', 'W'];

/** Rewards of Bakker (2002), kept by Wierstra et al. (2007, 2010). */
export const GOAL_REWARD = 4;
export const PENALTY = -0.1;

export interface TMazeOptions {
  /** Corridor length N: the junction lies N steps East of the start (the shortest episode is N + 1 steps). */
  length: number;
  /** The episode stops unsolved after this many steps (default 2 (N + 1)^2: a random walk usually gets there). */
  maxSteps?: number;
}

/**
 * The T-maze of Bakker (2002), "Reinforcement learning with Long Short-Term Memory" (NIPS 14):
 * a corridor of length N ending in a T-junction. The goal is North or South of the junction, drawn
 * at each reset; the agent sees which only at the start ("road sign" 011: North, 110: South), in
 * the corridor it sees 101 and at the junction 010, so it must carry the sign N + 1 steps.
 * Turning towards the goal at the junction ends the episode with +4, the other way with -0.1;
 * every move that leaves the agent where it was (North/South in the corridor, into a wall) costs
 * -0.1. The step limit is ours (Bakker has none): an episode stops unsolved, with no reward,
 * after maxSteps.
 */
export class TMaze implements Env {
  readonly name = 'tmaze';
  readonly observationSize = 3;
  readonly action: ActionSpace = { kind: 'discrete', n: 4 };
  readonly length: number;
  readonly maxSteps: number;
  private pos = 0;
  private goalNorth = true;
  private t = 0;
  private running = false;
  private last: { action: number; reward: number; outcome: '' | 'goal' | 'wrong' | 'timeout' } | null = null;

  constructor(options: Record<string, unknown>) {
    const o = new EnvOptions('tmaze', options, ['length', 'maxSteps']);
    this.length = o.int('length', 10, 1, 100_000);
    this.maxSteps = o.int('maxSteps', 2 * (this.length + 1) ** 2, 1);
  }

  /** Which side the goal is on in this episode. */
  get goal(): 'north' | 'south' { return this.goalNorth ? 'north' : 'south'; }
  get position(): number { return this.pos; }

  reset(rng: Rng): Float64Array {
    this.goalNorth = rng.next() < 0.5;
    this.pos = 0;
    this.t = 0;
    this.running = true;
    this.last = null;
    return this.observe();
  }

  /** Force the goal side (tests, demos): the next observation shows it if at the start. */
  setGoal(north: boolean): void { this.goalNorth = north; }

  private observe(): Float64Array {
    if (this.pos === 0) return this.goalNorth ? Float64Array.of(0, 1, 1) : Float64Array.of(1, 1, 0);
    if (this.pos === this.length) return Float64Array.of(0, 1, 0);
    return Float64Array.of(1, 0, 1);
  }

  step(action: number | Float64Array): StepResult {
    checkRunning('tmaze', this.running);
    const a = discreteAction('tmaze', 4, action);
    this.t++;
    let reward = 0, done = false, success = false, outcome: '' | 'goal' | 'wrong' | 'timeout' = '';
    if (this.pos === this.length && (a === NORTH || a === SOUTH)) {
      done = true;
      success = (a === NORTH) === this.goalNorth;
      reward = success ? GOAL_REWARD : PENALTY;
      outcome = success ? 'goal' : 'wrong';
    } else if (a === EAST && this.pos < this.length) this.pos++;
    else if (a === WEST && this.pos > 0) this.pos--;
    else reward = PENALTY; // stood still: North/South in the corridor, West at the start, East at the junction
    if (!done && this.t >= this.maxSteps) { done = true; outcome = 'timeout'; }
    this.running = !done;
    this.last = { action: a, reward, outcome };
    return done ? { observation: this.observe(), reward, done, success } : { observation: this.observe(), reward, done };
  }

  render(): string {
    const N = this.length;
    const pad = ' '.repeat(N);
    const ended = this.last?.outcome === 'goal' || this.last?.outcome === 'wrong';
    const north = ended && this.last!.action === NORTH ? '@' : this.goalNorth ? 'G' : '#';
    const south = ended && this.last!.action === SOUTH ? '@' : this.goalNorth ? '#' : 'G';
    let row = '';
    for (let x = 0; x <= N; x++) row += !ended && x === this.pos ? '@' : x === 0 ? 'S' : x === N ? '+' : '.';
    const obs = Array.from(this.observe()).join('');
    const status = `t=${this.t} obs ${ended ? '-' : obs}${this.last ? ` action ${ACTION_NAMES[this.last.action]} reward ${this.last.reward}` : ''}${this.last?.outcome ? ` (${this.last.outcome})` : ''}`;
    return `${pad}${north}\n${row}\n${pad}${south}\n${status}`;
  }
}
