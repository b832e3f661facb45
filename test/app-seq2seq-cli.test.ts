// carousel train --task seq2seq, evaluate, translate and demo g2p from the command line: a toy task
// (reverse a string of letters, output as space-separated capitals), and the bad-input manners.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'carousel-seq2seq-'));
const data = join(dir, 'rev.tsv'), model = join(dir, 'm');
const TRAIN = ['--hidden', '24', '--embedding', '12', '--batch-size', '16', '--lr', '0.01', '--bidirectional'];

/** 'abd<TAB>D B A': 400 random strings of 2-4 letters of abcde. */
function reversal(): string {
  const r = new Rng(5);
  let out = '';
  for (let i = 0; i < 400; i++) {
    const w = Array.from({ length: 2 + r.int(3) }, () => 'abcde'[r.int(5)]).join('');
    out += `${w}\t${[...w].reverse().map((c) => c.toUpperCase()).join(' ')}\n`;
  }
  return out;
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('carousel train --task seq2seq / evaluate / translate', () => {
  before(() => { writeFileSync(data, reversal()); });

  it('trains a model that learns to reverse strings, and evaluate scores it', () => {
    const r = carousel(['train', '--task', 'seq2seq', '--data', data, '--out', model, '--epochs', '8', ...TRAIN]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /tokens: source char, target space/);
    const meta = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    assert.equal(meta.app, 'seq2seq');
    const e = carousel(['evaluate', '--model', model, '--data', data, '--beam', '4']);
    assert.equal(e.code, 0, e.err);
    const ter = Number(/^token error rate ([\d.]+)%/m.exec(e.out)![1]), ser = Number(/^sequence error rate ([\d.]+)%/m.exec(e.out)![1]);
    // Chance is far off (a sequence of 2-4 tokens out of 5 letters); 8 epochs get most right.
    assert.ok(ter < 20 && ser < 50, e.out);
  });

  it('translate: one output line per input line; unknown tokens and empty lines are warned about, never fatal', () => {
    const plot = join(dir, 'att.svg');
    const input = join(dir, 'in.txt');
    writeFileSync(input, 'abc\n\nabz\n');
    const r = carousel(['translate', '--model', model, '--input', input, '--beam', '4', '--attention-plot', plot]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split('\n');
    assert.equal(lines.length, 4);
    assert.match(lines[0], /^[A-E]( [A-E])*$/);
    assert.equal(lines[1], '');
    assert.match(r.err, /warning: .*in\.txt:2: empty line/);
    assert.match(r.err, /warning: .*in\.txt:3: source token 'z' not in the model's vocabulary, read as <unk>/);
    const svg = readFileSync(plot, 'utf8');
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 3 * (lines[0].split(' ').length + 1), 'a cell per source token and output token (</s> too)');
  });

  it('evaluate: target tokens outside the vocabulary are warned about and counted as errors', () => {
    const f = join(dir, 'odd.tsv');
    writeFileSync(f, 'abc\tC B Q\n');
    const r = carousel(['evaluate', '--model', model, '--data', f]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /odd\.tsv:1: target token 'Q' not in the model's vocabulary/);
    assert.match(r.out, /^sequence error rate 100\.00% \(1 of 1 sources wrong\)$/m);
  });

  it('--resume repeats the uninterrupted run exactly', () => {
    const a = join(dir, 'a'), b = join(dir, 'b');
    const quick = ['--task', 'seq2seq', '--data', data, '--hidden', '8', '--embedding', '4'];
    assert.equal(carousel(['train', ...quick, '--out', a, '--epochs', '2']).code, 0);
    assert.equal(carousel(['train', ...quick, '--out', b, '--epochs', '1']).code, 0);
    const r = carousel(['train', '--task', 'seq2seq', '--out', b, '--resume', '--epochs', '2']);
    assert.equal(r.code, 0, r.err);
    const w = (d: string) => JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')).weights.sha256;
    assert.equal(w(b), w(a));
  });

  it('bad input: one line naming the file and line, exit 2', () => {
    const f = join(dir, 'empty.tsv');
    writeFileSync(f, 'abc\tC B A\n\nab\tB A\n');
    userError(carousel(['train', '--task', 'seq2seq', '--data', f, '--out', join(dir, 'x')]), /empty\.tsv:2: empty line; expected 'source<TAB>target'$/);
    writeFileSync(f, 'abc\tC B A\nab B A\n');
    userError(carousel(['train', '--task', 'seq2seq', '--data', f, '--out', join(dir, 'x')]), /empty\.tsv:2: expected 'source<TAB>target' \(one tab\), got 0 tabs/);
    userError(carousel(['train', '--task', 'seq2seq', '--data', data, '--out', join(dir, 'x'), '--attention', 'dot']), /--attention: expected one of additive, general, got 'dot'/);
    userError(carousel(['train', '--task', 'seq2seq', '--data', data, '--out', join(dir, 'x'), '--decoder-cell', 'xlstm']), /--decoder-cell: expected one of/);
    userError(carousel(['translate', '--model', join(dir, 'nothere')]), /nothere: no such model directory/);
    userError(carousel(['train', '--task', 'seq2seq', '--out', model, '--resume', '--hidden', '9']), /cannot change --hidden/);
  });
});

describe('carousel demo g2p', () => {
  it('--help names the split, the phone set and the papers', () => {
    const r = carousel(['demo', 'g2p', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /39 ARPAbet phones with stress removed/);
    assert.match(r.out, /g2p: PER <x>% WER <y>%/);
  });
  it('--resume without a checkpoint is a one-line error', () => {
    userError(carousel(['demo', 'g2p', '--quick', '--resume', '--out', join(dir, 'g2p')]), /--resume: no checkpoint in .*g2p\/model \(expected checkpoint\.safetensors\)$/);
  });
});
