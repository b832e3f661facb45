import { readFileSync } from 'node:fs';
import { DataError } from '../data/errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/**
 * Pen strokes: each stroke the points the pen touched, in order, between putting it down and
 * lifting it. The file format is JSON, either {"strokes": [[[x, y], ...], ...]} or the bare list
 * of strokes; a point may carry a third number (a time stamp), which is ignored.
 */
export type Point = [number, number];
export type Strokes = Point[][];

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** Validate parsed JSON as strokes; errors name the file, the stroke and the point (counting from 1). */
export function toStrokes(json: unknown, name: string): Strokes {
  const list = json !== null && typeof json === 'object' && !Array.isArray(json) && 'strokes' in json ? (json as { strokes: unknown }).strokes : json;
  if (!Array.isArray(list)) throw new DataError(`${name}: expected {"strokes": [[[x, y], ...], ...]} or a list of strokes, got ${describe(json)}`);
  if (list.length === 0) throw new DataError(`${name}: no strokes`);
  return list.map((stroke, s) => {
    if (!Array.isArray(stroke)) throw new DataError(`${name}: stroke ${s + 1}: expected a list of [x, y] points, got ${describe(stroke)}`);
    if (stroke.length === 0) throw new DataError(`${name}: stroke ${s + 1}: no points`);
    return stroke.map((p, i) => {
      if (!Array.isArray(p) || (p.length !== 2 && p.length !== 3) || !p.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new DataError(`${name}: stroke ${s + 1}, point ${i + 1}: expected [x, y] with finite numbers, got ${describe(p)}`);
      }
      return [p[0], p[1]] as Point;
    });
  });
}

export function readStrokes(path: string): Strokes {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder, expected a stroke file' : `cannot read it (${err.code ?? err.message})`}`);
  }
  if (text.trim() === '') throw new DataError(`${path}: empty file, expected stroke JSON`);
  let json: unknown;
  try { json = JSON.parse(text); } catch (e) { throw new DataError(`${path}: not JSON (${(e as Error).message})`); }
  return toStrokes(json, path);
}

/** Write strokes as {"strokes": ...}, coordinates rounded to `digits` decimals (atomic). */
export function writeStrokes(path: string, strokes: Strokes, digits = 3, { sweep = true }: { sweep?: boolean } = {}): void {
  const f = 10 ** digits;
  const r = (v: number) => Math.round(v * f) / f;
  writeFileAtomic(path, JSON.stringify({ strokes: strokes.map((s) => s.map(([x, y]) => [r(x), r(y)])) }) + '\n', { sweep });
}
