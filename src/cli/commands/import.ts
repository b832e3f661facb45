import { basename } from 'node:path';
import { saveModel, type ModelMeta } from '../../io/modelDir.js';
import type { TaskKind } from '../../models/sequenceModel.js';
import { loadOnnx } from '../../onnx/file.js';
import { recogniseTaskModel } from '../../onnx/taskModel.js';
import { loadTfjsLayersModel } from '../../tfjs/file.js';
import { printable } from '../../data/printable.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { choiceFlag, intFlag, parseFlags, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel import MODEL.onnx|model.json --out DIR [--task forecast|classify|charlm]
                       [--labels A,B,...] [--vocab CHARS] [--features A,B,...] [--targets A,...]
                       [--window N] [--mean M,...] [--std S,...]

Reads an ONNX file (as PyTorch's torch.onnx.export writes one) whose graph is one of Carousel's
task models and writes a Carousel model directory that predict, evaluate, generate and train
--resume use. Recognised: LSTM or GRU layers with PyTorch's cell (default activations, no clip,
no peepholes; GRU with linear_before_reset=1), forward or bidirectional, a Linear head (Gemm, or
MatMul + Add) over the last layer's final hidden state (forecast, classify) or over each step
after an Embedding of integer ids (charlm), optionally ending in Softmax / LogSoftmax (then the
task is classify). A TF.js Layers model.json (weight shards next to it) is read the same way; its
recurrent layers must then use PyTorch's cell too (recurrent_activation sigmoid, GRU
reset_after=true): TF.js's default hard_sigmoid is not a Carousel cell. The weights are checked by running the graph and the new model side by side
on random sequences (time-major and batch-first); anything else is refused with what was expected.

The data description an ONNX file does not hold comes from flags:
  classify  --labels A,B,...  class names in output order (default 0, 1, ...)
  charlm    --vocab CHARS     the vocabulary in id order, one character per id, or a JSON array
                              of one-character strings (required)
  forecast  --window N        input steps per prediction (required)
            --features A,...  input column names (default x1, x2, ...)
            --targets A,...   predicted columns among the features (default: all of them, when
                              the outputs are a whole number of steps of every feature)
            --mean, --std     the normalisation the model was trained with (default 0 and 1)

Options:
  --out DIR    model directory to write (required)
  --task T     forecast, classify or charlm (default: recognised from the graph)
  -h, --help   this help`;

const list = (s: string | undefined) => (s === undefined ? undefined : s.split(',').map((x) => x.trim()));

export const importCommand: Command = {
  name: 'import',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseFlags('import', argv, {
      out: { type: 'string' }, task: { type: 'string' }, labels: { type: 'string' }, vocab: { type: 'string' }, features: { type: 'string' },
      targets: { type: 'string' }, window: { type: 'string' }, mean: { type: 'string' }, std: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    }, true);
    if (v.help) { console.log(HELP); return 0; }
    if (positionals.length !== 1) throw new UserError(`import: expected one .onnx file or TF.js model.json, got ${positionals.length}`);
    const file = positionals[0], out = requireFlag('out', v.out);
    const task = v.task === undefined ? undefined : choiceFlag<TaskKind>('task', v.task, ['forecast', 'classify', 'charlm']);
    return userErrors(async () => {
      let recognised;
      try {
        // A TF.js Layers model (model.json) is first translated into the same ONNX graph form.
        const graph = /\.json$/i.test(file) ? loadTfjsLayersModel(file).graph : loadOnnx(file);
        recognised = recogniseTaskModel(graph, { task });
      } catch (e) {
        const msg = (e as Error).message;
        throw new UserError(msg.startsWith(file) ? msg : `${printable(file, 200)}: ${msg}`);
      }
      const { model, layout, finalActivation } = recognised;
      const a = model.arch;
      const meta: Omit<ModelMeta, 'format' | 'version' | 'architecture' | 'weights'> = {
        training: { importedFrom: basename(file), layout, ...(finalActivation ? { finalActivation } : {}) },
      };
      if (a.task === 'classify') {
        const labels = list(v.labels) ?? Array.from({ length: a.outputSize }, (_, i) => String(i));
        if (labels.length !== a.outputSize) throw new UserError(`--labels: expected ${a.outputSize} class names (the model's outputs), got ${labels.length}`);
        meta.classify = { labels, features: a.inputSize };
      } else if (a.task === 'charlm') {
        const spec = requireFlag('vocab', v.vocab);
        let vocabulary: string[];
        if (spec.startsWith('[')) {
          try { vocabulary = JSON.parse(spec) as string[]; } catch { throw new UserError(`--vocab: expected a JSON array of one-character strings, got '${printable(spec, 60)}'`); }
        } else vocabulary = Array.from(spec);
        if (!Array.isArray(vocabulary) || vocabulary.length !== a.vocabSize) throw new UserError(`--vocab: expected ${a.vocabSize} characters (the model's vocabulary), got ${Array.isArray(vocabulary) ? vocabulary.length : typeof vocabulary}`);
        meta.charlm = { vocabulary };
      } else {
        const window = intFlag('window', requireFlag('window', v.window), 0, 1);
        const features = list(v.features) ?? Array.from({ length: a.inputSize }, (_, i) => `x${i + 1}`);
        if (features.length !== a.inputSize) throw new UserError(`--features: expected ${a.inputSize} column names (the model's inputs), got ${features.length}`);
        let targets = list(v.targets);
        if (!targets) {
          if (a.outputSize % a.inputSize !== 0) throw new UserError(`--targets is required: the model predicts ${a.outputSize} values from ${a.inputSize} features`);
          targets = features;
        }
        if (a.outputSize % targets.length !== 0) throw new UserError(`--targets: ${targets.length} target(s) do not divide the model's ${a.outputSize} outputs into whole steps`);
        const nums = (name: string, s: string | undefined, dflt: number) => {
          const xs = (list(s) ?? features.map(() => String(dflt))).map(Number);
          if (xs.length !== features.length || xs.some((x) => !Number.isFinite(x) || (name === 'std' && x <= 0))) {
            throw new UserError(`--${name}: expected ${features.length} ${name === 'std' ? 'positive ' : ''}numbers, got '${printable(s ?? '', 60)}'`);
          }
          return xs;
        };
        meta.forecast = { features, targets, window, horizon: a.outputSize / targets.length, normalization: { mean: nums('mean', v.mean, 0), std: nums('std', v.std, 1) } };
      }
      await saveModel(out, model, meta);
      console.log(`${printable(out, 200)}: ${a.task} model, ${a.cell.toUpperCase()} ${a.numLayers} layer(s) x ${a.hiddenSize}${a.bidirectional ? ', bidirectional' : ''}, ${model.numParameters()} parameters (graph ${layout}${finalActivation ? `, ${finalActivation} at the end dropped: the model outputs logits` : ''})`);
      return 0;
    });
  },
};
