import { checkCandidatesUsed, decodeAllWithLm, decodeSettings, loadCtcModels, speedsFlag } from '../../asr/app.js';
import { runViews } from '../../asr/ensemble.js';
import { greedyDecode } from '../../asr/decode.js';
import type { CtcModel } from '../../asr/model.js';
import { featuresOf, kindOfFile } from '../../asr/features.js';
import { stackFrames } from '../../asr/model.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { parseFlags, userErrors } from './shared.js';

const HELP = `Usage: carousel transcribe --model DIR [--model DIR2 ...] FILE... [--beam 16] [--lm lm.json] [options]

Transcribes recordings (.wav; any rate, mono or more channels: converted to 16 kHz mono) or pen
strokes (.json: {"strokes": [[[x, y], ...], ...]}) with a CTC model (carousel train --task ctc).
One file: its transcript alone; several: FILE<TAB>transcript per line.

Options:
  --model DIR       the recognizer (required; repeat to combine models: their per-frame
                    log-probabilities averaged, as carousel evaluate does)
  --beam N          prefix beam search width (default 16; 1 with --greedy)
  --greedy          best-path decoding instead of beam search
  --lm FILE         character LM for the beam (default DIR/lm.json when it exists; --no-lm: none)
  --no-lm           no LM even if DIR/lm.json exists
  --lm-weight X     LM weight (default: lm.json's tuned value, else 0.5)
  --bonus X         insertion bonus per character (default: lm.json's, else 1)
  --lexicon FILE    only words of FILE in the output (with an LM)
  --speeds S1,S2    hear each file at these speeds too, as carousel evaluate --speeds (with an LM)
  --pronounce W     pronunciation rescoring, as carousel evaluate --pronounce (with an LM and a
                    model with a phoneme output; default lm.json's tuned weight, else 0)
  --accents A,B     espeak-ng accents for --pronounce (default: all of its English ones)
  --charlm DIR      LSTM LM rescoring, as carousel evaluate --charlm (with an LM)
  --charlm-weight W its weight (default: lm.json's tuned value)
  --candidates N    how many of the beam's best --speeds, --pronounce and --charlm rank again
                    (default 16)
  -h, --help        this help`;

export const transcribe: Command = {
  name: 'transcribe',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseFlags('transcribe', argv, {
      model: { type: 'string', multiple: true }, beam: { type: 'string' }, greedy: { type: 'boolean' }, lm: { type: 'string' }, 'no-lm': { type: 'boolean' },
      'lm-weight': { type: 'string' }, bonus: { type: 'string' }, lexicon: { type: 'string' }, speeds: { type: 'string' },
      pronounce: { type: 'string' }, accents: { type: 'string' }, candidates: { type: 'string' }, charlm: { type: 'string' }, 'charlm-weight': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    }, true);
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const models = loadCtcModels(v.model), [{ dir, model }] = models;
      if (!positionals.length) throw new UserError('transcribe: expected one or more .wav or .json files after the options');
      if (v['no-lm'] && v.lm) throw new UserError('--lm and --no-lm: give one');
      const s = decodeSettings(dir, { ...v, ...((v['no-lm'] || v.greedy) && v.pronounce === undefined ? { pronounce: '0' } : {}) }, models.some((m) => m.model.phonemes));
      if (v['no-lm']) s.lm = null;
      if (s.pronounce > 0 && (!s.lm || v.greedy)) throw new UserError('--pronounce ranks the LM beam\'s candidates: give --lm (or lm.json in the model directory), not --greedy or --no-lm');
      if (s.lexicon && !s.lm) throw new UserError('--lexicon constrains LM decoding: give --lm too (or put lm.json in the model directory)');
      const speeds = speedsFlag(v.speeds);
      if (speeds && (!s.lm || v.greedy)) throw new UserError('--speeds ranks the LM beam\'s candidates: give --lm (or lm.json in the model directory), not --greedy or --no-lm');
      if (s.charlm && (!s.lm || v.greedy)) throw new UserError('--charlm ranks the LM beam\'s candidates: give --lm (or lm.json in the model directory), not --greedy or --no-lm');
      checkCandidatesUsed(v.candidates, !!speeds || s.pronounce > 0 || !!s.charlm);
      const inputs = (m: CtcModel) => positionals.map((path) => {
        const c = m.config, kind = kindOfFile(path);
        if (kind !== c.kind) throw new UserError(`${path}: a ${kind === 'audio' ? 'recording' : 'stroke file'}, but ${dir} recognizes ${c.kind === 'audio' ? 'speech (.wav)' : 'handwriting (.json strokes)'}`);
        const f = featuresOf({ kind, path }, { kind, melBins: c.melBins, note: m === model ? (l) => console.error(`note: ${l}`) : undefined });
        if (!(f.frames > 0)) throw new UserError(`${path}: no frames (empty or too short)`);
        const x = stackFrames(f.data, f.frames, f.dim, c.subsample, c.mean, c.std);
        return { x, steps: x.length / (f.dim * c.subsample), labels: [], text: '', where: path };
      });
      const ms = models.map((m) => m.model);
      const { frame, views, heard } = await runViews(ms, inputs, speeds, undefined, s.pronounce > 0 && !v.greedy);
      const texts = v.greedy ? frame.map((p) => greedyDecode(p, model.alphabet)) : await decodeAllWithLm(frame, views, heard, model.alphabet, s);
      texts.forEach((text, i) => console.log(positionals.length === 1 ? text : `${positionals[i]}\t${text}`));
      return 0;
    });
  },
};
