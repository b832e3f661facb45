import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The wasm backend's memory management and default selection, each in a child process (a fresh
 * heap, --expose-gc to make collection deterministic, and a clean environment).
 */
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..');
const wasmIndex = join(dist, 'src', 'backend', 'wasm', 'index.js');
const pkgIndex = join(dist, 'src', 'index.js');

function runChild(code: string, env: Record<string, string | undefined> = {}, flags: string[] = []): string {
  const e = { ...process.env, ...env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete e[k];
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60000, env: e });
  assert.equal(r.error, undefined, `child did not finish: ${r.error?.message}`);
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return r.stdout.trim();
}

describe('wasm backend: memory', () => {
  it('blocks of collected storages are freed by the finalizer once the loop yields, and reused', () => {
    const out = runChild(`
      import { WasmBackend } from ${JSON.stringify(wasmIndex)};
      const b = new WasmBackend({ threads: 1 });
      const n = 1 << 20; // 4 MiB per storage
      const base = b.heap.inUse;
      for (let i = 0; i < 20; i++) b.alloc('f32', n);
      const held = b.heap.inUse - base;
      gc(); await new Promise((r) => setTimeout(r, 50)); gc(); await new Promise((r) => setTimeout(r, 50));
      const freed = b.heap.inUse - base;
      const top = b.heap.heapEnd;
      for (let i = 0; i < 20; i++) { const s = b.alloc('f32', n); if (s.array[0] !== 0) throw new Error('not zeroed'); s.array[0] = 1; b.dispose(s); }
      console.log(JSON.stringify({ held, freed, grew: b.heap.heapEnd - top }));
    `, {}, ['--expose-gc']);
    const r = JSON.parse(out) as { held: number; freed: number; grew: number };
    assert.equal(r.held, 20 * 4 * 2 ** 20);
    assert.equal(r.freed, 0, 'every collected storage was given back');
    assert.equal(r.grew, 0, 'freed and disposed blocks are reused instead of growing the heap');
  });

  it('without --expose-gc, an asynchronous loop that never disposes stays bounded (the heap asks V8 for collections)', () => {
    const out = runChild(`
      import { WasmBackend } from ${JSON.stringify(wasmIndex)};
      const b = new WasmBackend({ threads: 1 });
      let peak = 0;
      for (let i = 0; i < 300; i++) { // 1.2 GiB allocated in all, 4 MiB at a time
        const s = b.alloc('f32', 1 << 20); s.array[0] = i;
        peak = Math.max(peak, b.heap.inUse);
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 0));
      }
      console.log(JSON.stringify({ peak, mem: b.memory.buffer.byteLength }));
    `);
    const r = JSON.parse(out) as { peak: number; mem: number };
    assert.ok(r.peak < 700 * 2 ** 20, `${r.peak} bytes in use at the peak`);
  });

  it('past maxMemoryMiB new storages live in JS memory and still compute (no error)', () => {
    const out = runChild(`
      import { WasmBackend, WasmStorage } from ${JSON.stringify(wasmIndex)};
      const b = new WasmBackend({ threads: 1, maxMemoryMiB: 64 });
      const keep = [];
      for (let i = 0; i < 30; i++) keep.push(b.alloc('f32', 1 << 20)); // 120 MiB, never disposed
      const inJs = keep.filter((s) => !(s instanceof WasmStorage)).length;
      const x = keep[29], y = keep[28];
      x.array[5] = 2;
      b.unary('exp', x, 0, y, 0, 1 << 20);
      b.gemm(false, false, 2, 2, 2, 1, keep[0], 0, 2, x, 4, 2, 0, y, 0, 2);
      console.log(JSON.stringify({ inJs, y5: y.array[0] }));
      let threw = '';
      try { new WasmBackend({ maxMemoryMiB: 10 }); } catch (e) { threw = e.message; }
      console.log(threw);
    `);
    const [json, msg] = out.split('\n');
    const r = JSON.parse(json) as { inJs: number };
    assert.ok(r.inJs >= 14, `${r.inJs} storages fell back to JS memory`);
    assert.match(msg, /maxMemoryMiB: expected an integer from 64 to 4096, got 10/);
  });

  it('the default backend is wasm where WebAssembly SIMD is available; CAROUSEL_BACKEND overrides it', () => {
    const code = `import * as C from ${JSON.stringify(pkgIndex)}; console.log(C.getBackend().name, C.wasmSimdSupported());`;
    const [name, simd] = runChild(code, { CAROUSEL_BACKEND: undefined }).split(' ');
    assert.equal(name, simd === 'true' ? 'wasm' : 'reference');
    assert.equal(runChild(code, { CAROUSEL_BACKEND: 'reference' }).split(' ')[0], 'reference');
    const bad = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', env: { ...process.env, CAROUSEL_BACKEND: 'gpu' } });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /CAROUSEL_BACKEND: expected one of reference, composed, wasm, webgpu, got .gpu./);
  });

  it('a process that used worker threads exits on its own', () => {
    const out = runChild(`
      import { WasmBackend } from ${JSON.stringify(wasmIndex)};
      const b = new WasmBackend({ threads: 2 });
      await b.ready();
      b.parallelMinMacs = 0;
      const a = b.alloc('f32', 64 * 64), c = b.alloc('f32', 64 * 64);
      b.gemm(false, false, 64, 64, 64, 1, a, 0, 64, a, 0, 64, 0, c, 0, 64);
      console.log('done');
    `);
    assert.equal(out, 'done');
  });
});
