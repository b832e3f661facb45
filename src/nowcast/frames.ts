import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { convertIndexedToRgb, decode, encode, type DecodedPng } from 'fast-png';
import { DataError } from '../data/errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/**
 * The nowcasting data format: a folder of sequences, one sub-folder per sequence, each holding
 * its frames as PNG files named by number in time order (000.png, 001.png, ...). A frame is read
 * as grayscale intensities in [0, 1]: 8-bit values / 255 (16-bit / 65535, 1/2/4-bit by their
 * range); colour is converted to luminance (Rec. 601) and alpha ignored, each with a note.
 * Every frame of the set must have the same size (one model sees one grid).
 */
export interface FrameSequence {
  /** The sub-folder, as given. */
  dir: string;
  /** [count, height, width] intensities in [0, 1]. */
  frames: Float32Array;
  count: number;
}

export interface FrameSet {
  dir: string;
  sequences: FrameSequence[];
  height: number;
  width: number;
  /** What was converted on reading (colour, alpha), once per set. */
  notes: string[];
  /** SHA-256 over the frame files' names and bytes: a resumed run refuses changed data. */
  hash: string;
}

const FRAME_NAME = /^(\d+)\.png$/i;

/** One PNG frame as intensities [height, width] in [0, 1]. */
export function readPngFrame(file: string, notes?: Set<string>): { width: number; height: number; data: Float32Array } {
  const bytes = readFileSync(file);
  let png: DecodedPng;
  try { png = decode(bytes); } catch (e) {
    throw new DataError(`${file}: not a readable PNG file (${(e as Error).message.split('\n')[0]})`);
  }
  const { width, height } = png;
  const out = new Float32Array(width * height);
  if (png.palette) {
    const rgb = convertIndexedToRgb(png), ch = rgb.length / (width * height);
    for (let i = 0; i < out.length; i++) out[i] = luminance(rgb[i * ch], rgb[i * ch + 1], rgb[i * ch + 2]) / 255;
    notes?.add('palette colours converted to luminance');
    return { width, height, data: out };
  }
  const ch = png.channels, depth = png.depth;
  if (depth < 8) {
    // Gray at 1, 2 or 4 bits: packed, most significant bits first, each row starting on a byte.
    const stride = Math.ceil((width * depth) / 8), max = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const bit = x * depth, byte = png.data[y * stride + (bit >> 3)];
        out[y * width + x] = ((byte >> (8 - depth - (bit & 7))) & max) / max;
      }
    }
    return { width, height, data: out };
  }
  const max = depth === 16 ? 65535 : 255, d = png.data;
  if (ch === 2 || ch === 4) notes?.add('alpha ignored');
  if (ch >= 3) notes?.add('colour converted to luminance');
  for (let i = 0; i < out.length; i++) {
    out[i] = (ch >= 3 ? luminance(d[i * ch], d[i * ch + 1], d[i * ch + 2]) : d[i * ch]) / max;
  }
  return { width, height, data: out };
}

const luminance = (r: number, g: number, b: number) => 0.299 * r + 0.587 * g + 0.114 * b;

/** A frame [height, width] of intensities in [0, 1] as an 8-bit grayscale PNG, written atomically. */
export function writePngFrame(file: string, data: ArrayLike<number>, width: number, height: number): void {
  const px = new Uint8Array(width * height);
  for (let i = 0; i < px.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, data[i])) * 255);
  writeFileAtomic(file, encode({ width, height, data: px, channels: 1, depth: 8 }));
}

/** A sequence's frames [count, height, width] as dir/000.png, dir/001.png, ... */
export function writeSequence(dir: string, frames: Float32Array, count: number, height: number, width: number): void {
  mkdirSync(dir, { recursive: true });
  const digits = Math.max(3, String(count - 1).length);
  for (let t = 0; t < count; t++) {
    writePngFrame(join(dir, `${String(t).padStart(digits, '0')}.png`), frames.subarray(t * height * width, (t + 1) * height * width), width, height);
  }
}

/** The frame files of one sequence folder in time order. */
function frameFiles(dir: string): string[] {
  const byNumber = new Map<number, string>();
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const m = FRAME_NAME.exec(name);
    if (!m) {
      if (statSync(join(dir, name)).isDirectory()) throw new DataError(`${join(dir, name)}: a folder inside a sequence; expected only frames named by number (000.png, 001.png, ...)`);
      throw new DataError(`${join(dir, name)}: expected frames named by number in time order (000.png, 001.png, ...), got '${name}'`);
    }
    const n = Number(m[1]), other = byNumber.get(n);
    if (other !== undefined) throw new DataError(`${join(dir, name)}: frame number ${n} twice (also ${other})`);
    byNumber.set(n, name);
  }
  return [...byNumber.entries()].sort(([a], [b]) => a - b).map(([, f]) => join(dir, f));
}

/**
 * Every sequence of a data folder, checked: each sequence at least minFrames long (input +
 * horizon, named in the message by `need`), every frame the same size. Errors name the file.
 */
export function readFrameSet(dir: string, minFrames: number, need: string): FrameSet {
  if (!existsSync(dir)) throw new DataError(`${dir}: no such folder (expected one sub-folder of PNG frames per sequence)`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${dir}: is a file, expected a folder with one sub-folder of PNG frames per sequence`);
  const subs = readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
  const stray = subs.find((n) => !statSync(join(dir, n)).isDirectory());
  if (stray) throw new DataError(`${join(dir, stray)}: expected only sequence sub-folders in ${dir} (each holding 000.png, 001.png, ...), got a file`);
  if (!subs.length) throw new DataError(`${dir}: no sequences (expected one sub-folder of PNG frames 000.png, 001.png, ... per sequence)`);
  const hash = createHash('sha256'), notes = new Set<string>();
  let size = null as { width: number; height: number; file: string } | null;
  const sequences: FrameSequence[] = [];
  for (const sub of subs) {
    const sdir = join(dir, sub), files = frameFiles(sdir);
    if (files.length < minFrames) throw new DataError(`${sdir}: ${files.length} frame${files.length === 1 ? '' : 's'}, fewer than ${need} = ${minFrames}`);
    let frames: Float32Array | null = null;
    let seqSize = null as { width: number; height: number; file: string } | null;
    for (let t = 0; t < files.length; t++) {
      const f = files[t];
      hash.update(`${sub}/${f.slice(sdir.length + 1)}\0`).update(readFileSync(f));
      const fr = readPngFrame(f, notes);
      // Against the sequence's first frame, then the set's: the message says which rule broke.
      const want = t === 0 ? size : seqSize;
      if (t === 0) seqSize = { width: fr.width, height: fr.height, file: f };
      size ??= { width: fr.width, height: fr.height, file: f };
      if (want && (fr.width !== want.width || fr.height !== want.height)) {
        throw new DataError(`${f}: frame is ${fr.width}x${fr.height}, but ${want.file} is ${want.width}x${want.height} (${t === 0 ? 'every frame of the data set' : 'every frame of a sequence'} must be the same size)`);
      }
      frames ??= new Float32Array(files.length * fr.width * fr.height);
      frames.set(fr.data, t * fr.width * fr.height);
    }
    sequences.push({ dir: sdir, frames: frames!, count: files.length });
  }
  const { width, height } = size!;
  return { dir, sequences, width, height, notes: [...notes].map((n) => `${dir}: ${n}`), hash: hash.digest('hex') };
}
