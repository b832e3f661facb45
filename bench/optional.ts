import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Load a peer library that may not be installed (they are devDependencies; the bench must run
 * without them). Returns the module, or the reason it could not be loaded.
 */
export function loadOptional(name: string): { ok: true; mod: any } | { ok: false; reason: string } { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    return { ok: true, mod: require(name) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && err.message.includes(`'${name}'`)) return { ok: false, reason: `skipped: ${name} is not installed` };
    return { ok: false, reason: `skipped: ${name} failed to load (${err.message.split('\n')[0]})` };
  }
}

export function resolveOptional(name: string): string { return require.resolve(name); }

/** Installed version of a package, or '?' */
export function versionOf(name: string): string {
  try { return (require(`${name}/package.json`) as { version: string }).version; } catch { return '?'; }
}
