import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ModelFileError } from './errors.js';

/**
 * The bytes of a regular file of at most maxBytes. Opened without blocking (a FIFO would wait
 * for a writer forever), then fstat'ed: only a regular file is read, so a symlink to /dev/zero,
 * a device or a pipe is refused instead of read forever. `what` names the file in messages.
 */
export function readRegularFile(path: string, maxBytes: number, what = 'file'): Buffer {
  let fd: number;
  try { fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw Object.assign(new ModelFileError(code === 'ENOENT' ? `${path}: no such file (expected a ${what})` : `${path}: cannot read (${(e as Error).message})`, path), { code });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ModelFileError(`${path}: expected a regular file, got ${kindOf(st)}`, path);
    if (st.size > maxBytes) throw new ModelFileError(`${path}: ${st.size} bytes is beyond the limit of ${maxBytes} for a ${what} (see LIMITS in src/io/limits.ts)`, path);
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) throw new ModelFileError(`${path}: the file shrank while being read (${off} of ${st.size} bytes)`, path);
      off += n;
    }
    return buf;
  } finally { closeSync(fd); }
}

function kindOf(st: import('node:fs').Stats): string {
  return st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device'
    : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'something else';
}
