import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeStaleTemps, writeFileAtomic } from '../io/atomic.js';
import { CURSIVE_FONTS, loadHersheyFont } from '../strokes/hershey.js';
import { writeStrokes } from '../strokes/format.js';
import { randomStyle, renderHandwriting, type WriterStyle } from '../strokes/render.js';
import { Rng } from '../tensor/random.js';
import { writeManifest, type ManifestRow } from './manifest.js';

/**
 * A rendered online-handwriting data set: phrases of Shakespeare's sonnets (the package's
 * data/sonnets.txt) written in the cursive Hershey fonts by random writers. A writer is a font
 * and a style (slant, width, tilt, how much elastic distortion and jitter); the train, validation
 * and test splits have writers of their own (every font in each), and their text comes from
 * lines of their own, so neither a hand nor a phrase of the test set was seen in training.
 */
export interface HandwritingDataOptions {
  out: string;
  /** Utterances over all splits (default 3000): 80% train, 10% validation, 10% test. */
  count?: number;
  seed?: number;
  /** Writers over all splits (default 60, at least 30: 3 fonts x (8 train + 1 val + 1 test)). */
  writers?: number;
  /** Words per phrase: 1 to maxWords (default 2). */
  maxWords?: number;
  /** Pen step in font units (x-height about 9; default 3: about 15 steps a letter, still legible). */
  step?: number;
  /** Progress lines (default none). */
  log?: (line: string) => void;
}

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** The sonnets (dist/src/asr -> the package root's data/). */
function sonnetsPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data', 'sonnets.txt');
}

/** Lowercase letters and single spaces: the handwriting alphabet ("beauty's" -> "beautys", "all-eating" -> "all eating"). */
export function plainText(line: string): string {
  return line.toLowerCase().replace(/'/g, '').replace(/[^a-z]+/g, ' ').trim();
}

/** Sizes of the three splits for `count` items: 80/10/10, each at least 1. */
export function splitSizes(count: number): Record<Split, number> {
  const val = Math.max(1, Math.round(count * 0.1)), test = Math.max(1, Math.round(count * 0.1));
  return { train: count - val - test, val, test };
}

export interface DataSummary {
  out: string;
  counts: Record<Split, number>;
  /** What keeps the splits apart: their voices or writers. */
  groups: Record<Split, string[]>;
}

export function makeHandwritingData(o: HandwritingDataOptions): DataSummary {
  const count = o.count ?? 3000, seed = o.seed ?? 1, nWriters = o.writers ?? 60, maxWords = o.maxWords ?? 2, step = o.step ?? 3;
  if (count < 3) throw new RangeError(`handwriting data: count must be at least 3 (one per split), got ${count}`);
  if (nWriters < 30) throw new RangeError(`handwriting data: writers must be at least 30, got ${nWriters}`);
  const rng = new Rng(seed);
  // Lines of text, shuffled and dealt to the splits.
  const lines = rng.shuffle(readFileSync(sonnetsPath(), 'utf8').split('\n').map(plainText).filter((l) => l.split(' ').length >= 3));
  const textSizes = splitSizes(lines.length);
  const text: Record<Split, string[][]> = {
    train: lines.slice(0, textSizes.train).map((l) => l.split(' ')),
    val: lines.slice(textSizes.train, textSizes.train + textSizes.val).map((l) => l.split(' ')),
    test: lines.slice(textSizes.train + textSizes.val).map((l) => l.split(' ')),
  };
  // Writers: a font (in turn) and a style; dealt so each split has every font.
  const writers = Array.from({ length: nWriters }, (_, w) => ({ id: `${CURSIVE_FONTS[w % 3]}-w${w}`, font: CURSIVE_FONTS[w % 3], style: randomStyle(rng) as WriterStyle }));
  const perFont = nWriters / 3;
  const held = Math.max(1, Math.round(perFont * 0.1));
  const splitOf = (w: number): Split => { const k = Math.floor(w / 3); return k < held ? 'val' : k < 2 * held ? 'test' : 'train'; };
  const group: Record<Split, typeof writers> = { train: [], val: [], test: [] };
  writers.forEach((w, i) => group[splitOf(i)].push(w));
  const counts = splitSizes(count);
  mkdirSync(o.out, { recursive: true });
  for (const split of SPLITS) {
    mkdirSync(join(o.out, 'strokes', split), { recursive: true });
    removeStaleTemps(join(o.out, 'strokes', split)); // once here, not per file (writeFileAtomic's sweep reads the folder)
    const rows: ManifestRow[] = [];
    for (let i = 0; i < counts[split]; i++) {
      const w = group[split][rng.int(group[split].length)];
      const line = text[split][rng.int(text[split].length)];
      const n = Math.min(line.length, 1 + rng.int(maxWords));
      const start = rng.int(line.length - n + 1);
      const phrase = line.slice(start, start + n).join(' ');
      const strokes = renderHandwriting(loadHersheyFont(w.font), phrase, w.style, rng, step);
      const rel = `strokes/${split}/${String(i + 1).padStart(5, '0')}.json`;
      writeStrokes(join(o.out, rel), strokes, undefined, { sweep: false });
      rows.push({ strokes: rel, text: phrase, writer: w.id });
    }
    writeManifest(join(o.out, `${split}.jsonl`), rows);
    o.log?.(`${split}: ${rows.length} samples by ${group[split].length} writers -> ${join(o.out, `${split}.jsonl`)}`);
  }
  // The language model's text: the training split's lines, whole.
  writeFileAtomic(join(o.out, 'lm-text.txt'), text.train.map((l) => l.join(' ')).join('\n') + '\n');
  return { out: o.out, counts, groups: { train: group.train.map((w) => w.id), val: group.val.map((w) => w.id), test: group.test.map((w) => w.id) } };
}
