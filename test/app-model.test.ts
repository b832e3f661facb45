import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appOf, loadAppWeights, readAppModel, saveAppModel } from '../src/io/appModel.js';
import { saveModel } from '../src/io/modelDir.js';
import { Linear } from '../src/nn/linear.js';
import { Rng } from '../src/tensor/random.js';
import { childMeta, childModel } from './util/childModel.js';
import { carousel, userError } from './util/cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-app-'));

test('an application model round-trips: config as saved, weights exactly, old versions removed', async () => {
  const dir = tmp();
  const a = new Linear({ inFeatures: 3, outFeatures: 2 }, { rng: new Rng(1) });
  await saveAppModel(dir, 'toy', { inFeatures: 3, vocabulary: ['a', 'b'] }, a, { epochs: 2 });
  const b = new Linear({ inFeatures: 3, outFeatures: 2 }, { rng: new Rng(2) });
  await saveAppModel(dir, 'toy', { inFeatures: 3, vocabulary: ['a', 'b'] }, b);
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('weights-')).length, 1);
  assert.equal(appOf(dir), 'toy');
  const { meta, tensors, weightsFile } = readAppModel<{ vocabulary: string[] }>(dir, 'toy');
  assert.deepEqual(meta.config.vocabulary, ['a', 'b']);
  const c = new Linear({ inFeatures: 3, outFeatures: 2 }, { rng: new Rng(3) });
  loadAppWeights(c, tensors, weightsFile);
  assert.deepEqual([...c.stateDict()].map(([n, t]) => [n, Array.from(t.data)]), [...b.stateDict()].map(([n, t]) => [n, Array.from(t.data)]));
});

test('a wrong application, a misfit module, a changed weights file and a sequence model are each refused by name', async () => {
  const dir = tmp();
  await saveAppModel(dir, 'toy', {}, new Linear({ inFeatures: 3, outFeatures: 2 }));
  assert.throws(() => readAppModel(dir, 'ctc'), /expected a ctc model, got a toy model/);
  const { tensors, weightsFile } = readAppModel(dir, 'toy');
  assert.throws(() => loadAppWeights(new Linear({ inFeatures: 4, outFeatures: 2 }), tensors, weightsFile), /'weight': expected shape \[2, 4\], got \[2, 3\]/);
  const w = join(dir, readdirSync(dir).find((f) => f.startsWith('weights-'))!);
  const bytes = readFileSync(w); bytes[bytes.length - 1] ^= 1; writeFileSync(w, bytes);
  assert.throws(() => readAppModel(dir, 'toy'), /SHA-256 .* records/);
  const seq = tmp();
  await saveModel(seq, childModel(1, 4), childMeta);
  assert.equal(appOf(seq), null);
  assert.throws(() => readAppModel(seq, 'toy'), /expected a toy model, got a sequence model/);
  await assert.rejects(saveAppModel(tmp(), 'Bad Name', {}, new Linear({ inFeatures: 1, outFeatures: 1 })), /app name/);
});

test('carousel evaluate of an application model this Carousel has no application for says so', async () => {
  const dir = tmp();
  await saveAppModel(dir, 'nosuchapp', {}, new Linear({ inFeatures: 1, outFeatures: 1 }));
  userError(carousel(['evaluate', '--model', dir, '--data', 'x']), /a nosuchapp model, which this Carousel cannot evaluate/);
  userError(carousel(['demo', 'nosuchdemo']), /no demo named 'nosuchdemo'/);
  userError(carousel(['data', 'nosuchdata']), /no data set named 'nosuchdata'/);
});

test('carousel train --help lists the applications\' tasks, each with its summary', () => {
  const r = carousel(['train', '--help']);
  assert.equal(r.code, 0, r.err);
  for (const task of ['ctc', 'seq2seq', 'nowcast']) assert.match(r.out, new RegExp(`^ {20,}${task} +\\S`, 'm'), `no line for --task ${task}`);
  assert.doesNotMatch(r.out, /\$\{/, 'a template placeholder printed as text');
});
