import { backward } from '../autograd/tape.js';
import { tidy } from '../tensor/tidy.js';
import { saveCheckpoint, type CheckpointData } from '../io/checkpoint.js';
import { checkTrainingCheckpoint } from '../io/checkpointSchema.js';
import { ModelFileError } from '../io/errors.js';
import { detach } from '../models/sequenceModel.js';
import type { TensorData } from '../nn/module.js';
import { clipGradNorm, clipGradValue } from '../optim/clip.js';
import type { Optimizer, OptimizerState } from '../optim/optimizer.js';
import type { LRSchedule } from '../optim/schedule.js';
import { defaultRng, Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { keepStorage } from '../backend/scope.js';
import { explosion, TrainingDiverged } from './divergence.js';
import { silentProgress, type ProgressSink } from './progress.js';
import type { EvalResult, Task } from './task.js';

export interface EpochLog {
  epoch: number;
  /** Mean training loss over the epoch's items. */
  loss: number;
  val: EvalResult | null;
  lr: number;
  /** Items (samples or characters) per second. */
  throughput: number;
}

export interface FitCallbacks {
  /** After every optimizer step. */
  /**
   * After every batch. `loss` is the batch's mean loss where it was read (a progress update: see
   * FitOptions.readEvery), else null: reading it every batch would stall a GPU.
   */
  onBatchEnd?(info: { epoch: number; batch: number; step: number; loss: number | null }): void;
  /** After each epoch (and its validation); return 'stop' to end training. */
  onEpochEnd?(log: EpochLog): void | 'stop';
}

export interface FitOptions {
  epochs: number;
  optimizer: Optimizer;
  schedule?: LRSchedule | null;
  /** Clip the gradients' total 2-norm to this (0: off). */
  /**
   * Batches between reads of the training loss (progress updates, divergence checks); the loss is
   * summed on the device meanwhile, and also read at the end of each epoch and at checkpoints.
   * Default 1 on CPU backends (reads are free), 25 on others.
   */
  readEvery?: number;
  clipNorm?: number;
  clipValue?: number;
  /** Draws the batch order and the model's dropout masks: build the model with the same Rng. */
  rng: Rng;
  earlyStopping?: { patience: number; minDelta?: number; restoreBest?: boolean } | null;
  callbacks?: FitCallbacks[];
  /** Where to write checkpoints, every N optimizer steps (and at each epoch end, and on Ctrl-C). */
  checkpoint?: { path: string; everySteps?: number; config?: unknown } | null;
  /** A loaded checkpoint to continue from (see loadCheckpoint). */
  resume?: CheckpointData | null;
  progress?: ProgressSink;
  /**
   * A line for progress once the run is set up: after the checkpoint to resume from has been
   * checked and restored, so a checkpoint that is refused gets its one-line error alone.
   */
  announce?: string;
  /** Ctrl-C saves a checkpoint and returns with stopped = 'interrupted' (default true with a checkpoint path). */
  handleSigint?: boolean;
}

export interface FitResult {
  history: EpochLog[];
  /**
   * 'diverged': the loss became non-finite or exploded (see divergence.ts); the model holds the
   * weights of the best earlier epoch (bestEpoch). With no earlier epoch to keep, fit throws
   * TrainingDiverged instead.
   */
  stopped: 'completed' | 'early' | 'interrupted' | 'callback' | 'diverged';
  steps: number;
  bestEpoch: number;
  /** Set when stopped is 'diverged': what happened, where. */
  divergence?: { reason: string };
}

interface LoopState {
  epoch: number;
  batch: number;
  step: number;
  order: number[] | null;
  lossSum: number;
  items: number;
  seconds: number;
  history: EpochLog[];
  best: number | null;
  bestEpoch: number;
  bad: number;
}

const VERSION = 1;

/**
 * Train a task's model: for each epoch, batches in a seeded order (or in sequence, with the
 * state carried, for truncated BPTT), backward, optional clipping, an optimizer step; then
 * validation, the LR schedule, early stopping and callbacks. Deterministic given the Rng's seed.
 * Checkpoints hold weights, optimizer and schedule state, RNG state, counters, the epoch's batch
 * order and the carried state, so a resumed run ends with the same weights, bit for bit.
 * Async only to yield to the event loop between batches (so Ctrl-C and progress output get through).
 */
export async function fit(task: Task, o: FitOptions): Promise<FitResult> {
  const model = task.model, opt = o.optimizer, progress = o.progress ?? silentProgress;
  const nb = task.numBatches();
  const be = model.backend;
  const readEvery = o.readEvery ?? (be.readSync ? 1 : 25);
  if (!Number.isInteger(readEvery) || readEvery < 1) throw new Error(`fit readEvery: expected a positive integer, got ${o.readEvery}`);
  let carry: Tensor[] | null = null;
  // The weights of the best epoch so far: restored by early stopping, and kept as the model
  // when training diverges. Read when reads are free (CPU backends), or taken from the
  // checkpoint's read of the model; on a device without either, only for restoreBest.
  let bestWeights: Map<string, TensorData> | null = null;
  // A loss far above what a model that knows nothing scores means divergence (divergence.ts).
  const trivial = task.trivialLoss?.() ?? null;
  let st: LoopState = { epoch: 0, batch: 0, step: 0, order: null, lossSum: 0, items: 0, seconds: 0, history: [], best: null, bestEpoch: -1, bad: 0 };

  if (o.resume) {
    // Everything is checked against this run before anything is restored.
    const ck = o.resume, { buffers: _none, ...fresh } = await opt.readState();
    const saved = checkTrainingCheckpoint(ck, {
      version: VERSION, params: model.namedParameters().map(([n, p]) => [n, p.shape]), optimizer: fresh,
      scheduleKind: o.schedule?.kind ?? null, orderLength: task.epochOrder(new Rng(0)).length, numBatches: nb, stateful: task.stateful,
    });
    model.loadStateDict(ck.groups.model, true);
    const buffers: OptimizerState['buffers'] = {};
    for (const [k, t] of ck.groups.optim ?? new Map()) buffers[k] = t.data as Float32Array;
    try { opt.loadState({ ...saved.optimizer, buffers }); } catch (e) { throw new ModelFileError(`${ck.path ?? 'checkpoint'}: ${(e as Error).message}`, ck.path, 'optim'); }
    if (o.schedule && saved.schedule) o.schedule.loadState(saved.schedule);
    o.rng.setState(saved.rng);
    defaultRng.setState(saved.defaultRng);
    st = saved.loop as LoopState;
    if (ck.groups.carry) {
      carry = [...ck.groups.carry.entries()].sort(([a], [b]) => Number(a) - Number(b))
        .map(([, t]) => new Tensor(model.backend.upload(model.dtype, t.data), t.shape));
    }
    if (ck.groups.best) bestWeights = ck.groups.best;
  }
  if (o.announce) progress.message(o.announce);

  /** bestIsCurrent: this epoch is the best so far, and the model read here is its best weights. */
  const writeCheckpoint = async (bestIsCurrent = false) => {
    if (!o.checkpoint) return;
    const groups: CheckpointData['groups'] = { model: await model.readStateDict() };
    if (bestIsCurrent) bestWeights = groups.model;
    const os = await opt.readState();
    groups.optim = new Map(Object.entries(os.buffers).map(([k, v]) => [k, { shape: [v.length], data: v }]));
    if (carry) {
      groups.carry = new Map();
      for (const [i, t] of carry.entries()) groups.carry.set(String(i), { shape: t.shape, data: await t.data() });
    }
    if (bestWeights) groups.best = bestWeights;
    const { buffers: _b, ...optMeta } = os;
    const nanToNull = (a: number[]) => a.map((v) => (Number.isNaN(v) ? null : v));
    saveCheckpoint(o.checkpoint.path, {
      meta: {
        version: VERSION, loop: st, optimizer: optMeta, schedule: o.schedule?.state() ?? null,
        rng: nanToNull(o.rng.getState()), defaultRng: nanToNull(defaultRng.getState()), config: o.checkpoint.config ?? null,
      },
      groups,
    });
  };

  let liveAcc: ReturnType<typeof be.alloc> | null = null; // the open epoch's loss sum, freed on divergence
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now
    interrupted = true;
    progress.message('interrupt: saving a checkpoint after this batch (Ctrl-C again to quit at once)');
  };
  const sigint = (o.handleSigint ?? Boolean(o.checkpoint)) && typeof process !== 'undefined';
  if (sigint) process.on('SIGINT', onSigint);
  try {
    for (; st.epoch < o.epochs; st.epoch++) {
      if (st.batch === 0 || !st.order) {
        st.order = task.epochOrder(o.rng);
        st.lossSum = 0; st.items = 0; st.seconds = 0;
        carry = null;
      }
      model.train();
      progress.epochStart(st.epoch, o.epochs, nb);
      let t0 = Date.now();
      // The epoch's summed loss (times items) since the last read, on the device: [1].
      const lossAcc = be.alloc(model.dtype, 1);
      keepStorage(lossAcc);
      liveAcc = lossAcc;
      let unread = 0;
      const readLoss = async (): Promise<number | null> => {
        if (unread === 0) return null;
        const sum = (await new Tensor(lossAcc, [1]).data())[0];
        be.fill(lossAcc, 0, 1, 0);
        const from = st.batch + 2 - unread, to = st.batch + 1;
        unread = 0;
        if (!Number.isFinite(sum)) {
          const where = from === to ? `batch ${to}` : `batches ${from}-${to}`;
          throw new TrainingDiverged(`training diverged: loss is ${sum} at epoch ${st.epoch + 1}, ${where}`);
        }
        st.lossSum += sum;
        return sum;
      };
      for (; st.batch < nb; st.batch++) {
        // One step in a tidy() scope: its buffers go back to the backend when it ends (only the
        // carried state survives), so memory stays flat whatever the garbage collector does.
        // Nothing in it reads the device: the loss is added to lossAcc there.
        const prev = carry;
        const r = tidy(() => {
          opt.zeroGrad();
          const b = task.trainBatch(st.order!, st.batch, task.stateful ? prev : null);
          backward(b.loss);
          if (o.clipNorm) clipGradNorm(model.parameters(), o.clipNorm);
          if (o.clipValue) clipGradValue(model.parameters(), o.clipValue);
          opt.step();
          be.affine(b.loss.storage, 0, lossAcc, 0, 1, b.items, 0, true);
          return { items: b.items, state: task.stateful && b.state ? b.state.map(detach) : null };
        });
        for (const t of prev ?? []) t.dispose();
        st.items += r.items; st.step++; unread++;
        carry = r.state;
        const last = st.batch + 1 === nb;
        const checkpointNow = !last && !!o.checkpoint?.everySteps && st.step % o.checkpoint.everySteps === 0;
        let loss: number | null = null;
        if (unread >= readEvery || last || checkpointNow) {
          const batches = unread;
          const sum = await readLoss();
          if (sum !== null && batches === 1) loss = sum / r.items;
          const now = Date.now();
          st.seconds += (now - t0) / 1000; t0 = now;
          progress.batch(st.batch + 1, st.lossSum / st.items, st.items / Math.max(st.seconds, 1e-9));
        }
        for (const c of o.callbacks ?? []) c.onBatchEnd?.({ epoch: st.epoch, batch: st.batch, step: st.step, loss });
        // Let the event loop run (signals, output) between batches: Ctrl-C is seen here.
        await new Promise<void>((res) => setImmediate(res));
        if (interrupted) { await readLoss(); st.batch++; await writeCheckpoint(); be.dispose(lossAcc); return done('interrupted'); }
        if (checkpointNow) { st.batch++; await writeCheckpoint(); st.batch--; }
      }
      be.dispose(lossAcc); liveAcc = null;
      // End of epoch: validation, schedule, early stopping, callbacks, checkpoint.
      const val = await task.validate(); // each batch in its own tidy() inside
      const trainLoss = st.lossSum / Math.max(st.items, 1);
      const monitored = val ? val.loss : trainLoss;
      if (o.schedule) o.schedule.kind === 'plateau' ? o.schedule.step(monitored) : o.schedule.step();
      const log: EpochLog = { epoch: st.epoch + 1, loss: trainLoss, val, lr: opt.lr, throughput: st.items / Math.max(st.seconds, 1e-9) };
      st.history.push(log);
      progress.epochEnd(formatEpoch(log, o.epochs));
      const exploded = explosion(monitored, st.best, trivial);
      if (exploded) throw new TrainingDiverged(`training diverged: ${val ? 'validation ' : ''}${exploded} at epoch ${st.epoch + 1}`);
      let stop: FitResult['stopped'] | null = null, bestFromCheckpoint = false;
      const es = o.earlyStopping;
      if (st.best === null || monitored < st.best - (es?.minDelta ?? 0)) {
        st.best = monitored; st.bestEpoch = st.epoch + 1; st.bad = 0;
        if (es?.restoreBest || be.readSync) bestWeights = await model.readStateDict();
        else if (o.checkpoint) bestFromCheckpoint = true; // the checkpoint below reads the model anyway
        else bestWeights = null; // a device, no checkpoint: no read just for this (an older epoch is not the best)
      } else if (es) {
        st.bad++;
        if (st.bad >= es.patience) stop = 'early';
      }
      for (const c of o.callbacks ?? []) if (c.onEpochEnd?.(log) === 'stop') stop ??= 'callback';
      st.batch = 0; st.order = null;
      if (stop || st.epoch + 1 === o.epochs) {
        if (es?.restoreBest && bestWeights) model.loadStateDict(bestWeights);
      }
      st.epoch++; await writeCheckpoint(bestFromCheckpoint); st.epoch--;
      if (stop) { st.epoch++; return done(stop); }
      if (interrupted) { st.epoch++; return done('interrupted'); }
    }
    return done('completed');
  } catch (e) {
    if (!(e instanceof TrainingDiverged)) throw e;
    // Nothing of the diverged epoch is kept, and no checkpoint of it is written: the model goes
    // back to the best earlier epoch, or, with none, the run has nothing to give.
    if (liveAcc) be.dispose(liveAcc);
    for (const t of carry ?? []) t.dispose();
    carry = null;
    if (!bestWeights) {
      throw new TrainingDiverged(`${e.message}; there is no earlier epoch to keep${st.bestEpoch > 0 ? ' (on a device backend fit keeps one only with a checkpoint or earlyStopping.restoreBest)' : ''}`);
    }
    model.loadStateDict(bestWeights);
    progress.message(`${e.message}; keeping the model of epoch ${st.bestEpoch}`);
    return { ...done('diverged'), divergence: { reason: e.message } };
  } finally {
    if (sigint) process.off('SIGINT', onSigint);
  }

  function done(stopped: FitResult['stopped']): FitResult {
    return { history: st.history, stopped, steps: st.step, bestEpoch: st.bestEpoch };
  }
}

export function formatEpoch(l: EpochLog, epochs: number): string {
  const parts = [`epoch ${l.epoch}/${epochs}`, `loss ${l.loss.toFixed(4)}`];
  if (l.val) {
    parts.push(`val_loss ${l.val.loss.toFixed(4)}`);
    for (const [k, v] of Object.entries(l.val.metrics)) parts.push(`val_${k} ${v.toFixed(4)}`);
  }
  parts.push(`lr ${l.lr.toPrecision(3)}`, `${l.throughput >= 1e4 ? (l.throughput / 1e3).toFixed(1) + 'k' : l.throughput.toFixed(0)} items/s`);
  return parts.join('  ');
}
