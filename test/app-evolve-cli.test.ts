// carousel evolve through the CLI: a real (small) solve of the cart-pole with a 5,000-step balance
// test, identical with 1 and 2 workers, saved as a policy that loads back (as `carousel play`
// loads it) and still balances; Evolino's output files; bad flags as one-line user errors.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appOf } from '../src/io/appModel.js';
import { loadPolicy } from '../src/rl/policy.js';
import { EXPERIMENTS } from '../src/reproduce/experiments.js';
import { carousel, userError } from './util/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'carousel-evolve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('carousel evolve', () => {
  it('solves the cart-pole (5,000 steps balanced), the same run with 1 and 2 workers, and saves a policy that loads and balances', () => {
    const out = join(dir, 'cp');
    const args = ['evolve', '--env', 'cart-pole', '--hidden', '2', '--balance', '5000', '--max-evals', '3000', '--seed', '3'];
    const one = carousel([...args, '--workers', '1']);
    const two = carousel([...args, '--workers', '2', '--out', out]);
    assert.equal(one.code, 0, one.err); assert.equal(two.code, 0, two.err);
    // The solved line without its wall time.
    const line = (s: string) => s.split('\n').find((l) => l.startsWith('solved: '))?.replace(/, [\d.]+ s$/, '');
    assert.ok(line(one.out), one.out);
    assert.equal(line(two.out), line(one.out), 'same evaluations and fitness for any worker count');
    assert.match(two.out, /the reloaded policy balances 5,000 of 5,000 steps/);
    assert.equal(appOf(out), 'policy');
    const { config, training } = loadPolicy(out);
    assert.equal(config.env, 'cart-pole'); assert.equal(config.hidden, 2);
    assert.equal(training?.solved, true);
    assert.match(readFileSync(join(out, 'curve.svg'), 'utf8'), /^<svg[\s\S]*best so far[\s\S]*<\/svg>\n$/);
  });

  it('Evolino writes its result, prediction and learning curve', () => {
    const out = join(dir, 'ev');
    const r = carousel(['evolve', '--task', 'evolino-sines', '--hidden', '2', '--max-evals', '30', '--workers', '1', '--out', out]);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    assert.equal(res.evaluations, 30);
    assert.equal(res.readout.length, 4); // 2 cells, the input, the bias
    assert.ok(Number.isFinite(res.trainMse) && res.trainMse > 0);
    assert.ok(existsSync(join(out, 'prediction.svg')) && existsSync(join(out, 'curve.svg')));
  });

  it('bad flags are one-line user errors', () => {
    userError(carousel(['evolve']), /expected exactly one of --env \(tmaze, cart-pole, double-pole\) or --task \(evolino-sines, evolino-mackey-glass\), got neither/);
    userError(carousel(['evolve', '--env', 'moon']), /--env: expected one of tmaze, cart-pole, double-pole, got 'moon'/);
    userError(carousel(['evolve', '--task', 'evolino-sines', '--no-velocities']), /--no-velocities is for --env, not --task/);
    userError(carousel(['evolve', '--env', 'double-pole', '--workers', '0']), /--workers: expected an integer >= 1, got '0'/);
    userError(carousel(['evolve', '--task', 'evolino-sines', '--waves', '9']), /--waves: expected an integer from 1 to 5, got '9'/);
  });

  it('the reproductions are registered', () => {
    for (const name of ['double-pole', 'evolino-sines']) assert.ok(EXPERIMENTS.some((e) => e.name === name), name);
  });
});
