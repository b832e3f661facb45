import { generateText } from '../../models/generate.js';
import { Rng } from '../../tensor/random.js';
import type { Command } from '../command.js';
import { printableText } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { vocabOf } from './modelData.js';
import { loadModel } from '../../io/modelDir.js';
import { intFlag, numFlag, parseFlags, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel generate --model DIR [--seed-text TEXT] [--length N] [--temperature T] [--top-k K] [--seed N]

Samples text from a character language model (trained with --task charlm), one character at a
time, carrying the recurrent state. Prints the seed text followed by the sample.

Options:
  --model DIR         model directory (required)
  --seed-text TEXT    text to start from (default: a new line)
  --length N          characters to generate (default 300)
  --temperature T     sampling temperature; lower is more conservative, 0 is greedy (default 0.8)
  --top-k K           sample among the K most likely characters only (default 0: all)
  --seed N            random seed (default 1)
  -h, --help          this help`;

export const generate: Command = {
  name: 'generate',
  summary: 'sample text from a character language model',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('generate', argv,
      { model: { type: 'string' }, 'seed-text': { type: 'string' }, length: { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const { model, meta } = loadModel(requireFlag('model', v.model));
      if (meta.architecture.task !== 'charlm') throw new UserError(`generate: ${v.model} is a ${meta.architecture.task} model; generate needs a charlm model`);
      const seed = v['seed-text'] ?? '';
      const text = await generateText(model, vocabOf(meta), {
        seed, length: intFlag('length', v.length, 300, 0), temperature: numFlag('temperature', v.temperature, 0.8, 0),
        topK: intFlag('top-k', v['top-k'], 0, 0), rng: new Rng(intFlag('seed', v.seed, 1, 0)),
      });
      // Text from the model's vocabulary: line breaks and tabs as they are, other control characters escaped.
      process.stdout.write(printableText(seed + text) + '\n');
      return 0;
    });
  },
};
