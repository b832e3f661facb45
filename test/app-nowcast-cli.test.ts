// The nowcast commands end to end, on tiny frames: carousel data moving-digits, train --task
// nowcast (and --resume), evaluate (the same per-frame cross-entropy as training reported, from
// the saved model), demo nowcast --quick, and bad input refused in one line naming the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { decode } from 'fast-png';
import { carousel, userError } from './util/cli.js';

const root = mkdtempSync(join(tmpdir(), 'carousel-nowcast-cli-'));
after(() => rmSync(root, { recursive: true, force: true }));
const data = join(root, 'train'), val = join(root, 'val');
const TINY = ['--input', '3', '--horizon', '3', '--hidden', '2', '--layers', '1', '--kernel', '3', '--batch-size', '2'];

/** The per-frame rows of a printed cross-entropy table: [frame, value] ... and the mean. */
function table(out: string): string[] {
  return out.split('\n').filter((l) => /^(\d+|mean)\s+[\d.]+$/.test(l.trim()));
}

test('data moving-digits: sequences of numbered 8-bit PNG frames, the same for the same seed', () => {
  const r = carousel(['data', 'moving-digits', '--out', data, '--count', '3', '--frames', '6', '--size', '16', '--seed', '3']);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(data), ['seq-00000', 'seq-00001', 'seq-00002']);
  assert.deepEqual(readdirSync(join(data, 'seq-00001')), ['000.png', '001.png', '002.png', '003.png', '004.png', '005.png']);
  const png = decode(readFileSync(join(data, 'seq-00001', '002.png')));
  assert.deepEqual([png.width, png.height, png.channels, png.depth], [16, 16, 1, 8]);
  assert.equal(carousel(['data', 'moving-digits', '--out', val, '--count', '2', '--frames', '6', '--size', '16', '--seed', '3']).code, 0);
  assert.deepEqual(readFileSync(join(val, 'seq-00001', '004.png')), readFileSync(join(data, 'seq-00001', '004.png')));
  assert.equal(carousel(['data', 'moving-digits', '--out', val, '--count', '2', '--frames', '6', '--size', '16', '--seed', '4']).code, 0);
  assert.notDeepEqual(readFileSync(join(val, 'seq-00001', '004.png')), readFileSync(join(data, 'seq-00001', '004.png')));
  userError(carousel(['data', 'moving-digits', '--out', val, '--size', '8']), /--size: expected at least 16 pixels/);
});

test('train --task nowcast writes a model that evaluate reloads to the same per-frame cross-entropy; --resume repeats the run', () => {
  const m = join(root, 'm');
  const r = carousel(['train', '--task', 'nowcast', '--data', data, '--val', val, '--out', m, ...TINY, '--epochs', '2']);
  assert.equal(r.code, 0, r.err);
  const trained = table(r.out);
  assert.equal(trained.length, 4, r.out); // 3 frames and the mean
  for (const f of ['model.json', 'loss.svg', 'strip.png', 'checkpoint.safetensors']) assert.ok(readdirSync(m).includes(f), f);
  const strip = decode(readFileSync(join(m, 'strip.png')));
  assert.deepEqual([strip.width, strip.height], [96 + 6 * 18 + 2, 2 * 18 + 2]); // label, 6 frames; input/truth row and predictions
  const e = carousel(['evaluate', '--model', m, '--data', val, '--strip', join(root, 's.png')]);
  assert.equal(e.code, 0, e.err);
  assert.deepEqual(table(e.out), trained);
  assert.deepEqual(decode(readFileSync(join(root, 's.png'))).data, strip.data);
  // One epoch, then resumed to two: the same weights as the uninterrupted run.
  const half = join(root, 'half');
  assert.equal(carousel(['train', '--task', 'nowcast', '--data', data, '--val', val, '--out', half, ...TINY, '--epochs', '1']).code, 0);
  const resumed = carousel(['train', '--task', 'nowcast', '--out', half, '--resume', '--epochs', '2']);
  assert.equal(resumed.code, 0, resumed.err);
  const weights = (dir: string) => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weights.sha256;
  assert.equal(weights(half), weights(m));
  userError(carousel(['train', '--task', 'nowcast', '--out', half, '--resume', '--hidden', '3']), /--resume .* cannot change --hidden/);
  writeFileSync(join(data, 'seq-00000', '000.png'), readFileSync(join(data, 'seq-00001', '000.png')));
  userError(carousel(['train', '--task', 'nowcast', '--out', half, '--resume', '--epochs', '3']), /--resume: the frames in .*train changed since the checkpoint/);
  // A model on data of another frame size: named.
  const big = join(root, 'big');
  assert.equal(carousel(['data', 'moving-digits', '--out', big, '--count', '1', '--frames', '6', '--size', '20']).code, 0);
  userError(carousel(['evaluate', '--model', m, '--data', big]), /big: frames are 20x20, expected 16x16 \(the model's frame size\)/);
});

test('bad nowcast input: short sequences, frames of another size, odd kernel, patch: one line naming what and where', () => {
  const m = join(root, 'bad');
  userError(carousel(['train', '--task', 'nowcast', '--data', data, '--out', m, ...TINY, '--horizon', '4']), /seq-00000: 6 frames, fewer than --input 3 \+ --horizon 4 = 7/);
  userError(carousel(['train', '--task', 'nowcast', '--data', data, '--out', m, ...TINY, '--kernel', '4']), /--kernel: expected an odd size/);
  userError(carousel(['train', '--task', 'nowcast', '--data', data, '--out', m, ...TINY, '--patch', '5']), /frames are 16x16; expected square frames whose side is a multiple of --patch 5/);
  userError(carousel(['train', '--task', 'nowcast', '--data', data, '--out', m, ...TINY, '--size', '64']), /--size 64: the frames of .* are 16x16/);
  userError(carousel(['train', '--task', 'nowcast', '--out', m, ...TINY]), /--data is required/);
  userError(carousel(['train', '--task', 'nowcast', '--data', data, '--out', m, '--arch', 'gru']), /--arch: expected one of convlstm, fc-lstm, got 'gru'/);
  writeFileSync(join(data, 'seq-00002', '003.png'), readFileSync(join(root, 'big', 'seq-00000', '003.png')));
  userError(carousel(['train', '--task', 'nowcast', '--data', data, '--out', m, ...TINY]), /seq-00002\/003\.png: frame is 20x20, but .*seq-00002\/000\.png is 16x16 \(every frame of a sequence must be the same size\)/);
});

test('demo nowcast --quick: the per-frame table of ConvLSTM and both FC-LSTMs, and the strip', () => {
  const out = join(root, 'demo');
  const r = carousel(['demo', 'nowcast', '--quick', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /frame\s+ConvLSTM\s+FC-LSTM-\d+\s+FC-LSTM-16\n/);
  assert.equal(table(r.out.replace(/(\d) +(?=\d)/g, '$1 ')).length, 0); // three columns, not the one-column form
  const rows = r.out.split('\n').filter((l) => /^(\d+|mean)(\s+[\d.]+){3}$/.test(l.trim()));
  assert.equal(rows.length, 5, r.out); // 4 frames and the mean
  const strip = decode(readFileSync(join(out, 'strip.png')));
  assert.deepEqual([strip.width, strip.height], [96 + 8 * 34 + 2, 4 * 34 + 2]); // 32 px frames; truth + three models
});
