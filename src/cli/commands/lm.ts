import { resolve } from 'node:path';
import { candidatesFlag, charlmFlag, checkCandidatesUsed, lmRanker, loadCtcModels, NO_PHONEMES, loadForModel, pronouncerOf, readSets, speedsFlag } from '../../asr/app.js';
import { runViews } from '../../asr/ensemble.js';
import type { CtcModel } from '../../asr/model.js';
import { CharNgramLM } from '../../asr/lm.js';
import { readManifest } from '../../asr/manifest.js';
import { better, LM_BONUSES, LM_WEIGHTS, tuneLm } from '../../asr/tuneLm.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { intFlag, numFlag, parseFlags, readText, requireFlag, userErrors } from './shared.js';
import { percent } from '../../asr/metrics.js';

const HELP = `Usage: carousel lm --data corpus.txt --out lm.json [--order 5]
       carousel lm --data corpus.txt --out lm.json --tune val.jsonl --model DIR [--model DIR2 ...] [--order 5,7,9]

Trains a character n-gram language model for CTC beam search (carousel evaluate / transcribe
--lm): interpolated Kneser-Ney smoothing, one sentence per line (lower-cased, white space
collapsed, as transcripts are), the space ending each word and an end-of-sentence symbol each line.
A .jsonl manifest as --data uses its transcripts.

Options:
  --data FILE     text corpus, one sentence a line, or a manifest (.jsonl) (required)
  --out FILE      the model, JSON (required)
  --order N       characters of context + 1 (default 5)
  --weight X      decoders' default LM weight, recorded in the file (default: theirs, 0.5)
  --bonus X       decoders' default insertion bonus per character (default: theirs, 1)

Tuning (instead of --weight and --bonus): the recognizer(s) of --model (combined as evaluate
combines them) decode the first utterances of a held-out manifest with beam + LM at each LM
weight (${LM_WEIGHTS.join(', ')}) x bonus (${LM_BONUSES.join(', ')}) x order of --order (a list
here); the lowest CER wins, then WER, and that LM is saved with its weight and bonus.
  --tune FILE     held-out manifest (.jsonl: validation, never the test set)
  --model DIR     recognizer to tune for (repeat to combine several)
  --tune-count N  its first N utterances (default 400)
  --beam N        beam width while tuning (default 16)
  --speeds S1,S2  decode as carousel evaluate --speeds does (tune for the decoding you will use)
  --pronounce W1,W2
                  pronunciation rescoring weights to choose among too (0: off), as carousel
                  evaluate --pronounce (a model with a phoneme output; espeak-ng); the choice is
                  saved with the weight and bonus
  --accents A,B   espeak-ng accents for --pronounce (default: all of its English ones)
  --charlm DIR    LSTM LM rescoring, as carousel evaluate --charlm: a character LSTM LM
                  (carousel train --task charlm on this corpus); its weight chosen too
  --charlm-weight W1,W2
                  the weights to choose among (default 0,0.25,0.5,1; 0: off), saved
  --candidates N  how many of the beam's best --speeds, --pronounce and --charlm rank again
                  (default 16)
  -h, --help      this help`;

export const lm: Command = {
  name: 'lm',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('lm', argv, {
      data: { type: 'string' }, out: { type: 'string' }, order: { type: 'string' }, weight: { type: 'string' }, bonus: { type: 'string' },
      tune: { type: 'string' }, model: { type: 'string', multiple: true }, 'tune-count': { type: 'string' }, beam: { type: 'string' }, speeds: { type: 'string' },
      pronounce: { type: 'string' }, accents: { type: 'string' }, candidates: { type: 'string' }, charlm: { type: 'string' }, 'charlm-weight': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const data = requireFlag('data', v.data), out = resolve(requireFlag('out', v.out));
      const orders = (v.order ?? '5').split(',').map((o) => {
        if (!/^\d+$/.test(o.trim()) || +o < 1 || +o > 12) throw new UserError(`--order: expected an integer in [1, 12]${v.tune ? ', or a list of them (5,7,9)' : ''}, got '${v.order}'`);
        return +o;
      });
      if (orders.length > 1 && !v.tune) throw new UserError(`--order: a list (${v.order}) is for choosing among orders with --tune; without it, give one order`);
      if (!v.tune) for (const f of ['model', 'tune-count', 'beam', 'speeds', 'pronounce', 'accents', 'candidates', 'charlm', 'charlm-weight'] as const) if (v[f] !== undefined) throw new UserError(`--${f} is for tuning: give --tune VAL.jsonl too`);
      if (v.tune && (v.weight !== undefined || v.bonus !== undefined)) throw new UserError('--tune chooses the weight and bonus: give --tune or --weight/--bonus, not both');
      const lines = data.endsWith('.jsonl') ? readManifest(data).map((e) => e.text) : readText(data, 'corpus').split('\n');
      const trained = new Map<number, CharNgramLM>();
      const lmOf = (order: number): CharNgramLM => {
        let m = trained.get(order);
        if (!m) {
          try { m = CharNgramLM.train(lines, order); } catch (e) { throw new UserError(`${data}: ${(e as Error).message.replace(/^CharNgramLM: /, '')}`); }
          trained.set(order, m);
        }
        return m;
      };
      let model: CharNgramLM, order = orders[0];
      if (v.tune) {
        const models = loadCtcModels(v.model), [{ model: first }] = models;
        const count = intFlag('tune-count', v['tune-count'], 400);
        const read = await readSets(models.map((m) => m.model), v.tune, count);
        let refs: string[] = [];
        const inputs = (m: CtcModel) => {
          const utts = loadForModel(m, v.tune!, m === first ? (l) => console.error(l) : undefined, read, count);
          if (m === first) refs = utts.map((u) => u.text);
          return utts;
        };
        const weightList = (flag: string, list: string | undefined, def: number[]) => (list === undefined ? def : list.split(',').map((w) => {
          if (!/^\d*\.?\d+$/.test(w.trim())) throw new UserError(`--${flag}: expected weights >= 0 separated by commas (0,0.5,1), got '${list}'`);
          return +w;
        }));
        const pronounce = weightList('pronounce', v.pronounce, [0]);
        if (v['charlm-weight'] !== undefined && v.charlm === undefined) throw new UserError('--charlm-weight lists the weights of the LSTM LM of --charlm DIR: give --charlm too');
        const charlm = charlmFlag(v.charlm), charlmWeights = charlm ? weightList('charlm-weight', v['charlm-weight'], [0, 0.25, 0.5, 1]) : [0];
        const neural = charlmWeights.some((w) => w > 0);
        const rescoring = pronounce.some((w) => w > 0);
        if (rescoring && !models.some((m) => m.model.phonemes)) throw new UserError(NO_PHONEMES);
        const pronouncer = rescoring ? pronouncerOf(v.accents) : null;
        if (v.accents !== undefined && !rescoring) throw new UserError('--accents is for pronunciation rescoring: give --pronounce with a weight > 0 too');
        const speeds = speedsFlag(v.speeds), ms = models.map((m) => m.model);
        const beam = intFlag('beam', v.beam, 16), candidates = candidatesFlag(v.candidates, beam);
        checkCandidatesUsed(v.candidates, !!speeds || rescoring || neural);
        const { frame, views, heard } = await runViews(ms, inputs, speeds, undefined, rescoring);
        const { best, points } = await tuneLm(refs, lmOf, { orders, weights: LM_WEIGHTS, bonuses: LM_BONUSES, pronounce, charlm: charlmWeights },
          (lm, alpha, beta) => lmRanker(frame, views, heard, first.alphabet, { beam, lm, alpha, beta, lexicon: null, pronounce: 0, pronouncer, candidates, charlm: neural ? charlm : null }));
        const pron = (p: { pronounce: number; charlm: number }) => (rescoring ? ` pronounce ${p.pronounce}` : '') + (neural ? ` charlm ${p.charlm}` : '');
        for (const o of orders) {
          const b = points.filter((p) => p.order === o).reduce((x, y) => (better(y, x) ? y : x));
          console.log(`order ${o}: best weight ${b.weight} bonus ${b.bonus}${pron(b)}: CER ${percent(b.cer)} WER ${percent(b.wer)}`);
        }
        if (rescoring) {
          for (const w of pronounce) {
            const b = points.filter((p) => p.pronounce === w).reduce((x, y) => (better(y, x) ? y : x));
            console.log(`pronounce ${w}: best order ${b.order} weight ${b.weight} bonus ${b.bonus}${neural ? ` charlm ${b.charlm}` : ''}: CER ${percent(b.cer)} WER ${percent(b.wer)}`);
          }
        }
        if (neural) {
          for (const w of charlmWeights) {
            const b = points.filter((p) => p.charlm === w).reduce((x, y) => (better(y, x) ? y : x));
            console.log(`charlm ${w}: best order ${b.order} weight ${b.weight} bonus ${b.bonus}${rescoring ? ` pronounce ${b.pronounce}` : ''}: CER ${percent(b.cer)} WER ${percent(b.wer)}`);
          }
        }
        console.log(`tuned on the first ${refs.length} utterances of ${v.tune} (${models.length} model${models.length > 1 ? 's' : ''}, ${points.length} settings): order ${best.order}, weight ${best.weight}, bonus ${best.bonus}${pron(best)}`);
        order = best.order;
        model = lmOf(order).withTuning(best.weight, best.bonus, rescoring ? best.pronounce : undefined, neural ? best.charlm : undefined);
      } else {
        model = lmOf(order);
        if (v.weight !== undefined || v.bonus !== undefined) model = model.withTuning(numFlag('weight', v.weight, 0.5, 0), numFlag('bonus', v.bonus, 1));
      }
      model.save(out);
      const grams = model.toJSON().ngrams.reduce((s, m) => s + Object.keys(m).length, 0);
      console.log(`saved a ${order}-gram character LM (${model.vocabulary.length} characters, ${grams} n-grams) to ${out}`);
      return 0;
    });
  },
};
