import { refuseFlagsOnResume, resumeCheckpoint, trainReported } from '../cli/commands/resumeConfig.js';
import { join, resolve } from 'node:path';
import type { App } from '../cli/apps/registry.js';
import { choiceFlag, intFlag, numFlag, parseFlags, requireFlag, userErrors } from '../cli/commands/shared.js';
import { UserError } from '../cli/errors.js';
import { loadAppWeights, readAppModel } from '../io/appModel.js';
import type { CheckpointData } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Rng } from '../tensor/random.js';
import { Progress } from '../train/progress.js';
import { checkModelConfig, checkTrainConfig, type NowcastTrainConfig } from './config.js';
import { buildNowcastModel, crossEntropyTable, NOWCAST_APP, readFrames, stripRows, trainNowcast } from './run.js';
import { stripPng } from './strip.js';
import { NowcastTask, nowcastSamples } from './task.js';

const FORMAT = `Data: a folder with one sub-folder per sequence, each holding its frames as grayscale PNG
files named by number in time order (000.png, 001.png, ...), all the same size (square, a
multiple of --patch). Intensities are the 8-bit values / 255 (16-bit / 65535); colour frames
are converted to luminance and alpha is ignored, with a note. A sequence of input + horizon
frames is one example; a longer one gives one example per input + horizon frames.
carousel data moving-digits makes such a folder.`;

const TRAIN_HELP = `Usage: carousel train --task nowcast --data DIR --out DIR [options]

Precipitation-nowcasting-style frame prediction (Shi et al. 2015): an encoder of stacked
ConvLSTMs reads --input frames, a forecaster started from its states predicts the next
--horizon frames, trained with the per-pixel binary cross-entropy (summed per frame). The
frames are cut into patch x patch squares first (64x64 into a 16x16 grid of 16 channels with
--patch 4, as the paper does for Moving MNIST). Writes the model directory (model.json,
weights), loss.svg, strip.png (input, true and predicted frames of the first validation
sequence) and checkpoint.safetensors, and prints the per-frame cross-entropy.

${FORMAT}

Options:
  --data DIR          training sequences (required)
  --val DIR           validation sequences (the per-frame cross-entropy is reported on them)
  --out DIR           output model directory (required)
  --arch A            convlstm (default) or fc-lstm (the fully connected baseline: frames
                      flattened, an LSTM encoder and forecaster of --hidden units)
  --input N           frames read (default 10)
  --horizon N         frames predicted (default 10)
  --size N            frame side in pixels (default: the data's)
  --patch N           patch side (default 4)
  --hidden N          ConvLSTM hidden channels per layer, FC-LSTM units (default 64)
  --layers N          stacked layers in the encoder and in the forecaster (default 2)
  --kernel N          ConvLSTM kernel, odd (default 5)
  --epochs N          passes over the data (default 10)
  --batch-size N      sequences per batch (default 8)
  --lr X              Adam learning rate (default 0.001)
  --clip X            clip the gradient norm to X (default 0: off)
  --seed N            random seed: same seed, same model (default 1)
  --resume            continue from DIR/checkpoint.safetensors with its settings (--epochs may
                      be raised); ends with the same weights as an uninterrupted run
  -h, --help          this help`;

const EVAL_HELP = `Usage: carousel evaluate --model DIR --data DIR [--strip FILE] [--batch-size N]

Per-frame cross-entropy of a nowcast model (train --task nowcast) on a folder of sequences:
for each of the predicted frames, the binary cross-entropy summed over its pixels, averaged
over the sequences; then the mean over the frames (the measure of Shi et al. 2015, Table 1).
--strip FILE also writes the first sequence's input, true and predicted frames as a PNG.

${FORMAT}`;

const RESUME_FLAGS = ['resume', 'out', 'data', 'val', 'epochs', 'help', 'task'];

export const nowcastApp: App = {
  name: NOWCAST_APP,
  summary: 'frame prediction with an encoder-forecaster of ConvLSTMs (Shi et al. 2015)',
  async train(argv) {
    const { values: v } = parseFlags('train --task nowcast', argv, {
      task: { type: 'string' }, data: { type: 'string' }, val: { type: 'string' }, out: { type: 'string' }, arch: { type: 'string' },
      input: { type: 'string' }, horizon: { type: 'string' }, size: { type: 'string' }, patch: { type: 'string' }, hidden: { type: 'string' },
      layers: { type: 'string' }, kernel: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' },
      clip: { type: 'string' }, seed: { type: 'string' }, resume: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(TRAIN_HELP); return 0; }
    if (v.resume) refuseFlagsOnResume(v, RESUME_FLAGS);
    return userErrors(async () => {
      const out = resolve(requireFlag('out', v.out));
      const progress = new Progress(process.stderr);
      let c: NowcastTrainConfig, resume: CheckpointData | null = null;
      if (v.resume) {
        const { path, checkpoint } = resumeCheckpoint(out);
        resume = checkpoint;
        const saved = checkTrainConfig(resume.meta.config, path);
        for (const [flag, was] of [['data', saved.data], ['val', saved.val]] as const) {
          const given = v[flag];
          if (given !== undefined && resolve(given) !== was) throw new UserError(`--resume: the checkpoint was trained with --${flag} ${was ?? '(none)'}, not ${resolve(given)}`);
        }
        c = { ...saved, out, epochs: intFlag('epochs', v.epochs, saved.epochs) };
      } else {
        const kernel = intFlag('kernel', v.kernel, 5);
        if (kernel % 2 !== 1) throw new UserError(`--kernel: expected an odd size ('same' padding needs one), got ${kernel}`);
        c = {
          arch: choiceFlag('arch', v.arch, ['convlstm', 'fc-lstm'] as const, 'convlstm'),
          size: 0, patch: intFlag('patch', v.patch, 4), input: intFlag('input', v.input, 10), horizon: intFlag('horizon', v.horizon, 10),
          hidden: intFlag('hidden', v.hidden, 64), layers: intFlag('layers', v.layers, 2), kernel,
          data: resolve(requireFlag('data', v.data)), val: v.val ? resolve(v.val) : null, dataHash: '', valHash: null, out,
          epochs: intFlag('epochs', v.epochs, 10), batchSize: intFlag('batch-size', v['batch-size'], 8),
          lr: numFlag('lr', v.lr, 0.001, 0), clip: numFlag('clip', v.clip, 0, 0), seed: intFlag('seed', v.seed, 1, 0),
        };
      }
      // The frame size is the data's (checked against --size when given, and against the checkpoint's on resume).
      const trainSet = readFrames(c.data, c, progress);
      const { width: W, height: H } = trainSet;
      if (!resume && v.size !== undefined && intFlag('size', v.size, 64) !== W) throw new UserError(`--size ${v.size}: the frames of ${c.data} are ${W}x${H}`);
      if (W !== H || W % c.patch !== 0) throw new UserError(`${c.data}: frames are ${W}x${H}; expected square frames whose side is a multiple of --patch ${c.patch}`);
      if (resume && W !== c.size) throw new UserError(`--resume: the checkpoint was trained on ${c.size}x${c.size} frames, ${c.data} has ${W}x${H}`);
      c.size = W;
      const valSet = c.val ? readFrames(c.val, c, progress) : null;
      if (resume && (trainSet.hash !== c.dataHash || (valSet?.hash ?? null) !== c.valHash)) {
        throw new UserError(`--resume: the frames in ${trainSet.hash !== c.dataHash ? c.data : c.val} changed since the checkpoint was written; resuming would not repeat the run`);
      }
      c.dataHash = trainSet.hash; c.valHash = valSet?.hash ?? null;
      const data = { train: nowcastSamples(trainSet, c), val: valSet ? nowcastSamples(valSet, c) : null };
      const r = await trainReported('nowcast', out, `try a smaller --lr than ${c.lr}, or --clip 1`, () => trainNowcast(c, data, { resume, progress }));
      if (!r) return 130;
      const name = c.arch === 'convlstm' ? 'ConvLSTM' : 'FC-LSTM';
      console.log(`saved model to ${out} (${r.result.history.length} epochs, ${r.seconds.toFixed(0)} s${r.result.stopped === 'diverged' ? `; diverged, kept epoch ${r.result.bestEpoch}` : ''})`);
      console.log(`per-frame cross-entropy on the ${r.evaluatedOn} sequences (summed over the ${c.size * c.size} pixels of a frame):`);
      console.log(crossEntropyTable([{ name, perFrame: r.evaluation.perFrame }]));
      console.log(`plots: ${join(out, 'loss.svg')}, ${join(out, 'strip.png')}`);
      return 0;
    });
  },

  async evaluate(argv) {
    const { values: v } = parseFlags('evaluate', argv, {
      model: { type: 'string' }, data: { type: 'string' }, strip: { type: 'string' }, 'batch-size': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(EVAL_HELP); return 0; }
    return userErrors(async () => {
      const dir = resolve(requireFlag('model', v.model)), data = resolve(requireFlag('data', v.data));
      const { meta, tensors, weightsFile } = readAppModel(dir, NOWCAST_APP);
      const c = checkModelConfig(meta.config, join(dir, 'model.json'));
      const model = buildNowcastModel(c, new Rng(0));
      loadAppWeights(model, tensors, weightsFile);
      const set = readFrames(data, c, new Progress(process.stderr));
      const samples = nowcastSamples(set, c);
      const task = new NowcastTask(model, samples, null, c, intFlag('batch-size', v['batch-size'], 8));
      const e = await task.evaluate(samples, [0]);
      console.log(`per-frame cross-entropy of ${dir} on ${samples.length} sequences of ${set.dir} (summed over the ${c.size * c.size} pixels of a frame, frames ${c.input + 1}-${c.input + c.horizon} after ${c.input} in):`);
      console.log(crossEntropyTable([{ name: c.arch === 'convlstm' ? 'ConvLSTM' : 'FC-LSTM', perFrame: e.perFrame }]));
      if (v.strip) {
        writeFileAtomic(resolve(v.strip), stripPng(stripRows(c, samples[0], [{ label: c.arch === 'convlstm' ? 'ConvLSTM' : 'FC-LSTM', probs: e.predictions.get(0)! }]), c.size));
        console.log(`strip: ${resolve(v.strip)}`);
      }
      return 0;
    });
  },
};
