import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DataError } from '../data/errors.js';
import type { Alphabet } from './alphabet.js';
import { featuresOf, type Features } from './features.js';
import { readManifest, type ManifestEntry } from './manifest.js';
import { stackFrames, type CtcConfig } from './model.js';
import type { PhonemeSet } from './phonemes.js';
import type { Utterance } from './task.js';

/** A manifest's utterances with their features, read once (training reuses them every epoch). */
export interface LoadedSet {
  manifest: string;
  kind: 'audio' | 'strokes';
  entries: ManifestEntry[];
  features: Features[];
  /** Conversions made on the way (stereo mixed down, other rates resampled), counted by kind. */
  notes: string[];
}

/**
 * Read a manifest and every utterance's features. All utterances must be of one kind (the model's,
 * when `kind` is given). A file that cannot be read or decoded, or has no frames, is an error that
 * names the manifest line and the file. With `limit`, only the first `limit` utterances.
 */
export function loadSet(manifest: string, melBins: number, kind?: 'audio' | 'strokes', limit = Infinity): LoadedSet {
  const { entries, k } = setEntries(manifest, kind, limit);
  return readHere(manifest, entries, k, kind !== undefined, melBins);
}

function readHere(manifest: string, entries: ManifestEntry[], k: 'audio' | 'strokes', given: boolean, melBins: number): LoadedSet {
  const notes: string[] = [];
  const features = entries.map((e) => entryFeatures(e, manifest, k, given, entries[0].line, melBins, (what) => notes.push(what)));
  return { manifest, kind: k, entries, features, notes: tally(notes) };
}

/**
 * loadSet with the files read and transformed by `threads` worker threads (default: every core,
 * at most 8), in chunks handed to whichever is free: the same features, bit for bit, and the same
 * error (the first bad line's) as loadSet. Small sets, and threads = 1, are read in this thread.
 */
export async function loadSetThreaded(manifest: string, melBins: number, kind?: 'audio' | 'strokes', limit = Infinity, threads = Math.min(8, availableParallelism())): Promise<LoadedSet> {
  const { entries, k } = setEntries(manifest, kind, limit);
  const chunks = Math.ceil(entries.length / CHUNK);
  if (threads <= 1 || chunks < 2) return readHere(manifest, entries, k, kind !== undefined, melBins);
  const results: (FeatureReply | undefined)[] = new Array(entries.length);
  let next = 0;
  const run = (w: Worker) => new Promise<void>((resolve, reject) => {
    const send = () => {
      if (next >= chunks) { resolve(); return; }
      const from = (next++) * CHUNK;
      const job: FeatureJob = { manifest, kind: k, given: kind !== undefined, first: entries[0].line, melBins, from, entries: entries.slice(from, from + CHUNK) };
      w.postMessage(job);
    };
    w.on('message', (m: { from: number; replies: FeatureReply[] }) => { m.replies.forEach((r, i) => { results[m.from + i] = r; }); send(); });
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`a feature-reading thread stopped (exit code ${code}) before its work was done`)));
    send();
  });
  const workers = Array.from({ length: Math.min(threads, chunks) }, () => new Worker(new URL('./featureWorker.js', import.meta.url), { execArgv: [] }));
  try { await Promise.all(workers.map(run)); } finally { for (const w of workers) void w.terminate(); }
  // In manifest order, as loadSet: the first bad line's error, and the conversions counted.
  const notes: string[] = [];
  const features = results.map((r) => {
    if ('error' in r!) throw r.data ? new DataError(r.error) : new Error(r.error);
    notes.push(...r!.notes);
    return r!.features;
  });
  return { manifest, kind: k, entries, features, notes: tally(notes) };
}

/** Utterances a worker thread is sent at a time. */
const CHUNK = 128;
/** A chunk of a manifest for featureWorker.ts: entries[i] is the set's utterance from + i. */
export interface FeatureJob { manifest: string; kind: 'audio' | 'strokes'; given: boolean; first: number; melBins: number; from: number; entries: ManifestEntry[] }
/** One utterance's features and the conversions made (what), or what was wrong with it. */
export type FeatureReply = { features: Features; notes: string[] } | { error: string; data: boolean };

function setEntries(manifest: string, kind: 'audio' | 'strokes' | undefined, limit: number): { entries: ManifestEntry[]; k: 'audio' | 'strokes' } {
  const entries = readManifest(manifest).slice(0, limit);
  return { entries, k: kind ?? entries[0].kind };
}

/** Conversions made, one entry a file, as counted notes: "2 files: 8000 Hz, resampled to 16000 Hz". */
function tally(conversions: string[]): string[] {
  const count = new Map<string, number>();
  for (const what of conversions) count.set(what, (count.get(what) ?? 0) + 1);
  return [...count].map(([what, n]) => `${n} file${n > 1 ? 's' : ''}: ${what}`);
}

/**
 * One utterance's features, checked: of the set's kind `k` (the model's, when `given`; otherwise
 * that of line `first`, the set's first), decoded, with frames, all finite; errors name the
 * manifest line. `converted` hears each conversion made.
 */
export function entryFeatures(e: ManifestEntry, manifest: string, k: 'audio' | 'strokes', given: boolean, first: number, melBins: number, converted: (what: string) => void): Features {
  const at = `${manifest}:${e.line}`;
  if (e.kind !== k) throw new DataError(`${at}: a ${e.kind} utterance in ${given ? `data for ${k === 'audio' ? 'an audio' : 'a strokes'} model` : `a data set of ${k} (line ${first})`}; expected ${k === 'audio' ? '"audio": a .wav file' : '"strokes": a .json file'}`);
  let f: Features;
  try {
    f = featuresOf(e, { kind: k, melBins, note: (m) => converted(m.slice(m.lastIndexOf(': ') + 2)) });
  } catch (err) {
    if (err instanceof DataError) throw new DataError(`${at}: ${err.message}`);
    throw err;
  }
  if (!(f.frames > 0)) throw new DataError(`${at}: ${e.path}: no frames (empty or too short a recording)`);
  for (let i = 0; i < f.data.length; i++) if (!Number.isFinite(f.data[i])) throw new DataError(`${at}: ${e.path}: a non-finite feature value at frame ${Math.floor(i / f.dim)}`);
  return f;
}

/**
 * The set as model inputs: standardized, stacked frames and encoded transcripts (unknown characters
 * are errors naming the line); with `phonemes`, every line's "phonemes" encoded too (training's
 * second target: a line without them is an error).
 */
export function toUtterances(set: LoadedSet, config: CtcConfig, alphabet: Alphabet, phonemes?: PhonemeSet): Utterance[] {
  return set.entries.map((e, i) => {
    const f = set.features[i], where = `${set.manifest}:${e.line}`;
    const x = stackFrames(f.data, f.frames, f.dim, config.subsample, config.mean, config.std);
    const u: Utterance = { x, steps: x.length / (f.dim * config.subsample), labels: alphabet.encode(e.text, where), text: alphabet.decode(alphabet.encode(e.text, where)), where };
    if (phonemes) {
      if (e.phonemes === undefined) throw new DataError(`${where}: no "phonemes" (the sound tokens training with --phoneme-layer needs on every training line)`);
      u.phonemes = phonemes.encode(e.phonemes, where);
    }
    return u;
  });
}
