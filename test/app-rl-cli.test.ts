import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { policyConfigFor, RecurrentPolicy, savePolicy } from '../src/rl/policy.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'rl-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('carousel rl trains, saves the policy and the learning curve; carousel play shows its episodes', () => {
  const out = join(dir, 'tm');
  const r = carousel(['rl', '--env', 'tmaze', '--length', '2', '--episodes', '1500', '--hidden', '6', '--eval', '20', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /T-maze N=2, a2c, LSTM 6/);
  assert.match(r.out, /(solved after \d+ episodes|not solved within 1500 episodes)/);
  assert.match(r.out, /final success rate \d+\.\d% over 20 sampled episodes/);
  assert.match(r.err, /episodes \d+\/1500 success/);
  const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
  assert.equal(meta.app, 'policy');
  assert.deepEqual(meta.config.envOptions, { length: 2 });
  assert.equal(meta.training.evaluation.episodes, 20);
  assert.match(readFileSync(join(out, 'learning-curve.svg'), 'utf8'), /^<svg[\s\S]*success rate[\s\S]*<\/svg>\s*$/);
  const p = carousel(['play', '--model', out, '--env', 'tmaze', '--episodes', '2']);
  assert.equal(p.code, 0, p.err);
  assert.match(p.out, /\n@\.\+\n/); // the agent at the start of a corridor of 2
  assert.match(p.out, /episode 2: (success|failure), return -?\d/);
  assert.match(p.out, /2 episodes: success rate/);
  userError(carousel(['play', '--model', out, '--env', 'cart-pole']), /--env: the policy in .* acts in tmaze, got cart-pole/);
  // another corridor length than the training one
  const longer = carousel(['play', '--model', out, '--length', '4', '--every', '0']);
  assert.equal(longer.code, 0, longer.err);
  assert.match(longer.out, /T-maze N=4/);
});

test('carousel play runs any saved policy (as carousel evolve saves them): a double pole without velocities', async () => {
  const config = policyConfigFor('double-pole', { velocities: false, maxSteps: 30 }, 'lstm', 4, false);
  const m = join(dir, 'dp');
  await savePolicy(m, new RecurrentPolicy(config, { rng: new Rng(1) }));
  const p = carousel(['play', '--model', m, '--every', '10']);
  assert.equal(p.code, 0, p.err);
  assert.match(p.out, /double-pole without velocities/);
  assert.match(p.out, /θ1=[+-]\d+\.\d°/);
  assert.match(p.out, /episode 1: (success|failure), return \d+ in \d+ steps/);
});

test('bad flags: one-line errors naming what was expected', () => {
  userError(carousel(['rl', '--env', 'tmase', '--out', join(dir, 'x')]), /--env: expected one of tmaze, cart-pole, double-pole, got 'tmase'/);
  userError(carousel(['rl', '--env', 'tmaze', '--length', '0', '--out', join(dir, 'x')]), /--length: expected an integer >= 1, got '0'/);
  userError(carousel(['rl', '--env', 'tmaze', '--no-velocities', '--out', join(dir, 'x')]), /--no-velocities: only for cart-pole and double-pole/);
  userError(carousel(['rl', '--env', 'cart-pole', '--length', '3', '--out', join(dir, 'x')]), /--length: only for tmaze, not cart-pole/);
  userError(carousel(['rl', '--env', 'tmaze']), /--out is required/);
  userError(carousel(['rl', '--env', 'tmaze', '--algo', 'ppo', '--out', join(dir, 'x')]), /--algo: expected one of a2c, reinforce, got 'ppo'/);
  userError(carousel(['play', '--model', join(dir, 'nothing')]), /no such model directory/);
  assert.equal(existsSync(join(dir, 'x')), false, 'nothing written on a bad flag');
});
