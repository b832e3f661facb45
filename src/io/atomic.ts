import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { faultPoint } from './faults.js';

/** Bytes per write call: a large file is written (and can be interrupted) in pieces. */
const CHUNK = 1 << 24;

/**
 * Write a file so that readers only ever see the old contents or the complete new ones: write a
 * temporary file in the same folder (same filesystem, so rename is atomic), fsync it, rename it
 * over the target, then fsync the folder so the rename itself survives a crash. Temporary files
 * of the same target left by writers that died (killed mid-write) are removed afterwards, unless
 * `sweep` is false: that scan reads the whole folder, so a writer of many files to one folder
 * (100,000 WAVs) sweeps it once itself (removeStaleTemps(dir)) and skips the scan per file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string, { sweep = true }: { sweep?: boolean } = {}): void {
  const dir = dirname(path);
  const tmp = join(dir, `${tempPrefix(basename(path))}${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', 0o644);
    faultPoint();
    let off = 0;
    while (off < bytes.length) {
      off += writeSync(fd, bytes, off, Math.min(CHUNK, bytes.length - off));
      faultPoint();
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    faultPoint();
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    // Name the file the caller asked for, not the temporary one (writeSync/fsync errors carry no path).
    const err = e as NodeJS.ErrnoException;
    if (err && (err.path === tmp || err.path === undefined)) { err.path = path; err.syscall = 'write'; err.message = err.message.split(tmp).join(path); }
    throw e;
  }
  faultPoint();
  syncDir(dir);
  if (sweep) removeStaleTemps(dir, basename(path));
}

/** `.name.tmp-`: the temporary files of target `name` start with this, then `<pid>-<random>`. */
function tempPrefix(name: string): string { return `.${name}.tmp-`; }

/** fsync a folder so renames and removals in it survive a crash. */
export function syncDir(dir: string): void {
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* some filesystems cannot fsync a folder; the rename is still atomic */ }
}

/**
 * Remove the temporary files in `dir` (of target `name`, or of any target) whose writer process
 * is gone: what a killed writeFileAtomic leaves. A live writer's files (another process's pid)
 * are left alone; this process writes synchronously, so none of its own is in flight.
 */
export function removeStaleTemps(dir: string, name?: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try { names = readdirSync(dir); } catch { return removed; }
  for (const f of names) {
    const m = /^\.(.+)\.tmp-(\d+)-[0-9a-z]+$/.exec(f);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && processAlive(pid)) continue;
    rmSync(join(dir, f), { force: true });
    removed.push(f);
    faultPoint();
  }
  return removed;
}

/** Whether process `pid` runs (one of another user's counts: EPERM). */
export function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
