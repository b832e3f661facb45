#!/usr/bin/env node
// `npm test` after the build: every test file under dist/test, at least two files at a time.
// node --test alone runs (cores - 1) files at once: one on a 2-core machine, where the suite's
// waits on child processes (the CLI tests), Chromium and worker threads leave a core idle.
// Extra arguments go to node --test (e.g. --test-reporter=dot, --test-name-pattern=...).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const files = readdirSync('dist/test').filter((f) => f.endsWith('.test.js')).sort().map((f) => `dist/test/${f}`);
const concurrency = Math.max(2, availableParallelism() - 1);
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--import', './dist/test/setup.js', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
