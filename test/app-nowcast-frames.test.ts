// The nowcasting data: PNG frames read as intensities (8-bit, 16-bit, colour to luminance), the
// data folder's checks with the file named, and the moving-digit renderer (deterministic,
// bouncing inside the frame).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encode } from 'fast-png';
import { DataError } from '../src/data/errors.js';
import { readFrameSet, readPngFrame, writePngFrame, writeSequence } from '../src/nowcast/frames.js';
import { movingDigits } from '../src/nowcast/movingDigits.js';

const root = mkdtempSync(join(tmpdir(), 'carousel-nowcast-frames-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => { const d = join(root, `d${n++}`); mkdirSync(d); return d; };
const gray = (w: number, h: number, v = 0) => encode({ width: w, height: h, data: new Uint8Array(w * h).fill(v), channels: 1, depth: 8 });

test('8-bit gray frames round-trip as value / 255; 16-bit as / 65535; RGB as Rec. 601 luminance, with a note', () => {
  const d = fresh();
  const vals = Float32Array.from([0, 0.2, 0.5, 1, 0.77, 0.01]);
  writePngFrame(join(d, 'a.png'), vals, 3, 2);
  const a = readPngFrame(join(d, 'a.png'));
  assert.deepEqual([a.width, a.height], [3, 2]);
  assert.deepEqual([...a.data], [...vals].map((v) => Math.fround(Math.round(v * 255) / 255)));
  writeFileSync(join(d, 'b.png'), encode({ width: 2, height: 1, data: Uint16Array.from([65535, 13107]), channels: 1, depth: 16 }));
  assert.deepEqual([...readPngFrame(join(d, 'b.png')).data], [1, Math.fround(0.2)]);
  writeFileSync(join(d, 'c.png'), encode({ width: 1, height: 1, data: Uint8Array.from([255, 0, 0, 255]), channels: 4, depth: 8 }));
  const notes = new Set<string>();
  assert.deepEqual([...readPngFrame(join(d, 'c.png'), notes).data], [Math.fround(0.299)]);
  assert.deepEqual([...notes].sort(), ['alpha ignored', 'colour converted to luminance']);
});

test('a data folder: sequences in name order, frames in number order (2.png before 10.png), the set hash', () => {
  const d = fresh();
  for (const [seq, frames] of [['b', [10, 2, 1]], ['a', [0, 1, 2]]] as const) {
    mkdirSync(join(d, seq));
    for (const f of frames) writeFileSync(join(d, seq, `${f}.png`), gray(2, 2, f * 10));
  }
  const set = readFrameSet(d, 3, 'input + horizon');
  assert.deepEqual(set.sequences.map((s) => s.dir), [join(d, 'a'), join(d, 'b')]);
  assert.deepEqual([...set.sequences[1].frames].filter((_, i) => i % 4 === 0).map((v) => Math.round(v * 255)), [10, 20, 100]);
  assert.match(set.hash, /^[0-9a-f]{64}$/);
  writeFileSync(join(d, 'a', '2.png'), gray(2, 2, 99));
  assert.notEqual(readFrameSet(d, 3, 'x').hash, set.hash);
});

test('bad data folders: the message names the file or folder and what was expected', () => {
  const refuse = (dir: string, pattern: RegExp, min = 2) => assert.throws(() => readFrameSet(dir, min, '--input 1 + --horizon 1'), (e: Error) => {
    assert.ok(e instanceof DataError, `${e}`);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  });
  refuse(join(root, 'absent'), /absent: no such folder/);
  const empty = fresh();
  refuse(empty, /no sequences/);
  // Frames of different sizes within one sequence.
  const sizes = fresh();
  writeSequence(join(sizes, 's'), new Float32Array(2 * 16), 2, 4, 4);
  writeFileSync(join(sizes, 's', '002.png'), gray(4, 5));
  refuse(sizes, /s\/002\.png: frame is 4x5, but .*s\/000\.png is 4x4 \(every frame of a sequence must be the same size\)/);
  // Across sequences.
  const across = fresh();
  writeSequence(join(across, 'a'), new Float32Array(2 * 16), 2, 4, 4);
  writeSequence(join(across, 'b'), new Float32Array(2 * 36), 2, 6, 6);
  refuse(across, /b\/000\.png: frame is 6x6, but .*a\/000\.png is 4x4 \(every frame of the data set/);
  // Not a PNG.
  const junk = fresh();
  writeSequence(join(junk, 's'), new Float32Array(2 * 4), 2, 2, 2);
  writeFileSync(join(junk, 's', '001.png'), 'hello, not a png');
  refuse(junk, /s\/001\.png: not a readable PNG file/);
  // Shorter than input + horizon.
  const short = fresh();
  writeSequence(join(short, 'seq-1'), new Float32Array(3 * 4), 3, 2, 2);
  refuse(short, /seq-1: 3 frames, fewer than --input 1 \+ --horizon 1 = 4/, 4);
  // Names not numbers, a stray file, a duplicate number.
  const named = fresh();
  writeSequence(join(named, 's'), new Float32Array(2 * 4), 2, 2, 2);
  writeFileSync(join(named, 's', 'frame.png'), gray(2, 2));
  refuse(named, /s\/frame\.png: expected frames named by number in time order \(000\.png, 001\.png, \.\.\.\), got 'frame\.png'/);
  const stray = fresh();
  writeFileSync(join(stray, 'notes.txt'), 'x');
  refuse(stray, /notes\.txt: expected only sequence sub-folders/);
  const dup = fresh();
  writeSequence(join(dup, 's'), new Float32Array(2 * 4), 2, 2, 2);
  writeFileSync(join(dup, 's', '1.png'), gray(2, 2));
  refuse(dup, /frame number 1 twice/);
});

test('moving digits: deterministic by seed, sequence k independent of count, two digits in frame, bouncing', () => {
  const a = [...movingDigits({ count: 3, frames: 30, size: 32, seed: 7 })];
  const b = [...movingDigits({ count: 2, frames: 30, size: 32, seed: 7 })];
  const c = [...movingDigits({ count: 1, frames: 30, size: 32, seed: 8 })];
  assert.deepEqual(b[1].frames, a[1].frames);
  assert.notDeepEqual(c[0].frames, a[0].frames);
  const S = 32, px = S * S;
  for (const s of a) {
    assert.equal(s.frames.length, 30 * px);
    assert.ok(s.digits.every((d) => Number.isInteger(d) && d >= 0 && d <= 9));
    assert.ok(s.frames.every((v) => v >= 0 && v <= 1));
    // Every frame keeps its ink (30 steps of 0.1 of the free range: digits that did not bounce
    // off the borders would have left the frame), and the ink moves.
    const cx: number[] = [];
    for (let t = 0; t < 30; t++) {
      let m = 0, sx = 0;
      for (let i = 0; i < px; i++) { const v = s.frames[t * px + i]; m += v; sx += v * (i % S); }
      assert.ok(m > 10, `frame ${t} has ink ${m}`);
      cx.push(sx / m);
    }
    assert.ok(cx.some((x, t) => t > 0 && Math.abs(x - cx[t - 1]) > 0.3), 'the digits move');
  }
  // Reflected at the box's limits, a digit never reaches the frame's outer pixels with full ink.
  const all = a.flatMap((s) => Array.from({ length: 30 }, (_, t) => s.frames.subarray(t * px, (t + 1) * px)));
  const edge = all.filter((f) => { for (let i = 0; i < S; i++) if (f[i] > 0.5 || f[(S - 1) * S + i] > 0.5 || f[i * S] > 0.5 || f[i * S + S - 1] > 0.5) return true; return false; });
  assert.ok(edge.length < all.length / 2, `${edge.length} of ${all.length} frames have ink on the border`);
});
