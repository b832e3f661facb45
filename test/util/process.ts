import { spawnSync } from 'node:child_process';

/** A pid that is surely not running: a child that has exited. */
export function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}
