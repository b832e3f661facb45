import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { saveAppModel } from '../io/appModel.js';
import { writeFileAtomic } from '../io/atomic.js';
import { CHECKPOINT_FILE, type CheckpointData } from '../io/checkpoint.js';
import { Adam } from '../optim/adam.js';
import { lossCurveSvg } from '../plot/svg.js';
import { Rng } from '../tensor/random.js';
import { fit, type FitResult } from '../train/fit.js';
import { silentProgress, type ProgressSink } from '../train/progress.js';
import { modelConfig, type NowcastModelConfig, type NowcastTrainConfig } from './config.js';
import { FcLstm } from './fcLstm.js';
import { readFrameSet, type FrameSet } from './frames.js';
import { EncoderForecaster, type NowcastModel } from './model.js';
import { fromPatches } from './patches.js';
import { stripPng, type StripRow } from './strip.js';
import { channelsOf, gridOf, NowcastTask, type FrameEvaluation, type NowcastSample } from './task.js';

export const NOWCAST_APP = 'nowcast';

/** The model a configuration describes, initialised from rng. */
export function buildNowcastModel(c: NowcastModelConfig, rng: Rng): NowcastModel {
  const shape = { channels: channelsOf(c), grid: gridOf(c), hidden: c.hidden, layers: c.layers, horizon: c.horizon };
  return c.arch === 'convlstm' ? new EncoderForecaster({ ...shape, kernel: c.kernel }, { rng }) : new FcLstm(shape, { rng });
}

/** A frames folder read for a model of `input` + `horizon` frames; its notes said once. */
export function readFrames(dir: string, c: { input: number; horizon: number }, progress: ProgressSink): FrameSet {
  const set = readFrameSet(dir, c.input + c.horizon, `--input ${c.input} + --horizon ${c.horizon}`);
  for (const n of set.notes) progress.message(`note: ${n}`);
  return set;
}

export interface NowcastOutcome {
  model: NowcastModel;
  task: NowcastTask;
  result: FitResult;
  /** Per-frame cross-entropy on the validation examples (else the training ones), and which. */
  evaluation: FrameEvaluation;
  evaluatedOn: 'validation' | 'training';
  seconds: number;
}

/**
 * Train a nowcasting model as configured (fit.ts: checkpoints each epoch, Ctrl-C, --resume),
 * then write the model directory (saveAppModel), loss.svg and strip.png (the first evaluated
 * example: its input and true frames, and the predicted ones under them).
 */
export async function trainNowcast(c: NowcastTrainConfig, data: { train: NowcastSample[]; val: NowcastSample[] | null },
  o: { resume?: CheckpointData | null; progress?: ProgressSink } = {}): Promise<NowcastOutcome> {
  const progress = o.progress ?? silentProgress;
  const rng = new Rng(c.seed);
  const model = buildNowcastModel(c, rng);
  const task = new NowcastTask(model, data.train, data.val, c, c.batchSize);
  if (!o.resume) startAtMeanIntensity(model, data.train, c);
  mkdirSync(c.out, { recursive: true });
  accessSync(c.out, constants.W_OK); // a read-only output folder fails now, not after the first epoch
  const t0 = Date.now();
  const name = c.arch === 'convlstm' ? `ConvLSTM (${c.layers} x ${c.hidden} channels, kernel ${c.kernel})` : `FC-LSTM (${c.layers} x ${c.hidden} units)`;
  const result = await fit(task, {
    epochs: c.epochs, optimizer: new Adam(model.parameters(), { lr: c.lr }), clipNorm: c.clip, rng, progress,
    announce: `${o.resume ? 'resuming' : 'training'} ${name}, ${model.numParameters()} parameters, on ${data.train.length} training examples${data.val ? `, ${data.val.length} validation` : ''} (${c.input} frames in, ${c.horizon} out, ${c.size}x${c.size} as ${gridOf(c)}x${gridOf(c)}x${channelsOf(c)} patches)`,
    checkpoint: { path: join(c.out, CHECKPOINT_FILE), config: c },
    resume: o.resume ?? null,
  });
  const seconds = (Date.now() - t0) / 1000;
  const on = data.val?.length ? data.val : data.train;
  const evaluation = await task.evaluate(on, [0]);
  const outcome: NowcastOutcome = { model, task, result, evaluation, evaluatedOn: on === data.val ? 'validation' : 'training', seconds };
  if (result.stopped === 'interrupted') return outcome;
  const last = result.stopped === 'diverged' ? result.history.find((h) => h.epoch === result.bestEpoch) : result.history[result.history.length - 1];
  await saveAppModel(c.out, NOWCAST_APP, modelConfig(c), model, {
    epochs: result.history.length, steps: result.steps, stopped: result.stopped, seed: c.seed, lr: c.lr, seconds,
    loss: last?.loss, val: last?.val ?? null, data: c.data, crossEntropyPerFrame: evaluation.perFrame, evaluatedOn: outcome.evaluatedOn,
  });
  writeFileAtomic(join(c.out, 'loss.svg'), lossCurveSvg(result.history, `nowcast: ${c.arch === 'convlstm' ? 'ConvLSTM' : 'FC-LSTM'} per-frame cross-entropy`));
  writeFileAtomic(join(c.out, 'strip.png'), stripPng(stripRows(c, on[0], [{ label: c.arch === 'convlstm' ? 'ConvLSTM' : 'FC-LSTM', probs: evaluation.predictions.get(0)! }]), c.size));
  return outcome;
}

/**
 * Start the output layer's bias at the logit of the training frames' mean intensity: the untrained
 * model then predicts the average frame's level (a per-frame cross-entropy near the trivial one)
 * instead of 0.5 everywhere, and training spends its first steps on the motion, not on the level.
 */
export function startAtMeanIntensity(model: NowcastModel, train: readonly NowcastSample[], c: { input: number; horizon: number }): void {
  let sum = 0, n = 0;
  for (const q of train) {
    const from = (c.input * q.data.length) / (c.input + c.horizon); // the future frames
    for (let i = from; i < q.data.length; i++) sum += q.data[i];
    n += q.data.length - from;
  }
  const p = Math.min(1 - 1e-4, Math.max(1e-4, sum / n));
  const bias = model.parameter('head.bias');
  model.loadStateDict(new Map([['head.bias', { shape: bias.shape, data: new Array<number>(bias.size).fill(Math.log(p / (1 - p))) }]]), false);
}

/** An example's input and true frames (first row) and each model's predicted frames under the true ones. */
export function stripRows(c: NowcastModelConfig, example: NowcastSample, predicted: { label: string; probs: Float32Array }[]): StripRow[] {
  const frames = fromPatches(example.data, c.input + c.horizon, c);
  return [
    { label: 'input, truth', frames, count: c.input + c.horizon, column: 0 },
    ...predicted.map((p) => ({ label: p.label, frames: fromPatches(p.probs, c.horizon, c), count: c.horizon, column: c.input })),
  ];
}

/** The per-frame cross-entropy table: a row per predicted frame, a column per model, then the mean. */
export function crossEntropyTable(columns: { name: string; perFrame: number[] }[]): string {
  const K = columns[0].perFrame.length, w = Math.max(10, ...columns.map((c) => c.name.length));
  const row = (label: string, cells: number[]) => `${label.padEnd(6)}${cells.map((v) => v.toFixed(1).padStart(w + 2)).join('')}`;
  const lines = [`${'frame'.padEnd(6)}${columns.map((c) => c.name.padStart(w + 2)).join('')}`];
  for (let k = 0; k < K; k++) lines.push(row(String(k + 1), columns.map((c) => c.perFrame[k])));
  lines.push(row('mean', columns.map((c) => c.perFrame.reduce((a, b) => a + b, 0) / K)));
  return lines.join('\n');
}
