// The library half of the fuzz suite (test/fuzz.test.ts), run in a worker thread so that a case
// that hangs (a loader allocating without bound) is stopped and named instead of blocking the run.
// workerData: { suite, seed, fixtures, root }. Posts { case } before each case, then { done } or
// { fail } (the first failed assertion ends the suite).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import '../../src/backends.js';
import { loadBackend } from '../../src/backend/registry.js';
import { loadCheckpoint } from '../../src/io/checkpoint.js';
import { ModelFileError } from '../../src/io/errors.js';
import { loadModel } from '../../src/io/modelDir.js';
import { SafetensorsError } from '../../src/io/safetensors.js';
import { tensor } from '../../src/tensor/create.js';
import { byteFlips, DELETE, HOSTILE_VALUES, jsonPaths, mayAccept, oneLineMessage, rng, setPath, truncations, type Fixture } from './fuzz.js';

const { suite, seed, fixtures, root } = workerData as { suite: string; seed: number; fixtures: Fixture[]; root: string };
const reference = await loadBackend('reference');
const announce = (name: string) => parentPort!.postMessage({ case: name });

/** A scratch copy of a fixture's directory with some files replaced (by bytes) or removed (null). */
function variant(fx: Fixture, replace: Record<string, Uint8Array | string | null>): string {
  const d = join(root, `case-${suite}`);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  for (const [f, b] of Object.entries(fx.files)) if (!(f in replace)) writeFileSync(join(d, f), b);
  for (const [f, b] of Object.entries(replace)) if (b !== null) writeFileSync(join(d, f), b);
  return d;
}

/** A refusal is a file error (ModelFileError or SafetensorsError) of one short line. */
function assertFileError(e: unknown, what: string, classes: Function[] = [ModelFileError, SafetensorsError]): void {
  assert.ok(classes.some((c) => e instanceof c), `${what}: threw ${(e as Error)?.name} instead of a file error:\n${(e as Error)?.stack ?? e}`);
  const bad = oneLineMessage(e);
  assert.equal(bad, null, `${what}: ${bad}`);
}

/** Load through the library: null when refused, else the loaded model. */
function libraryLoad(dir: string, what: string): ReturnType<typeof loadModel> | null {
  announce(what);
  try { return loadModel(dir, { backend: reference }); } catch (e) { assertFileError(e, what); return null; }
}

/** The loaded model runs: a forward pass on a valid input gives finite outputs. */
function runs(m: ReturnType<typeof loadModel>, what: string): void {
  const a = m.model.arch;
  const x = a.task === 'charlm' ? tensor([0, 1, 0], [3, 1], { backend: reference, dtype: 'i32' })
    : tensor(Array.from({ length: 3 * a.inputSize }, (_, i) => Math.sin(i)), [3, 1, a.inputSize], { backend: reference });
  const y = a.task === 'charlm' ? m.model.forwardLM(x, null).logits : m.model.forwardLast(x);
  const v = y.dataSync();
  assert.ok(v.length > 0 && v.every(Number.isFinite), `${what}: the accepted model computes ${v.slice(0, 4)}`);
}

const headerEnd = (b: Uint8Array) => 8 + Number(Buffer.from(b).readBigUInt64LE(0));

const suites: Record<string, () => Record<string, number>> = {
  /** Every truncation and byte change of the weights file is refused. */
  weights() {
    const r = rng(seed);
    let cases = 0;
    for (const fx of fixtures) {
      const bytes = fx.files[fx.weights];
      for (const c of [...truncations(bytes, 80, r), ...byteFlips(bytes, 320, r, headerEnd(bytes))]) {
        const what = `seed ${seed}, ${fx.task} ${fx.weights} ${c.name}`;
        assert.ok(libraryLoad(variant(fx, { [fx.weights]: c.bytes }), what) === null, `${what}: a changed weights file was accepted`);
        cases++;
      }
      assert.ok(libraryLoad(variant(fx, { [fx.weights]: null }), `${fx.task}: weights removed`) === null, `${fx.task}: loaded without its weights`);
    }
    return { cases };
  },

  /** Hostile values at every field of model.json: refused unless the schema allows the new value. */
  metaFields() {
    const r = rng(seed);
    let cases = 0, accepted = 0;
    for (const fx of fixtures) {
      for (const p of jsonPaths(fx.meta).filter((q) => q[0] !== 'training' || q.length === 1)) {
        for (const v of [DELETE, ...HOSTILE_VALUES.filter(() => r() < 0.5)]) {
          const mut = setPath(fx.meta, p, v);
          const what = `seed ${seed}, ${fx.task} model.json ${JSON.stringify(p)} = ${v === DELETE ? '(deleted)' : JSON.stringify(v)?.slice(0, 40)}`;
          const m = libraryLoad(variant(fx, { 'model.json': JSON.stringify(mut) }), what);
          if (m) {
            assert.ok(mayAccept(fx.meta, mut), `${what}: accepted, but the schema does not allow it`);
            runs(m, what);
            accepted++;
          }
          cases++;
        }
      }
    }
    assert.ok(accepted > 0, 'no valid edit was accepted (does the loader refuse everything?)');
    return { cases, accepted };
  },

  /** Truncations and byte changes of model.json: refused, or a model.json the schema allows. */
  metaBytes() {
    const r = rng(seed);
    let cases = 0;
    for (const fx of fixtures) {
      const bytes = fx.files['model.json'];
      for (const c of [...truncations(bytes, 60, r), ...byteFlips(bytes, 200, r, bytes.length)]) {
        const what = `seed ${seed}, ${fx.task} model.json ${c.name}`;
        const m = libraryLoad(variant(fx, { 'model.json': c.bytes }), what);
        if (m) {
          let parsed: unknown;
          try { parsed = JSON.parse(Buffer.from(c.bytes).toString('utf8')); } catch { assert.fail(`${what}: accepted text that is not JSON`); }
          assert.ok(mayAccept(fx.meta, parsed), `${what}: accepted, but the schema does not allow it`);
          runs(m, what);
        }
        cases++;
      }
    }
    return { cases };
  },

  /** Every truncation and byte change of a checkpoint is refused by loadCheckpoint. */
  checkpoint() {
    const r = rng(seed);
    let cases = 0;
    const path = join(root, 'ck.safetensors');
    for (const fx of fixtures) {
      const bytes = fx.files['checkpoint.safetensors'];
      for (const c of [...truncations(bytes, 60, r), ...byteFlips(bytes, 200, r, headerEnd(bytes))]) {
        const what = `seed ${seed}, ${fx.task} checkpoint ${c.name}`;
        announce(what);
        writeFileSync(path, c.bytes);
        let ok = false;
        try { loadCheckpoint(path); ok = true; } catch (e) { assertFileError(e, what, [ModelFileError]); }
        assert.equal(ok, false, `${what}: a changed checkpoint was accepted`);
        cases++;
      }
    }
    return { cases };
  },
};

try {
  parentPort!.postMessage({ done: suites[suite]() });
} catch (e) {
  parentPort!.postMessage({ fail: (e as Error)?.message ?? String(e) });
}
