import { resolve } from 'node:path';
import { CharNgramLM } from '../../asr/lm.js';
import { readManifest } from '../../asr/manifest.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { intFlag, numFlag, parseFlags, readText, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel lm --data corpus.txt --out lm.json [--order 5]

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
  -h, --help      this help`;

export const lm: Command = {
  name: 'lm',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('lm', argv, {
      data: { type: 'string' }, out: { type: 'string' }, order: { type: 'string' }, weight: { type: 'string' }, bonus: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(() => {
      const data = requireFlag('data', v.data), out = resolve(requireFlag('out', v.out));
      const order = intFlag('order', v.order, 5);
      if (order > 12) throw new UserError(`--order: expected an integer in [1, 12], got '${v.order}'`);
      const lines = data.endsWith('.jsonl') ? readManifest(data).map((e) => e.text) : readText(data, 'corpus').split('\n');
      let model: CharNgramLM;
      try { model = CharNgramLM.train(lines, order); } catch (e) { throw new UserError(`${data}: ${(e as Error).message.replace(/^CharNgramLM: /, '')}`); }
      if (v.weight !== undefined || v.bonus !== undefined) model = model.withTuning(numFlag('weight', v.weight, 0.5, 0), numFlag('bonus', v.bonus, 1));
      model.save(out);
      const grams = model.toJSON().ngrams.reduce((s, m) => s + Object.keys(m).length, 0);
      console.log(`saved a ${order}-gram character LM (${model.vocabulary.length} characters, ${grams} n-grams) to ${out}`);
      return 0;
    });
  },
};
