import { resolve } from 'node:path';
import { makeHandwritingData } from '../../asr/handwritingData.js';
import { intFlag, numFlag, parseFlags, requireFlag, userErrors } from '../commands/shared.js';
import type { SubCommand } from './registry.js';

const HELP = `Usage: carousel data handwriting --out DIR [--count N] [--seed N] [--writers N] [--max-words N] [--step S]

Renders online handwriting: phrases of Shakespeare's sonnets (1 to --max-words words, letters
a-z and spaces) written with the cursive Hershey fonts (Debian package hershey-fonts-data:
cursive, scriptc, scripts) as pen trajectories, glyphs that meet joined into one stroke, by random
writers (a font with a slant, width, baseline tilt, elastic distortion and jitter), resampled to
a steady pen speed. The train, validation and test splits have writers of their own (every font
in each) and text lines of their own. Deterministic by seed.

Writes DIR/train.jsonl, DIR/val.jsonl, DIR/test.jsonl ({"strokes": "strokes/train/00001.json",
"text": "..."} a line, paths relative to DIR; also the writer), the stroke files under
DIR/strokes/ ({"strokes": [[[x, y], ...], ...]}, font units, y down) and DIR/lm-text.txt (the
training split's sonnet lines, for a language model).

Options:
  --out DIR           output folder (required; created if missing)
  --count N           samples over all splits, 80/10/10 (default 3000)
  --seed N            random seed (default 1)
  --writers N         writers over all splits (default 60, at least 30)
  --max-words N       words per phrase, 1 to N (default 2)
  --step S            pen step in font units, x-height about 9 (default 3)
  -h, --help          this help`;

export const dataHandwriting: SubCommand = {
  name: 'handwriting',
  summary: 'sonnet phrases in cursive Hershey fonts by random writers (JSONL manifests + stroke JSON)',
  async run(argv) {
    const { values: v } = parseFlags('data handwriting', argv, {
      out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, writers: { type: 'string' }, 'max-words': { type: 'string' }, step: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    const out = resolve(requireFlag('out', v.out));
    const o = {
      out, count: intFlag('count', v.count, 3000, 3), seed: intFlag('seed', v.seed, 1, 0), writers: intFlag('writers', v.writers, 60, 30),
      maxWords: intFlag('max-words', v['max-words'], 2, 1), step: numFlag('step', v.step, 3, 0.5, 20),
    };
    return userErrors(() => {
      const s = makeHandwritingData({ ...o, log: (l) => console.log(l) });
      console.log(`handwriting: ${s.counts.train} train, ${s.counts.val} validation, ${s.counts.test} test samples in ${out}`);
      return 0;
    });
  },
};
