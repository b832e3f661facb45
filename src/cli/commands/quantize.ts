import { resolve } from 'node:path';
import { loadModel, saveModel } from '../../io/modelDir.js';
import { printable } from '../../data/printable.js';
import { quantize as quantizeModel } from '../../quant/model.js';
import { WEIGHT_SCHEMES } from '../../quant/scheme.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { choiceFlag, parseFlags, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel quantize DIR --weights int8|bf16|f16 --out DIR2

Writes a copy of the model in DIR to DIR2 with its recurrent (LSTM family, GRU) and head weight
matrices stored quantized, for inference (predict, evaluate, generate, info read it as any
model; train cannot continue it). The embedding, biases and peepholes stay f32.
  int8   symmetric per output row with an f32 scale; activations quantized per row as they
         arrive, products summed in int32 (a quarter of the weight bytes)
  bf16   f32's range, 8 significant bits (half the bytes)
  f16    5 exponent bits, 11 significant bits (half the bytes; a weight beyond 65504 is refused)
The README's Quantization section gives the measured accuracy of each.

Options:
  --weights S   int8, bf16 or f16 (required)
  --out DIR2    output model directory (required; not DIR itself: quantizing is one-way)
  -h, --help    this help`;

export const quantize: Command = {
  name: 'quantize',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseFlags('quantize', argv, { weights: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, true);
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      if (positionals.length !== 1) throw new UserError(`quantize: expected one model directory, got ${positionals.length}`);
      const dir = positionals[0];
      const scheme = choiceFlag('weights', v.weights, WEIGHT_SCHEMES);
      const out = requireFlag('out', v.out);
      if (resolve(out) === resolve(dir)) throw new UserError(`--out: expected a directory other than the model's own (${printable(dir)}): quantizing is one-way`);
      const { model, meta } = loadModel(dir);
      if (meta.quantization) throw new UserError(`quantize: ${printable(dir)} is already quantized (${meta.quantization.weights}); quantize the float model`);
      let q;
      try { q = quantizeModel(model, { weights: scheme }); } catch (e) { throw new UserError((e as Error).message); }
      const { forecast, classify, charlm, training } = meta;
      await saveModel(out, q, { forecast, classify, charlm, training });
      const f32Bytes = 4 * model.numParameters();
      console.log(`${printable(out)}: ${scheme} weights, ${mb(q.weightBytes)} (f32: ${mb(f32Bytes)})`);
      return 0;
    });
  },
};

function mb(bytes: number): string { return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`; }
