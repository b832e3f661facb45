/**
 * Test-only crash injection, read in this one place: with CAROUSEL_FAULT_AT=k in the environment,
 * the process SIGKILLs itself at the k-th write point it reaches (counted from 1), the way a
 * power cut or `kill -9` would stop it there. Tests run a writer once to count the points
 * (faultPointsPassed), then once per point, and check what a reader finds after each death.
 */
const killAt = typeof process !== 'undefined' ? Number(process.env.CAROUSEL_FAULT_AT ?? 0) : 0;
let passed = 0;

/** A place where a crash would leave the file system in a distinct state. */
export function faultPoint(): void {
  passed++;
  if (passed === killAt) process.kill(process.pid, 'SIGKILL');
}

/** How many write points this process has passed. */
export function faultPointsPassed(): number { return passed; }
