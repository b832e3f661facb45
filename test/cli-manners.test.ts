import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../src/cli/commands/shared.js';
import { closest } from '../src/cli/suggest.js';
import { Progress } from '../src/train/progress.js';
import { carousel, userError } from './util/cli.js';

// The CLI as a user meets it: a child process, stdout and stderr piped (not a terminal).
const PACKAGE = new URL('../../package.json', import.meta.url);
const COMMANDS = ['conformance', 'demo', 'train', 'predict', 'evaluate', 'generate', 'info'];



test('cli: --version and -v print the version from package.json', () => {
  const { version } = JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = carousel([flag]);
    assert.equal(r.code, 0, `${flag}: ${r.err}`);
    assert.equal(r.out, `${version}\n`, flag);
    assert.equal(r.err, '', flag);
  }
});

test('cli: help COMMAND prints the same text as COMMAND --help, for every command', () => {
  for (const c of COMMANDS) {
    const a = carousel(['help', c]), b = carousel([c, '--help']), h = carousel([c, '-h']);
    assert.equal(a.code, 0, `help ${c}: ${a.err}`);
    assert.match(a.out, new RegExp(`^Usage: carousel ${c}`), `help ${c}`);
    assert.equal(a.out, b.out, `help ${c} vs ${c} --help`);
    assert.equal(h.out, b.out, `${c} -h vs ${c} --help`);
  }
  userError(carousel(['help', 'trian']), /unknown command 'trian'; did you mean train\?/);
});

test('cli: a misspelled command or option gets a "did you mean", only when one is close', () => {
  userError(carousel(['trian']), /unknown command 'trian'; did you mean train\?/);
  userError(carousel(['evalute', '--model', 'm']), /did you mean evaluate\?/);
  const far = userError(carousel(['xyzzy']), /unknown command 'xyzzy'/);
  assert.doesNotMatch(far, /did you mean/);
  userError(carousel(['train', '--hiden', '8']), /Unknown option '--hiden' for carousel train; did you mean --hidden\?/);
  userError(carousel(['train', '--epoch', '3']), /Unknown option '--epoch' for carousel train; did you mean --epochs\?/);
  userError(carousel(['predict', '--modle', 'm']), /did you mean --model\?/);
  userError(carousel(['generate', '--seedtext', 'x']), /did you mean --seed-text\?/);
  userError(carousel(['--verison']), /did you mean --version\?/);
  const none = userError(carousel(['train', '--colour', 'red']), /Unknown option '--colour' for carousel train/);
  assert.doesNotMatch(none, /did you mean/);
  assert.equal(closest('trian', ['train', 'info']), 'train');
  assert.equal(closest('x', ['info', 'demo']), undefined);
  assert.equal(closest('lr', ['layers', 'lr', 'seed']), 'lr');
});

test('cli: a negative number reaches the range check as an option value', () => {
  const base = ['train', '--task', 'forecast', '--data', 'x.csv', '--out', 'o'];
  userError(carousel([...base, '--lr', '-1']), /^carousel: --lr: expected a number >= 0, got '-1'$/);
  userError(carousel([...base, '--hidden', '-3']), /^carousel: --hidden: expected an integer >= 1, got '-3'$/);
  userError(carousel([...base, '--dropout', '-.5']), /^carousel: --dropout: expected a number >= 0 and <= 0.99, got '-.5'$/);
  // Where a negative value is allowed it is taken as the value, for every command (one parser).
  const opts = { shift: { type: 'string' }, on: { type: 'boolean' } } as const;
  assert.deepEqual({ ...parseFlags('x', ['--shift', '-2.5e-3', '--on'], opts).values }, { shift: '-2.5e-3', on: true });
  assert.deepEqual({ ...parseFlags('x', ['--shift=-1'], opts).values }, { shift: '-1' });
  // A flag that is not a number still needs '=': '--shift --on' is a missing value, not '--on'.
  assert.throws(() => parseFlags('x', ['--shift', '--on'], opts), /ambiguous/);
});

test('cli: train --resume refuses the options it cannot change, naming them', () => {
  const out = mkdtempSync(join(tmpdir(), 'carousel-manners-'));
  userError(carousel(['train', '--out', out, '--resume', '--hidden', '32']),
    /--resume continues with the checkpoint's settings and cannot change --hidden \(only --epochs may be given\)/);
  userError(carousel(['train', '--out', out, '--resume', '--lr', '0.1', '--cell', 'gru', '--epochs', '4']), /cannot change --lr, --cell \(/);
  // --epochs (and --data naming the same file) are what --resume takes: this one fails on the missing checkpoint.
  userError(carousel(['train', '--out', out, '--resume', '--epochs', '4']), /--resume: no checkpoint in/);
});

test('progress: piped output has no carriage returns or escape codes; a terminal gets the bar unless TERM=dumb', () => {
  const d = mkdtempSync(join(tmpdir(), 'carousel-manners-')), csv = join(d, 's.csv');
  writeFileSync(csv, `v\n${Array.from({ length: 80 }, (_, i) => Math.sin(i / 3).toFixed(4)).join('\n')}\n`);
  const r = carousel(['train', '--task', 'forecast', '--data', csv, '--out', join(d, 'm'), '--window', '8', '--hidden', '4', '--epochs', '2', '--batch-size', '4']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /epoch 2\/2 {2}loss/);
  assert.doesNotMatch(r.err + r.out, /[\r\x1b]/, 'no \\r or escape codes in piped output');

  const drive = (env: NodeJS.ProcessEnv) => {
    let s = '';
    const p = new Progress({ isTTY: true, write: (x: string) => { s += x; } }, env);
    p.epochStart(0, 1, 2); p.batch(1, 0.5, 100); p.batch(2, 0.4, 100); p.epochEnd('epoch 1/1  loss 0.4');
    return s;
  };
  assert.match(drive({ TERM: 'xterm' }), /\r\x1b\[2Kepoch 1\/1 \[/, 'a terminal redraws the bar in place');
  assert.equal(drive({ TERM: 'dumb' }), 'epoch 1/1  loss 0.4\n', 'TERM=dumb: plain lines');
  assert.doesNotMatch(drive({ TERM: 'xterm', NO_COLOR: '1' }), /\x1b\[[\d;]*m/, 'NO_COLOR: no colors');
});
