import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CARTPOLE, CartPole, cartPoleStep } from '../src/rl/envs/cartpole.js';
import { DOUBLE_POLE, DoublePole, doublePoleDerivatives, rk4Step } from '../src/rl/envs/doublePole.js';
import { EnvError, makeEnv } from '../src/rl/envs/env.js';
import { EAST, NORTH, SOUTH, TMaze, WEST } from '../src/rl/envs/tmaze.js';
import { Rng } from '../src/tensor/random.js';

/** States computed by an independent Python implementation: python3 test/app-rl-physics-reference.py */
const REF: Record<string, { start: number[]; forces: number[]; states: number[][] }> = {"cartpole": {"start": [0.01, -0.02, 0.03, 0.04], "forces": [10, -10, 10, 10, -10, -10, 10, -10], "states": [[0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081], [0.013093583914951107, -0.020868848948191993, 0.025938625640799837, 0.0591679999394166], [0.012676206935987267, 0.17387177487348135, 0.02712198563958817, -0.22521957255967326], [0.016153642433456895, 0.36859581150093934, 0.022617594188394704, -0.509225318312219], [0.023525558663475683, 0.17316263692575581, 0.012433087822150324, -0.20950152868114708], [0.0269888114019908, -0.022134863349400652, 0.008243057248527383, 0.0870773136085351], [0.026546114135002786, 0.17286796720471087, 0.009984603520698085, -0.20299356335440677], [0.030003473479097004, -0.022395342623891673, 0.00592473225360995, 0.09282222648365457]]}, "doublePole": {"start": [0.0, 0.0, 0.07, 0.0, 0.0, 0.0], "forces": [10.0, -10.0, 3.5, 0.0, -7.25, 10.0], "states": [[0.0019358593967833623, 0.19359931760100446, 0.06730754934127328, -0.26940560490294674, -0.029167876797357172, -2.9305135675173926], [0.0038531283801294834, -0.0018582248608844942, 0.06503911666091827, 0.04243741688611996, -0.05975632183363614, -0.14476908180905834], [0.004488526571032202, 0.06539934595004446, 0.06507267501122195, -0.03908183483561579, -0.07455587551842617, -1.342032327707002], [0.005788337905404174, 0.06458975647100017, 0.06449378990723702, -0.018846904187751916, -0.103720133983241, -1.5886931651654335], [0.005661797168613996, -0.07723826643949659, 0.06643013857539903, 0.21256359163119937, -0.11760484248537932, 0.19247296404715863], [0.006054787118428199, 0.11653023425247715, 0.06797937168499225, -0.05754891247621213, -0.14616501615611316, -3.059826490160333]]}, "doublePoleMoving": {"start": [0.1, -0.3, -0.05, 0.2, 0.04, -0.5], "forces": [10.0, -10.0, 3.5, 0.0, -7.25, 10.0], "states": [[0.09595276753305838, -0.10471563339626212, -0.049070137152793486, -0.10698178390767829, 0.001681379593784109, -3.350599972987397], [0.091919678590545, -0.2985851814404368, -0.04845009702033615, 0.16900544896779204, -0.03669152477449847, -0.5065453044495758], [0.0866365859467987, -0.22972432802228437, -0.04624139262405666, 0.051971687122926165, -0.058365523973890526, -1.6710458070942686], [0.0820497194584078, -0.22895636717076123, -0.04534833299392181, 0.03736906204745398, -0.09393108664342331, -1.9029133575035906], [0.07606764922300611, -0.36925173686063195, -0.042630230222600395, 0.23458004958296597, -0.11408353419445388, -0.12323198811825797], [0.07063633534193581, -0.1738799008493618, -0.04098887421426913, -0.07036698442906628, -0.1491557695371737, -3.398168795430556]]}};

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])), `${what}[${i}]: got ${got[i]}, want ${want[i]}`);
}

test('cart-pole: Euler steps match the independent reference (Barto et al. 1983 equations)', () => {
  let s = REF.cartpole.start;
  REF.cartpole.forces.forEach((F, k) => { s = cartPoleStep(s, F); close(s, REF.cartpole.states[k], 1e-12, `step ${k}`); });
});

test('cart-pole: upright at rest stays, a small tilt grows at the linearised rate, a push accelerates the cart', () => {
  assert.deepEqual(cartPoleStep([0, 0, 0, 0], 0), [0, 0, 0, 0]);
  const { gravity: g, massCart: mc, massPole: mp, halfLength: l, tau } = CARTPOLE;
  const th = 1e-6;
  const s = cartPoleStep([0, 0, th, 0], 0);
  // small angles: θ'' = g θ / (l (4/3 - mp/(mc+mp)))
  assert.ok(Math.abs(s[3] / tau - (g * th) / (l * (4 / 3 - mp / (mc + mp)))) < 1e-12);
  const p = cartPoleStep([0, 0, 0, 0], 10);
  assert.ok(p[1] > 0 && p[3] < 0, 'pushing right accelerates the cart right and tips the pole left');
});

test('double pole: RK4 steps match the independent reference (Wieland 1991), resting and moving, with friction', () => {
  for (const name of ['doublePole', 'doublePoleMoving']) {
    let s = REF[name].start;
    REF[name].forces.forEach((F, k) => {
      for (let i = 0; i < DOUBLE_POLE.stepsPerAction; i++) s = rk4Step(s, F, DOUBLE_POLE.tau);
      close(s, REF[name].states[k], 1e-10, `${name} step ${k}`);
    });
  }
});

test('double pole: equilibrium, and the environment applies two RK4 steps per action', () => {
  assert.deepEqual(doublePoleDerivatives([0, 0, 0, 0, 0, 0], 0).map((v) => v + 0), [0, 0, 0, 0, 0, 0]); // +0: -0 is 0 here
  const env = new DoublePole({});
  env.reset(new Rng(1));
  assert.deepEqual(env.state, [0, 0, 0.07, 0, 0, 0]);
  REF.doublePole.forces.forEach((F, k) => {
    const r = env.step(F);
    close(env.state, REF.doublePole.states[k], 1e-10, `env step ${k}`);
    const s = REF.doublePole.states[k];
    close(r.observation, [s[0] / 4.8, s[1] / 2, s[2] / 0.52, s[3] / 2, s[4] / 0.52, s[5] / 2], 1e-10, 'observation');
    assert.equal(r.reward, 1);
  });
  const pomdp = new DoublePole({ velocities: false });
  assert.equal(pomdp.observationSize, 3);
  const o = pomdp.reset(new Rng(1));
  close(o, [0, 0.07 / 0.52, 0], 1e-15, 'no-velocity observation');
});

test('poles: failing ends the episode unsolved; lasting to maxSteps succeeds', () => {
  const env = new CartPole({ startNoise: 0 });
  env.reset(new Rng(3));
  let r; let steps = 0;
  do { r = env.step(1); steps++; } while (!r.done);
  assert.equal(r.success, false);
  assert.equal(r.reward, 0);
  assert.ok(Math.abs(env.state[2]) > CARTPOLE.thetaLimit || Math.abs(env.state[0]) > CARTPOLE.xLimit);
  assert.ok(steps > 5 && steps < 100, `pushing one way fails soon, got ${steps} steps`);
  const short = new CartPole({ maxSteps: 3, startNoise: 0 });
  short.reset(new Rng(3));
  short.step(1); short.step(0);
  assert.deepEqual([short.step(1).done, short.step.length], [true, 1]);
  assert.throws(() => short.step(0), /episode is over/);
  const dp = new DoublePole({ maxSteps: 2 });
  dp.reset(new Rng(0));
  dp.step(0);
  const last = dp.step(0);
  assert.equal(last.done, true); assert.equal(last.success, true);
});

test('determinism: the same seed gives the same episodes, another seed others', () => {
  const run = (seed: number, name: string, opts: Record<string, unknown>) => {
    const env = makeEnv(name, opts), rng = new Rng(seed), out: number[] = [];
    for (let e = 0; e < 4; e++) {
      out.push(...env.reset(rng));
      for (let t = 0; t < 5; t++) {
        const r = env.step(env.action.kind === 'discrete' ? t % env.action.n : 3);
        out.push(...r.observation, r.reward);
        if (r.done) break;
      }
    }
    return out;
  };
  for (const [name, opts] of [['tmaze', { length: 2 }], ['cart-pole', {}], ['double-pole', { startNoise: 0.01 }]] as const) {
    assert.deepEqual(run(7, name, opts), run(7, name, opts), name);
    assert.notDeepEqual(run(7, name, opts), run(8, name, opts), name);
  }
});

test('T-maze: observations, rewards and the end of an episode, step by step (Bakker 2002)', () => {
  const env = new TMaze({ length: 3 });
  env.reset(new Rng(0));
  env.setGoal(true);
  const seen: string[] = [];
  const o = (r: { observation: Float64Array }) => Array.from(r.observation).join('');
  // at the start the sign shows the goal: 011 North
  assert.equal(Array.from(env.reset(new Rng(0))).length, 3);
  env.setGoal(false);
  let r = env.step(WEST); // into the start's wall: stand still, -0.1, and the South sign again
  seen.push(o(r), String(r.reward));
  r = env.step(EAST); seen.push(o(r), String(r.reward));
  r = env.step(NORTH); seen.push(o(r), String(r.reward)); // standing still in the corridor
  r = env.step(EAST); seen.push(o(r));
  r = env.step(EAST); seen.push(o(r)); // the junction
  r = env.step(EAST); seen.push(o(r), String(r.reward)); // its East wall
  assert.deepEqual(seen, ['110', '-0.1', '101', '0', '101', '-0.1', '101', '010', '010', '-0.1']);
  assert.equal(r.done, false);
  r = env.step(SOUTH);
  assert.deepEqual([r.done, r.success, r.reward], [true, true, 4]);
  assert.match(env.render(), /goal/);
  // the wrong way
  const w = new TMaze({ length: 1 });
  w.reset(new Rng(0)); w.setGoal(true);
  w.step(EAST);
  assert.deepEqual((({ done, success, reward }) => ({ done, success, reward }))(w.step(SOUTH)), { done: true, success: false, reward: -0.1 });
  // the step limit
  const t = new TMaze({ length: 5, maxSteps: 2 });
  t.reset(new Rng(0));
  t.step(EAST);
  const last = t.step(EAST);
  assert.deepEqual([last.done, last.success, last.reward], [true, false, 0]);
});

test('T-maze: the goal side is drawn per episode, about half each', () => {
  const env = new TMaze({ length: 4 }), rng = new Rng(11);
  let north = 0;
  for (let i = 0; i < 400; i++) { const o = env.reset(rng); if (o[0] === 0) north++; assert.equal(env.goal === 'north', o[0] === 0); }
  assert.ok(north > 160 && north < 240, `got ${north} of 400`);
});

test('render: text frames name the state', () => {
  const t = new TMaze({ length: 4 });
  t.reset(new Rng(0));
  assert.equal(t.render().split('\n')[1], '@...+');
  t.step(EAST);
  assert.equal(t.render().split('\n')[1], 'S@..+');
  const c = new CartPole({ startNoise: 0 }); c.reset(new Rng(0)); c.step(1);
  assert.match(c.render(), /#/); assert.match(c.render(), /F=\+10\.0 N/);
  const d = new DoublePole({}); d.reset(new Rng(0));
  assert.equal(d.render().split('\n').length, 4);
});

test('bad names, options and actions: one-line errors naming what was expected', () => {
  assert.throws(() => makeEnv('tmase', {}), (e: Error) => e instanceof EnvError && /unknown environment "tmase": expected one of tmaze, cart-pole, double-pole/.test(e.message));
  assert.throws(() => makeEnv('tmaze', { lenght: 5 }), /tmaze: unknown option 'lenght' \(expected length, maxSteps\)/);
  assert.throws(() => makeEnv('tmaze', { length: 0 }), /tmaze length: expected an integer in \[1, 100000\], got 0/);
  assert.throws(() => makeEnv('cart-pole', { velocities: 'no' }), /cart-pole velocities: expected true or false, got "no"/);
  const env = makeEnv('tmaze', { length: 2 });
  assert.throws(() => env.step(1), /call reset\(rng\) first/);
  env.reset(new Rng(0));
  assert.throws(() => env.step(4), /expected an action index in 0\.\.3, got 4/);
  const dp = makeEnv('double-pole', {});
  dp.reset(new Rng(0));
  assert.throws(() => dp.step(NaN), /expected a finite force in \[-10, 10\], got NaN/);
});
