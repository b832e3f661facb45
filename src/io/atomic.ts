import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Write a file so that readers only ever see the old contents or the complete new ones: write a
 * temporary file in the same folder (same filesystem, so rename is atomic), fsync it, rename it
 * over the target, then fsync the folder so the rename itself survives a crash.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd = -1;
  try {
    fd = openSync(tmp, 'w', 0o644);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    // Name the file the caller asked for, not the temporary one (writeSync/fsync errors carry no path).
    const err = e as NodeJS.ErrnoException;
    if (err && (err.path === tmp || err.path === undefined)) { err.path = path; err.syscall = 'write'; err.message = err.message.split(tmp).join(path); }
    throw e;
  }
  try {
    const dfd = openSync(dir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
  } catch { /* some filesystems cannot fsync a folder; the rename is still atomic */ }
}
