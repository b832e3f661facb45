import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SeedOutcome } from '../src/reproduce/experiments.js';
import { findExperiments } from '../src/reproduce/experiments.js';
import { largestSolved, tmazeExperiment } from '../src/reproduce/tmaze.js';

const run = (ns: number[], failAt?: number): SeedOutcome[] => [
  ...ns.map((N) => ({ label: `N=${N}`, solved: true, sequences: 100 * N, score: 1, seconds: 1 })),
  ...(failAt ? [{ label: `N=${failAt}`, solved: false, sequences: null, score: 0.5, seconds: 1 }] : []),
];

test('reproduce tmaze: the row is the largest corridor every seed solved, going up the ladder until a seed fails', () => {
  assert.equal(largestSolved(run([10, 20], 30)), 20);
  assert.equal(largestSolved(run([], 10)), 0);
  assert.equal(largestSolved(run([10, 20, 30, 50, 70, 100])), 100);
  const e = tmazeExperiment();
  assert.equal(findExperiments(['tmaze'])[0].name, 'tmaze');
  const v = e.verdict([run([10, 20, 30, 50, 70, 100]), run([10, 20, 30, 50], 70), run([10, 20, 30, 50, 70], 100)], 'full');
  assert.deepEqual([v.ours, v.met], ['N = 50 by every seed (per seed: 100, 50, 70)', true]);
  assert.match(v.note, /N = 50 took 5,000, 5,000, 5,000 episodes/);
  const no = e.verdict([run([10, 20, 30, 50]), run([10, 20], 30)], 'full');
  assert.deepEqual([no.ours, no.met], ['N = 20 by every seed (per seed: 50, 20)', false]);
});
