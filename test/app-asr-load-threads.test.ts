import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSet, loadSetThreaded } from '../src/asr/utterances.js';
import { encodeWav16 } from '../src/audio/wav.js';
import { Rng } from '../src/tensor/random.js';
import { toneSamples, toyManifest } from './util/ctcToy.js';

// A set over several chunks of 128 (the unit a worker thread is sent): 40 toy recordings said
// 8 times over, and an 8 kHz one among them (converted, and counted).
const dir = mkdtempSync(join(tmpdir(), 'carousel-load-threads-'));
const base = readFileSync(toyManifest(dir, 'toy', 40, 3), 'utf8').trim().split('\n');
writeFileSync(join(dir, 'slow.wav'), encodeWav16(toneSamples('ab', new Rng(5)).filter((_, i) => i % 2 === 0), 8000));
const rows = Array.from({ length: 320 }, (_, i) => base[i % base.length]);
rows[150] = JSON.stringify({ audio: 'slow.wav', text: 'ab' });
rows[300] = rows[150];
const manifest = join(dir, 'big.jsonl');
writeFileSync(manifest, rows.join('\n') + '\n');

test('threaded loading: the same features bit for bit as one thread, the same conversions counted', async () => {
  const one = loadSet(manifest, 40);
  for (const threads of [2, 3]) {
    const many = await loadSetThreaded(manifest, 40, undefined, Infinity, threads);
    assert.equal(many.features.length, 320);
    assert.deepEqual(many.notes, one.notes);
    assert.deepEqual(many.notes, ['2 files: 8000 Hz, resampled to 16000 Hz']);
    assert.deepEqual(many.entries, one.entries);
    for (let i = 0; i < 320; i++) {
      const a = one.features[i], b = many.features[i];
      assert.ok(a.frames === b.frames && a.dim === b.dim && Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer)), `utterance ${i} differs`);
    }
  }
  const first = await loadSetThreaded(manifest, 24, undefined, 200, 2);
  assert.equal(first.features.length, 200);
  assert.equal(first.features[0].dim, 24);
});

test('threaded loading: the first bad line\'s error, as one thread gives it', async () => {
  writeFileSync(join(dir, 'junk.wav'), 'not a wav');
  const bad = rows.slice();
  bad[290] = JSON.stringify({ audio: 'missing.wav', text: 'a' });
  bad[200] = JSON.stringify({ audio: 'junk.wav', text: 'a' });
  bad[260] = JSON.stringify({ strokes: 'pen.json', text: 'a' });
  const path = join(dir, 'bad.jsonl');
  writeFileSync(path, bad.join('\n') + '\n');
  let expected: Error | null = null;
  try { loadSet(path, 40); } catch (e) { expected = e as Error; }
  assert.match(expected!.message, /bad\.jsonl:201: .*junk\.wav/);
  await assert.rejects(loadSetThreaded(path, 40, undefined, Infinity, 2), (e: Error) => e.constructor === expected!.constructor && e.message === expected!.message);
  // Without the junk file, the next: a strokes line in a set of audio.
  bad[200] = rows[200];
  writeFileSync(path, bad.join('\n') + '\n');
  await assert.rejects(loadSetThreaded(path, 40, undefined, Infinity, 2), /bad\.jsonl:261: a strokes utterance in a data set of audio \(line 1\)/);
  await assert.rejects(loadSetThreaded(path, 40, 'audio', Infinity, 2), /bad\.jsonl:261: a strokes utterance in data for an audio model/);
});
