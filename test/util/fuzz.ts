// Seeded mutation of files for the fuzz suite (test/fuzz.test.ts): truncations, byte flips and
// structured edits of JSON, each case named so a failure can be rerun alone.

export { rng } from './random.js';

export const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
export const int = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

export interface ByteCase { name: string; bytes: Uint8Array }

/** Cut the file at `count` places: every length up to `head`, then random lengths. */
export function truncations(bytes: Uint8Array, count: number, r: () => number, head = 16): ByteCase[] {
  const out: ByteCase[] = [];
  const lengths = new Set<number>();
  for (let n = 0; n < Math.min(head, bytes.length); n++) lengths.add(n);
  while (lengths.size < Math.min(count, bytes.length)) lengths.add(int(r, 0, bytes.length - 1));
  for (const n of lengths) out.push({ name: `truncated to ${n} of ${bytes.length} bytes`, bytes: Uint8Array.prototype.slice.call(bytes, 0, n) });
  return out;
}

/**
 * Change 1 to 4 bytes at random places, `headerShare` of the cases inside the first `headerEnd`
 * bytes (where a format's structure lives). Cases that change nothing are left out.
 */
export function byteFlips(bytes: Uint8Array, count: number, r: () => number, headerEnd: number, headerShare = 0.5): ByteCase[] {
  const out: ByteCase[] = [];
  while (out.length < count) {
    const b = Uint8Array.from(bytes); // a copy (a Buffer's slice() would share the bytes)
    const k = int(r, 1, 4);
    const where: number[] = [];
    for (let i = 0; i < k; i++) {
      const p = r() < headerShare ? int(r, 0, Math.max(0, headerEnd - 1)) : int(r, 0, bytes.length - 1);
      const v = r() < 0.5 ? b[p] ^ (1 << int(r, 0, 7)) : int(r, 0, 255);
      b[p] = v;
      where.push(p);
    }
    if (b.every((v, i) => v === bytes[i])) continue;
    out.push({ name: `bytes changed at ${where.join(', ')}`, bytes: b });
  }
  return out;
}

/** Hostile JSON values: wrong types, out of range, huge, prototype names, control characters. */
export const HOSTILE_VALUES: unknown[] = [
  null, true, false, 0, -1, 1.5, -0.5, 1e9, 1e300, -1e300, 2 ** 31, 2 ** 53 + 2, '8', '', 'NaN', '__proto__', 'constructor',
  '\u001b]0;pwned\u0007', 'x'.repeat(100000), [], [1, 2], {}, { __proto__: { a: 1 } }, [null], ['a', 'a'],
];

/** Every path to a value inside a JSON document, e.g. ['architecture', 'hiddenSize']. */
export function jsonPaths(doc: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [];
  if (Array.isArray(doc)) doc.forEach((v, i) => { out.push([...prefix, i]); out.push(...jsonPaths(v, [...prefix, i])); });
  else if (doc && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) { out.push([...prefix, k]); out.push(...jsonPaths(v, [...prefix, k])); }
  }
  return out;
}

export function setPath(doc: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (value === DELETE) {
    if (Array.isArray(o)) o.splice(last as number, 1); else delete o[last];
  } else o[last] = value;
  return copy;
}
export const DELETE = Symbol('delete');

/** A thrown error is a user-facing message: an Error of one line, at most `max` characters, no stack-like text. */
export function oneLineMessage(e: unknown, max = 600): string | null {
  if (!(e instanceof Error)) return `threw a non-Error: ${String(e).slice(0, 200)}`;
  const m = e.message;
  if (m.includes('\n')) return `message has several lines: ${JSON.stringify(m.slice(0, 300))}`;
  if (m.length > max) return `message of ${m.length} characters (more than ${max})`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(m)) return `message contains raw control characters: ${JSON.stringify(m.slice(0, 300))}`;
  return null;
}

/** A trained model directory under test: its files' bytes, the weights file's name, model.json parsed. */
export interface Fixture { task: string; dir: string; files: Record<string, Uint8Array>; weights: string; meta: Record<string, any>; data: string }

// ---- model.json's schema, as the README documents it, written independently of the loader ----

const isStr = (v: unknown) => typeof v === 'string' && v.length > 0;
const distinct = (xs: unknown[]) => new Set(xs).size === xs.length;
/**
 * May a loader accept `mut` in place of the valid `orig`? Yes when it is the same model with
 * another valid value in a field that is free to change: training notes, dropout (unused at
 * inference), names of columns and labels, a vocabulary's characters, the forecast window and
 * normalisation values. Anything that changes the architecture, the weights' file or the task's
 * sizes must be refused.
 */
export function mayAccept(orig: Record<string, any>, mut: unknown): boolean {
  if (!mut || typeof mut !== 'object' || Array.isArray(mut)) return false;
  const m = mut as Record<string, any>;
  const keys = new Set([...Object.keys(orig), ...Object.keys(m)]);
  for (const k of keys) {
    if (k === 'training') continue; // free-form notes
    if (JSON.stringify(orig[k]) === JSON.stringify(m[k])) continue;
    if (k === 'architecture') {
      const ak = new Set([...Object.keys(orig.architecture), ...Object.keys(m.architecture ?? {})]);
      for (const f of ak) {
        if (JSON.stringify(orig.architecture[f]) === JSON.stringify(m.architecture?.[f])) continue;
        if (f === 'dropout' && typeof m.architecture.dropout === 'number' && m.architecture.dropout >= 0 && m.architecture.dropout < 1) continue;
        return false;
      }
      continue;
    }
    const o = orig[k], n = m[k];
    if (!n || typeof n !== 'object' || Array.isArray(n)) return false;
    // charlm.unknown is optional: directories from before the unknown-character entry have none.
    const fields = (x: object) => Object.keys(x).filter((f) => !(k === 'charlm' && f === 'unknown')).sort().join();
    if (fields(n) !== fields(o)) return false;
    if (k === 'forecast') {
      if (!Array.isArray(n.features) || n.features.length !== o.features.length || !n.features.every(isStr) || !distinct(n.features)) return false;
      if (!Array.isArray(n.targets) || n.targets.length !== o.targets.length || !n.targets.every(isStr) || !distinct(n.targets)) return false;
      if (!n.targets.every((t: string) => n.features.includes(t))) return false;
      if (n.horizon !== o.horizon) return false;
      if (!Number.isInteger(n.window) || n.window < 1 || n.window > 2 ** 31 - 1) return false;
      const nm = n.normalization;
      if (!nm || typeof nm !== 'object' || Object.keys(nm).sort().join() !== 'mean,std') return false;
      if (!Array.isArray(nm.mean) || nm.mean.length !== o.features.length || !nm.mean.every((v: unknown) => typeof v === 'number' && Number.isFinite(v))) return false;
      if (!Array.isArray(nm.std) || nm.std.length !== o.features.length || !nm.std.every((v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0)) return false;
      continue;
    }
    if (k === 'classify') {
      if (n.features !== o.features) return false;
      if (!Array.isArray(n.labels) || n.labels.length !== o.labels.length || !n.labels.every(isStr) || !distinct(n.labels)) return false;
      continue;
    }
    if (k === 'charlm') {
      const v = n.vocabulary;
      if (!Array.isArray(v) || v.length !== o.vocabulary.length || !distinct(v)) return false;
      if (!v.every((c: unknown) => typeof c === 'string' && Array.from(c).length === 1)) return false;
      if (n.unknown !== undefined && !(Number.isInteger(n.unknown) && v[n.unknown] === '\uFFFD')) return false; // the index of U+FFFD
      continue;
    }
    return false; // format, version, the weights' manifest, or a field this schema does not know
  }
  return true;
}
