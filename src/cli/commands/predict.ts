import { writeFileAtomic } from '../../io/atomic.js';
import { DATA_FORMATS } from '../../data/formats.js';
import { StreamingModel } from '../../models/stream.js';
import { ClassifyTask } from '../../train/classifyTask.js';
import type { Command } from '../command.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { classifyInputs, encodeForModel, vocabOf } from './modelData.js';
import { lastWindows } from '../../data/forecastData.js';
import { formatTime, stepTime } from '../../data/calendar.js';
import { ForecastTask } from '../../train/forecastTask.js';
import { loadModel } from '../../io/modelDir.js';
import { parseFlags, readText, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel predict --model DIR --data FILE [--output FILE] [--strict-vocab]

Runs a trained model on new data and prints CSV:
  forecast   the next 'horizon' values after the last row of FILE (columns as at training):
             step, the time of each step (a model with a time column: the last row's time plus
             the series' spacing), each target, and a quantile model's other quantiles as
             TARGET_qQ; a model of several series writes each series' rows, named first
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
        const targetIdx = f.targets.map((t) => f.features.indexOf(t));
        const qs = f.quantiles ?? [], K = f.targets.length, Y = f.horizon * K;
        const extra = qs.filter((q) => q !== 0.5);
        lines.push([...(f.series ? [csvField(f.series.column ?? 'series')] : []), 'step', ...(f.time ? [csvField(f.time.column)] : []),
          ...f.targets.map(csvField), ...f.targets.flatMap((t) => extra.map((q) => csvField(`${t}_q${q}`)))].join(','));
        for (const last of lastWindows(f, text, path)) {
          const t = new ForecastTask(model, last.w, null, 1, targetIdx.map((k) => last.norm.std[k]), 0, f.residualSeason ? { period: f.residualSeason, targetCols: targetIdx } : null,
            { ...(f.outputScale ? { outputScale: f.outputScale } : {}), ...(qs.length ? { quantiles: qs } : {}) });
          const all = await t.predictQuantiles(last.w); // [1, Q, Y], relative to the last value
          const value = (q: number, h: number, k: number) => +last.norm.inverse(all[q * Y + h * K + k] + last.w.anchor[k], targetIdx[k]).toPrecision(7);
          for (let h = 0; h < f.horizon; h++) {
            // The forecast steps' times continue the series' own spacing from its last row.
            const time = f.time && last.lastTime !== null ? [csvField(formatTime(stepTime(last.lastTime, last.spacing ?? f.time.spacing, h + 1), last.spacing ?? f.time.spacing))] : [];
            lines.push([...(f.series ? [csvField(last.name)] : []), h + 1, ...time, ...targetIdx.map((_, k) => value(qs.length ? qs.indexOf(0.5) : 0, h, k)),
              ...targetIdx.flatMap((_, k) => extra.map((q) => value(qs.indexOf(q), h, k)))].join(','));
          }
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
