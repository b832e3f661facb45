// Running the `carousel` command in a child process, for the CLI tests: one place for how it is
// spawned and for what a user error must look like.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface Run { code: number; out: string; err: string }

/** `carousel ...args` with extra environment variables; a signal or spawn failure is appended to err. */
export function carousel(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr + (r.signal ? `\n[killed by ${r.signal}]` : '') + (r.error ? `\n[${r.error.message}]` : '') };
}

/** A user error: exit 2, one line on stderr starting 'carousel: ' and matching pattern, no stack trace. Returns the line. */
export function userError(r: { code: number; err: string }, pattern: RegExp): string {
  assert.equal(r.code, 2, `exit code (stderr: ${r.err})`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.err}`);
  assert.match(lines[0], /^carousel: /);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.match(lines[0], pattern);
  return lines[0];
}
