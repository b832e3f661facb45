import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DataError } from '../data/errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/**
 * A recognition data set's manifest: JSON Lines, one utterance a line, either
 * {"audio": "rel/path.wav", "text": "..."} or {"strokes": "rel/path.json", "text": "..."}, paths
 * relative to the manifest's folder (or absolute). Other keys (a voice, a seed) may ride along and
 * are ignored; blank lines are skipped. Recordings a user made work the same as rendered ones.
 */
export interface ManifestEntry {
  kind: 'audio' | 'strokes';
  /** Absolute path of the utterance's file. */
  path: string;
  text: string;
  /**
   * What is said, as sound tokens separated by spaces (for rendered speech, espeak-ng's phonemes),
   * when the line has "phonemes": the second target of hierarchical CTC (train --phoneme-layer).
   */
  phonemes?: string;
  /** 1-based line of the manifest, for messages. */
  line: number;
}

/** A manifest line: the file and its transcript, and any other facts (a voice, a writer) worth keeping. */
export type ManifestRow = ({ audio: string } | { strokes: string }) & { text: string } & Record<string, unknown>;

const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 60)}...` : s);

export function readManifest(path: string): ManifestEntry[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DataError(`manifest ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder, expected a .jsonl file' : `cannot read it (${err.code ?? err.message})`}`);
  }
  text = text.replace(/^\uFEFF/, ''); // a byte-order mark some editors write
  const dir = dirname(resolve(path));
  const out: ManifestEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    const at = `${path}:${i + 1}`;
    let row: unknown;
    try { row = JSON.parse(raw); } catch { throw new DataError(`${at}: expected a JSON object like {"audio": "a.wav", "text": "..."}, got '${cut(raw)}'`); }
    if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new DataError(`${at}: expected a JSON object, got ${cut(raw)}`);
    const r = row as Record<string, unknown>;
    const has = (k: string) => Object.prototype.hasOwnProperty.call(r, k);
    if (has('audio') && has('strokes')) throw new DataError(`${at}: both "audio" and "strokes"; an utterance is one or the other`);
    if (!has('audio') && !has('strokes')) throw new DataError(`${at}: no "audio" or "strokes" key (found ${Object.keys(r).map((k) => JSON.stringify(k)).join(', ') || 'none'})`);
    const kind = has('audio') ? 'audio' : 'strokes';
    const file = r[kind];
    if (typeof file !== 'string' || file === '') throw new DataError(`${at}: "${kind}" should be a file path, got ${cut(JSON.stringify(file))}`);
    if (!has('text')) throw new DataError(`${at}: no "text" (the transcript)`);
    if (typeof r.text !== 'string') throw new DataError(`${at}: "text" should be a string, got ${cut(JSON.stringify(r.text))}`);
    if (r.text.trim() === '') throw new DataError(`${at}: empty "text"; every utterance needs its transcript`);
    if (has('phonemes') && (typeof r.phonemes !== 'string' || r.phonemes.trim() === '')) throw new DataError(`${at}: "phonemes" should be sound tokens separated by spaces, got ${cut(JSON.stringify(r.phonemes))}`);
    out.push({ kind, path: isAbsolute(file) ? file : resolve(dir, file), text: r.text, ...(has('phonemes') ? { phonemes: r.phonemes as string } : {}), line: i + 1 });
  }
  if (out.length === 0) throw new DataError(`manifest ${path}: no utterances (expected one JSON object per line)`);
  return out;
}

/** Write rows as JSON Lines (atomic): paths as given, so relative ones stay relative to the manifest. */
export function writeManifest(path: string, rows: ManifestRow[]): void {
  writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''));
}
