import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getBackend, initWasm, WasmBackend, wasmSimdSupported, wasmUnavailableReason } from '../src/index.js';
import { platform, threadCanBlock } from '../src/backend/wasm/platform.js';

/**
 * The asynchronous way to the wasm backend (the browser's only one) works in Node too, beside the
 * synchronous `new WasmBackend()`; the Node platform is the one chosen here.
 */
describe('initWasm and WasmBackend.create in Node', { skip: wasmSimdSupported() ? false : 'no WebAssembly SIMD here' }, () => {
  it('Node is recognised, and may block', () => {
    assert.equal(platform.name, 'node');
    assert.equal(wasmUnavailableReason(), null);
    assert.equal(threadCanBlock(), true);
    assert.ok(platform.cores() >= 1);
  });
  it('WasmBackend.create starts its workers', async () => {
    const b = await WasmBackend.create({ threads: 2 });
    try {
      assert.equal(b.threads, 2);
      assert.equal(b.workersRunning, 1);
    } finally { b.terminate(); }
  });
  it('initWasm makes one wasm backend the default; a second call reuses it', async () => {
    const b = await initWasm({ threads: 2 });
    assert.ok(b instanceof WasmBackend);
    assert.equal(getBackend(), b);
    assert.equal(b.workersRunning, 1);
    const again = await initWasm({ threads: 1, setDefault: false });
    assert.equal(again, b);
    assert.equal((again as WasmBackend).threads, 1);
    await assert.rejects(initWasm({ maxMemoryMiB: 128 }), /initWasm: the wasm backend already exists; maxMemoryMiB applies only to the first call/);
    await assert.rejects(initWasm({ threads: 0 }), /wasm threads: expected a positive integer, got 0/);
    await assert.rejects(initWasm({ setDefault: 'yes' as unknown as boolean }), /initWasm setDefault: expected a boolean, got "yes"/);
    (b as WasmBackend).terminate();
  });
  it('bad options to WasmBackend.create are errors', async () => {
    await assert.rejects(WasmBackend.create({ maxMemoryMiB: 10 }), /WasmBackend maxMemoryMiB: expected an integer from 64 to 4096, got 10/);
  });
});
