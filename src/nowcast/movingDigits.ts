import { loadHersheyFont, type Glyph } from '../strokes/hershey.js';
import { Rng } from '../tensor/random.js';
import { canvas, drawStrokes } from './raster.js';

/**
 * A Moving-MNIST-like data set (Srivastava et al. 2015): in each sequence two digits bounce
 * inside a square frame. The digits are the Hershey font 'futural' (Debian's hershey-fonts-data)
 * stroked with a pen, each drawn with its own slant, size and pen width so that the same digit
 * is not always the same image. As in Srivastava et al.'s generator, a digit's box (28 px at
 * 64 px frames) starts anywhere inside the frame, moves 0.1 of the free range per frame in a
 * random direction, and reflects off the borders. Deterministic by seed.
 */
export interface MovingDigitsOptions {
  /** Number of sequences. */
  count: number;
  /** Frames per sequence. */
  frames: number;
  /** Frame side in pixels (64 as Moving MNIST). */
  size: number;
  seed: number;
}

export interface MovingDigitsSequence {
  /** [frames, size, size] ink in [0, 1]. */
  frames: Float32Array;
  /** The two digits drawn. */
  digits: [number, number];
}

/** Fraction of the free range a digit moves per frame (Srivastava et al.'s step_length). */
const STEP = 0.1;

/** Each sequence from a generator seeded by (seed, index), so sequence k is the same whatever count is. */
export function* movingDigits(o: MovingDigitsOptions): Generator<MovingDigitsSequence> {
  const font = loadHersheyFont('futural');
  for (let k = 0; k < o.count; k++) yield movingDigitsSequence(font, o.frames, o.size, new Rng(((o.seed * 0x9e3779b1) ^ (k * 0x85ebca6b)) >>> 0));
}

function movingDigitsSequence(font: Map<string, Glyph>, F: number, S: number, rng: Rng): MovingDigitsSequence {
  const box = Math.max(6, Math.round((28 * S) / 64)); // the digit's box, as MNIST's 28 px in 64
  const free = S - box;
  const frames = new Float32Array(F * S * S);
  const digits: [number, number] = [0, 0];
  const movers = [0, 1].map((n) => {
    const d = rng.int(10);
    digits[n] = d;
    const strokes = digitStrokes(font.get(String(d))!, box, rng, S / 64);
    const theta = rng.uniform(0, 2 * Math.PI);
    return { strokes: strokes.lines, pen: strokes.pen, x: rng.next(), y: rng.next(), vx: STEP * Math.cos(theta), vy: STEP * Math.sin(theta) };
  });
  for (let t = 0; t < F; t++) {
    const c = canvas(S, S);
    for (const m of movers) {
      const ox = m.x * free, oy = m.y * free;
      drawStrokes(c, m.strokes.map((s) => s.map(([x, y]) => [x + ox, y + oy] as [number, number])), m.pen);
      // Move, reflecting off the borders of [0, 1].
      m.x += m.vx; m.y += m.vy;
      if (m.x < 0) { m.x = -m.x; m.vx = -m.vx; }
      if (m.x > 1) { m.x = 2 - m.x; m.vx = -m.vx; }
      if (m.y < 0) { m.y = -m.y; m.vy = -m.vy; }
      if (m.y > 1) { m.y = 2 - m.y; m.vy = -m.vy; }
    }
    frames.set(c.data, t * S * S);
  }
  return { frames, digits };
}

/** A glyph's strokes slanted, scaled and centred in a box x box tile (pixels), with a pen width. */
function digitStrokes(g: Glyph, box: number, rng: Rng, unit: number): { lines: [number, number][][]; pen: number } {
  const slant = rng.uniform(-0.25, 0.25), fill = rng.uniform(0.8, 1), pen = rng.uniform(3, 4.5) * unit;
  const sheared = g.strokes.map((s) => s.map(([x, y]) => [x - slant * y, y] as [number, number]));
  const xs = sheared.flat().map((p) => p[0]), ys = sheared.flat().map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const room = (box - pen - 2) * fill;
  const s = room / Math.max(x1 - x0, y1 - y0, 1e-9);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return { lines: sheared.map((st) => st.map(([x, y]) => [box / 2 + (x - cx) * s, box / 2 + (y - cy) * s] as [number, number])), pen };
}
