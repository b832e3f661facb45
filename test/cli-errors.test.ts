// The CLI on hostile input: every failure is one line on stderr (text from files escaped and cut),
// exit 2 for bad input and 1 for a failed run, a stack trace only with --debug.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModel, weightsPath, type ModelMeta } from '../src/io/modelDir.js';
import { parseSafetensors, serializeSafetensors } from '../src/io/safetensors.js';
import { SequenceModel, type Architecture } from '../src/models/sequenceModel.js';

const MAIN = new URL('../src/cli/main.js', import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), 'carousel-err-'));
type Run = { code: number; out: string; err: string };

function carousel(args: string[], env: Record<string, string> = {}, prefix: string[] = []): Run {
  const cmd = prefix.length ? prefix[0] : process.execPath;
  const r = spawnSync(cmd, [...prefix.slice(1), ...(prefix.length ? [process.execPath] : []), MAIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr + (r.signal ? `\n[killed by ${r.signal}]` : '') };
}

/** Exactly one line on stderr, no stack, the expected exit code, a message matching. */
function oneLine(r: Run, code: number, pattern: RegExp): string {
  assert.equal(r.code, code, `exit code (stderr: ${r.err.slice(0, 2000)})`);
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.err.slice(0, 2000)}`);
  assert.doesNotMatch(r.err, /\n\s+at /);
  assert.doesNotMatch(r.err, /\x1b/);
  assert.match(lines[0], /^carousel: /);
  assert.match(lines[0], pattern);
  return lines[0];
}

const seriesCsv = (n = 60) => 'v\n' + Array.from({ length: n }, (_, i) => (Math.sin(i / 3) + 0.01 * i).toFixed(4)).join('\n') + '\n';

/** A model directory written here without training (random weights), with its model.json given. */
async function modelDir(arch: Partial<Architecture> & { task: Architecture['task'] }, meta: Omit<ModelMeta, 'format' | 'version' | 'architecture'>): Promise<string> {
  const d = join(tmp(), 'm');
  const a = { cell: 'lstm', hiddenSize: 3, numLayers: 1, bidirectional: false, dropout: 0, inputSize: 1, outputSize: 1, ...arch } as Architecture;
  await saveModel(d, new SequenceModel(a), meta);
  return d;
}
const patch = (dir: string, f: (m: Record<string, any>) => void) => {
  const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  f(m);
  writeFileSync(join(dir, 'model.json'), JSON.stringify(m));
};

test('info escapes names from the file: an ESC in a tensor name or a label never reaches the terminal', async () => {
  const d = tmp(), f = join(d, 'evil.safetensors');
  const names = ['ok.weight', 'title\x1b]0;owned\x07', 'clear\x1b[2J\x9b31m', 'long' + 'x'.repeat(5000)];
  writeFileSync(f, serializeSafetensors(names.map((n) => [n, { dtype: 'F32', shape: [1], data: [1] }]), { ['meta\x1b[5m']: 'x' }));
  const r = carousel(['info', f]);
  assert.equal(r.code, 0, r.err);
  assert.doesNotMatch(r.out, /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
  assert.match(r.out, /title\\x1b\]0;owned\\x07/);
  assert.match(r.out, /clear\\x1b\[2J\\x9b31m/);
  assert.match(r.out, /longx+\.\.\. \(5004 characters\)/);
  assert.match(r.out, /metadata: meta\\x1b\[5m/);
  const cls = await modelDir({ task: 'classify', outputSize: 2 }, { classify: { labels: ['a\x1b[2J', 'b\u202e'], features: 1 } });
  const i = carousel(['info', cls]);
  assert.equal(i.code, 0, i.err);
  assert.match(i.out, /classes \(2\): a\\x1b\[2J, b\\u202e/);
  assert.doesNotMatch(i.out, /\x1b|\u202e/);
  writeFileSync(join(d, 'u.jsonl'), '{"sequence": [0.5]}\n');
  const p = carousel(['predict', '--model', cls, '--data', join(d, 'u.jsonl')]);
  assert.equal(p.code, 0, p.err);
  assert.match(p.out, /^index,label,probability\n1,(a\\x1b\[2J|b\\u202e),[\d.]+\n$/);
});

test('a damaged model.json: one line naming the file and the field, exit 2 (info, predict, evaluate, generate)', async () => {
  const d = tmp(), csv = join(d, 's.csv'), txt = join(d, 't.txt');
  writeFileSync(csv, seriesCsv()); writeFileSync(txt, 'abab');
  const forecast = { features: ['v'], targets: ['v'], window: 4, horizon: 1, normalization: { mean: [0], std: [1] } };
  const cases: [Architecture['task'], (m: Record<string, any>) => void, RegExp][] = [
    ['forecast', (m) => { m.forecast.normalization = {}; }, /forecast\.normalization|normalization: expected/],
    ['forecast', (m) => { m.forecast.normalization.std = [0]; }, /forecast\.normalization\.std: expected 1 positive finite numbers, got \[0\]/],
    ['forecast', (m) => { m.forecast.features = 'v'; }, /forecast\.features: expected an array of 1 strings, got "v"/],
    ['forecast', (m) => { m.forecast.window = -1; }, /forecast\.window: expected an integer in \[1, \d+\], got -1/],
    ['forecast', (m) => { m.forecast = [1, 'a']; }, /forecast: expected an object, got \[1,"a"\]/],
    ['classify', (m) => { m.classify.labels = 5; }, /classify\.labels: expected an array of 2 strings, got 5/],
    ['classify', (m) => { m.classify.labels = ['a', 'a']; }, /classify\.labels/],
    ['charlm', (m) => { m.charlm.vocabulary = 'ab'; }, /charlm\.vocabulary: expected an array of 2 strings, got "ab"/],
    ['charlm', (m) => { m.charlm = 'x'; }, /charlm: expected an object, got "x"/],
    ['charlm', (m) => { m.charlm.vocabulary = []; }, /charlm\.vocabulary/],
  ];
  for (const [task, f, pattern] of cases) {
    const dir = task === 'forecast' ? await modelDir({ task }, { forecast })
      : task === 'classify' ? await modelDir({ task, outputSize: 2 }, { classify: { labels: ['a', 'b'], features: 1 } })
        : await modelDir({ task, outputSize: 2, vocabSize: 2 }, { charlm: { vocabulary: ['a', 'b'] } });
    patch(dir, f);
    const data = task === 'forecast' ? csv : task === 'classify' ? join(d, 'c.jsonl') : txt;
    if (task === 'classify') writeFileSync(data, '{"sequence": [1], "label": "a"}\n');
    const where = new RegExp(`model\\.json: .*${pattern.source}`);
    oneLine(carousel(['info', dir]), 2, where);
    oneLine(carousel(['evaluate', '--model', dir, '--data', data]), 2, where);
    oneLine(carousel(task === 'charlm' ? ['generate', '--model', dir, '--length', '3'] : ['predict', '--model', dir, '--data', data]), 2, where);
  }
});

test('bad data: hexadecimal, 1e300 and a 2-million-digit cell are one short line, exit 2', () => {
  const d = tmp();
  const train = (name: string, text: string) => {
    writeFileSync(join(d, name), text);
    return carousel(['train', '--task', 'forecast', '--data', join(d, name), '--out', join(d, 'o'), '--window', '4', '--epochs', '1', '--hidden', '3', '--column', 'v']);
  };
  oneLine(train('hex.csv', seriesCsv(20).replace('\n0.', '\n0x1F\n0.')), 2, /hex\.csv line 2, column 1 \('v'\): expected a decimal number, got '0x1F'/);
  oneLine(train('big.csv', seriesCsv(20) + '1e300\n'), 2, /big\.csv line 22, column 1 \('v'\): expected a number between -3\.4e38 and 3\.4e38 .* got '1e300'/);
  const line = oneLine(train('huge.csv', seriesCsv(20) + '1'.repeat(2_000_000) + '\n'), 2, /huge\.csv line 22, column 1 \('v'\): expected a finite number, got '1{40}\.\.\. \(2000000 characters\)'/);
  assert.ok(line.length < 300, `${line.length} characters`);
  oneLine(train('esc.csv', 'v\n1\n\x1b]0;owned\x07\n'), 2, /got '\\x1b\]0;owned\\x07'/);
  assert.ok(!existsSync(join(d, 'o', 'model.json')));
  writeFileSync(join(d, 'ok.csv'), seriesCsv(20));
  oneLine(carousel(['train', '--task', 'forecast', '--data', join(d, 'ok.csv'), '--out', join(d, 'o'), '--hidden', '0x10']), 2, /--hidden: expected an integer >= 1, got '0x10'/);
  oneLine(carousel(['train', '--task', 'forecast', '--data', join(d, 'ok.csv'), '--out', join(d, 'o'), '--lr', '\x1b[2J'.repeat(100)]), 2, /--lr: expected a number >= 0, got '(\\x1b\[2J)+\.\.\. \(400 characters\)'/);
  // A size no machine can allocate is the flags' doing.
  oneLine(carousel(['train', '--task', 'forecast', '--data', join(d, 'ok.csv'), '--out', join(d, 'o'), '--window', '4', '--hidden', '100000000']), 2,
    /the model is too large to allocate here \(--hidden 100000000, --layers 1, input size 1\)/);
});

test('--debug (or CAROUSEL_DEBUG=1) adds the stack trace; without it there is none', () => {
  const args = ['train', '--task', 'forecast', '--data', join(tmp(), 'missing.csv'), '--out', join(tmp(), 'o')];
  oneLine(carousel(args), 2, /data file .*missing\.csv: no such file/);
  for (const r of [carousel(['--debug', ...args]), carousel([...args, '--debug']), carousel(args, { CAROUSEL_DEBUG: '1' })]) {
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^carousel: data file .*missing\.csv: no such file\n/);
    assert.match(r.err, /\n\s+at /);
  }
});

test('file-system refusals name the path and the real cause', (t) => {
  const d = tmp();
  writeFileSync(join(d, 's.csv'), seriesCsv(30));
  writeFileSync(join(d, 'file'), 'x');
  const train = (out: string, prefix: string[] = []) => carousel(['train', '--task', 'forecast', '--data', join(d, 's.csv'), '--out', out, '--window', '4', '--epochs', '1', '--hidden', '3'], {}, prefix);
  oneLine(train(join(d, 'file', 'sub')), 2, new RegExp(`cannot create the folder ${join(d, 'file')}.*: a part of the path is a file, not a folder \\(ENOTDIR\\)|cannot create the folder .*file/sub: .*\\(ENOTDIR\\)`));
  oneLine(train(join(d, 'file')), 2, /file.*\((ENOTDIR|EEXIST)\)/);
  // A read-only mount and a full disk, in a private mount namespace (where the system allows one).
  const ro = join(d, 'ro'), full = join(d, 'full');
  mkdirSync(ro); mkdirSync(full);
  const probe = spawnSync('unshare', ['-rm', 'mount', '-t', 'tmpfs', '-o', 'ro', 'tmpfs', ro], { encoding: 'utf8' });
  if (probe.status !== 0) { t.skip(`read-only and full-disk cases: no private mount namespace here (${(probe.stderr || String(probe.error)).trim()})`); return; }
  const inNs = (mount: string, out: string) => train(out, ['unshare', '-rm', 'sh', '-c', `${mount} && exec "$@"`, 'sh']);
  oneLine(inNs(`mount -t tmpfs -o ro tmpfs ${ro}`, join(ro, 'new', 'model')), 2, new RegExp(`cannot create the folder ${ro}/new: read-only file system \\(EROFS\\)`));
  mkdirSync(join(ro, 'exists'));
  oneLine(inNs(`mount --bind -o ro ${ro} ${ro} 2>/dev/null || mount -o remount,bind,ro ${ro}`, join(ro, 'exists')), 2, new RegExp(`cannot write to ${ro}/exists: read-only file system \\(EROFS\\)`));
  const r = inNs(`mount -t tmpfs -o size=8k tmpfs ${full}`, join(full, 'm'));
  assert.equal(r.code, 1, r.err);
  const last = r.err.trimEnd().split('\n').pop()!;
  assert.match(last, new RegExp(`^carousel: cannot write ${full}/m/[\\w.-]+: no space left on the device \\(ENOSPC\\)$`));
  assert.doesNotMatch(r.err, /\n\s+at /);
});

test('a diverging run: one line, exit 1; the best earlier model is kept (and loads) or, with none, nothing is written', () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'o');
  writeFileSync(csv, seriesCsv(60));
  const train = (extra: string[]) => carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--window', '4', '--hidden', '8', '--batch-size', '8', ...extra]);
  // A good model first: a diverged run must not replace it when it has nothing better.
  assert.equal(train(['--epochs', '1']).code, 0);
  const good = readFileSync(weightsPath(out));
  const bad = train(['--epochs', '3', '--lr', '1e6', '--clip', '0']);
  assert.equal(bad.code, 1, bad.err);
  assert.doesNotMatch(bad.err, /\n\s+at /);
  assert.match(bad.err.trimEnd().split('\n').pop()!, /^carousel: training diverged: .* at epoch 1.*; there is no earlier epoch to keep, so no model was saved \(try a smaller --lr than 1000000, or --clip 1\)$/);
  assert.deepEqual(readFileSync(weightsPath(out)), good);
  // SGD at a learning rate on the edge: here it diverges in epoch 2 on all three backends (the
  // model of epoch 1 is kept); should the numbers change, it may diverge in the first epoch
  // instead (nothing is saved): either way the message must say which.
  const edge = train(['--epochs', '6', '--optimizer', 'sgd', '--lr', '1.8', '--momentum', '0.9', '--clip', '0']);
  assert.equal(edge.code, 1, edge.err);
  const last = edge.err.trimEnd().split('\n').pop()!;
  const kept = /saved the model of epoch (\d+) \(val_loss [\d.e+]+\) to .* instead/.exec(last);
  assert.match(last, /^carousel: training diverged: /);
  if (kept) {
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.equal(meta.training.stopped, 'diverged');
    assert.equal(meta.training.bestEpoch, Number(kept[1]));
    const p = carousel(['predict', '--model', out, '--data', csv]);
    assert.equal(p.code, 0, p.err);
    assert.ok(Number.isFinite(Number(p.out.trim().split('\n')[1].split(',')[1])), p.out);
  } else {
    assert.match(last, /no model was saved/);
  }
});

test('a checkpoint whose metadata is damaged: --resume fails with one line naming it, exit 2', () => {
  const d = tmp(), csv = join(d, 's.csv'), out = join(d, 'o');
  writeFileSync(csv, seriesCsv(40));
  assert.equal(carousel(['train', '--task', 'forecast', '--data', csv, '--out', out, '--window', '4', '--epochs', '1', '--hidden', '3']).code, 0);
  const ck = join(out, 'checkpoint.safetensors');
  const f = parseSafetensors(readFileSync(ck), ck);
  for (const damage of [(m: Record<string, any>) => { m.rng = 'x'; }, (m: Record<string, any>) => { m.loop.history = -1; }]) {
    const meta = JSON.parse(f.metadata.carousel);
    damage(meta);
    writeFileSync(ck, serializeSafetensors([...f.tensors].map(([k, t]) => [k, { dtype: t.dtype as 'F32', shape: t.shape, data: t.data }]), { carousel: JSON.stringify(meta) }));
    const r = carousel(['train', '--out', out, '--resume', '--epochs', '2']);
    assert.equal(r.code, 2, r.err);
    assert.doesNotMatch(r.err, /\n\s+at /);
    assert.match(r.err.trimEnd().split('\n').pop()!, /^carousel: .*checkpoint\.safetensors: /);
  }
});
