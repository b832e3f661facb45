import { writeFileAtomic } from '../../io/atomic.js';
import { DATA_FORMATS } from '../../data/formats.js';
import { StreamingModel } from '../../models/stream.js';
import { ClassifyTask } from '../../train/classifyTask.js';
import type { Command } from '../command.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { classifyInputs, encodeForModel, forecastInputs, vocabOf } from './modelData.js';
import { loadModel } from '../../io/modelDir.js';
import { parseFlags, readText, requireFlag, userErrors } from './shared.js';
import { noGrad } from '../../autograd/tape.js';

const HELP = `Usage: carousel predict --model DIR --data FILE [--output FILE] [--strict-vocab]

Runs a trained model on new data and prints CSV:
  forecast   the next 'horizon' values after the last row of FILE (columns as at training)
  classify   the predicted label and its probability for each sequence in FILE (labels optional)
  charlm     the five most likely next characters after the text in FILE (control characters
             as \\xHH; <unknown>: the unknown-character entry). Characters of FILE outside the
             model's vocabulary read as that entry (a model trained before it had one: as a space)

Options:
  --model DIR      model directory written by 'carousel train' (required)
  --data FILE      input data (required)
  --output FILE    write the CSV there instead of standard output
  --strict-vocab   charlm: refuse text with characters outside the vocabulary
  -h, --help       this help

${DATA_FORMATS}`;

export const predict: Command = {
  name: 'predict',
  summary: 'run a trained model on new data (forecast, labels, next characters)',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('predict', argv, { model: { type: 'string' }, data: { type: 'string' }, output: { type: 'string' }, 'strict-vocab': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const { model, meta } = loadModel(requireFlag('model', v.model));
      const path = requireFlag('data', v.data);
      const text = readText(path);
      const lines: string[] = [];
      const task = meta.architecture.task;
      if (v['strict-vocab'] && task !== 'charlm') throw new UserError(`--strict-vocab applies to charlm models only; ${printable(v.model!)} is a ${task} model`);
      if (task === 'forecast') {
        const f = meta.forecast!;
        const { z, norm, targetIdx } = forecastInputs(meta, text, path);
        const T = z[0].length, W = f.window, F = z.length, K = f.targets.length;
        if (T < W) throw new UserError(`${path}: the series has ${T} rows, shorter than the model's window of ${W}`);
        const x = new Float32Array(W * F);
        for (let t = 0; t < W; t++) for (let k = 0; k < F; k++) x[t * F + k] = z[k][T - W + t];
        const out = await noGrad(() => model.forwardLast(model.input(x, [W, 1, F]))).data();
        lines.push(['step', ...f.targets.map(csvField)].join(','));
        for (let h = 0; h < f.horizon; h++) {
          // A residual model's output is on top of the seasonal-naive forecast (P rows back, the last period repeating).
          const P = f.residualSeason, base = (ti: number) => (P ? z[ti][T - P + (h % P)] : z[ti][T - 1]);
          lines.push([h + 1, ...targetIdx.map((ti, k) => +norm.inverse(out[h * K + k] + base(ti), ti).toPrecision(7))].join(','));
        }
      } else if (task === 'classify') {
        const ds = classifyInputs(meta, text, path, false);
        const t = new ClassifyTask(model, ds.samples, null, ds.features, 64);
        const { predicted, logits } = await t.predict(ds.samples);
        const C = ds.labels.length;
        lines.push('index,label,probability');
        predicted.forEach((p, i) => {
          let z = 0;
          for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c] - logits[i * C + p]);
          lines.push(`${i + 1},${csvField(ds.labels[p])},${(1 / z).toFixed(4)}`);
        });
      } else {
        const vocab = vocabOf(meta);
        const { ids } = encodeForModel(vocab, text, path, v['strict-vocab'] ?? false);
        if (ids.length === 0) throw new UserError(`${path}: empty text`);
        const s = new StreamingModel(model);
        // push() frees what it allocates (each output at the next push): only the last logits are read.
        let logits: ArrayLike<number>;
        try {
          for (let i = 0; i < ids.length - 1; i++) s.push(ids[i]);
          logits = await s.push(ids[ids.length - 1]).data();
        } finally {
          s.dispose();
        }
        const mx = Math.max(...Array.from(logits));
        const p = Array.from(logits, (l) => Math.exp(l - mx));
        const z = p.reduce((a, b) => a + b, 0);
        lines.push('char,probability');
        p.map((q, i) => [i, q / z] as const).sort((a, b) => b[1] - a[1]).slice(0, 5)
          .forEach(([i, q]) => lines.push(`${i === vocab.unknown ? '<unknown>' : csvField(vocab.chars[i])},${q.toFixed(4)}`));
      }
      const csv = lines.join('\n') + '\n';
      if (v.output) writeFileAtomic(v.output, csv); else process.stdout.write(csv);
      return 0;
    });
  },
};

/**
 * A label or character as a CSV field: control characters escaped (the output may go to a
 * terminal), quoted (RFC 4180) only when it holds a comma, a quote or a line break.
 */
export function csvField(text: string): string {
  const s = printable(text);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
