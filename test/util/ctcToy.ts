// A toy recognition data set for the CTC tests: each character a tone of its own pitch (a 600 Hz,
// b 1500 Hz, c 3000 Hz) for 60-100 ms, a space 80 ms of silence, words between short silences,
// with a little noise. A small BiLSTM learns it in seconds: a fast end-to-end check of training,
// decoding and the commands on real WAV files through the real front end.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav16 } from '../../src/audio/wav.js';
import { Rng } from '../../src/tensor/random.js';

export const TONE: Record<string, number> = { a: 600, b: 1500, c: 3000 };
const RATE = 16000;

export function toneSamples(text: string, rng: Rng): Float32Array {
  const parts: number[] = [];
  const silence = (ms: number) => { for (let i = 0; i < ms * RATE / 1000; i++) parts.push(0); };
  silence(40 + rng.int(40));
  for (const ch of text) {
    if (ch === ' ') { silence(80); continue; }
    const n = Math.round((60 + rng.int(40)) * RATE / 1000), f = TONE[ch] * (0.97 + 0.06 * rng.next());
    for (let i = 0; i < n; i++) parts.push(0.5 * Math.sin(2 * Math.PI * f * i / RATE) * Math.min(1, i / 80, (n - i) / 80));
    silence(40 + rng.int(20));
  }
  silence(40);
  return Float32Array.from(parts, (v) => v + 0.003 * rng.normal());
}

export function randomText(rng: Rng, words = 1 + rng.int(2)): string {
  return Array.from({ length: words }, () => Array.from({ length: 1 + rng.int(3) }, () => 'abc'[rng.int(3)]).join('')).join(' ');
}

/** DIR/NAME.jsonl with n utterances under DIR/NAME/, texts from `texts` or random; returns the manifest path. */
export function toyManifest(dir: string, name: string, n: number, seed: number, texts?: string[]): string {
  const rng = new Rng(seed);
  mkdirSync(join(dir, name), { recursive: true });
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const text = texts?.[i % texts.length] ?? randomText(rng);
    writeFileSync(join(dir, name, `${i}.wav`), encodeWav16(toneSamples(text, rng), RATE));
    rows.push(JSON.stringify({ audio: `${name}/${i}.wav`, text }));
  }
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, rows.join('\n') + '\n');
  return path;
}
