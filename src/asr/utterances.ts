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
  const entries = readManifest(manifest).slice(0, limit);
  const k = kind ?? entries[0].kind;
  const conversions = new Map<string, number>();
  const features = entries.map((e) => {
    const at = `${manifest}:${e.line}`;
    if (e.kind !== k) throw new DataError(`${at}: a ${e.kind} utterance in ${kind ? `data for a ${k} model` : `a data set of ${k} (line ${entries[0].line})`}; expected ${k === 'audio' ? '"audio": a .wav file' : '"strokes": a .json file'}`);
    let f: Features;
    try {
      f = featuresOf(e, { kind: k, melBins, note: (m) => { const what = m.slice(m.lastIndexOf(': ') + 2); conversions.set(what, (conversions.get(what) ?? 0) + 1); } });
    } catch (err) {
      if (err instanceof DataError) throw new DataError(`${at}: ${err.message}`);
      throw err;
    }
    if (!(f.frames > 0)) throw new DataError(`${at}: ${e.path}: no frames (empty or too short a recording)`);
    for (let i = 0; i < f.data.length; i++) if (!Number.isFinite(f.data[i])) throw new DataError(`${at}: ${e.path}: a non-finite feature value at frame ${Math.floor(i / f.dim)}`);
    return f;
  });
  const notes = [...conversions.entries()].map(([what, n]) => `${n} file${n > 1 ? 's' : ''}: ${what}`);
  return { manifest, kind: k, entries, features, notes };
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
