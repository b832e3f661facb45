import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ModelFileError } from '../../io/errors.js';
import { loadModel } from '../../io/modelDir.js';
import { readSafetensorsFile } from '../../io/pytorch.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { userErrors } from './shared.js';

const HELP = `Usage: carousel info PATH

Describes a model directory (architecture, parameters with their PyTorch names and shapes, data
settings, training summary), or lists the tensors of a .safetensors file (weights, checkpoint,
or a PyTorch state_dict). Fails with a clear message on a missing, truncated or mis-shaped file.

Options:
  -h, --help   this help`;

export const info: Command = {
  name: 'info',
  summary: 'describe a model directory or a safetensors file',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
    if (v.help) { console.log(HELP); return 0; }
    if (positionals.length !== 1) throw new UserError(`info: expected one model directory or .safetensors file, got ${positionals.length}`);
    const path = positionals[0];
    return userErrors(() => {
      let isDir = false;
      try { isDir = statSync(path).isDirectory(); } catch { throw new ModelFileError(`${path}: no such file or directory`); }
      if (!isDir) {
        const f = readSafetensorsFile(path);
        console.log(`${path}: safetensors, ${f.tensors.size} tensors`);
        for (const [n, t] of f.tensors) console.log(`  ${n}  ${t.dtype} [${t.shape.join(', ')}]`);
        const keys = Object.keys(f.metadata);
        if (keys.length) console.log(`metadata: ${keys.join(', ')}`);
        return 0;
      }
      const { model, meta } = loadModel(path);
      const a = meta.architecture;
      console.log(`${path}: ${a.task} model, ${a.cell.toUpperCase()} ${a.numLayers} layer(s) x ${a.hiddenSize} hidden${a.bidirectional ? ', bidirectional' : ''}${a.dropout ? `, dropout ${a.dropout}` : ''}`);
      console.log(`input size ${a.inputSize}, output size ${a.outputSize}, ${model.numParameters()} parameters`);
      for (const [n, p] of model.namedParameters()) console.log(`  ${n}  [${p.shape.join(', ')}]`);
      if (meta.forecast) {
        const f = meta.forecast;
        console.log(`forecast: columns ${f.features.join(', ')} -> ${f.targets.join(', ')}, window ${f.window}, horizon ${f.horizon}`);
        console.log(`normalization: mean ${f.normalization.mean.map((x) => x.toPrecision(6)).join(', ')}; std ${f.normalization.std.map((x) => x.toPrecision(6)).join(', ')}`);
      }
      if (meta.classify) console.log(`classes (${meta.classify.labels.length}): ${meta.classify.labels.join(', ')}`);
      if (meta.charlm) console.log(`vocabulary: ${meta.charlm.vocabulary.length} characters ${JSON.stringify(meta.charlm.vocabulary.join('')).slice(0, 80)}`);
      if (meta.training) console.log(`training: ${JSON.stringify(meta.training)}`);
      return 0;
    });
  },
};
