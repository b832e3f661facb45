import { join, resolve } from 'node:path';
import type { SubCommand } from '../cli/apps/registry.js';
import { intFlag, parseFlags, requireFlag, userErrors } from '../cli/commands/shared.js';
import { UserError } from '../cli/errors.js';
import { writeSequence } from './frames.js';
import { movingDigits } from './movingDigits.js';

const HELP = `Usage: carousel data moving-digits --out DIR [--count N] [--seed S] [--frames F] [--size P]

Renders a Moving-MNIST-like set (Srivastava et al. 2015) for carousel train --task nowcast: in
each sequence two digits of the Hershey font 'futural' (Debian's hershey-fonts-data), each with
its own slant, size and pen width, start at random places and move in random directions,
bouncing off the borders. Writes DIR/seq-00000/000.png, 001.png, ... (8-bit grayscale).
The same seed gives the same sequences; sequence k does not depend on --count.

Options:
  --out DIR      output folder (required)
  --count N      sequences (default 1000)
  --seed S       random seed (default 1)
  --frames F     frames per sequence (default 20: 10 in, 10 out)
  --size P       frame side in pixels (default 64; at least 16)
  -h, --help     this help`;

export const movingDigitsData: SubCommand = {
  name: 'moving-digits',
  summary: 'two bouncing Hershey-font digits per sequence, 64x64 PNG frames (Moving-MNIST-like)',
  async run(argv) {
    const { values: v } = parseFlags('data moving-digits', argv, {
      out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' }, frames: { type: 'string' }, size: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(() => {
      const out = resolve(requireFlag('out', v.out));
      const count = intFlag('count', v.count, 1000), seed = intFlag('seed', v.seed, 1, 0), frames = intFlag('frames', v.frames, 20);
      const size = intFlag('size', v.size, 64);
      if (size < 16) throw new UserError(`--size: expected at least 16 pixels (two digits must fit), got ${size}`);
      const t0 = Date.now();
      writeMovingDigits(out, { count, seed, frames, size });
      console.log(`wrote ${count} sequences of ${frames} ${size}x${size} frames to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return 0;
    });
  },
};

/** The rendered set as frame folders (frames.ts format): DIR/seq-00000/000.png, ... */
export function writeMovingDigits(out: string, o: { count: number; seed: number; frames: number; size: number }): void {
  const digits = Math.max(5, String(o.count - 1).length);
  let k = 0;
  for (const s of movingDigits(o)) writeSequence(join(out, `seq-${String(k++).padStart(digits, '0')}`), s.frames, o.frames, o.size, o.size);
}
