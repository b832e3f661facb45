import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../cli/errors.js';
import { loadCmudict } from '../data/cmudict.js';
import { resample } from '../audio/resample.js';
import { encodeWav16, parseWav } from '../audio/wav.js';
import { FEATURE_RATE } from '../audio/load.js';
import { processAlive, removeStaleTemps, writeFileAtomic } from '../io/atomic.js';
import { pool } from '../io/pool.js';
import { Rng } from '../tensor/random.js';
import { SPLITS, splitSizes, type DataSummary, type Split } from './handwritingData.js';
import { writeManifest, type ManifestRow } from './manifest.js';
import { espeakPhonemes } from './espeakPhonemes.js';
import { mixVariant, parseVariant } from './voiceMix.js';

/**
 * Rendered speech: Debian's espeak-ng speaking connected digit strings (as TIDIGITS: "three oh
 * five nine", 1 to 7 digits, 0 said as "oh" or "zero") or single words of the CMU Pronouncing
 * Dictionary, at random rates, pitches and word gaps, with white noise at a random SNR, written
 * as 16 kHz 16-bit WAV. A voice is an accent (en-us, en-gb-scotland, ...: the espeak-ng English
 * voices) with a variant (the voices/!v files: f1, m3, klatt, ...). The splits have variants of
 * their own, every accent in each, so no voice of the test set was heard in training; for words,
 * the splits also have words of their own.
 */
export interface SpeechDataOptions {
  kind: 'digits' | 'words';
  out: string;
  /** Utterances over all splits (default 2000): 80% train, 10% validation, 10% test. */
  count?: number;
  seed?: number;
  /** Signal-to-noise ratio range in dB of the added white noise (default 10 to 30). */
  snr?: [number, number];
  /** espeak-ng processes at a time (default 2). */
  jobs?: number;
  /** Words: let the splits share words (only the voices differ). Default false. */
  seenWords?: boolean;
  /**
   * The splits to render and write manifests for (default all three): e.g. ['train'] to add
   * training utterances to a set whose validation and test splits are another count's. A split
   * left out has no manifest afterwards, unless it was kept whole (same settings and count).
   */
  splits?: readonly Split[];
  /**
   * Training utterances only: each of a voice's trait groups (formants, echo, tone, ...) taken with
   * this probability from another training variant (voiceMix.ts), a new voice per utterance.
   * Default 0 (the variants as they are). Validation and test utterances are the same either way.
   */
  mixVoices?: number;
  log?: (line: string) => void;
}

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

const ESPEAK = process.env.CAROUSEL_ESPEAK ?? 'espeak-ng';

const missing = () => new UserError(`speech data needs espeak-ng, which was not found (${ESPEAK}): install Debian's espeak-ng package (apt-get install espeak-ng)`);

function espeakSync(args: string[]): string {
  const r = spawnSync(ESPEAK, args, { encoding: 'utf8' });
  if (r.error) throw (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? missing() : r.error;
  if (r.status !== 0) throw new Error(`${ESPEAK} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`);
  return r.stdout;
}

/** The espeak-ng English accents (its own voices, not the optional mbrola ones), its variants and its data folder. */
export function espeakVoices(): { accents: string[]; variants: string[]; data: string } {
  const version = espeakSync(['--version']);
  const data = /Data at: (.+)$/m.exec(version)?.[1]?.trim();
  if (!data) throw new Error(`${ESPEAK} --version: expected 'Data at: PATH', got '${version.trim()}'`);
  const accents = new Set<string>();
  for (const line of espeakSync(['--voices=en']).split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 5 && cols[4].startsWith('gmw/')) accents.add(cols[1]);
  }
  let variants: string[];
  try { variants = readdirSync(join(data, 'voices', '!v')).filter((v) => /^[A-Za-z0-9_]+$/.test(v)); } catch {
    throw new Error(`espeak-ng's variants folder ${join(data, 'voices', '!v')} cannot be read`);
  }
  if (accents.size === 0 || variants.length < 10) throw new Error(`espeak-ng offers ${accents.size} English accents and ${variants.length} variants; expected at least 1 and 10`);
  return { accents: [...accents].sort(), variants: variants.sort(), data };
}

/** A digit string as TIDIGITS words: 0 said as "oh" or "zero" at random. */
function digitText(rng: Rng): string {
  const n = 1 + rng.int(7);
  return Array.from({ length: n }, () => { const d = rng.int(10); return d === 0 ? (rng.next() < 0.5 ? 'oh' : 'zero') : DIGIT_WORDS[d]; }).join(' ');
}

/** CMUdict's plain words (letters only, 2 to 12 of them), lowercase, in dictionary order. */
export function plainWords(): string[] {
  return [...loadCmudict().keys()].filter((w) => /^[A-Z]{2,12}$/.test(w)).map((w) => w.toLowerCase());
}

/**
 * One utterance to render: what espeak-ng says and how, and the noise added; for a mixed voice,
 * its variant file's text and which traits came from whom (voice then names the base variant).
 */
export interface Job { split: Split; index: number; text: string; voice: string; rate: number; pitch: number; gap: number; snr: number; gain: number; noiseSeed: number; variant?: { text: string; mix: string } }

/** The variants folder of linkedEspeakData's copy under `root`. */
const variantsIn = (root: string) => join(root, 'espeak-ng-data', 'voices', '!v');

/**
 * A copy of espeak-ng's data folder made of links, under root/espeak-ng-data, with a variants
 * folder of its own (real, so that mixed voices' files can be written there): what
 * `espeak-ng --path=root` reads. The system's folder is never written.
 */
export function linkedEspeakData(data: string, root: string): string {
  const copy = join(root, 'espeak-ng-data'), variants = variantsIn(root);
  mkdirSync(variants, { recursive: true });
  for (const f of readdirSync(data)) if (f !== 'voices') symlinkSync(join(data, f), join(copy, f));
  for (const f of readdirSync(join(data, 'voices'))) if (f !== '!v') symlinkSync(join(data, 'voices', f), join(copy, 'voices', f));
  for (const f of readdirSync(join(data, 'voices', '!v'))) symlinkSync(join(data, 'voices', '!v', f), join(variants, f));
  return variants;
}

/** White noise at `snr` dB below the utterance's mean power, a gain, and clipping to [-1, 1]. */
export function addNoise(x: Float32Array, snrDb: number, gain: number, rng: Rng): Float32Array {
  let p = 0;
  for (const v of x) p += v * v;
  p /= Math.max(1, x.length);
  const sd = Math.sqrt(p / 10 ** (snrDb / 10));
  return Float32Array.from(x, (v) => Math.max(-1, Math.min(1, gain * (v + sd * rng.normal()))));
}

/**
 * One utterance: espeak-ng writes a WAV at its own rate; it is resampled, noised and written to
 * out/relPath(job). A mixed voice's variant is written to `espeakRoot` (linkedEspeakData's) for
 * the call: espeak-ng would take a missing variant silently for the plain accent.
 */
export function speak(job: Job, out: string, tmp: string, espeakRoot?: string): Promise<void> {
  const raw = join(tmp, `${job.split}-${job.index}.wav`);
  let voice = job.voice, variantFile: string | null = null;
  const path: string[] = [];
  if (job.variant) {
    if (espeakRoot === undefined) throw new Error(`speak: ${relPath(job)} has a mixed voice but no espeak-ng data copy to write it to`);
    const name = `mix_${job.split}_${job.index + 1}`;
    variantFile = join(variantsIn(espeakRoot), name);
    writeFileSync(variantFile, job.variant.text);
    voice = `${accentOf(job.voice)}+${name}`;
    path.push(`--path=${espeakRoot}`);
  }
  const args = [...path, '-v', voice, '-s', String(job.rate), '-p', String(job.pitch), '-g', String(job.gap), '-w', raw, job.text];
  return new Promise((resolve, reject) => {
    const p = spawn(ESPEAK, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', (e) => reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? missing() : e));
    p.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(`${ESPEAK} ${args.join(' ')} failed (exit ${code}): ${err.trim().split('\n')[0]}`);
        const wav = parseWav(readFileSync(raw), raw);
        const x = resample(wav.samples, wav.sampleRate, FEATURE_RATE);
        // No stale-temporary sweep per file (it reads the whole folder): makeSpeechData sweeps each folder once.
        writeFileAtomic(join(out, relPath(job)), encodeWav16(addNoise(x, job.snr, job.gain, new Rng(job.noiseSeed)), FEATURE_RATE), { sweep: false });
        rmSync(raw, { force: true });
        if (variantFile !== null) rmSync(variantFile, { force: true });
        resolve();
      } catch (e) { reject(e); }
    });
  });
}

/** A voice's accent: "en-gb-scotland+f3" -> "en-gb-scotland". */
const accentOf = (voice: string) => voice.split('+')[0];

export const relPath = (j: Job) => `audio/${j.split}/${String(j.index + 1).padStart(5, '0')}.wav`;
/** A file name the renderer writes (relPath's): only such files are ever removed from an output folder. */
const RENDERED = /^\d{5,}\.wav$/;
/** Remove the rendered files of `dir` that `keep` does not name; anything else there stays. */
function removeRendered(dir: string, keep: (name: string) => boolean): void {
  for (const f of readdirSync(dir)) if (RENDERED.test(f) && !keep(f)) rmSync(join(dir, f), { force: true });
}

/** What decides a rendered set's files (render.json): the same settings give the same bytes. */
interface RenderStamp { kind: string; seed: number; snr: [number, number]; seenWords: boolean; count: number; espeak: string; mixVoices?: number }

/**
 * Which splits' files already in `out` an interrupted rendering may keep, every other split's
 * audio folder emptied; then render.json is written with these settings. A training file depends
 * on everything but the count (its job is drawn before any validation or test job), validation
 * and test files on the count too. Files are written atomically, so one that is there is whole.
 * Only the renderer's own files (00001.wav, ...) are removed: anything else a user put there stays.
 */
function keptSplits(out: string, now: RenderStamp): Set<Split> {
  const file = join(out, 'render.json');
  let before: RenderStamp | null = null;
  try { before = JSON.parse(readFileSync(file, 'utf8')) as RenderStamp; } catch { /* none, or unreadable: keep nothing */ }
  const same = before !== null && before.kind === now.kind && before.seed === now.seed && before.snr?.[0] === now.snr[0] && before.snr?.[1] === now.snr[1]
    && before.seenWords === now.seenWords && before.espeak === now.espeak && (before.mixVoices ?? 0) === (now.mixVoices ?? 0);
  const keep = new Set<Split>(same ? (before!.count === now.count ? SPLITS : ['train']) : []);
  for (const split of SPLITS) {
    const dir = join(out, 'audio', split);
    mkdirSync(dir, { recursive: true });
    if (!keep.has(split)) removeRendered(dir, () => false);
  }
  writeFileAtomic(file, JSON.stringify(now) + '\n');
  return keep;
}

/**
 * The splits' variants (every accent in each) and, for words, their words (unless shared), dealt
 * from `rng` in this order; `rng` then goes on to draw the utterances. Exported so that an
 * analysis (scripts/p2g-floor.mjs) uses the very word split a seed gives.
 */
export function dealSplits(rng: Rng, variants: readonly string[], kind: 'digits' | 'words', seenWords: boolean): { variantsOf: Record<Split, string[]>; wordsOf: Record<Split, string[]> | null } {
  const shuffled = rng.shuffle(variants.slice());
  const vs = splitSizes(shuffled.length);
  const variantsOf: Record<Split, string[]> = { train: shuffled.slice(0, vs.train), val: shuffled.slice(vs.train, vs.train + vs.val), test: shuffled.slice(vs.train + vs.val) };
  // Digits are the same ten words everywhere.
  if (kind !== 'words') return { variantsOf, wordsOf: null };
  const words = rng.shuffle(plainWords());
  const ws = splitSizes(words.length);
  const wordsOf = seenWords ? { train: words, val: words, test: words }
    : { train: words.slice(0, ws.train), val: words.slice(ws.train, ws.train + ws.val), test: words.slice(ws.train + ws.val) };
  return { variantsOf, wordsOf };
}

/** The word split `carousel data speech --words --seed SEED` deals (the voices it would deal drawn first, as there). */
export function wordSplit(seed = 1): Record<Split, string[]> {
  return dealSplits(new Rng(seed), espeakVoices().variants, 'words', false).wordsOf!;
}

export async function makeSpeechData(o: SpeechDataOptions): Promise<DataSummary> {
  const count = o.count ?? 2000, seed = o.seed ?? 1, [snrLo, snrHi] = o.snr ?? [10, 30], jobs = o.jobs ?? 2, mixVoices = o.mixVoices ?? 0;
  if (count < 3) throw new RangeError(`speech data: count must be at least 3 (one per split), got ${count}`);
  if (!(mixVoices >= 0 && mixVoices <= 1)) throw new RangeError(`speech data: mixVoices must be in [0, 1], got ${mixVoices}`);
  const { accents, variants, data } = espeakVoices();
  const rng = new Rng(seed);
  const { variantsOf, wordsOf } = dealSplits(rng, variants, o.kind, Boolean(o.seenWords));
  const counts = splitSizes(count);
  // Mixed voices draw from a stream of their own, so that every other draw (and so every
  // validation and test utterance) is the same with or without them.
  const mixRng = new Rng((seed ^ 0x6d2b79f5) >>> 0);
  const donors = mixVoices > 0 ? variantsOf.train.map((v) => parseVariant(v, readFileSync(join(data, 'voices', '!v', v), 'utf8'))) : [];
  const donorNamed = new Map(donors.map((d) => [d.name, d]));
  const all: Job[] = [];
  for (const split of SPLITS) {
    for (let index = 0; index < counts[split]; index++) {
      const text = wordsOf ? wordsOf[split][rng.int(wordsOf[split].length)] : digitText(rng);
      const accent = accents[rng.int(accents.length)], variant = variantsOf[split][rng.int(variantsOf[split].length)]; // in this order: the draws decide the bytes
      const voice = `${accent}+${variant}`;
      const job: Job = {
        split, index, text, voice, rate: 130 + rng.int(81), pitch: 25 + rng.int(51), gap: o.kind === 'digits' ? rng.int(8) : 0,
        snr: Math.round(rng.uniform(snrLo, snrHi) * 10) / 10, gain: rng.uniform(0.5, 1), noiseSeed: rng.nextU32(),
      };
      if (split === 'train' && mixVoices > 0) job.variant = mixVariant(donorNamed.get(variant)!, donors, mixVoices, mixRng);
      all.push(job);
    }
  }
  mkdirSync(o.out, { recursive: true });
  const keep = keptSplits(o.out, { kind: o.kind, seed, snr: [snrLo, snrHi], seenWords: Boolean(o.seenWords), count, espeak: espeakSync(['--version']).trim(), ...(mixVoices > 0 ? { mixVoices } : {}) });
  // A kept split's files past this run's count (a larger run's) are not this set's.
  const named = new Set(all.map(relPath));
  for (const split of keep) removeRendered(join(o.out, 'audio', split), (f) => named.has(`audio/${split}/${f}`));
  const wanted = new Set<Split>(o.splits ?? SPLITS);
  // A split not rendered now whose files keptSplits emptied: its old manifest would name them.
  for (const split of SPLITS) if (!wanted.has(split) && !keep.has(split)) rmSync(join(o.out, `${split}.jsonl`), { force: true });
  const wantedJobs = all.filter((j) => wanted.has(j.split));
  const todo = wantedJobs.filter((j) => !(keep.has(j.split) && existsSync(join(o.out, relPath(j)))));
  if (todo.length < wantedJobs.length) o.log?.(`resuming: ${wantedJobs.length - todo.length} utterances already rendered by an interrupted run of the same settings are kept`);
  // What a killed run left: half-written WAVs (.00001.wav.tmp-PID-..., swept here once, not per
  // file) and its folder of espeak-ng's raw output (.espeak-PID).
  for (const split of wanted) removeStaleTemps(join(o.out, 'audio', split)); // keptSplits made the folders
  for (const f of readdirSync(o.out)) {
    const pid = /^\.espeak-(\d+)$/.exec(f)?.[1];
    if (pid !== undefined && !processAlive(Number(pid))) rmSync(join(o.out, f), { recursive: true, force: true });
  }
  const tmp = join(o.out, `.espeak-${process.pid}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const espeakRoot = todo.some((j) => j.variant) ? join(tmp, 'data') : undefined;
    if (espeakRoot !== undefined) linkedEspeakData(data, espeakRoot);
    const step = Math.max(1, Math.round(todo.length / 10));
    await pool(todo, jobs, (j) => speak(j, o.out, tmp, espeakRoot), (n) => { if (n % step === 0 || n === todo.length) o.log?.(`spoken ${n}/${todo.length}`); });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  // What each utterance says as espeak-ng's phonemes (its accent's: a variant changes the voice,
  // not the sounds), one espeak-ng process per accent (`jobs` at a time): hierarchical CTC's second target.
  const phonemes = new Map<string, string>(); // `${accent}\n${text}` -> phonemes
  await pool(accents, jobs, async (accent) => {
    const texts = [...new Set(all.filter((j) => wanted.has(j.split) && accentOf(j.voice) === accent).map((j) => j.text))];
    (await espeakPhonemes(texts, accent)).forEach((p, i) => phonemes.set(`${accent}\n${texts[i]}`, p));
  });
  // Manifests last: one never names a file that is not there yet.
  for (const split of SPLITS.filter((sp) => wanted.has(sp))) {
    const rows: ManifestRow[] = all.filter((j) => j.split === split).map((j) => ({
      audio: relPath(j), text: j.text, phonemes: phonemes.get(`${accentOf(j.voice)}\n${j.text}`)!, voice: j.voice, ...(j.variant ? { mix: j.variant.mix } : {}), rate: j.rate, pitch: j.pitch, snr: j.snr,
    }));
    writeManifest(join(o.out, `${split}.jsonl`), rows);
    o.log?.(`${split}: ${rows.length} utterances by ${variantsOf[split].length} variants x ${accents.length} accents -> ${join(o.out, `${split}.jsonl`)}`);
  }
  // The language model's text: the training transcripts, or for words every training-split word.
  const lm = wordsOf ? (o.seenWords ? all.filter((j) => j.split === 'train').map((j) => j.text) : wordsOf.train) : all.filter((j) => j.split === 'train').map((j) => j.text);
  writeFileAtomic(join(o.out, 'lm-text.txt'), lm.join('\n') + '\n');
  const voicesOf = (s: Split) => accents.flatMap((a) => variantsOf[s].map((v) => `${a}+${v}`));
  const written = Object.fromEntries(SPLITS.map((sp) => [sp, wanted.has(sp) ? counts[sp] : 0])) as Record<Split, number>;
  return { out: o.out, counts: written, groups: { train: voicesOf('train'), val: voicesOf('val'), test: voicesOf('test') } };
}
