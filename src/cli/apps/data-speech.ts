import { resolve } from 'node:path';
import { makeSpeechData } from '../../asr/speechData.js';
import { SPLITS, type Split } from '../../asr/handwritingData.js';
import { UserError } from '../errors.js';
import { intFlag, numFlag, parseFlags, requireFlag, userErrors } from '../commands/shared.js';
import type { SubCommand } from './registry.js';

const HELP = `Usage: carousel data speech --digits|--words --out DIR [--count N] [--seed N] [--snr-min DB] [--snr-max DB]
                            [--jobs N] [--seen-words] [--splits train,val,test] [--mix-voices P]

Renders spoken utterances with espeak-ng (Debian package espeak-ng): connected digit strings as in
TIDIGITS ('three oh five nine', 1 to 7 digits; 0 as 'oh' or 'zero') or single words of the CMU
Pronouncing Dictionary, at random rates, pitches and word gaps, with white noise at a random SNR.
A voice is an English accent (en-us, en-gb-scotland, ...) with a variant (f3, m1, klatt, ...);
the train, validation and test splits have variants of their own (every accent in each), and for
--words, words of their own. Deterministic by seed.

Writes DIR/train.jsonl, DIR/val.jsonl, DIR/test.jsonl ({"audio": "audio/train/00001.wav",
"text": "..."} a line, paths relative to DIR; also the phonemes espeak-ng says in the voice's
accent, for train --phoneme-layer, and the voice, rate, pitch and SNR), the 16 kHz
16-bit WAV files under DIR/audio/, and DIR/lm-text.txt (text for a language model: the training
transcripts; for --words, every training-split word of the dictionary), and DIR/render.json (the
settings). Rerun into the same DIR with the same settings, an interrupted rendering resumes: the
utterances already there are kept (with another --count, the training ones). Only files the
renderer names (audio/SPLIT/00001.wav, ...) are ever removed from DIR.

--splits train renders the training split alone: run into a copy of a set with a larger --count,
it adds training utterances (the copy's are kept), and the validation and test splits, which
depend on the count, are removed (files and manifests), so validate and test on the copied set's.

--mix-voices P gives each training utterance a voice of its own: its variant's traits (formants,
pitch range, echo, tone, voicing, consonants, breath, flutter, roughness, Klatt synthesis, stress,
intonation), each group with probability P taken from another training variant instead, written
as a temporary variant file that espeak-ng reads from a linked copy of its data folder. The
manifest's "mix" says which ("echo=robosoft8 tone=anika"). Validation and test utterances are the
same files as without it: the held-out voices stay as espeak-ng has them.

Options:
  --digits | --words  what is spoken (one of them is required)
  --out DIR           output folder (required; created if missing)
  --count N           utterances over all splits, 80/10/10 (default 2000)
  --seed N            random seed (default 1)
  --snr-min DB        lowest signal-to-noise ratio of the added noise (default 10)
  --snr-max DB        highest (default 30)
  --jobs N            espeak-ng processes at a time (default 2)
  --seen-words        --words: the splits share the word list (only voices differ)
  --splits LIST       the splits to render, comma-separated, of train, val, test (default all)
  --mix-voices P      training voices mixed from the training variants' traits, each group with
                      probability P in [0, 1] (default 0: the variants as they are)
  -h, --help          this help`;

const SPLIT_NAMES: Record<Split, string> = { train: 'train', val: 'validation', test: 'test' };

/** --splits: split names, comma-separated, each once, in the renderer's order. */
function splitsFlag(raw: string | undefined): Split[] {
  if (raw === undefined) return [...SPLITS];
  const given = raw.split(',').map((x) => x.trim());
  const bad = given.find((x) => !(SPLITS as readonly string[]).includes(x));
  if (bad !== undefined) throw new UserError(`--splits: expected split names from ${SPLITS.join(', ')}, comma-separated, got ${JSON.stringify(bad)}`);
  if (new Set(given).size !== given.length) throw new UserError(`--splits: each split once, got ${JSON.stringify(raw)}`);
  return SPLITS.filter((sp) => given.includes(sp));
}

export const dataSpeech: SubCommand = {
  name: 'speech',
  summary: 'spoken digits or CMUdict words rendered by espeak-ng, with noise (JSONL manifests + WAV)',
  async run(argv) {
    const { values: v } = parseFlags('data speech', argv, {
      digits: { type: 'boolean' }, words: { type: 'boolean' }, out: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' },
      'snr-min': { type: 'string' }, 'snr-max': { type: 'string' }, jobs: { type: 'string' }, 'seen-words': { type: 'boolean' }, splits: { type: 'string' }, 'mix-voices': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    if (v.digits === v.words) throw new UserError(`data speech: expected one of --digits or --words, got ${v.digits ? 'both' : 'neither'}`);
    const kind = v.digits ? 'digits' : 'words';
    if (v['seen-words'] && kind !== 'words') throw new UserError('--seen-words applies to --words only');
    const out = resolve(requireFlag('out', v.out));
    const count = intFlag('count', v.count, 2000, 3), seed = intFlag('seed', v.seed, 1, 0), jobs = intFlag('jobs', v.jobs, 2, 1);
    const lo = numFlag('snr-min', v['snr-min'], 10, -20, 100), hi = numFlag('snr-max', v['snr-max'], 30, -20, 100);
    if (hi < lo) throw new UserError(`--snr-max (${hi}) is below --snr-min (${lo})`);
    const splits = splitsFlag(v.splits);
    const mixVoices = numFlag('mix-voices', v['mix-voices'], 0, 0, 1);
    return userErrors(async () => {
      const s = await makeSpeechData({ kind, out, count, seed, jobs, snr: [lo, hi], seenWords: v['seen-words'] ?? false, splits, mixVoices, log: (l) => console.log(l) });
      console.log(`${kind}: ${splits.map((sp) => `${s.counts[sp]} ${SPLIT_NAMES[sp]}`).join(', ')} utterances in ${out}`);
      return 0;
    });
  },
};
