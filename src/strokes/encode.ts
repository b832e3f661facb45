import type { Strokes } from './format.js';

/**
 * Strokes as a recogniser's input: normalised to unit height with the top-left corner of their
 * bounding box at the origin, then one step per point of (dx, dy, pen-up) as in IAM-OnDB: the move
 * from the previous point (0, 0 for the first) and 1 where the pen lifts after this point.
 *
 * Height is measured robustly, as 4 standard deviations of the points' y: a bounding box would
 * make "rose" (no ascender) two to three times the size of "typhoon", and the letters' size is
 * what the recogniser should see steady. For a line of mixed text it is close to the box height.
 */
export function normalizeStrokes(strokes: Strokes): Strokes {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, n = 0, sy = 0, syy = 0;
  for (const s of strokes) for (const [x, y] of s) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); n++; sy += y; }
  const my = sy / n;
  for (const s of strokes) for (const [, y] of s) syy += (y - my) ** 2;
  const height = 4 * Math.sqrt(syy / n);
  // A flat line has no height: its width is the unit, and a single dot keeps its (zero) size.
  const unit = height > 1e-9 * Math.max(1, Math.abs(my)) ? height : x1 > x0 ? x1 - x0 : 1;
  return strokes.map((s) => s.map(([x, y]) => [(x - x0) / unit, (y - y0) / unit]));
}

/** Steps of the strokes as given: [points, 3] row-major (dx, dy, pen-up). */
export function encodeStrokes(strokes: Strokes): { frames: number; dim: number; data: Float32Array } {
  const frames = strokes.reduce((n, s) => n + s.length, 0);
  const data = new Float32Array(frames * 3);
  let t = 0, px = NaN, py = NaN;
  for (const s of strokes) {
    for (let i = 0; i < s.length; i++, t++) {
      const [x, y] = s[i];
      data[t * 3] = t === 0 ? 0 : x - px;
      data[t * 3 + 1] = t === 0 ? 0 : y - py;
      data[t * 3 + 2] = i === s.length - 1 ? 1 : 0;
      px = x; py = y;
    }
  }
  return { frames, dim: 3, data };
}

/** The inverse of encodeStrokes (from a start at the origin), for previews and tests. */
export function decodeSteps(data: Float32Array, frames: number): Strokes {
  const out: Strokes = [];
  let cur: [number, number][] = [], x = 0, y = 0;
  for (let t = 0; t < frames; t++) {
    x += data[t * 3]; y += data[t * 3 + 1];
    cur.push([x, y]);
    if (data[t * 3 + 2] > 0.5) { out.push(cur); cur = []; }
  }
  if (cur.length) out.push(cur);
  return out;
}
