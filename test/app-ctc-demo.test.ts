import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { carousel } from './util/cli.js';

const LINES = /^greedy: CER \d+\.\d\d% WER \d+\.\d\d%\nbeam: CER \d+\.\d\d% WER \d+\.\d\d%\nbeam\+lm: CER \d+\.\d\d% WER \d+\.\d\d%$/m;

// The demos' whole path in seconds (--quick: a tiny model, one epoch; the numbers mean nothing).
describe('carousel demo speech / handwriting --quick', () => {
  it('handwriting: renders, trains, tunes the LM, reports the three decoders and plots the alignment', () => {
    const out = mkdtempSync(join(tmpdir(), 'ctc-demo-'));
    const r = carousel(['demo', 'handwriting', '--quick', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, LINES);
    const dir = join(out, 'handwriting');
    assert.equal(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).app, 'ctc');
    assert.equal(typeof JSON.parse(readFileSync(join(dir, 'lm.json'), 'utf8')).tuned.weight, 'number');
    const svg = readFileSync(join(dir, 'alignment.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*>/);
    assert.match(svg, /<polyline points="[\d., ]+" fill="none" stroke="#aaa" stroke-dasharray/); // the blank's probabilities
    // The saved model evaluates the same way on its own.
    const e = carousel(['evaluate', '--model', dir, '--data', join(out, 'data', 'handwriting-quick-30-seed1', 'test.jsonl')]);
    assert.equal(e.code, 0, e.err);
    assert.match(e.out, LINES);
    // Its checkpoint records the manifests' hash, so training it further resumes (it was refused
    // as 'changed' when the demo wrote no hash).
    const more = carousel(['train', '--task', 'ctc', '--out', dir, '--resume', '--epochs', '2']);
    assert.equal(more.code, 0, more.err);
    assert.equal(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).training.epochs, 2);
  });

  const espeak = spawnSync(process.env.CAROUSEL_ESPEAK ?? 'espeak-ng', ['--version']).status === 0;
  it('speech: the same over espeak-ng digits, with the spectrogram in the plot', { skip: espeak ? false : 'espeak-ng is not installed' }, () => {
    const out = mkdtempSync(join(tmpdir(), 'ctc-demo-'));
    const r = carousel(['demo', 'speech', '--quick', '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, LINES);
    assert.ok(existsSync(join(out, 'speech-digits', 'model.json')));
    assert.match(readFileSync(join(out, 'speech-digits', 'alignment.svg'), 'utf8'), /<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="rgb\(/);
  });
});
