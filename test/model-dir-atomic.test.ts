import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { loadModel, saveModel, weightsPath } from '../src/io/modelDir.js';
import { stateDictToSafetensors } from '../src/io/pytorch.js';
import { childMeta, childModel } from './util/childModel.js';
import { deadPid } from './util/process.js';

const CHILD = new URL('./util/saveChild.js', import.meta.url).pathname;
const tmp = (p: string) => mkdtempSync(join(tmpdir(), `carousel-${p}-`));

/** Run the writer child; killAt 0: to the end. Returns the write points passed, or 'killed'. */
function child(args: string[], killAt = 0): number | 'killed' {
  const r = spawnSync(process.execPath, [CHILD, ...args], { encoding: 'utf8', env: { ...process.env, CAROUSEL_BACKEND: 'reference', CAROUSEL_FAULT_AT: String(killAt) } });
  if (r.signal === 'SIGKILL') return 'killed';
  assert.equal(r.status, 0, r.stderr);
  return Number(r.stdout.trim());
}

/** A model's architecture and every parameter's values, to compare exactly. */
function fingerprint(dir: string): string {
  const { model } = loadModel(dir);
  return JSON.stringify([model.arch, [...model.stateDict()].map(([n, t]) => [n, Array.from(t.data)])]);
}

/** A version 1 directory as Carousel wrote them before model.json named its weights. */
async function legacyDir(dir: string): Promise<void> {
  const m = childModel(1, 3);
  writeFileSync(join(dir, 'weights.safetensors'), await stateDictToSafetensors(m, { format: 'pt' }));
  writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'carousel-model', version: 1, architecture: m.arch, ...childMeta }));
}

for (const start of ['a directory saved by saveModel', 'a version 1 directory (weights.safetensors)']) {
  test(`model directory: a save killed at every write point over ${start} leaves exactly the old or the new model, and the next save cleans up`, async () => {
    const base = tmp('atomic');
    if (start.startsWith('a version 1')) await legacyDir(base);
    else assert.equal(typeof child(['model', base, '1', '3']), 'number');
    const old = fingerprint(base);
    // The new model differs in architecture (hidden 4) as well as in values.
    const full = tmp('atomic-full');
    cpSync(base, full, { recursive: true });
    const points = child(['model', full, '2', '4']) as number;
    const fresh = fingerprint(full);
    assert.notEqual(fresh, old);
    assert.ok(points >= 8, `write points: ${points}`);
    const seen: string[] = [];
    for (let k = 1; k <= points; k++) {
      const dir = tmp(`atomic-k${k}`);
      cpSync(base, dir, { recursive: true });
      assert.equal(child(['model', dir, '2', '4'], k), 'killed', `killed at point ${k}`);
      const now = fingerprint(dir);
      assert.ok(now === old || now === fresh, `after a kill at write point ${k} of ${points}, the directory holds neither model`);
      seen.push(now === old ? 'old' : 'new');
      // The next save (of yet another model, here in this process) leaves only its own two files.
      await saveModel(dir, childModel(3, 5), childMeta);
      assert.deepEqual(readdirSync(dir).sort(), ['model.json', basename(weightsPath(dir))].sort(), `leftovers after the kill at ${k}`);
      assert.equal(loadModel(dir).model.arch.hiddenSize, 5);
    }
    // Old until model.json is renamed into place, new from then on.
    const flip = seen.indexOf('new');
    assert.ok(flip > 0 && seen.slice(flip).every((s) => s === 'new') && seen.slice(0, flip).every((s) => s === 'old'), seen.join(' '));
  });
}

test('checkpoint: a save killed at every write point leaves the old or the new checkpoint, and the next save removes the temporary file', () => {
  const base = tmp('ck');
  const p = join(base, 'checkpoint.safetensors');
  assert.equal(typeof child(['checkpoint', p, '1']), 'number');
  const points = child(['checkpoint', join(tmp('ck-count'), 'c.safetensors'), '2']) as number;
  let leftovers = 0;
  for (let k = 1; k <= points; k++) {
    const dir = tmp(`ck-k${k}`), q = join(dir, 'checkpoint.safetensors');
    cpSync(p, q);
    assert.equal(child(['checkpoint', q, '2'], k), 'killed');
    assert.ok([1, 2].includes(loadCheckpoint(q).meta.seed as number));
    leftovers += readdirSync(dir).length - 1;
    saveCheckpoint(q, { meta: { seed: 3 }, groups: {} });
    assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors'], `temporary files left after the kill at ${k} and one more save`);
    assert.equal(loadCheckpoint(q).meta.seed, 3);
  }
  assert.ok(leftovers > 0, 'some kills left a temporary file (which the next save removed)');
});

test('atomic write: temporary files of dead writers are removed, a live writer\'s are kept', () => {
  const dir = tmp('stale');
  const dead = deadPid(), live = process.ppid;
  const stale = [`.checkpoint.safetensors.tmp-${dead}-abc123`, `.model.json.tmp-${dead}-zz9`];
  const alive = `.model.json.tmp-${live}-keep1`;
  for (const f of [...stale, alive]) writeFileSync(join(dir, f), 'partial');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  assert.equal(typeof child(['model', dir, '1', '3']), 'number');
  assert.ok(stale.every((f) => !existsSync(join(dir, f))), 'stale temporary files removed');
  assert.ok(existsSync(join(dir, alive)), 'a running writer\'s temporary file is left alone');
  assert.ok(existsSync(join(dir, 'notes.txt')), 'files that are not ours are left alone');
});
