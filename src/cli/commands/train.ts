import { createHash } from 'node:crypto';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CHECKPOINT_FILE, type CheckpointData } from '../../io/checkpoint.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { saveModel, type ModelMeta } from '../../io/modelDir.js';
import { cellFactories } from '../../models/cells.js';
import { SequenceModel, type Architecture } from '../../models/sequenceModel.js';
import { Adam, AdamW } from '../../optim/adam.js';
import type { Optimizer } from '../../optim/optimizer.js';
import { RMSprop } from '../../optim/rmsprop.js';
import { CosineAnnealingLR, ReduceLROnPlateau, StepLR, type LRSchedule } from '../../optim/schedule.js';
import { SGD } from '../../optim/sgd.js';
import { forecastSvg, lossCurveSvg } from '../../plot/svg.js';
import { Rng } from '../../tensor/random.js';
import { CharLMTask } from '../../train/charlmTask.js';
import { ClassifyTask } from '../../train/classifyTask.js';
import { fit, type FitResult } from '../../train/fit.js';
import { ForecastTask } from '../../train/forecastTask.js';
import { forecastErrors, formatErrors, mergeSeasons } from '../../train/baselines.js';
import { Progress, type ProgressSink } from '../../train/progress.js';
import { prepareClassify, prepareText } from '../../train/recipes.js';
import { channelCount, prepareForecastData, type PreparedForecast } from '../../data/forecastData.js';
import { fitOutputScale, zeroHead } from '../../train/forecastTask.js';
import { forecastFlags } from './forecastFlags.js';
import type { Task } from '../../train/task.js';
import type { Command } from '../command.js';
import { DataError } from '../../data/errors.js';
import { ModelFileError } from '../../io/errors.js';
import { TrainingDiverged } from '../../train/divergence.js';
import { RunError, UserError } from '../errors.js';
import { isFsError } from '../fsErrors.js';
import { checkResumeConfig, refuseFlagsOnResume, resumeCheckpoint } from './resumeConfig.js';
import { DATA_FORMATS } from '../../data/formats.js';
import { seasonFlag } from './seasonFlag.js';
import { apps } from '../apps/index.js';
import { peekFlag } from '../apps/registry.js';
import { choiceFlag, intFlag, numFlag, parseFlags, readText, requireFlag, userErrors } from './shared.js';

/** Everything a training run depends on; saved in the checkpoint so --resume repeats it exactly. */
export interface TrainConfig {
  task: 'forecast' | 'classify' | 'charlm';
  data: string;
  /** sha256 of the data file, so a resume on changed data is refused. */
  dataHash: string;
  out: string;
  columns: string[];
  targets: string[];
  window: number;
  horizon: number;
  /** forecast: seasonal periods of the seasonal-naive baseline given with --season (absent in older checkpoints). */
  seasons?: number[];
  /** forecast: 'seasonal' learns the residual on top of the seasonal-naive forecast (absent in older checkpoints). */
  residual?: 'none' | 'seasonal';
  /** forecast: lag inputs of every detected and given period >= horizon (absent in older checkpoints: off). */
  lags?: boolean;
  /** forecast: the column of timestamps (calendar features, predict's timestamps). */
  timeColumn?: string;
  /** forecast: several series, by an id column or one column each. */
  seriesColumn?: string;
  seriesColumns?: string[];
  /** forecast: quantiles predicted with the pinball loss (one of them 0.5). */
  quantiles?: number[];
  cell: string;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  dropout: number;
  embedding: number;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam' | 'adamw' | 'sgd' | 'rmsprop';
  weightDecay: number;
  momentum: number;
  clip: number;
  bptt: number;
  schedule: 'none' | 'step' | 'cosine' | 'plateau';
  valSplit: number;
  patience: number;
  seed: number;
  checkpointEvery: number;
}


/** The applications' tasks, a line each, for the help. */
const APP_TASKS = () => apps.map((a) => `                          ${a.name.padEnd(10)} ${a.summary}`).join('\n') || '                          (none installed)';

const HELP = () => `Usage: carousel train --task forecast|classify|charlm --data FILE --out DIR [options]

Trains a recurrent model and writes a model directory (weights-<hash>.safetensors with PyTorch
parameter names; model.json, written last, naming that file and holding the architecture,
normalization and vocabulary), a loss curve (loss.svg),
for forecasting a predictions-vs-truth plot (forecast.svg), and checkpoint.safetensors.

${DATA_FORMATS}

Options:
  --task T              forecast, classify or charlm (required); the applications' tasks
                        take their own options (carousel train --task T --help):
${APP_TASKS()}
  --data FILE           training data (required)
  --out DIR             output model directory (required)
  --column A,B          forecast: input columns: targets and covariates (default: the first
                        numeric column); --columns is the same
  --target A            forecast: column(s) to predict, among the inputs (default: the first input)
  --time-column T       forecast: a column of dates (2024-01-31, 2024-01-31T13:00, 2024/01/31
                        13:00, Jan 31 2024, a year): calendar inputs (sin/cos of the hour of the
                        day, day of the week, day of the year, as the spacing allows) and
                        predict's timestamps
  --series-column ID    forecast: rows belong to the series named in column ID (one model for
                        all; windows never span two series; each normalized on its own)
  --series-columns A,B  forecast: each column is one series of the same quantity (as above)
  --lags                forecast: also input the value one period before each forecast step,
                        for every detected and --season period >= horizon (a period may then
                        exceed the window: --season 365 with --window 30)
  --quantiles Q,R       forecast: predict these quantiles (pinball loss; must include 0.5, the
                        point forecast); predict writes them, evaluate reports coverage
  --window N            forecast: input window length (default 32)
  --horizon N           forecast: steps ahead to predict (default 1)
  --season P,Q          forecast: seasonal periods (each <= window, any with --lags) for the
                        seasonal-naive baseline, besides the one detected on the training part
  --residual R          forecast: none, or seasonal: learn the residual on top of the
                        seasonal-naive forecast (the first --season, else the detected
                        period) (default none)
  --cell C              recurrent cell: ${[...cellFactories.keys()].join(', ')} (default lstm)
  --hidden N            hidden units (default 64)
  --layers N            stacked layers (default 1)
  --bidirectional       both directions (forecast, classify)
  --dropout P           dropout between layers (default 0)
  --embedding N         charlm: character embedding size (default 32)
  --epochs N            passes over the data (default 10)
  --batch-size N        sequences per batch; charlm: parallel text streams (default 32)
  --lr X                learning rate (default 0.005)
  --optimizer O         adam, adamw, sgd or rmsprop (default adam)
  --weight-decay X      weight decay (default 0)
  --momentum X          sgd/rmsprop momentum (default 0.9 for sgd, 0 for rmsprop)
  --clip X              clip the gradient norm to X (default 1; 0: off)
  --bptt N              truncated BPTT length; charlm: chunk length (default 64);
                        forecast: gradients through the last N steps (default 0: full BPTT)
  --schedule S          none, step, cosine or plateau (default none)
  --val-split F         fraction held out for validation (default 0.1)
  --patience N          early stopping after N epochs without improvement (default 0: off)
  --seed N              random seed: same seed, same model (default 1)
  --checkpoint-every N  also checkpoint every N optimizer steps (default 0: each epoch)
  --resume              continue from DIR/checkpoint.safetensors with the saved settings
                        (--epochs may be raised; other settings are refused); ends
                        with the same weights as an uninterrupted run
  -h, --help            this help

Ctrl-C saves a checkpoint and exits (code 130); resume with --resume.`;

/** The flags train --resume takes; any other would be silently overridden by the checkpoint's. */
const RESUME_FLAGS = ['resume', 'out', 'data', 'epochs', 'help'];

export const train: Command = {
  name: 'train',
  get help() { return HELP(); },
  async run(argv) {
    const app = apps.find((a) => a.name === peekFlag(argv, 'task'));
    if (app) return app.train(argv);
    const { values: v } = parseFlags('train', argv, {
      task: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, column: { type: 'string' }, target: { type: 'string' },
      window: { type: 'string' }, horizon: { type: 'string' }, cell: { type: 'string' }, hidden: { type: 'string' }, layers: { type: 'string' },
      bidirectional: { type: 'boolean' }, dropout: { type: 'string' }, embedding: { type: 'string' }, epochs: { type: 'string' },
      'batch-size': { type: 'string' }, lr: { type: 'string' }, optimizer: { type: 'string' }, 'weight-decay': { type: 'string' },
      momentum: { type: 'string' }, clip: { type: 'string' }, bptt: { type: 'string' }, schedule: { type: 'string' },
      'val-split': { type: 'string' }, patience: { type: 'string' }, seed: { type: 'string' }, 'checkpoint-every': { type: 'string' },
      season: { type: 'string' }, residual: { type: 'string' }, columns: { type: 'string' }, 'time-column': { type: 'string' },
      'series-column': { type: 'string' }, 'series-columns': { type: 'string' }, lags: { type: 'boolean' }, quantiles: { type: 'string' }, resume: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP()); return 0; }
    if (v.resume) refuseFlagsOnResume(v, RESUME_FLAGS);
    return userErrors(async () => {
      const out = resolve(requireFlag('out', v.out));
      let config: TrainConfig;
      let resume: CheckpointData | null = null;
      if (v.resume) {
        const { path, checkpoint } = resumeCheckpoint(out);
        resume = checkpoint;
        const saved = checkResumeConfig(resume.meta.config, path);
        config = { ...saved, out, epochs: intFlag('epochs', v.epochs, saved.epochs) };
        if (v.data && resolve(v.data) !== saved.data) throw new UserError(`--resume: the checkpoint was trained on ${saved.data}, not ${resolve(v.data)}`);
      } else {
        config = configFromFlags(v, out);
      }
      const text = readText(config.data);
      const hash = createHash('sha256').update(text).digest('hex');
      if (resume && hash !== config.dataHash) throw new UserError(`--resume: ${config.data} changed since the checkpoint was written; resuming would not repeat the run`);
      config.dataHash = hash;
      const hint = `try a smaller --lr than ${config.lr}${config.clip ? '' : ', or --clip 1'}`;
      let r: TrainOutcome;
      try {
        r = await runTraining(config, text, { resume, progress: new Progress(process.stderr) });
      } catch (e) {
        if (e instanceof TrainingDiverged) throw new RunError(`${e.message}, so no model was saved (${hint})`);
        // A resumed run rebuilds everything from the checkpoint: a failure that no check named
        // comes from a checkpoint that does not hold what it should (--debug shows where).
        if (resume && !(e instanceof UserError || e instanceof RunError || e instanceof DataError || e instanceof ModelFileError || isFsError(e))) {
          throw new UserError(`${join(out, CHECKPOINT_FILE)}: cannot resume from this checkpoint (${(e as Error)?.message ?? e})`);
        }
        throw e;
      }
      if (r.result.stopped === 'diverged') {
        const kept = r.result.history.find((h) => h.epoch === r.result.bestEpoch);
        const score = kept?.val ? `val_loss ${kept.val.loss.toPrecision(4)}` : kept ? `loss ${kept.loss.toPrecision(4)}` : '';
        throw new RunError(`${r.result.divergence!.reason}; saved the model of epoch ${r.result.bestEpoch}${score ? ` (${score})` : ''} to ${out} instead (${hint})`);
      }
      if (r.result.stopped === 'interrupted') {
        console.error(`interrupted: checkpoint saved to ${join(out, CHECKPOINT_FILE)}; continue with: carousel train --out ${out} --resume`);
        return 130;
      }
      console.log(r.summary);
      return 0;
    });
  },
};

type Flags = Record<string, string | boolean | undefined>;

const FORECAST_FLAGS = ['column', 'columns', 'target', 'window', 'horizon', 'season', 'residual', 'time-column', 'series-column', 'series-columns', 'lags', 'quantiles'];

function configFromFlags(v: Flags, out: string): TrainConfig {
  const s = (k: string) => v[k] as string | undefined;
  const task = choiceFlag('task', s('task'), ['forecast', 'classify', 'charlm'] as const);
  const data = resolve(requireFlag('data', s('data')));
  const cell = choiceFlag('cell', s('cell'), [...cellFactories.keys()], 'lstm');
  const optimizer = choiceFlag('optimizer', s('optimizer'), ['adam', 'adamw', 'sgd', 'rmsprop'] as const, 'adam');
  const list = (x: string | undefined) => (x ? x.split(',').map((c) => c.trim()).filter(Boolean) : []);
  if (task !== 'forecast') for (const k of FORECAST_FLAGS) if (v[k] !== undefined) throw new UserError(`--${k} applies to --task forecast only`);
  if (task !== 'charlm' && v.embedding !== undefined) throw new UserError('--embedding applies to --task charlm only');
  if (task === 'charlm' && v.bidirectional) throw new UserError('--bidirectional: a character language model predicts the next character and cannot look ahead');
  if (task === 'classify' && v.bptt !== undefined) throw new UserError('--bptt applies to forecast (fixed windows) and charlm; classification uses full BPTT over variable lengths');
  if (v.column !== undefined && v.columns !== undefined) throw new UserError('--column and --columns are the same option: give one');
  const window = intFlag('window', s('window'), 32);
  return {
    task, data, dataHash: '', out,
    columns: list(s('column') ?? s('columns')), targets: list(s('target')),
    window, horizon: intFlag('horizon', s('horizon'), 1),
    seasons: seasonFlag(s('season'), v.lags ? Infinity : window),
    residual: choiceFlag('residual', s('residual'), ['none', 'seasonal'] as const, 'none'),
    ...forecastFlags(v),
    cell, hidden: intFlag('hidden', s('hidden'), 64), layers: intFlag('layers', s('layers'), 1),
    bidirectional: Boolean(v.bidirectional), dropout: numFlag('dropout', s('dropout'), 0, 0, 0.99),
    embedding: intFlag('embedding', s('embedding'), 32),
    epochs: intFlag('epochs', s('epochs'), 10), batchSize: intFlag('batch-size', s('batch-size'), 32),
    lr: numFlag('lr', s('lr'), 0.005, 0), optimizer,
    weightDecay: numFlag('weight-decay', s('weight-decay'), 0, 0),
    momentum: numFlag('momentum', s('momentum'), optimizer === 'sgd' ? 0.9 : 0, 0, 1),
    clip: numFlag('clip', s('clip'), 1, 0), bptt: intFlag('bptt', s('bptt'), task === 'charlm' ? 64 : 0, task === 'charlm' ? 1 : 0),
    schedule: choiceFlag('schedule', s('schedule'), ['none', 'step', 'cosine', 'plateau'] as const, 'none'),
    valSplit: numFlag('val-split', s('val-split'), 0.1, 0, 0.9), patience: intFlag('patience', s('patience'), 0, 0),
    seed: intFlag('seed', s('seed'), 1, 0), checkpointEvery: intFlag('checkpoint-every', s('checkpoint-every'), 0, 0),
  };
}

export function makeOptimizer(c: TrainConfig, m: SequenceModel): Optimizer {
  const ps = m.parameters();
  switch (c.optimizer) {
    case 'adam': return new Adam(ps, { lr: c.lr, weightDecay: c.weightDecay });
    case 'adamw': return new AdamW(ps, { lr: c.lr, weightDecay: c.weightDecay });
    case 'sgd': return new SGD(ps, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
    case 'rmsprop': return new RMSprop(ps, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  }
}

export function makeSchedule(c: TrainConfig, opt: Optimizer): LRSchedule | null {
  switch (c.schedule) {
    case 'none': return null;
    case 'step': return new StepLR(opt, Math.max(1, Math.round(c.epochs / 3)), 0.3);
    case 'cosine': return new CosineAnnealingLR(opt, c.epochs, c.lr * 0.01);
    case 'plateau': return new ReduceLROnPlateau(opt, { factor: 0.5, patience: 2 });
  }
}

export interface TrainOutcome {
  model: SequenceModel;
  task: Task;
  result: FitResult;
  meta: Omit<ModelMeta, 'format' | 'version' | 'architecture'>;
  summary: string;
}

/** The model of an architecture made from flags: a combination the cell refuses is the user's error. */
function buildModel(arch: Architecture, rng: Rng): SequenceModel {
  try { return new SequenceModel(arch, { rng }); } catch (e) {
    // An allocation that fails is a size asked for by the flags, not a bug.
    if (e instanceof RangeError) throw new UserError(`the model is too large to allocate here (--hidden ${arch.hiddenSize}, --layers ${arch.numLayers}, input size ${arch.inputSize}): ${e.message}`);
    throw new UserError((e as Error).message);
  }
}

/** Build data, model and optimizer from a config; fit; write the model directory and plots. */
export async function runTraining(c: TrainConfig, text: string, o: { resume?: CheckpointData | null; progress?: ProgressSink } = {}): Promise<TrainOutcome> {
  const rng = new Rng(c.seed);
  const progress = o.progress ?? new Progress(process.stderr);
  const base = { cell: c.cell, hiddenSize: c.hidden, numLayers: c.layers, bidirectional: c.bidirectional, dropout: c.dropout };
  let model: SequenceModel, task: Task, meta: TrainOutcome['meta'];
  let items = '';
  let seasonNote = '';
  let forecastData: PreparedForecast | null = null;
  if (c.task === 'forecast') {
    const d = prepareForecastData(text, c.data, {
      columns: c.columns, targets: c.targets, window: c.window, horizon: c.horizon, valFraction: c.valSplit, timeColumn: c.timeColumn,
      layout: c.seriesColumn !== undefined ? { column: c.seriesColumn } : c.seriesColumns ? { columns: c.seriesColumns } : undefined,
      seasons: c.seasons ?? [], lags: c.lags ?? false,
    });
    forecastData = d;
    if (c.bptt >= c.window) throw new UserError(`--bptt ${c.bptt} must be shorter than --window ${c.window} (0 for full BPTT)`);
    const K = d.targets.length, Q = c.quantiles?.length ?? 0;
    const arch: Architecture = { task: 'forecast', ...base, inputSize: channelCount(d.plan, K), outputSize: Math.max(1, Q) * c.horizon * K };
    model = buildModel(arch, rng);
    // The seasonal-naive baseline's periods: detected on the training rows only, then --season's
    // (a period beyond the window only where a lag input carries it).
    const detected = d.detected;
    const seasons = mergeSeasons(detected, c.seasons ?? []).filter((P) => P <= c.window || d.plan.lags.includes(P));
    const residualSeason = c.residual === 'seasonal' ? (c.seasons?.[0] ?? mergeSeasons(detected)[0]) : undefined;
    if (c.residual === 'seasonal' && residualSeason === undefined) throw new UserError(`--residual seasonal: no seasonal period was detected on the training part of ${c.data}; give one with --season P`);
    if (residualSeason !== undefined && residualSeason > c.window && !d.plan.lags.includes(residualSeason)) throw new UserError(`--residual seasonal: period ${residualSeason} is longer than --window ${c.window}; give --lags to read it from the lag inputs`);
    const residual = residualSeason ? { period: residualSeason, targetCols: d.targetIdx } : null;
    // A residual is small next to the series: the network learns it at unit size (plain models as before, in normalized units).
    const outputScale = residual ? fitOutputScale(d.train, residual) : undefined;
    // A residual model starts as seasonal-naive exactly (a zero head), and learns only what improves on it.
    if (residual && !o.resume) zeroHead(model);
    task = new ForecastTask(model, d.train, d.val, c.batchSize, d.targetIdx.map((k) => d.series[0].norm.std[k]), c.bptt, residual, { ...(outputScale ? { outputScale } : {}), ...(Q ? { quantiles: c.quantiles } : {}) });
    seasonNote = `seasonal period (autocorrelation of the differenced training part, lags 2..${c.window}): ${detected.map((p, k) => `${d.targets[k]} ${p ?? 'none found'}`).join(', ')}${c.seasons?.length ? `; --season ${c.seasons.join(',')}` : ''}${residualSeason ? `; the model learns the residual over seasonal-naive ${residualSeason}` : ''}`;
    const inputs = [d.plan.lags.length ? `lag inputs at ${d.plan.lags.join(', ')}` : '', d.time?.cycles.length ? `calendar inputs (${d.time.cycles.join(', ')})` : ''].filter(Boolean);
    if (inputs.length) seasonNote += `; ${inputs.join(', ')}`;
    meta = {
      forecast: {
        features: d.features, targets: d.targets, window: c.window, horizon: c.horizon, normalization: d.series[0].norm.toJSON(),
        ...(seasons.length ? { seasons } : {}), ...(residualSeason ? { residualSeason } : {}), ...(outputScale ? { outputScale } : {}),
        ...(d.plan.lags.length ? { lags: d.plan.lags, lagScale: d.plan.lagScale } : {}), ...(d.time ? { time: d.time } : {}),
        ...(c.seriesColumn !== undefined || c.seriesColumns ? { series: { ...(c.seriesColumn !== undefined ? { column: c.seriesColumn } : { columns: c.seriesColumns }), names: d.series.map((x) => x.name), normalization: d.series.map((x) => x.norm.toJSON()) } } : {}),
        ...(Q ? { quantiles: c.quantiles } : {}),
      },
    };
    items = `${d.train.n} training windows, ${d.val?.n ?? 0} validation windows${d.series.length > 1 ? ` of ${d.series.length} series` : ''}`;
  } else if (c.task === 'classify') {
    const d = prepareClassify(text, c.data, c.valSplit, new Rng(c.seed ^ 0x5bd1e995));
    const arch: Architecture = { task: 'classify', ...base, inputSize: d.ds.features, outputSize: d.ds.labels.length };
    model = buildModel(arch, rng);
    task = new ClassifyTask(model, d.train, d.val, d.ds.features, c.batchSize);
    meta = { classify: { labels: d.ds.labels, features: d.ds.features } };
    items = `${d.train.length} training sequences, ${d.val.length} validation, ${d.ds.labels.length} classes`;
  } else {
    const d = prepareText(text, c.valSplit, new Rng(c.seed ^ 0x2545f491));
    const arch: Architecture = { task: 'charlm', ...base, inputSize: c.embedding, outputSize: d.vocab.size, vocabSize: d.vocab.size };
    model = buildModel(arch, rng);
    task = new CharLMTask(model, d.train, d.val, c.batchSize, c.bptt);
    meta = { charlm: { vocabulary: d.vocab.toJSON(), unknown: d.vocab.unknown! } };
    items = `${d.train.length} training characters, ${d.val.length} validation, vocabulary ${d.vocab.size}`;
  }
  const opt = makeOptimizer(c, model);
  const schedule = makeSchedule(c, opt);
  mkdirSync(c.out, { recursive: true });
  accessSync(c.out, constants.W_OK); // a read-only output folder fails now, not after the first epoch
  const result = await fit(task, {
    epochs: c.epochs, optimizer: opt, schedule, clipNorm: c.clip, rng, progress,
    announce: `${o.resume ? 'resuming' : 'training'} ${c.task} ${c.cell.toUpperCase()} (${model.numParameters()} parameters) on ${items}`,
    earlyStopping: c.patience > 0 ? { patience: c.patience, restoreBest: true } : null,
    checkpoint: { path: join(c.out, CHECKPOINT_FILE), everySteps: c.checkpointEvery, config: c },
    resume: o.resume ?? null,
  });
  if (result.stopped === 'interrupted') return { model, task, result, meta, summary: '' };
  // A diverged run keeps the best earlier epoch's model: record that epoch's numbers.
  const last = result.stopped === 'diverged' ? result.history.find((h) => h.epoch === result.bestEpoch) : result.history[result.history.length - 1];
  meta.training = {
    epochs: result.history.length, steps: result.steps, stopped: result.stopped, seed: c.seed, optimizer: c.optimizer, lr: c.lr,
    loss: last?.loss, val: last?.val ?? null, bestEpoch: result.bestEpoch, data: c.data,
  };
  await saveModel(c.out, model, meta);
  writeFileAtomic(join(c.out, 'loss.svg'), lossCurveSvg(result.history, `${c.task}: ${c.cell.toUpperCase()} training loss`));
  // Worse than a model that knows nothing (mean level, uniform distribution): it has not learned.
  const trivial = task.trivialLoss?.();
  if (last?.val && trivial !== undefined && last.val.loss > trivial) {
    progress.message(`warning: validation loss ${last.val.loss.toPrecision(4)} is higher than that of a model that knows nothing (${trivial.toPrecision(4)}): the model has not learned; try a smaller --lr than ${c.lr}, more epochs or more data`);
  }
  const lines = [`saved model to ${c.out} (${result.stopped === 'early' ? `early stop, best epoch ${result.bestEpoch}` : `${result.history.length} epochs`})`];
  if (last?.val) lines.push(`validation: loss ${last.val.loss.toFixed(4)}${Object.entries(last.val.metrics).map(([k, x]) => `, ${k} ${x.toFixed(4)}`).join('')}`);
  if (task instanceof ForecastTask && meta.forecast) {
    const f = meta.forecast;
    const w = task.val && task.val.n > 0 ? task.val : task.train;
    const i = w.n - 1; // the latest window
    const all = await task.predictAll(w);
    const pred = all.subarray(i * c.horizon * f.targets.length, (i + 1) * c.horizon * f.targets.length);
    const k0 = f.features.indexOf(f.targets[0]), K = f.targets.length;
    const norm = forecastData!.series[w.series?.[i] ?? 0].norm; // the latest window's series
    const inv = (zv: number) => norm.inverse(zv, k0);
    const anchor = w.anchor[i * K];
    const hist: [number, number][] = [], truth: [number, number][] = [], fc: [number, number][] = [];
    for (let t = 0; t < c.window; t++) hist.push([t - c.window + 1, inv(w.x[(i * c.window + t) * w.features + k0])]);
    for (let h = 0; h < c.horizon; h++) {
      truth.push([h + 1, inv(w.y[i * c.horizon * K + h * K] + anchor)]);
      fc.push([h + 1, inv(pred[h * K] + anchor)]);
    }
    truth.unshift(hist[hist.length - 1]); fc.unshift(hist[hist.length - 1]);
    writeFileAtomic(join(c.out, 'forecast.svg'), forecastSvg({ title: `${f.targets[0]}: forecast of the latest ${w === task.val ? 'validation' : 'training'} window`, history: hist, truth, forecast: fc, yLabel: f.targets[0], xLabel: 'steps from the forecast origin' }));
    lines.push(seasonNote);
    const rows = forecastErrors(w, f.targets, f.targets.map((t) => f.features.indexOf(t)), f.targets.map((t) => f.normalization.std[f.features.indexOf(t)]), f.seasons ?? [], all, forecastData!.series.map((x) => x.name));
    lines.push(`model and baselines on the ${w.n} ${w === task.val ? 'validation' : 'training'} windows (MAE, RMSE in the data's units):`, formatErrors(rows));
    lines.push(`plots: ${join(c.out, 'loss.svg')}, ${join(c.out, 'forecast.svg')}`);
  } else {
    lines.push(`plot: ${join(c.out, 'loss.svg')}`);
  }
  return { model, task, result, meta, summary: lines.join('\n') };
}
