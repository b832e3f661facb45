import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../data/errors.js';

/**
 * The Hershey vector fonts (A. V. Hershey, 1967; Debian's hershey-fonts-data) as pen strokes:
 * each glyph a list of strokes, each stroke a polyline the pen draws without lifting. Used for
 * the handwriting data (the cursive and script fonts) and the moving-digit frames.
 */
export interface Glyph {
  /** Horizontal extent: the glyph spans left..right around its origin (advance = right - left). */
  left: number;
  right: number;
  /** Polylines in font units, x to the right, y DOWN (as the font stores it; the baseline is near y = 9, cap height near -12). */
  strokes: [number, number][][];
}

/** A font: glyphs for the printable ASCII characters ' ' (32) to '~' (126) and one more (127). */
export type HersheyFont = Map<string, Glyph>;

/** Where Debian's hershey-fonts-data puts the .jhf files (overridable for other systems). */
export const HERSHEY_DIR = process.env.CAROUSEL_HERSHEY_DIR ?? '/usr/share/hershey-fonts';

/** The fonts this code was written against (any .jhf file in HERSHEY_DIR loads). */
export const CURSIVE_FONTS = ['cursive', 'scriptc', 'scripts'] as const;

const R = 'R'.charCodeAt(0);

/**
 * Parse a .jhf file: per glyph, columns 0-4 its number, 5-7 its vertex count (the left/right
 * pair included), then that many coordinate pairs as characters offset from 'R'; the pair " R"
 * lifts the pen. A glyph longer than a line continues on the next (the original 72-column files);
 * Debian's files keep one glyph per line. Glyph k (in file order) is character 32 + k.
 */
export function parseJhf(text: string, file: string): HersheyFont {
  const lines = text.split(/\r?\n/);
  const font: HersheyFont = new Map();
  let k = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const lineNo = i + 1;
    let rec = lines[i];
    const count = Number(rec.slice(5, 8));
    if (!Number.isInteger(count) || count < 1) throw new DataError(`${file}:${lineNo}: expected a vertex count in columns 6-8, got '${rec.slice(5, 8)}'`);
    while (rec.length < 8 + 2 * count && i + 1 < lines.length) rec += lines[++i];
    if (rec.length < 8 + 2 * count) throw new DataError(`${file}:${lineNo}: glyph of ${count} vertices ends after ${Math.floor((rec.length - 8) / 2)}`);
    const body = rec.slice(8, 8 + 2 * count);
    const left = body.charCodeAt(0) - R, right = body.charCodeAt(1) - R;
    const strokes: [number, number][][] = [];
    let cur: [number, number][] = [];
    for (let p = 2; p < body.length; p += 2) {
      if (body[p] === ' ' && body[p + 1] === 'R') { if (cur.length) strokes.push(cur); cur = []; continue; }
      cur.push([body.charCodeAt(p) - R, body.charCodeAt(p + 1) - R]);
    }
    if (cur.length) strokes.push(cur);
    font.set(String.fromCharCode(32 + k), { left, right, strokes });
    k++;
  }
  if (k < 95) throw new DataError(`${file}: expected the 95 printable ASCII glyphs (one per line), found ${k}`);
  return font;
}

const cache = new Map<string, HersheyFont>();

/** A font by name ('cursive', 'futural', ...) from HERSHEY_DIR, parsed once. */
export function loadHersheyFont(name: string): HersheyFont {
  const hit = cache.get(name);
  if (hit) return hit;
  if (!/^[a-z0-9_]+$/.test(name)) throw new DataError(`Hershey font: expected a font name like 'cursive', got '${name.slice(0, 40)}'`);
  const file = join(HERSHEY_DIR, `${name}.jhf`);
  if (!existsSync(file)) {
    throw new DataError(`Hershey font '${name}': no ${file} (install Debian's hershey-fonts-data: apt-get install hershey-fonts-data, or set CAROUSEL_HERSHEY_DIR)`);
  }
  const font = parseJhf(readFileSync(file, 'latin1'), file);
  cache.set(name, font);
  return font;
}

/**
 * A string laid out in a font: every glyph's strokes shifted by the advance of those before it
 * (origin at the first glyph's left edge). Returns the strokes and the total width in font units.
 */
export function layoutText(font: HersheyFont, text: string): { strokes: [number, number][][]; width: number } {
  const out: [number, number][][] = [];
  let x = 0;
  for (const ch of text) {
    const g = font.get(ch);
    if (!g) throw new DataError(`Hershey font has no glyph for ${JSON.stringify(ch)} (printable ASCII only)`);
    const dx = x - g.left;
    for (const s of g.strokes) out.push(s.map(([px, py]) => [px + dx, py] as [number, number]));
    x += g.right - g.left;
  }
  return { strokes: out, width: x };
}
