import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { printable } from '../data/printable.js';
import { RunError, UserError } from './errors.js';

/** What each errno means, in words; the code itself follows in parentheses. */
const CAUSES: Record<string, string> = {
  ENOENT: 'no such file or folder', EACCES: 'permission denied', EPERM: 'operation not permitted',
  EROFS: 'read-only file system', ENOSPC: 'no space left on the device', EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder', EISDIR: 'is a folder, expected a file',
  EEXIST: 'already exists', ENAMETOOLONG: 'name too long', ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files', ENFILE: 'too many open files in the system', EIO: 'input/output error',
  EFBIG: 'file too large', EBUSY: 'busy', ETXTBSY: 'busy', EXDEV: 'on another file system', ENXIO: 'no such device',
};
const VERBS: Record<string, string> = {
  open: 'open', read: 'read', write: 'write', fsync: 'write', close: 'write', mkdir: 'create the folder',
  rename: 'write', stat: 'read', lstat: 'read', scandir: 'list the folder', opendir: 'list the folder',
  unlink: 'remove', rmdir: 'remove', rm: 'remove', access: 'write to', copyfile: 'copy',
};
/** The machine's state, not the user's paths: the run failed (exit 1), it may work another time. */
const ENVIRONMENT = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'EFBIG', 'EBUSY', 'ETXTBSY', 'EAGAIN']);

export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  const s = e as NodeJS.ErrnoException;
  return typeof s?.code === 'string' && /^E[A-Z]+$/.test(s.code) && typeof s.syscall === 'string';
}

/**
 * A file-system refusal as one line naming the path and the real cause: exit 2 when the user's
 * path is at fault (missing, read-only, not a folder, permission), 1 when the machine is
 * (disk full, I/O error).
 */
export function fsError(e: NodeJS.ErrnoException): UserError | RunError {
  let { code, syscall, path } = e as { code: string; syscall: string; path?: string };
  // Node's recursive mkdir reports ENOENT for the whole path when a parent cannot be made
  // (a read-only mount, a permission): make the first missing parent alone to learn why.
  if (syscall === 'mkdir' && code === 'ENOENT' && path) {
    const real = firstMissingParentError(path);
    if (real) ({ code, path } = real);
  }
  // Writing a file, ENOENT can only mean its folder is missing.
  const cause = code === 'ENOENT' && syscall === 'write' ? 'no such folder' : CAUSES[code] ?? 'refused';
  const line = `cannot ${VERBS[syscall] ?? syscall} ${path ? printable(path, 200) : '(no path given)'}: ${cause} (${code})`;
  return ENVIRONMENT.has(code) ? new RunError(line) : new UserError(line);
}

function firstMissingParentError(path: string): { code: string; path: string } | null {
  let p = path;
  while (!existsSync(dirname(p)) && dirname(p) !== p) p = dirname(p);
  const parent = dirname(p);
  try { if (!statSync(parent).isDirectory()) return { code: 'ENOTDIR', path: parent }; } catch { return null; }
  try { mkdirSync(p); } catch (e) {
    const c = (e as NodeJS.ErrnoException).code;
    return typeof c === 'string' && c !== 'EEXIST' ? { code: c, path: p } : null;
  }
  return null;
}
