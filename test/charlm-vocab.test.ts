import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharVocab, UNKNOWN_CHAR } from '../src/data/text.js';
import { loadModel, saveModel } from '../src/io/modelDir.js';
import { penalizeRepeats, sample } from '../src/models/generate.js';
import { SequenceModel } from '../src/models/sequenceModel.js';
import { Rng } from '../src/tensor/random.js';
import { carousel, userError } from './util/cli.js';

// Issue 17, item 3: a character model never refuses text (unknown-character entry, or a fallback
// in older models), --strict-vocab restores the error; predict writes plain CSV; generation has
// top-p and a repetition penalty.

const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-vocab-'));

function ok(r: { code: number; out: string; err: string }): { out: string; err: string } {
  assert.equal(r.code, 0, r.err);
  return r;
}

/** A charlm model trained here on `text` (tiny, one epoch: seconds). */
function trainLM(text: string, extra: string[] = []): string {
  const d = tmp();
  writeFileSync(join(d, 't.txt'), text);
  ok(carousel(['train', '--task', 'charlm', '--data', join(d, 't.txt'), '--out', join(d, 'lm'), '--hidden', '12', '--embedding', '6', '--epochs', '2', '--batch-size', '4', '--bptt', '16', ...extra]));
  return join(d, 'lm');
}

test('vocabulary: the unknown entry, lenient encoding and the fallback of a vocabulary without one', () => {
  const v = CharVocab.fromText('hello world', { unknown: true });
  assert.equal(v.chars[v.unknown!], UNKNOWN_CHAR);
  assert.equal(v.size, 9); // 8 distinct characters + the unknown entry
  const r = v.encodeLenient('hi_o');
  assert.equal(r.unknown, 2);
  assert.deepEqual(Array.from(r.ids), [v.encode('h')[0], v.unknown, v.unknown, v.encode('o')[0]]);
  assert.throws(() => v.encode('hi'), /character "i" at position 1 is not in the model's vocabulary of 9 characters/);
  // A text that holds U+FFFD itself (invalid UTF-8 reads as it) has it as the unknown entry, once.
  const w = CharVocab.fromText(`ab${UNKNOWN_CHAR}`, { unknown: true });
  assert.equal(w.size, 3);
  assert.equal(w.chars[w.unknown!], UNKNOWN_CHAR);
  // Older vocabularies: space, else the first character.
  const old = new CharVocab(['a', ' ', 'b']);
  assert.equal(old.unknown, null);
  assert.deepEqual(Array.from(old.encodeLenient('a_').ids), [0, 1]);
  assert.deepEqual(Array.from(new CharVocab(['x', 'y']).encodeLenient('_').ids), [0]);
  assert.throws(() => new CharVocab(['a', 'b'], 2), /expected unknown an index in \[0, 1\], got 2/);
});

test('top-p: the kept set is the smallest whose mass reaches p; a tiny p is the argmax', () => {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (logits are their logs; temperature 1).
  const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);
  const drawn = (topP: number) => {
    const rng = new Rng(3), seen = new Set<number>();
    for (let i = 0; i < 400; i++) seen.add(sample(logits, 1, 0, rng, topP));
    return [...seen].sort();
  };
  assert.deepEqual(drawn(1e-6), [0]);
  assert.deepEqual(drawn(0.49), [0]);
  assert.deepEqual(drawn(0.51), [0, 1]);
  assert.deepEqual(drawn(0.79), [0, 1]);
  assert.deepEqual(drawn(0.81), [0, 1, 2]);
  assert.deepEqual(drawn(1), [0, 1, 2, 3]);
  // After top-k: the nucleus is taken within the k kept.
  const rng = new Rng(4);
  for (let i = 0; i < 100; i++) assert.equal(sample([0, 5, 4.9, 4.8], 1, 3, rng, 0.3), 1);
  // A -Infinity logit (the masked unknown entry) is never drawn, also by greedy decoding.
  for (let i = 0; i < 100; i++) assert.notEqual(sample([-Infinity, 0, 0], 1, 0, rng, 1), 0);
  assert.equal(sample([-Infinity, -3, -2], 0, 0, rng), 2);
});

test('repetition penalty: CTRL-style, positive logits divided, negative ones multiplied, each id once', () => {
  const l = [2, 1.5, -1, 0.5];
  penalizeRepeats(l, [0, 2, 0, 2], 2);
  assert.deepEqual(l, [1, 1.5, -2, 0.5]);
  // Greedy decoding now picks what was the second choice.
  assert.equal(sample(l, 0, 0, new Rng(1)), 1);
});

test('model.json: charlm.unknown names U+FFFD in the vocabulary, and is optional', async () => {
  const dir = tmp();
  const lm = new SequenceModel({ task: 'charlm', cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 3, vocabSize: 3 }, { rng: new Rng(1) });
  await saveModel(dir, lm, { charlm: { vocabulary: ['a', 'b', UNKNOWN_CHAR], unknown: 2 } });
  assert.equal(loadModel(dir).meta.charlm!.unknown, 2);
  await assert.rejects(saveModel(dir, lm, { charlm: { vocabulary: ['a', 'b', UNKNOWN_CHAR], unknown: 3 } }), /charlm\.unknown: expected an integer in \[0, 2\], got 3/);
  await assert.rejects(saveModel(dir, lm, { charlm: { vocabulary: ['a', 'b', UNKNOWN_CHAR], unknown: 0 } }), /charlm\.unknown: expected the index of the unknown-character entry "\\ufffd" \(vocabulary\[0\] is "a"\), got 0/);
  await saveModel(dir, lm, { charlm: { vocabulary: ['a', 'b', 'c'] } });
  assert.equal(loadModel(dir).meta.charlm!.unknown, undefined);
});

test('cli: unknown characters through evaluate, predict and generate; --strict-vocab refuses them', () => {
  const lm = trainLM('the work in the world is the word. '.repeat(24));
  const meta = JSON.parse(readFileSync(join(lm, 'model.json'), 'utf8'));
  assert.equal(meta.charlm.vocabulary[meta.charlm.unknown], UNKNOWN_CHAR);
  const d = tmp(), f = join(d, 'new.txt');
  writeFileSync(f, 'the_work is GPL-3 in the world');
  const e = ok(carousel(['evaluate', '--model', lm, '--data', f]));
  assert.match(e.out, /^characters 30\nunknown_characters 6\nloss [\d.]+\nbpc [\d.]+\n$/);
  assert.match(e.err, /^note: 6 characters of .*new\.txt outside the model's vocabulary read as its unknown-character entry/);
  userError(carousel(['evaluate', '--model', lm, '--data', f, '--strict-vocab']), /new\.txt: character "_" at position 3 is not in the model's vocabulary/);

  const p = ok(carousel(['predict', '--model', lm, '--data', f]));
  assert.match(p.out, /^char,probability\n(.+,[\d.]+\n){5}$/);
  userError(carousel(['predict', '--model', lm, '--data', f, '--strict-vocab']), /character "_" at position 3/);

  const g = ok(carousel(['generate', '--model', lm, '--seed-text', 'GPL_', '--length', '300', '--temperature', '2', '--seed', '2']));
  assert.ok(g.out.startsWith('GPL_'));
  assert.ok(!g.out.includes(UNKNOWN_CHAR), 'the unknown entry is never generated');
  assert.match(g.err, /^note: 4 characters of seed text outside/);
  userError(carousel(['generate', '--model', lm, '--seed-text', 'GPL_', '--strict-vocab']), /seed text: character "G" at position 0 is not in the model's vocabulary/);
});

test('cli: a model directory from before the unknown entry reads unseen characters as a space, and says so once', async () => {
  const dir = tmp(), vocabulary = [' ', 'a', 'b', 'c'];
  const lm = new SequenceModel({ task: 'charlm', cell: 'lstm', inputSize: 3, hiddenSize: 4, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 4, vocabSize: 4 }, { rng: new Rng(1) });
  await saveModel(dir, lm, { charlm: { vocabulary } });
  const f = join(dir, 'x.txt');
  writeFileSync(f, 'abc_ab_ca');
  const e = ok(carousel(['evaluate', '--model', dir, '--data', f]));
  assert.match(e.out, /^characters 9\nunknown_characters 2\n/);
  assert.equal(e.err.trim().split('\n').length, 1);
  assert.match(e.err, /^note: this model has no unknown-character entry \(trained before Carousel had one\): 2 characters of .*x\.txt outside the model's vocabulary read as a space/);
  // The same numbers as the text with spaces written in.
  writeFileSync(join(dir, 'y.txt'), 'abc ab ca');
  const e2 = ok(carousel(['evaluate', '--model', dir, '--data', join(dir, 'y.txt')]));
  assert.equal(e.out.replace(/unknown_characters \d+\n/, ''), e2.out.replace(/unknown_characters \d+\n/, ''));
  ok(carousel(['predict', '--model', dir, '--data', f]));
  assert.match(ok(carousel(['generate', '--model', dir, '--seed-text', 'x', '--length', '5'])).out, /^x[ abc]{5}\n$/);
  userError(carousel(['evaluate', '--model', dir, '--data', f, '--strict-vocab']), /character "_" at position 3/);
  // A bad flag is the one line on stderr, without the note before it.
  userError(carousel(['generate', '--model', dir, '--seed-text', 'x_', '--length', 'x']), /--length: expected an integer >= 0, got 'x'/);
  const cdir = tmp();
  const cls = new SequenceModel({ task: 'classify', cell: 'lstm', inputSize: 2, hiddenSize: 3, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 2 }, { rng: new Rng(1) });
  await saveModel(cdir, cls, { classify: { labels: ['x', 'y'], features: 2 } });
  userError(carousel(['predict', '--model', cdir, '--data', f, '--strict-vocab']), /--strict-vocab applies to charlm models only; .* is a classify model/);
});

test('cli: predict writes plain CSV: quoted only for a comma or a quote, control characters escaped', () => {
  // Vocabulary: line break, quote, comma, 'a' and the unknown entry: the top five are all of them.
  const lm = trainLM('a,"\n'.repeat(150));
  const d = tmp(), f = join(d, 'in.txt');
  writeFileSync(f, 'a,');
  const p = ok(carousel(['predict', '--model', lm, '--data', f]));
  const chars = p.out.trimEnd().split('\n').slice(1).map((l) => l.slice(0, l.lastIndexOf(','))).sort();
  assert.deepEqual(chars, ['""""', '","', '<unknown>', '\\x0a', 'a']);
});

test('cli: greedy decoding loops; the repetition penalty changes the loop; option ranges', () => {
  const lm = trainLM('the work in the world is the word of the worker. '.repeat(24), ['--epochs', '4']);
  const greedy = ok(carousel(['generate', '--model', lm, '--seed-text', 'the ', '--length', '160', '--temperature', '0'])).out.replace(/\n$/, '');
  // Greedy: once a state repeats it cycles; the tail is periodic with a short period.
  const tail = greedy.slice(-80);
  const period = [...Array(40).keys()].slice(1).find((k) => [...tail].every((c, i) => i < k || c === tail[i - k]));
  assert.ok(period !== undefined, `greedy output is periodic: ${JSON.stringify(greedy)}`);
  const penalized = ok(carousel(['generate', '--model', lm, '--seed-text', 'the ', '--length', '160', '--temperature', '0', '--repetition-penalty', '3', '--repetition-window', '8'])).out.replace(/\n$/, '');
  assert.notEqual(penalized, greedy);
  const nucleus = ok(carousel(['generate', '--model', lm, '--seed-text', 'the ', '--length', '40', '--top-p', '0.000001', '--seed', '9'])).out.replace(/\n$/, '');
  assert.equal(nucleus, greedy.slice(0, 44), 'a tiny top-p is greedy decoding');
  userError(carousel(['generate', '--model', lm, '--top-p', '0']), /--top-p: expected a number > 0 and <= 1, got '0'/);
  userError(carousel(['generate', '--model', lm, '--top-p', '1.5']), /--top-p: expected a number > 0 and <= 1, got '1.5'/);
  userError(carousel(['generate', '--model', lm, '--repetition-penalty', '0.5']), /--repetition-penalty: expected a number >= 1, got '0.5'/);
  userError(carousel(['generate', '--model', lm, '--repetition-window=-1']), /--repetition-window: expected an integer >= 0, got '-1'/);
});
