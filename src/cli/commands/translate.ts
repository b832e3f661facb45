import { readFileSync } from 'node:fs';
import { printable } from '../../data/printable.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { encodeSources, loadSeq2Seq } from '../../seq2seq/app.js';
import { beamSearch } from '../../seq2seq/beam.js';
import { attentionSvg } from '../../seq2seq/plot.js';
import { detokenize, tokenize } from '../../seq2seq/vocab.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { intFlag, numFlag, parseFlags, readText, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel translate --model DIR [--input FILE] [--beam K] [--alpha A] [--output FILE] [--attention-plot FILE]

Runs a sequence-to-sequence model (carousel train --task seq2seq, carousel demo g2p) on each line
of FILE (default: standard input) and prints one output line per input line, in order. Tokens
outside the model's vocabulary read as <unk>, with a warning naming the line; an empty line gives
an empty output line, with a warning.

Options:
  --model DIR            model directory (required)
  --input FILE           lines to translate ('-' or absent: standard input)
  --beam K               beam width (default 8; 1: greedy)
  --alpha A              length normalisation: score = log P / length^A (default 1)
  --output FILE          write the outputs there instead of standard output
  --attention-plot FILE  an SVG heat map of the first line's attention weights
  -h, --help             this help`;

export const translate: Command = {
  name: 'translate',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('translate', argv, {
      model: { type: 'string' }, input: { type: 'string' }, beam: { type: 'string' }, alpha: { type: 'string' }, output: { type: 'string' },
      'attention-plot': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const dir = requireFlag('model', v.model);
      const beam = intFlag('beam', v.beam, 8), alpha = numFlag('alpha', v.alpha, 1, 0, 5);
      const { model, src, tgt } = loadSeq2Seq(dir);
      const file = v.input && v.input !== '-' ? v.input : 'stdin';
      const text = file === 'stdin' ? readFileSync(0, 'utf8') : readText(file, 'input file');
      const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
      if (lines.length && lines[lines.length - 1] === '') lines.pop();
      if (lines.length === 0) throw new UserError(`${file}: no lines to translate`);
      const items = lines.map((l, i) => ({ src: tokenize(l.trim(), src.mode), line: i + 1 }));
      for (const it of items) if (it.src.length === 0) console.error(`warning: ${file}:${it.line}: empty line, printed as an empty line`);
      const full = items.filter((it) => it.src.length > 0);
      const ids = encodeSources(full, src, file, (s) => console.error(s));
      const hyps = beamSearch(model, ids, { beam, alpha });
      const outs = new Map(full.map((it, k) => [it.line, detokenize(tgt.decode(hyps[k].ids), tgt.mode)]));
      const result = items.map((it) => outs.get(it.line) ?? '').join('\n') + '\n';
      if (v.output) writeFileAtomic(v.output, result); else process.stdout.write(result);
      const plot = v['attention-plot'];
      if (plot) {
        if (full.length === 0) throw new UserError(`--attention-plot: ${file} has no non-empty line to plot`);
        const [h] = beamSearch(model, [ids[0]], { beam, alpha, keepWeights: true });
        const output = tgt.decode(h.ids);
        writeFileAtomic(plot, attentionSvg(full[0].src, [...output, '</s>'], h.weights!, `attention: ${printable(detokenize(full[0].src, src.mode), 60)} -> ${printable(detokenize(output, tgt.mode), 60)}`));
      }
      return 0;
    });
  },
};
