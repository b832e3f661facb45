import { extname } from 'node:path';
import { DataError } from '../data/errors.js';
import { loadAudio } from '../audio/load.js';
import { logMel } from '../audio/melspec.js';
import { encodeStrokes, normalizeStrokes } from '../strokes/encode.js';
import { readStrokes } from '../strokes/format.js';

/**
 * One utterance's input sequence for a recogniser: log-mel frames of audio (10 ms apart, each
 * feature normalised over the utterance) or (dx, dy, pen-up) steps of normalised pen strokes.
 */
export interface Features {
  frames: number;
  dim: number;
  /** [frames, dim] row-major. */
  data: Float32Array;
}

export interface FeatureOptions {
  kind: 'audio' | 'strokes';
  /** Mel bands of the audio features (default 40). */
  melBins?: number;
  /** Told about conversions (stereo mixed down, another rate resampled); silent without it. */
  note?: (message: string) => void;
}

export function featureDim(opts: FeatureOptions): number {
  return opts.kind === 'audio' ? opts.melBins ?? 40 : 3;
}

/** 'audio' for .wav, 'strokes' for .json (either case); anything else is an error naming the extension. */
export function kindOfFile(path: string): 'audio' | 'strokes' {
  const ext = extname(path).toLowerCase();
  if (ext === '.wav') return 'audio';
  if (ext === '.json') return 'strokes';
  throw new DataError(`${path}: expected a .wav (audio) or .json (pen strokes) file, got ${ext === '' ? 'no extension' : `'${ext}'`}`);
}

export function featuresOf(input: { kind: 'audio' | 'strokes'; path: string }, opts: FeatureOptions): Features {
  if (input.kind !== opts.kind) throw new DataError(`${input.path}: a ${input.kind} utterance given to a ${opts.kind} model`);
  if (input.kind === 'audio') {
    const { samples } = loadAudio(input.path, 16000, opts.note);
    return logMel(samples, { sampleRate: 16000, melBins: featureDim(opts) });
  }
  return encodeStrokes(normalizeStrokes(readStrokes(input.path)));
}
