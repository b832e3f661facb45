import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { StreamingModel } from '../src/models/stream.js';
import { noGrad } from '../src/autograd/tape.js';
import { tensor } from '../src/tensor/create.js';
import { Rng } from '../src/tensor/random.js';
import { carousel } from './util/cli.js';



test('cli --cell: the LSTM family and xLSTM train, save, load and predict', () => {
  const d = mkdtempSync(join(tmpdir(), 'carousel-cells-'));
  writeFileSync(join(d, 't.txt'), 'the quick brown fox jumps over the lazy dog. '.repeat(12));
  const rows = Array.from({ length: 60 }, (_, i) => `${i},${Math.sin(i / 3).toFixed(4)}`);
  writeFileSync(join(d, 's.csv'), `t,value\n${rows.join('\n')}\n`);
  for (const cell of ['xlstm', 'peephole', 'cifg', 'fgr', 'lstm1997']) {
    const lm = carousel(['train', '--task', 'charlm', '--cell', cell, '--data', join(d, 't.txt'), '--out', join(d, `lm-${cell}`),
      '--hidden', '8', '--layers', cell === 'xlstm' ? '2' : '1', '--embedding', '4', '--epochs', '1', '--batch-size', '4', '--bptt', '12']);
    assert.equal(lm.code, 0, `${cell}: ${lm.err}`);
    assert.match(readFileSync(join(d, `lm-${cell}`, 'model.json'), 'utf8'), new RegExp(`"cell":\\s*"${cell}"`));
    const g = carousel(['generate', '--model', join(d, `lm-${cell}`), '--seed-text', 'the ', '--length', '10', '--seed', '1']);
    assert.equal(g.code, 0, `${cell}: ${g.err}`);
    assert.ok(g.out.startsWith('the '));
  }
  const f = carousel(['train', '--task', 'forecast', '--cell', 'xlstm', '--data', join(d, 's.csv'), '--column', 'value', '--window', '8',
    '--out', join(d, 'fc'), '--hidden', '8', '--layers', '2', '--epochs', '1']);
  assert.equal(f.code, 0, f.err);
  const p = carousel(['predict', '--model', join(d, 'fc'), '--data', join(d, 's.csv')]);
  assert.equal(p.code, 0, p.err);
  const bad = carousel(['train', '--task', 'forecast', '--cell', 'xlstm', '--bidirectional', '--data', join(d, 's.csv'), '--column', 'value',
    '--window', '8', '--out', join(d, 'bad'), '--hidden', '8', '--epochs', '1']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /cell xlstm: a causal stack, it cannot be bidirectional/);
});

test('xlstm sequence-to-one heads read y at each sequence\'s last valid step; streaming equals the whole sequence', () => {
  const m = new SequenceModel({ task: 'classify', cell: 'xlstm', inputSize: 2, hiddenSize: 4, numLayers: 2, bidirectional: false,
    dropout: 0, outputSize: 3 }, { rng: new Rng(3) });
  const T = 5, B = 2;
  const v = Float32Array.from({ length: T * B * 2 }, (_, i) => Math.sin(i));
  const x = tensor(v, [T, B, 2]);
  noGrad(() => {
    const padded = m.forwardLast(x, [3, 5]).toArray();
    // Sequence 0 alone, cut to its 3 steps: the same logits (the stack is causal).
    const x0 = tensor(Array.from({ length: 3 }, (_, t) => [v[(t * B) * 2], v[(t * B) * 2 + 1]]).flat(), [3, 1, 2]);
    const alone = m.forwardLast(x0, [3]).toArray();
    alone.forEach((a, j) => assert.ok(Math.abs(a - padded[j]) < 1e-5, `${a} vs ${padded[j]}`));
    // Streaming step by step over sequence 1 gives its whole-sequence output.
    const s = new StreamingModel(m);
    let out: number[] = [];
    for (let t = 0; t < T; t++) out = s.push(tensor([v[(t * B + 1) * 2], v[(t * B + 1) * 2 + 1]], [1, 2])).toArray();
    out.forEach((a, j) => assert.ok(Math.abs(a - padded[3 + j]) < 1e-5, `${a} vs ${padded[3 + j]}`));
  });
});
