import type { Rng } from '../tensor/random.js';
import { layoutText, type HersheyFont } from './hershey.js';
import type { Point, Strokes } from './format.js';

/**
 * Online handwriting rendered from the cursive Hershey fonts: a text laid out in a font, glyphs
 * that meet joined into one pen-down stroke, bent by a writer's style (slant, width, baseline
 * tilt) and a per-sample elastic distortion, resampled to a steady pen speed, with jitter on
 * every point. All in font units: x to the right, y down; x-height is about 9 units.
 */
export interface WriterStyle {
  /** Shear: x moves by -slant * y (positive leans right, since y points down). */
  slant: number;
  /** Horizontal stretch of the whole text. */
  stretch: number;
  /** Baseline tilt in radians. */
  tilt: number;
  /** Amplitude (font units) of the elastic distortion. */
  elastic: number;
  /** Standard deviation (font units) of the noise on each point. */
  jitter: number;
  /** Overall size (the recogniser normalises it away; the files keep it). */
  scale: number;
}

/** A random writer: the ranges keep every sample legible (checked by eye on rendered previews). */
export function randomStyle(rng: Rng): WriterStyle {
  return {
    slant: rng.uniform(-0.1, 0.45), stretch: rng.uniform(0.85, 1.2), tilt: rng.uniform(-0.05, 0.05),
    elastic: rng.uniform(0.4, 1.4), jitter: rng.uniform(0.05, 0.25), scale: rng.uniform(0.6, 1.6),
  };
}

/** Strokes whose ends lie this close (font units) are one pen-down movement: cursive glyphs meet exactly. */
const JOIN = 1.5;
/** Dense spacing for the distortion, before the final resampling. */
const DENSE = 0.5;

/** Points every `step` of arc length along a polyline, its first and last points kept. */
export function resampleStroke(s: Point[], step: number): Point[] {
  const out: Point[] = [s[0]];
  let carry = 0; // arc length since the last emitted point
  for (let i = 1; i < s.length; i++) {
    const [x0, y0] = s[i - 1], [x1, y1] = s[i];
    const len = Math.hypot(x1 - x0, y1 - y0);
    let d = step - carry;
    while (d <= len) { const f = d / len; out.push([x0 + f * (x1 - x0), y0 + f * (y1 - y0)]); d += step; }
    carry = len - (d - step);
  }
  const last = s[s.length - 1], end = out[out.length - 1];
  if (Math.hypot(last[0] - end[0], last[1] - end[1]) > step * 0.25 || (out.length === 1 && s.length > 1)) out.push(last);
  return out;
}

/** Consecutive strokes that meet (end within JOIN of the next start) become one. */
export function joinStrokes(strokes: Strokes): Strokes {
  const out: Strokes = [];
  for (const s of strokes) {
    const prev = out[out.length - 1];
    if (prev) {
      const [ex, ey] = prev[prev.length - 1];
      if (Math.hypot(s[0][0] - ex, s[0][1] - ey) <= JOIN) { prev.push(...s.slice(1)); continue; }
    }
    out.push(s.slice());
  }
  return out;
}

/** A smooth random displacement field: a few plane waves of wavelengths 15-60 font units. */
function elasticField(rng: Rng, amplitude: number): (x: number, y: number) => Point {
  const waves = Array.from({ length: 4 }, () => {
    const lambda = rng.uniform(15, 60), dir = rng.uniform(0, 2 * Math.PI);
    return { kx: (Math.cos(dir) * 2 * Math.PI) / lambda, ky: (Math.sin(dir) * 2 * Math.PI) / lambda, px: rng.uniform(0, 2 * Math.PI), py: rng.uniform(0, 2 * Math.PI), ax: rng.normal() * amplitude / 2, ay: rng.normal() * amplitude / 2 };
  });
  return (x, y) => {
    let dx = 0, dy = 0;
    for (const w of waves) { const ph = w.kx * x + w.ky * y; dx += w.ax * Math.sin(ph + w.px); dy += w.ay * Math.sin(ph + w.py); }
    return [dx, dy];
  };
}

/**
 * `text` handwritten in `font` by `style`; the sample's own randomness (the elastic field, the
 * jitter) comes from `rng`. Points are `step` font units apart along each stroke.
 */
export function renderHandwriting(font: HersheyFont, text: string, style: WriterStyle, rng: Rng, step = 3): Strokes {
  const { strokes } = layoutText(font, text);
  if (strokes.length === 0) throw new Error(`renderHandwriting: '${text}' draws nothing`);
  const field = elasticField(rng, style.elastic);
  const cos = Math.cos(style.tilt), sin = Math.sin(style.tilt);
  const bend = ([x, y]: Point): Point => {
    const [ex, ey] = field(x, y);
    const sx = (x - style.slant * y) * style.stretch + ex, sy = y + ey;
    return [cos * sx - sin * sy, sin * sx + cos * sy];
  };
  return joinStrokes(strokes).map((s) => {
    const bent = resampleStroke(s, DENSE).map(bend);
    return resampleStroke(bent, step).map(([x, y]) => [
      (x + rng.normal() * style.jitter) * style.scale, (y + rng.normal() * style.jitter) * style.scale,
    ] as Point);
  });
}
