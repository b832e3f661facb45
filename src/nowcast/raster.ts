/**
 * Pen strokes drawn into a grayscale image with anti-aliasing: a pixel's ink is how much of it a
 * pen of the given width covers, approximated from the distance of its centre to the nearest
 * segment (1 inside, ramping to 0 over one pixel at the edge). Ink combines by maximum, so
 * crossing strokes do not darken where they overlap.
 */
export interface Canvas {
  width: number;
  height: number;
  /** [height, width] intensities in [0, 1], row-major. */
  data: Float32Array;
}

export function canvas(width: number, height: number): Canvas {
  return { width, height, data: new Float32Array(width * height) };
}

/** Draw polylines (pixel coordinates, x right, y down; pixel (i, j) has its centre at (j + 0.5, i + 0.5)). */
export function drawStrokes(c: Canvas, strokes: readonly (readonly [number, number][])[], penWidth: number): void {
  const half = penWidth / 2;
  const segs: number[] = []; // x0, y0, x1, y1 per segment (a lone point is a zero-length segment)
  for (const s of strokes) {
    if (s.length === 1) segs.push(s[0][0], s[0][1], s[0][0], s[0][1]);
    for (let k = 1; k < s.length; k++) segs.push(s[k - 1][0], s[k - 1][1], s[k][0], s[k][1]);
  }
  for (let q = 0; q < segs.length; q += 4) {
    const [x0, y0, x1, y1] = [segs[q], segs[q + 1], segs[q + 2], segs[q + 3]];
    // Only pixels within reach of this segment.
    const i0 = Math.max(0, Math.floor(Math.min(y0, y1) - half - 1)), i1 = Math.min(c.height - 1, Math.ceil(Math.max(y0, y1) + half + 1));
    const j0 = Math.max(0, Math.floor(Math.min(x0, x1) - half - 1)), j1 = Math.min(c.width - 1, Math.ceil(Math.max(x0, x1) + half + 1));
    const dx = x1 - x0, dy = y1 - y0, len2 = dx * dx + dy * dy;
    for (let i = i0; i <= i1; i++) {
      for (let j = j0; j <= j1; j++) {
        const px = j + 0.5, py = i + 0.5;
        const t = len2 > 0 ? Math.min(1, Math.max(0, ((px - x0) * dx + (py - y0) * dy) / len2)) : 0;
        const ex = px - (x0 + t * dx), ey = py - (y0 + t * dy);
        const ink = Math.min(1, Math.max(0, half + 0.5 - Math.sqrt(ex * ex + ey * ey)));
        const at = i * c.width + j;
        if (ink > c.data[at]) c.data[at] = ink;
      }
    }
  }
}
