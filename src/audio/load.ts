import { readFileSync } from 'node:fs';
import { DataError } from '../data/errors.js';
import { resample } from './resample.js';
import { parseWav, type Wav } from './wav.js';

/** The rate every recogniser's features are computed at. */
export const FEATURE_RATE = 16000;

/**
 * A WAV file as mono samples at `rate` (16 kHz): more channels are mixed down (their mean) and
 * another rate is resampled; each conversion is told to `note` (a verbose or warning path), so a
 * stereo or 8 kHz recording is used, and said to be converted, rather than refused or silent.
 */
export function loadAudio(path: string, rate = FEATURE_RATE, note?: (message: string) => void): { samples: Float32Array; wav: Wav } {
  let bytes: Uint8Array;
  try { bytes = readFileSync(path); } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a folder, expected a WAV file' : `cannot read it (${err.code ?? err.message})`;
    throw new DataError(`${path}: ${why}`);
  }
  const wav = parseWav(bytes, path);
  if (wav.channels > 1) note?.(`${path}: ${wav.channels} channels, mixed down to mono`);
  if (wav.sampleRate !== rate) note?.(`${path}: ${wav.sampleRate} Hz, resampled to ${rate} Hz`);
  const samples = wav.sampleRate === rate ? wav.samples : resample(wav.samples, wav.sampleRate, rate);
  return { samples, wav };
}
