import { join } from 'node:path';
import { loadModel } from '../../io/modelDir.js';
import { exportOnnx } from '../../onnx/file.js';
import { printable } from '../../data/printable.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { choiceFlag, parseFlags, userErrors } from './shared.js';

const HELP = `Usage: carousel export DIR --format onnx [--out FILE]

Writes a Carousel model directory (an lstm or gru model) as an ONNX file (opset 14) that ONNX
Runtime and other ONNX tools run, with dynamic batch and time axes:
  forecast, classify: x [time, batch, features] -> y [batch, outputs]
  charlm: ids [time, batch] (int64), h0 [layers, batch, hidden] (and c0 for LSTM)
          -> logits [time, batch, vocabulary], h_n (and c_n): the state to carry on
The file is written whole or not at all.

Options:
  --format F   onnx (the one format; required)
  --out FILE   where to write (default DIR/model.onnx)
  -h, --help   this help`;

export const exportCommand: Command = {
  name: 'export',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseFlags('export', argv, { format: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
    if (v.help) { console.log(HELP); return 0; }
    if (positionals.length !== 1) throw new UserError(`export: expected one model directory, got ${positionals.length}`);
    choiceFlag('format', v.format, ['onnx']);
    const dir = positionals[0], out = v.out ?? join(dir, 'model.onnx');
    return userErrors(async () => {
      const { model } = loadModel(dir);
      try { await exportOnnx(model, out); } catch (e) {
        if ((e as NodeJS.ErrnoException).code) throw e;
        throw new UserError(`${printable(dir, 200)}: ${(e as Error).message}`);
      }
      console.log(`${printable(out, 200)}: ONNX (opset 14), ${model.arch.task} model, inputs ${model.arch.task === 'charlm' ? 'ids, h0' + (model.arch.cell === 'lstm' ? ', c0' : '') : 'x'}`);
      return 0;
    });
  },
};
