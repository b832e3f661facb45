import { generateText } from '../../models/generate.js';
import { Rng } from '../../tensor/random.js';
import type { Command } from '../command.js';
import { printable, printableText } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { encodeForModel, vocabOf } from './modelData.js';
import { loadModel } from '../../io/modelDir.js';
import { intFlag, numFlag, parseFlags, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel generate --model DIR [--seed-text TEXT] [--length N] [--temperature T] [--top-k K] [--top-p P]
                         [--repetition-penalty R] [--repetition-window N] [--strict-vocab] [--seed N]

Samples text from a character language model (trained with --task charlm), one character at a
time, carrying the recurrent state. Prints the seed text followed by the sample. Characters of
the seed text outside the model's vocabulary read as its unknown-character entry (a model
trained before it had one: as a space); the unknown entry itself is never generated.

Options:
  --model DIR         model directory (required)
  --seed-text TEXT    text to start from (default: a new line)
  --length N          characters to generate (default 300)
  --temperature T     sampling temperature; lower is more conservative, 0 is greedy (default 0.8)
  --top-k K           sample among the K most likely characters only (default 0: all)
  --top-p P           sample among the most likely characters whose probabilities sum to at
                      least P, in (0, 1] (nucleus sampling; default 1: all)
  --repetition-penalty R
                      make characters among the last --repetition-window ones less likely:
                      positive logits divided by R, negative ones multiplied (R >= 1; default 1: off)
  --repetition-window N
                      characters, seed text included, the penalty looks back over (default 32;
                      0: the whole text)
  --strict-vocab      refuse seed text with characters outside the vocabulary
  --seed N            random seed (default 1)
  -h, --help          this help`;

export const generate: Command = {
  name: 'generate',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('generate', argv,
      { model: { type: 'string' }, 'seed-text': { type: 'string' }, length: { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' }, 'top-p': { type: 'string' }, 'repetition-penalty': { type: 'string' }, 'repetition-window': { type: 'string' }, 'strict-vocab': { type: 'boolean' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const { model, meta } = loadModel(requireFlag('model', v.model));
      if (meta.architecture.task !== 'charlm') throw new UserError(`generate: ${v.model} is a ${meta.architecture.task} model; generate needs a charlm model`);
      const seed = v['seed-text'] ?? '', vocab = vocabOf(meta), strictVocab = v['strict-vocab'] ?? false;
      const topP = numFlag('top-p', v['top-p'], 1);
      if (!(topP > 0 && topP <= 1)) throw new UserError(`--top-p: expected a number > 0 and <= 1, got '${printable(v['top-p']!, 60)}'`);
      const o = {
        seed, length: intFlag('length', v.length, 300, 0), temperature: numFlag('temperature', v.temperature, 0.8, 0),
        topK: intFlag('top-k', v['top-k'], 0, 0), topP, strictVocab,
        repetitionPenalty: numFlag('repetition-penalty', v['repetition-penalty'], 1, 1),
        repetitionWindow: intFlag('repetition-window', v['repetition-window'], 32, 0), rng: new Rng(intFlag('seed', v.seed, 1, 0)),
      };
      encodeForModel(vocab, seed, 'seed text', strictVocab); // after the flags: the note, or the --strict-vocab error
      const text = await generateText(model, vocab, o);
      // Text from the model's vocabulary: line breaks and tabs as they are, other control characters escaped.
      process.stdout.write(printableText(seed + text) + '\n');
      return 0;
    });
  },
};
