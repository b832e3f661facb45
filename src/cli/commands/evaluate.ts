import { CharLMTask } from '../../train/charlmTask.js';
import { DATA_FORMATS } from '../../data/formats.js';
import { ClassifyTask } from '../../train/classifyTask.js';
import { ForecastTask, intervalCoverage } from '../../train/forecastTask.js';
import { savedWindows } from '../../data/forecastData.js';
import { forecastErrors, formatErrors, mergeSeasons } from '../../train/baselines.js';
import { seasonFlag } from './seasonFlag.js';
import type { Command } from '../command.js';
import { printable } from '../../data/printable.js';
import { UserError } from '../errors.js';
import { classifyInputs, encodeForModel, vocabOf } from './modelData.js';
import { loadModel } from '../../io/modelDir.js';
import { appOf } from '../../io/appModel.js';
import { apps } from '../apps/index.js';
import { peekFlag } from '../apps/registry.js';
import { parseFlags, readText, requireFlag, userErrors } from './shared.js';

const HELP = `Usage: carousel evaluate --model DIR --data FILE [--season P,Q] [--strict-vocab]

Measures a trained model on labelled data and prints one line per metric:
  forecast   every window of FILE: MSE (normalized), MAE and RMSE in the data's units, then a
             table of MAE and RMSE per target for the model and, on the same windows, the
             baselines: persistence (repeat the last value), seasonal-naive at each period of
             model.json (detected on the training part, or given to train with --season) and of
             --season (step h repeats y[t+h-P]), and the mean of the input window; with several
             series, each series' rows too (target:series); a quantile model also prints the
             share of values below each quantile and inside the outermost two (coverage)
  classify   cross-entropy loss and accuracy
  charlm     characters, unknown_characters (those outside the model's vocabulary, read as
             its unknown-character entry, or in a model trained before it had one as a space),
             loss (nats per character) and bits per character

Options:
  --model DIR   model directory (required)
  --data FILE   data with targets / labels (required)
  --season P,Q  forecast: more seasonal periods (each <= the model's window, or one of its
                lag periods) for the baseline
  --strict-vocab  charlm: refuse text with characters outside the vocabulary
  -h, --help    this help

${DATA_FORMATS}`;

export const evaluate: Command = {
  name: 'evaluate',
  help: HELP,
  async run(argv) {
    // An application's model (model.json names its app) is measured by the application itself.
    const dir = peekFlag(argv, 'model');
    const appName = dir && !argv.includes('--help') && !argv.includes('-h') ? await userErrors(() => appOf(dir)).catch(() => null) : null;
    if (appName) {
      const app = apps.find((a) => a.name === appName);
      if (!app?.evaluate) throw new UserError(`${printable(dir!)}: a ${appName} model, which this Carousel cannot evaluate`);
      return app.evaluate(argv);
    }
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
        const f = meta.forecast!;
        const { w, names } = savedWindows(f, text, path);
        const targetIdx = f.targets.map((t) => f.features.indexOf(t));
        const std = targetIdx.map((k) => f.normalization.std[k]);
        const t = new ForecastTask(model, w, null, 64, std, 0, f.residualSeason ? { period: f.residualSeason, targetCols: targetIdx } : null,
          { ...(f.outputScale ? { outputScale: f.outputScale } : {}), ...(f.quantiles ? { quantiles: f.quantiles } : {}) });
        const all = await t.predictQuantiles(w);
        const p = t.pointOf(w, all), K = f.targets.length, Y = f.horizon * K;
        let se = 0, ae = 0, sq = 0, base = 0;
        for (let i = 0; i < p.length; i++) {
          const s = w.targetStd![Math.floor(i / Y) * K + (i % K)], d = p[i] - w.y[i];
          se += d * d; ae += Math.abs(d) * s; sq += (d * s) ** 2; base += Math.abs(w.y[i]) * s;
        }
        const n = p.length;
        console.log(`windows ${w.n}`);
        console.log(`mse_normalized ${(se / n).toFixed(6)}`);
        console.log(`mae ${(ae / n).toPrecision(6)}`);
        console.log(`rmse ${Math.sqrt(sq / n).toPrecision(6)}`);
        console.log(`persistence_mae ${(base / n).toPrecision(6)}`);
        if (f.quantiles && f.quantiles.length > 1) {
          // Calibration: the share of true values below each quantile (ideally the quantile), and inside the outermost pair.
          const Q = f.quantiles.length;
          f.quantiles.forEach((q, j) => {
            let below = 0;
            for (let i = 0; i < w.n; i++) for (let o = 0; o < Y; o++) if (w.y[i * Y + o] <= all[(i * Q + j) * Y + o]) below++;
            console.log(`below_q${q} ${(below / n).toFixed(4)}`);
          });
          console.log(`coverage_${f.quantiles[0]}_${f.quantiles[Q - 1]} ${intervalCoverage(w, all, f.quantiles).toFixed(4)}`);
        }
        // A period beyond the window is read from the model's lag inputs, where it has them.
        const given = seasonFlag(v.season, f.lags?.length ? Infinity : f.window);
        const far = given.find((P) => P > f.window && !f.lags!.includes(P));
        if (far !== undefined) throw new UserError(`--season: ${far} is longer than the model's window (${f.window}) and not one of its lag periods (${f.lags!.join(', ')})`);
        const seasons = mergeSeasons(f.seasons ?? [], given);
        if (seasons.length === 0) console.log('seasonal_naive none: no period detected at training and none given (--season P)');
        console.log(formatErrors(forecastErrors(w, f.targets, targetIdx, std, seasons, p, names)));
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
