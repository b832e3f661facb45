import { join, resolve } from 'node:path';
import type { SubCommand } from '../cli/apps/registry.js';
import { parseFlags, userErrors } from '../cli/commands/shared.js';
import { writeFileAtomic } from '../io/atomic.js';
import { Rng } from '../tensor/random.js';
import { Progress } from '../train/progress.js';
import type { NowcastTrainConfig } from './config.js';
import { writeMovingDigits } from './dataCommand.js';
import { fcHiddenFor } from './fcLstm.js';
import { buildNowcastModel, crossEntropyTable, readFrames, stripRows, trainNowcast } from './run.js';
import { stripPng } from './strip.js';
import { channelsOf, gridOf, nowcastSamples } from './task.js';

/** The demo's sizes: the full run (a few minutes on 2 cores) and --quick (seconds, for tests). */
const FULL = { train: 512, val: 64, size: 64, patch: 4, input: 10, horizon: 10, hidden: 16, layers: 1, kernel: 5, epochs: 3, batchSize: 8, lr: 0.004, wide: 256 };
const QUICK = { train: 8, val: 4, size: 32, patch: 4, input: 4, horizon: 4, hidden: 4, layers: 1, kernel: 3, epochs: 1, batchSize: 4, lr: 0.002, wide: 16 };

const HELP = `Usage: carousel demo nowcast [--out DIR] [--quick]

Shi et al. (2015) on a small scale: renders moving digits (carousel data moving-digits:
${FULL.train} training and ${FULL.val} validation sequences of ${FULL.size}x${FULL.size} frames, ${FULL.input} in, ${FULL.horizon} out), trains an
encoder-forecaster ConvLSTM (${FULL.layers} layer of ${FULL.hidden} channels, kernel ${FULL.kernel}, on ${FULL.patch}x${FULL.patch} patches), a
fully connected LSTM of about the same number of parameters, and one of ${FULL.wide} units (many
more parameters, as the paper's FC-LSTM had), ${FULL.epochs} epochs each, then prints
their per-frame cross-entropy on the validation sequences side by side (the paper's Table 1
measure) and writes DIR/strip.png: a validation sequence's input and true frames, and the
frames each model predicts. Each model's directory (DIR/convlstm, DIR/fc-lstm, DIR/fc-lstm-wide) can be given to
carousel evaluate --model.

Options:
  --out DIR    output folder (default ./nowcast-demo)
  --quick      tiny frames and models, seconds instead of minutes (for tests)
  -h, --help   this help`;

export const nowcastDemo: SubCommand = {
  name: 'nowcast',
  summary: 'ConvLSTM vs fully connected LSTM on moving digits (Shi et al. 2015, small)',
  async run(argv) {
    const { values: v } = parseFlags('demo nowcast', argv, { out: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (v.help) { console.log(HELP); return 0; }
    return userErrors(async () => {
      const out = resolve(v.out ?? 'nowcast-demo'), s = v.quick ? QUICK : FULL;
      const progress = new Progress(process.stderr);
      const frames = s.input + s.horizon;
      const dirs = { train: join(out, 'data', 'train'), val: join(out, 'data', 'val') };
      writeMovingDigits(dirs.train, { count: s.train, seed: 1, frames, size: s.size });
      writeMovingDigits(dirs.val, { count: s.val, seed: 2, frames, size: s.size });
      const trainSet = readFrames(dirs.train, s, progress), valSet = readFrames(dirs.val, s, progress);
      const shape = { size: s.size, patch: s.patch, input: s.input, horizon: s.horizon, layers: s.layers, kernel: s.kernel };
      const data = { train: nowcastSamples(trainSet, shape), val: nowcastSamples(valSet, shape) };
      const base = { ...shape, data: dirs.train, val: dirs.val, dataHash: trainSet.hash, valHash: valSet.hash, epochs: s.epochs, batchSize: s.batchSize, lr: s.lr, clip: 0, seed: 1 };
      const conv: NowcastTrainConfig = { ...base, arch: 'convlstm', hidden: s.hidden, out: join(out, 'convlstm') };
      // The FC-LSTM's units: as many parameters as the ConvLSTM, or as close as whole units get.
      const params = buildNowcastModel(conv, new Rng(0)).numParameters();
      const fc: NowcastTrainConfig = { ...base, arch: 'fc-lstm', hidden: fcHiddenFor(params, channelsOf(s) * gridOf(s) ** 2, s.layers), out: join(out, 'fc-lstm') };
      // The paper's FC-LSTM had 19 times the parameters of its ConvLSTM: a wide one as well.
      const wide: NowcastTrainConfig = { ...fc, hidden: s.wide, out: join(out, 'fc-lstm-wide') };
      const runs = [];
      for (const c of [conv, fc, wide]) runs.push({ c, r: await trainNowcast(c, data, { progress }) });
      if (runs.some(({ r }) => r.result.stopped === 'interrupted')) return 130;
      const named = runs.map(({ c, r }) => ({ name: c.arch === 'convlstm' ? 'ConvLSTM' : `FC-LSTM-${c.hidden}`, r }));
      console.log(`per-frame cross-entropy on ${data.val.length} validation sequences (summed over the ${s.size * s.size} pixels of a frame; lower is better):`);
      console.log(crossEntropyTable(named.map(({ name, r }) => ({ name, perFrame: r.evaluation.perFrame }))));
      for (const { name, r } of named) console.log(`${name}: ${r.model.numParameters()} parameters, trained ${r.seconds.toFixed(0)} s (${r.result.steps} steps)`);
      const strip = join(out, 'strip.png');
      writeFileAtomic(strip, stripPng(stripRows(conv, data.val[0], named.map(({ name, r }) => ({ label: name, probs: r.evaluation.predictions.get(0)! }))), s.size));
      console.log(`strip of input, true and predicted frames: ${strip}; models: ${conv.out}, ${fc.out}, ${wide.out}`);
      return 0;
    });
  },
};
