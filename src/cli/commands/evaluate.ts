import { CharLMTask } from '../../train/charlmTask.js';
import { DATA_FORMATS } from '../../data/formats.js';
import { ClassifyTask } from '../../train/classifyTask.js';
import { ForecastTask } from '../../train/forecastTask.js';
import { forecastErrors, formatErrors, mergeSeasons } from '../../train/baselines.js';
import { seasonFlag } from './seasonFlag.js';
import type { Command } from '../command.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { classifyInputs, encodeForModel, forecastWindows, vocabOf } from './modelData.js';
import { loadModel } from '../../io/modelDir.js';
import { parseFlags, readText, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel evaluate --model DIR --data FILE [--season P,Q] [--strict-vocab]

Measures a trained model on labelled data and prints one line per metric:
  forecast   every window of FILE: MSE (normalized), MAE and RMSE in the data's units, then a
             table of MAE and RMSE per target for the model and, on the same windows, the
             baselines: persistence (repeat the last value), seasonal-naive at each period of
             model.json (detected on the training part, or given to train with --season) and of
             --season (step h repeats y[t+h-P]), and the mean of the input window
  classify   cross-entropy loss and accuracy
  charlm     characters, unknown_characters (those outside the model's vocabulary, read as
             its unknown-character entry, or in a model trained before it had one as a space),
             loss (nats per character) and bits per character

Options:
  --model DIR   model directory (required)
  --data FILE   data with targets / labels (required)
  --season P,Q  forecast: more seasonal periods (each <= the model's window) for the baseline
  --strict-vocab  charlm: refuse text with characters outside the vocabulary
  -h, --help    this help

${DATA_FORMATS}`;

export const evaluate: Command = {
  name: 'evaluate',
  summary: 'measure a trained model on labelled data (MAE, accuracy, bits per character)',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('evaluate', argv, { model: { type: 'string' }, data: { type: 'string' }, season: { type: 'string' }, 'strict-vocab': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const { model, meta } = loadModel(requireFlag('model', v.model));
      const path = requireFlag('data', v.data);
      const text = readText(path);
      const task = meta.architecture.task;
      if (task !== 'forecast' && v.season !== undefined) throw new UserError(`--season applies to forecast models only (this is a ${task} model)`);
      if (v['strict-vocab'] && task !== 'charlm') throw new UserError(`--strict-vocab applies to charlm models only; ${printable(v.model!)} is a ${task} model`);
      if (task === 'forecast') {
        const { w, norm, targetIdx } = forecastWindows(meta, text, path);
        const std = targetIdx.map((k) => norm.std[k]);
        const t = new ForecastTask(model, w, null, 64, std, 0, meta.forecast!.residualSeason ? { period: meta.forecast!.residualSeason, targetCols: targetIdx } : null);
        const p = await t.predictAll(w);
        let se = 0, ae = 0, sq = 0, base = 0;
        for (let i = 0; i < p.length; i++) {
          const s = std[i % std.length], d = p[i] - w.y[i];
          se += d * d; ae += Math.abs(d) * s; sq += (d * s) ** 2; base += Math.abs(w.y[i]) * s;
        }
        const n = p.length;
        console.log(`windows ${w.n}`);
        console.log(`mse_normalized ${(se / n).toFixed(6)}`);
        console.log(`mae ${(ae / n).toPrecision(6)}`);
        console.log(`rmse ${Math.sqrt(sq / n).toPrecision(6)}`);
        console.log(`persistence_mae ${(base / n).toPrecision(6)}`);
        const f = meta.forecast!;
        const seasons = mergeSeasons(f.seasons ?? [], seasonFlag(v.season, f.window));
        if (seasons.length === 0) console.log('seasonal_naive none: no period detected at training and none given (--season P)');
        console.log(formatErrors(forecastErrors(w, f.targets, targetIdx, std, seasons, p)));
      } else if (task === 'classify') {
        const ds = classifyInputs(meta, text, path, true);
        const r = await new ClassifyTask(model, ds.samples, null, ds.features, 64).evaluate(ds.samples);
        console.log(`sequences ${ds.samples.length}`);
        console.log(`loss ${r.loss.toFixed(6)}`);
        console.log(`accuracy ${r.metrics.accuracy.toFixed(4)}`);
      } else {
        const { ids, unknown } = encodeForModel(vocabOf(meta), text, path, v['strict-vocab'] ?? false);
        if (ids.length < 3) throw new UserError(`${path}: need at least 3 characters to evaluate, got ${ids.length}`);
        const r = await new CharLMTask(model, ids, null, 1, 1).evaluateIds(ids);
        console.log(`characters ${ids.length}`);
        console.log(`unknown_characters ${unknown}`);
        console.log(`loss ${r.loss.toFixed(6)}`);
        console.log(`bpc ${r.metrics.bpc.toFixed(4)}`);
      }
      return 0;
    });
  },
};
