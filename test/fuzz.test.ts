// Fuzz suite: seeded truncations and mutations of every file a model directory and a checkpoint
// hold, through the library and the CLI. Asserted for every case: a clear one-line error or a
// model the schema allows (never a stack trace, a crash or a hang), and never a changed model
// accepted silently: any change to a weights or checkpoint file is refused, and a change to
// model.json is accepted only where model.json's schema says the new value is a valid one.
// Rerun one case: the failure message names the seed, the file and the mutation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { byteFlips, DELETE, HOSTILE_VALUES, int, jsonPaths, mayAccept, pick, rng, setPath, truncations, type Fixture } from './util/fuzz.js';

const SEED = Number(process.env.CAROUSEL_FUZZ_SEED ?? 20261130);
const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'carousel-fuzz-'));

function carousel(args: string[], timeout = 30000): { code: number | null; out: string; err: string; signal: string | null } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, out: r.stdout, err: r.stderr, signal: r.signal };
}

/** A CLI refusal: exit 2, one line on stderr, no stack trace, finished before the timeout. */
function assertRefused(r: ReturnType<typeof carousel>, what: string): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal} (a hang?)`);
  assert.equal(r.code, 2, `${what}: exit ${r.code}, expected 2; stderr:\n${r.err.slice(0, 2000)}`);
  const lines = r.err.trim().split('\n');
  assert.equal(lines.length, 1, `${what}: expected one line on stderr, got:\n${r.err.slice(0, 2000)}`);
  assert.doesNotMatch(r.err, /\n\s+at |^\s+at /m, `${what}: stack trace`);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.err, /[\u0000-\u0008\u000b-\u001f\u007f]/, `${what}: raw control characters reach the terminal`);
  assert.ok(lines[0].length <= 600, `${what}: a message of ${lines[0].length} characters`);
}

// ---- the models under test: one per task, trained by the CLI on data made here ----

const fixtures: Fixture[] = [];

function seriesCsv(n: number): string {
  return 't,value,other\n' + Array.from({ length: n }, (_, i) => `${i},${Math.sin(i / 3).toFixed(4)},${Math.cos(i / 7).toFixed(4)}`).join('\n') + '\n';
}
function trainFixture(task: string, dataName: string, data: string, flags: string[]): Fixture {
  const dir = join(root, `model-${task}`), dataPath = join(root, dataName);
  writeFileSync(dataPath, data);
  const r = carousel(['train', '--task', task, '--data', dataPath, '--out', dir, '--epochs', '1', '--hidden', '4', ...flags], 120000);
  assert.equal(r.code, 0, `training the ${task} fixture: ${r.err}`);
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(dir)) if (!f.startsWith('.') && (f.endsWith('.json') || f.endsWith('.safetensors'))) files[f] = readFileSync(join(dir, f));
  // The weights file is the safetensors file that is not the checkpoint (its name may carry a version).
  const weights = Object.keys(files).find((f) => f.endsWith('.safetensors') && !f.startsWith('checkpoint'));
  assert.ok(weights, `no weights file in ${Object.keys(files).join(', ')}`);
  return { task, dir, files, weights, meta: JSON.parse(Buffer.from(files['model.json']).toString('utf8')), data: dataPath };
}

before(() => {
  fixtures.push(trainFixture('forecast', 's.csv', seriesCsv(60), ['--column', 'value,other', '--target', 'value', '--window', '6', '--horizon', '2']));
  const seqs = Array.from({ length: 24 }, (_, i) => JSON.stringify({ sequence: [[i % 3, 1], [(i * 5) % 7, 0]], label: i % 2 ? 'odd' : 'even' }));
  fixtures.push(trainFixture('classify', 'c.jsonl', seqs.join('\n') + '\n', []));
  fixtures.push(trainFixture('charlm', 't.txt', 'the cat sat on the mat. '.repeat(20), ['--embedding', '3', '--bptt', '8', '--batch-size', '4']));
});

/** A scratch copy of a fixture's directory with some files replaced (by bytes) or removed (null). */
function variant(fx: Fixture, replace: Record<string, Uint8Array | string | null>): string {
  const d = join(root, 'case');
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  for (const [f, b] of Object.entries(fx.files)) if (!(f in replace)) writeFileSync(join(d, f), b);
  for (const [f, b] of Object.entries(replace)) if (b !== null) writeFileSync(join(d, f), b);
  return d;
}

/** Run one library suite of test/util/fuzz-library.ts in a worker; a case that runs past `caseMs` is a hang. */
function librarySuite(suite: string, seed: number, caseMs = 20000): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./util/fuzz-library.js', import.meta.url), { workerData: { suite, seed, fixtures, root } });
    let current = '(starting)';
    let timer = setTimeout(hang, caseMs * 3);
    function hang() { void w.terminate(); reject(new Error(`${suite}: hung (more than ${caseMs / 1000} s) on case: ${current}`)); }
    w.on('message', (m: { case?: string; done?: Record<string, number>; fail?: string }) => {
      if (m.case !== undefined) { current = m.case; clearTimeout(timer); timer = setTimeout(hang, caseMs); return; }
      clearTimeout(timer);
      void w.terminate();
      if (m.fail !== undefined) reject(new assert.AssertionError({ message: m.fail })); else resolve(m.done!);
    });
    w.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

describe('fuzz: model directories and checkpoints through the library', () => {
  it('weights file: every truncation and byte change is refused with a one-line error', async (t) => {
    const { cases } = await librarySuite('weights', SEED);
    t.diagnostic(`${cases} cases`);
    assert.ok(cases >= 1200, `${cases} cases`);
  });
  it('model.json: hostile values at every field are refused unless the schema allows them', async (t) => {
    const { cases, accepted } = await librarySuite('metaFields', SEED + 1);
    t.diagnostic(`${cases} cases, ${accepted} accepted as valid edits`);
    assert.ok(cases >= 600, `${cases} cases`);
  });
  it('model.json: truncations and byte changes are refused or are a valid model.json', async (t) => {
    const { cases } = await librarySuite('metaBytes', SEED + 2);
    t.diagnostic(`${cases} cases`);
    assert.ok(cases >= 700, `${cases} cases`);
  });
  it('checkpoints: every truncation and byte change is refused with a one-line error', async (t) => {
    const { cases } = await librarySuite('checkpoint', SEED + 3);
    t.diagnostic(`${cases} cases`);
    assert.ok(cases >= 700, `${cases} cases`);
  });
});

describe('fuzz: the CLI on damaged model directories and checkpoints', () => {
  it('predict, evaluate, info, generate and --resume refuse damaged files in one line with exit 2, never hanging', () => {
    const r = rng(SEED + 4);
    let cases = 0;
    for (const fx of fixtures) {
      const use = fx.task === 'charlm' ? ['generate', '--length', '5', '--model'] : ['predict', '--data', fx.data, '--model'];
      const w = fx.files[fx.weights], meta = fx.files['model.json'], ck = fx.files['checkpoint.safetensors'];
      const paths = jsonPaths(fx.meta).filter((p) => p[0] === 'architecture' || p[0] === fx.task);
      const damaged: [string, Record<string, Uint8Array | string | null>][] = [
        ['weights truncated', { [fx.weights]: truncations(w, 1, r, 0)[0].bytes }],
        ['weights bytes changed', { [fx.weights]: byteFlips(w, 1, r, w.length, 0)[0].bytes }],
        ['model.json truncated', { 'model.json': meta.subarray(0, int(r, 1, meta.length - 2)) }],
      ];
      for (let i = 0; i < 3; i++) {
        const p = pick(r, paths), v = pick(r, [-1, 1e300, 'x', null, [], 2 ** 40]);
        damaged.push([`model.json ${JSON.stringify(p)} = ${JSON.stringify(v)}`, { 'model.json': JSON.stringify(setPath(fx.meta, p, v)) }]);
      }
      for (const [name, replace] of damaged) {
        const d = variant(fx, replace);
        const mut = replace['model.json'];
        if (mut && mayAccept(fx.meta, (() => { try { return JSON.parse(Buffer.from(mut).toString()); } catch { return null; } })())) continue;
        assertRefused(carousel([...use, d]), `seed ${SEED + 4}, ${fx.task} ${use[0]}: ${name}`);
        assertRefused(carousel(['info', d]), `seed ${SEED + 4}, ${fx.task} info: ${name}`);
        cases += 2;
      }
      // Resume from a damaged checkpoint: its bytes, and hostile values in its training state.
      const resume = (bytes: Uint8Array, name: string) => {
        const d = variant(fx, { 'checkpoint.safetensors': bytes });
        assertRefused(carousel(['train', '--resume', '--out', d, '--data', fx.data], 60000), `seed ${SEED + 4}, ${fx.task} --resume: ${name}`);
        cases++;
      };
      resume(byteFlips(ck, 1, r, ck.length, 0)[0].bytes, 'checkpoint bytes changed');
      resume(ck.subarray(0, int(r, 8, ck.length - 1)), 'checkpoint truncated');
    }
    assert.ok(cases >= 30, `${cases} cases`);
  });

  it('--resume from checkpoints holding hostile training state (re-signed): a one-line refusal or a run, never a crash', () => {
    const r = rng(SEED + 5);
    let cases = 0, refused = 0;
    for (const fx of fixtures) {
      const ckPath = join(root, `ck-${fx.task}.safetensors`);
      writeFileSync(ckPath, fx.files['checkpoint.safetensors']);
      const ck = loadCheckpoint(ckPath);
      const paths = jsonPaths(ck.meta).filter((p) => p.length <= 3);
      for (let i = 0; i < 10; i++) {
        const p = pick(r, paths), v = pick(r, [DELETE, ...HOSTILE_VALUES.filter((x) => typeof x !== 'string' || x.length < 1000)]);
        const d = variant(fx, {});
        // Saved through saveCheckpoint, so its checksum is right and only the schema stands guard.
        saveCheckpoint(join(d, 'checkpoint.safetensors'), { meta: setPath(ck.meta, p, v) as Record<string, unknown>, groups: ck.groups });
        const what = `seed ${SEED + 5}, ${fx.task} --resume with checkpoint ${JSON.stringify(p)} = ${v === DELETE ? '(deleted)' : JSON.stringify(v)?.slice(0, 40)}`;
        const res = carousel(['train', '--resume', '--out', d, '--data', fx.data], 60000);
        if (res.code === 2) { assertRefused(res, what); refused++; } else {
          assert.equal(res.signal, null, `${what}: killed by ${res.signal}`);
          assert.ok(res.code === 0 || res.code === 1, `${what}: exit ${res.code}; stderr:\n${res.err.slice(0, 2000)}`);
          assert.doesNotMatch(res.err, /\n\s+at /, `${what}: stack trace`);
        }
        cases++;
      }
    }
    assert.ok(refused >= cases / 2, `only ${refused} of ${cases} hostile checkpoints refused`);
  });

  it('special files instead of the weights: a FIFO, /dev/zero, a folder, a huge sparse file', () => {
    const fx = fixtures[0];
    const use = ['predict', '--data', fx.data, '--model'];
    const d = variant(fx, { [fx.weights]: null });
    symlinkSync('/dev/zero', join(d, fx.weights));
    assertRefused(carousel([...use, d], 20000), 'weights -> /dev/zero');
    rmSync(join(d, fx.weights));
    spawnSync('mkfifo', [join(d, fx.weights)]);
    assertRefused(carousel([...use, d], 20000), 'weights is a FIFO');
    rmSync(join(d, fx.weights));
    mkdirSync(join(d, fx.weights));
    assertRefused(carousel([...use, d], 20000), 'weights is a folder');
    rmSync(join(d, fx.weights), { recursive: true });
    copyFileSync(join(fx.dir, fx.weights), join(d, fx.weights));
    spawnSync('truncate', ['-s', '20G', join(d, fx.weights)]);
    assertRefused(carousel([...use, d], 20000), 'weights is a 20 GB sparse file');
  });
});
