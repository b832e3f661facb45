import { DataError } from '../data/errors.js';

/**
 * RIFF/WAVE files: PCM 8-bit (unsigned), 16, 24 and 32-bit (signed), IEEE float 32 and 64, plain
 * or WAVE_FORMAT_EXTENSIBLE, any number of channels and any rate. Anything else (A-law, mu-law,
 * ADPCM, MP3 in a WAV box, RF64) is refused with a message naming what the file holds.
 */
export interface Wav {
  sampleRate: number;
  /** Channels in the file; `samples` is their mean (mono). */
  channels: number;
  /** 'pcm' (integer samples) or 'float', and the stored bits per sample. */
  encoding: 'pcm' | 'float';
  bits: number;
  /** Mono samples in [-1, 1) (float files may exceed it), at sampleRate. */
  samples: Float32Array;
}

const FORMAT_PCM = 1, FORMAT_FLOAT = 3, FORMAT_EXTENSIBLE = 0xfffe;

/** Names of the format codes a user is likely to meet, for the refusal message. */
const FORMAT_NAMES: Record<number, string> = {
  2: 'Microsoft ADPCM', 6: 'A-law', 7: 'mu-law', 0x11: 'IMA ADPCM', 0x31: 'GSM 6.10', 0x50: 'MPEG', 0x55: 'MPEG layer 3',
};

function fourcc(b: Uint8Array, at: number): string { return String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]); }

/** A fourcc for a message: printable ASCII as is, anything else as hex bytes. */
function shown(b: Uint8Array, at: number, n = 4): string {
  const s = b.subarray(at, at + n);
  return [...s].every((c) => c >= 32 && c < 127) ? `'${String.fromCharCode(...s)}'` : `bytes ${[...s].map((c) => c.toString(16).padStart(2, '0')).join(' ')}`;
}

/** Parse a WAV file's bytes; `name` is the file named in errors. */
export function parseWav(bytes: Uint8Array, name: string): Wav {
  if (bytes.length === 0) throw new DataError(`${name}: empty file, expected a WAV (RIFF/WAVE) file`);
  if (bytes.length < 12 || fourcc(bytes, 0) !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') {
    const what = bytes.length < 12 ? `${bytes.length} bytes` : fourcc(bytes, 0) === 'RIFF' ? `a RIFF file of type ${shown(bytes, 8)}` : `a file starting with ${shown(bytes, 0)}`;
    throw new DataError(`${name}: expected a WAV file (starting 'RIFF....WAVE'), found ${what}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: { format: number; channels: number; rate: number; blockAlign: number; bits: number } | null = null;
  let data: Uint8Array | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw new DataError(`${name}: truncated 'fmt ' chunk (${Math.min(size, bytes.length - body)} bytes, expected at least 16)`);
      let format = view.getUint16(body, true);
      const bits = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE) {
        // cbSize (2), valid bits (2), channel mask (4), then the sub-format GUID whose first two bytes are the format code.
        if (size < 40) throw new DataError(`${name}: WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk of ${size} bytes, expected 40`);
        format = view.getUint16(body + 24, true);
      }
      fmt = { format, channels: view.getUint16(body + 2, true), rate: view.getUint32(body + 4, true), blockAlign: view.getUint16(body + 12, true), bits };
    } else if (id === 'data') {
      if (!fmt) throw new DataError(`${name}: 'data' chunk before the 'fmt ' chunk`);
      if (body + size > bytes.length) {
        throw new DataError(`${name}: truncated: the 'data' chunk declares ${size} bytes, the file holds ${bytes.length - body}`);
      }
      data = bytes.subarray(body, body + size);
      break;
    }
    at = body + size + (size & 1); // chunks are padded to an even length
  }
  if (!fmt) throw new DataError(`${name}: no 'fmt ' chunk, not a complete WAV file`);
  if (!data) throw new DataError(`${name}: no 'data' chunk, not a complete WAV file`);
  const { format, channels, rate, blockAlign, bits } = fmt;
  if (format !== FORMAT_PCM && format !== FORMAT_FLOAT) {
    const known = FORMAT_NAMES[format];
    throw new DataError(`${name}: WAV sample format ${format}${known ? ` (${known})` : ''}, expected PCM (1) or IEEE float (3)`);
  }
  const encoding = format === FORMAT_PCM ? 'pcm' : 'float';
  const okBits = encoding === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!okBits.includes(bits)) throw new DataError(`${name}: ${bits}-bit ${encoding === 'pcm' ? 'PCM' : 'float'} samples, expected ${okBits.join(', ')}-bit`);
  if (channels < 1) throw new DataError(`${name}: WAV header says 0 channels`);
  if (rate < 1000 || rate > 1_000_000) throw new DataError(`${name}: sample rate ${rate} Hz, expected 1000 to 1000000 Hz`);
  const width = bits / 8;
  if (blockAlign !== width * channels) throw new DataError(`${name}: block align ${blockAlign}, expected ${width * channels} for ${channels} channel(s) of ${bits} bits`);
  const frames = Math.floor(data.length / blockAlign);
  if (frames === 0) throw new DataError(`${name}: no audio samples (the 'data' chunk holds ${data.length} bytes)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = sampleReader(dv, encoding, bits);
  const samples = new Float32Array(frames);
  for (let i = 0; i < frames; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += read(i * blockAlign + c * width);
    samples[i] = s / channels;
  }
  for (let i = 0; i < frames; i++) if (!Number.isFinite(samples[i])) throw new DataError(`${name}: sample ${i} is ${samples[i]}, expected a finite value`);
  return { sampleRate: rate, channels, encoding, bits, samples };
}

function sampleReader(dv: DataView, encoding: 'pcm' | 'float', bits: number): (at: number) => number {
  if (encoding === 'float') return bits === 32 ? (at) => dv.getFloat32(at, true) : (at) => dv.getFloat64(at, true);
  switch (bits) {
    case 8: return (at) => (dv.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned, 128 is silence
    case 16: return (at) => dv.getInt16(at, true) / 32768;
    case 24: return (at) => ((dv.getUint8(at) | (dv.getUint8(at + 1) << 8) | (dv.getInt8(at + 2) << 16))) / 8388608;
    default: return (at) => dv.getInt32(at, true) / 2147483648;
  }
}

/** Mono 16-bit PCM WAV bytes of samples in [-1, 1] (clipped), for the rendered speech. */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const n = samples.length;
  const out = new Uint8Array(44 + 2 * n);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i); };
  ascii(0, 'RIFF'); v.setUint32(4, 36 + 2 * n, true); ascii(8, 'WAVE');
  ascii(12, 'fmt '); v.setUint32(16, 16, true);
  v.setUint16(20, FORMAT_PCM, true); v.setUint16(22, 1, true); v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true); v.setUint16(32, 2, true); v.setUint16(34, 16, true);
  ascii(36, 'data'); v.setUint32(40, 2 * n, true);
  for (let i = 0; i < n; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]));
    v.setInt16(44 + 2 * i, Math.max(-32768, Math.min(32767, Math.round(s * 32768))), true);
  }
  return out;
}
