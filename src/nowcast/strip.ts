import { encode } from 'fast-png';
import { layoutText, loadHersheyFont } from '../strokes/hershey.js';
import { canvas, drawStrokes, type Canvas } from './raster.js';

/**
 * A strip of frames as one grayscale PNG, a row per label: the first row the input frames then
 * the true future frames, each following row a model's predicted frames under the true ones
 * (as Figure 5 of Shi et al. 2015). Labels are drawn at the left in the Hershey font.
 */
export interface StripRow {
  label: string;
  /** [count, size, size] intensities in [0, 1]. */
  frames: Float32Array;
  count: number;
  /** Column of the first frame (0: the strip's first frame column). */
  column: number;
}

const GAP = 2, LABEL = 96, BACKGROUND = 0.35;

export function stripPng(rows: readonly StripRow[], size: number): Uint8Array {
  const columns = Math.max(...rows.map((r) => r.column + r.count));
  const W = LABEL + columns * (size + GAP) + GAP, H = rows.length * (size + GAP) + GAP;
  const c = canvas(W, H);
  c.data.fill(BACKGROUND);
  rows.forEach((r, i) => {
    const top = GAP + i * (size + GAP);
    drawLabel(c, r.label, 6, top + size / 2, LABEL - 12, Math.min(16, size / 3));
    for (let t = 0; t < r.count; t++) {
      const left = LABEL + GAP + (r.column + t) * (size + GAP);
      for (let y = 0; y < size; y++) c.data.set(r.frames.subarray((t * size + y) * size, (t * size + y + 1) * size), (top + y) * W + left);
    }
  });
  const px = new Uint8Array(W * H);
  for (let i = 0; i < px.length; i++) px[i] = Math.round(Math.min(1, Math.max(0, c.data[i])) * 255);
  return encode({ width: W, height: H, data: px, channels: 1, depth: 8 });
}

/** Text in the Hershey font, left at x, vertically centred on y, at most `width` wide and `height` tall. */
function drawLabel(c: Canvas, text: string, x: number, y: number, width: number, height: number): void {
  const { strokes, width: w } = layoutText(loadHersheyFont('futural'), text);
  // Font units: capitals span about y -12..9 (21 units).
  const s = Math.min(height / 21, width / Math.max(w, 1));
  drawStrokes(c, strokes.map((st) => st.map(([px, py]) => [x + px * s, y + (py + 1.5) * s] as [number, number])), Math.max(1, s * 2));
}
