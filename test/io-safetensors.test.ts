import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/io/atomic.js';
import { loadCheckpoint, saveCheckpoint } from '../src/io/checkpoint.js';
import { loadModel, saveModel, weightsPath } from '../src/io/modelDir.js';
import { parseSafetensors, serializeSafetensors, SafetensorsError } from '../src/io/safetensors.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { Rng } from '../src/tensor/random.js';

function raw(header: object, data: Uint8Array): Uint8Array {
  const h = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8); out.set(data, 8 + h.length);
  return out;
}

test('safetensors: round trip of F32/F64/I32 with metadata; byte layout per the spec', () => {
  const bytes = serializeSafetensors([
    ['a', { dtype: 'F32', shape: [2, 2], data: [1, -2.5, 3e-8, 4] }],
    ['b', { dtype: 'F64', shape: [1], data: [Math.PI] }],
    ['c', { dtype: 'I32', shape: [3], data: [-1, 0, 7] }],
    ['empty', { dtype: 'F32', shape: [0, 3], data: [] }],
  ], { format: 'pt' });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, 'data section 8-byte aligned');
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
  assert.deepEqual(header.a, { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] });
  assert.deepEqual(header.__metadata__, { format: 'pt' });
  const f = parseSafetensors(bytes);
  assert.deepEqual(Array.from(f.tensors.get('a')!.data), Array.from(Float32Array.from([1, -2.5, 3e-8, 4])));
  assert.equal(f.tensors.get('b')!.data[0], Math.PI);
  assert.deepEqual(Array.from(f.tensors.get('c')!.data), [-1, 0, 7]);
  assert.deepEqual(f.tensors.get('empty')!.shape, [0, 3]);
  assert.deepEqual(f.metadata, { format: 'pt' });
});

test('safetensors: F16, BF16 and I64 are widened exactly', () => {
  const d = new Uint8Array(2 * 3 + 2 * 2 + 8);
  const v = new DataView(d.buffer);
  v.setUint16(0, 0x3c00, true); v.setUint16(2, 0xc000, true); v.setUint16(4, 0x0001, true); // 1, -2, 2^-24
  v.setUint16(6, 0x3f80, true); v.setUint16(8, 0xc040, true); // bf16 1, -3
  v.setBigInt64(10, -123456789012n, true);
  const f = parseSafetensors(raw({
    h: { dtype: 'F16', shape: [3], data_offsets: [0, 6] }, b: { dtype: 'BF16', shape: [2], data_offsets: [6, 10] },
    i: { dtype: 'I64', shape: [1], data_offsets: [10, 18] },
  }, d));
  assert.deepEqual(Array.from(f.tensors.get('h')!.data), [1, -2, 2 ** -24]);
  assert.deepEqual(Array.from(f.tensors.get('b')!.data), [1, -3]);
  assert.deepEqual(Array.from(f.tensors.get('i')!.data), [-123456789012]);
});

test('safetensors: truncated, mis-shaped and corrupted files fail with a clear message', () => {
  const good = serializeSafetensors([['w', { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] }]]);
  const err = (b: Uint8Array) => { try { parseSafetensors(b, 'm.safetensors'); } catch (e) { assert.ok(e instanceof SafetensorsError); return (e as Error).message; } return 'no error'; };
  assert.match(err(good.subarray(0, 5)), /^m\.safetensors: truncated: 5 bytes, expected at least 8/);
  assert.match(err(good.subarray(0, 20)), /truncated: header says \d+ bytes of JSON but the file has only 12/);
  assert.match(err(good.subarray(0, good.length - 3)), /truncated: tensor 'w' ends at byte 16 of the data section, which has only 13 bytes/);
  assert.match(err(raw({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16))), /tensor 'w': shape \[3\] of F32 needs 12 bytes, data_offsets span 16/);
  assert.match(err(raw({ w: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1))), /unknown dtype "Q8"/);
  assert.match(err(raw({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4))), /shape must be an array of non-negative integers/);
  assert.match(err(raw({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } }, new Uint8Array(6))), /tensor 'b' starts at byte 2, expected 4/);
  assert.match(err(raw({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(9))), /5 bytes of data after the last tensor/);
  const junk = new Uint8Array(16); new DataView(junk.buffer).setBigUint64(0, 4n, true); junk.set([0x7b, 0x7b, 0x7b, 0x7b], 8);
  assert.match(err(junk), /header is not valid UTF-8 JSON/);
  const huge = new Uint8Array(16); new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.match(err(huge), /larger than the 100 MB limit/);
  assert.throws(() => serializeSafetensors([['x', { dtype: 'F32', shape: [2], data: [1] }]]), /shape \[2\] \(2 values\) but 1 values were given/);
});

test('model directory: save/load round trip, and bad files are refused with the reason', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-md-'));
  const m = new SequenceModel({ task: 'classify', cell: 'gru', inputSize: 2, hiddenSize: 3, numLayers: 1, bidirectional: true, dropout: 0, outputSize: 2 }, { rng: new Rng(1) });
  await saveModel(dir, m, { classify: { labels: ['a', 'b'], features: 2 } });
  const { model, meta } = loadModel(dir);
  assert.deepEqual(meta.classify, { labels: ['a', 'b'], features: 2 });
  for (const [n, p] of m.namedParameters()) assert.deepEqual(Array.from(model.parameter(n).dataSync()), Array.from(p.dataSync()));
  // Truncated weights: model.json records the weights file's size.
  const wp = weightsPath(dir);
  const w = readFileSync(wp);
  writeFileSync(wp, w.subarray(0, w.length - 10));
  assert.throws(() => loadModel(dir), /weights-[0-9a-f]{16}\.safetensors: \d+ bytes, model\.json records \d+/);
  // Weights of another shape.
  const other = new SequenceModel({ ...m.arch, hiddenSize: 4 });
  await saveModel(dir, other, { classify: { labels: ['a', 'b'], features: 2 } });
  const metaText = readFileSync(join(dir, 'model.json'), 'utf8');
  writeFileSync(join(dir, 'model.json'), metaText.replace('"hiddenSize": 4', '"hiddenSize": 3'));
  assert.throws(() => loadModel(dir), /does not fit the architecture in model\.json: .*expected shape \[9, 2\], got \[12, 2\]/);
  writeFileSync(join(dir, 'model.json'), '{"format": "carousel-model", "version": 1, ');
  assert.throws(() => loadModel(dir), /model\.json: not valid JSON/);
  writeFileSync(join(dir, 'model.json'), metaText.replace('"cell": "gru"', '"cell": "tcn"'));
  assert.throws(() => loadModel(dir), /unknown cell "tcn": expected one of lstm, gru/);
  assert.throws(() => loadModel(join(dir, 'nope')), /no such model directory/);
});

test('checkpoint: groups and metadata round trip exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-ck-'));
  const p = join(dir, 'c.safetensors');
  const f32 = Float32Array.from([0.1, 1 / 3, -7]);
  saveCheckpoint(p, { meta: { step: 3, x: 0.1 + 0.2, order: [2, 0, 1] }, groups: { model: new Map([['w', { shape: [3], data: f32 }]]), optim: new Map([['0.exp_avg', { shape: [1], data: Float64Array.from([Math.E]) }]]) } });
  const c = loadCheckpoint(p);
  assert.deepEqual(c.meta, { step: 3, x: 0.1 + 0.2, order: [2, 0, 1] });
  assert.deepEqual(Array.from(c.groups.model.get('w')!.data), Array.from(f32));
  assert.equal(c.groups.optim.get('0.exp_avg')!.data[0], Math.E);
  writeFileSync(p, serializeSafetensors([['w', { dtype: 'F32', shape: [1], data: [1] }]]));
  assert.throws(() => loadCheckpoint(p), /not a Carousel checkpoint/);
});

test('checkpoint: a changed byte anywhere (tensor data, state, header padding, the checksum itself) is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-ck-'));
  const p = join(dir, 'c.safetensors');
  saveCheckpoint(p, { meta: { step: 3, lr: 0.5 }, groups: { model: new Map([['w', { shape: [3], data: Float32Array.from([1, 2, 3]) }]]) } });
  const good = readFileSync(p);
  const text = good.toString('latin1');
  const at = (needle: string) => { const i = text.indexOf(needle); assert.ok(i > 0, needle); return i; };
  const cases: [string, number][] = [
    ['the last tensor byte', good.length - 1],
    ['the state JSON (lr)', at('0.5')],
    ['the checksum digits', at('"carousel-sha256":"') + 20],
    ['the checksum key', at('carousel-sha256') + 2],
    ['the first header byte after the length', 8],
  ];
  for (const [what, i] of cases) {
    const bad = Buffer.from(good);
    bad[i] ^= 1;
    writeFileSync(p, bad);
    assert.throws(() => loadCheckpoint(p), /changed after it was written|metadata|not valid|JSON|expected/, what);
  }
  // A checkpoint of an earlier version (no checksum) still loads.
  writeFileSync(p, serializeSafetensors([['model.w', { dtype: 'F32', shape: [1], data: [1] }]], { carousel: '{"step":1}' }));
  assert.deepEqual(loadCheckpoint(p).meta, { step: 1 });
});

test('atomic write: a writer killed mid-write never leaves a half-written file in place', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'carousel-atomic-'));
  const target = join(dir, 'f.bin');
  const good = Buffer.alloc(1 << 20, 1);
  writeFileAtomic(target, good);
  // A child rewrites the file over and over with 16 MB payloads (each filled with one byte value);
  // kill -9 it at some point: the file must hold one complete payload, never a mix or a prefix.
  const url = new URL('../src/io/atomic.js', import.meta.url).href;
  const child = spawn(process.execPath, ['--input-type=module', '-e',
    `import { writeFileAtomic } from ${JSON.stringify(url)}; for (let i = 2; ; i = i % 250 + 2) { writeFileAtomic(${JSON.stringify(target)}, Buffer.alloc(16 << 20, i)); process.stdout.write('.'); }`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((res) => { let n = 0; child.stdout!.on('data', (d: Buffer) => { n += d.length; if (n >= 2) res(); }); });
  await new Promise((r) => setTimeout(r, 37));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const b = readFileSync(target);
  assert.ok(b.length === (16 << 20) || b.length === (1 << 20), `size ${b.length}`);
  assert.ok(b.every((x) => x === b[0]), 'one complete payload');
  // Only temporary files may be left besides it (never the target itself half-written).
  for (const f of readdirSync(dir)) assert.ok(f === 'f.bin' || f.startsWith('.f.bin.tmp-'), f);
});
