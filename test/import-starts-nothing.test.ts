import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = pathToFileURL(join(root, 'src', 'index.js')).href;
const registry = pathToFileURL(join(root, 'src', 'backend', 'registry.js')).href;

/**
 * Importing the package builds no backend and starts no thread: the wasm backend and its worker
 * pool exist only once it is first used. Counted in a fresh process from Linux's per-process
 * thread count (/proc/self/status), before and after importing the entry, then after a threaded GEMM.
 */
test('importing the package starts no worker until the wasm backend is first used', { skip: existsSync('/proc/self/status') ? false : 'needs /proc' }, () => {
  const script = `
    import { readFileSync } from 'node:fs';
    const threads = () => Number(/Threads:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
    // The registry first (a small module that imports no backend): loading any file module starts
    // Node's own file-system thread pool, which is not ours to count.
    const reg = await import(${JSON.stringify(registry)});
    const before = threads();
    const L = await import(${JSON.stringify(entry)});
    const afterImport = threads();
    const built = reg.builtBackend('wasm') !== undefined;
    const be = await L.setBackend('wasm'); be.setThreads(2);
    const a = L.tensor(new Float32Array(256 * 256).fill(1), [256, 256]);
    L.ops.matmul(a, a);
    await new Promise((r) => setTimeout(r, 200));
    console.log(JSON.stringify({ before, afterImport, built, afterUse: threads() }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, CAROUSEL_BACKEND: '' } });
  assert.equal(r.status, 0, r.stderr);
  const n = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(n.built, false, 'the import built the wasm backend');
  assert.equal(n.afterImport, n.before, `the import started ${n.afterImport - n.before} thread(s)`);
  assert.ok(n.afterUse > n.afterImport, `the first use of wasm with 2 threads started its worker (${n.afterImport} -> ${n.afterUse} threads)`);
});
