import type { TensorData } from '../nn/module.js';
import type { OptimizerState } from '../optim/optimizer.js';
import type { ScheduleState } from '../optim/schedule.js';
import type { CheckpointData } from './checkpoint.js';
import { describe, ModelFileError } from './errors.js';

/** What the resuming run has built, that a checkpoint's contents must agree with. */
export interface ResumeTarget {
  version: number;
  /** The model's parameters, name -> shape. */
  params: [string, readonly number[]][];
  /** The fresh optimizer's state (kind, hyperparameter names and types, one step count per parameter). */
  optimizer: Omit<OptimizerState, 'buffers'>;
  scheduleKind: string | null;
  /** Length of an epoch's batch order, and batches per epoch. */
  orderLength: number;
  numBatches: number;
  /** Whether the task carries state from batch to batch (only then may a checkpoint hold "carry." tensors). */
  stateful: boolean;
}

/** fit()'s loop counters, as saved. */
export interface SavedLoop {
  epoch: number; batch: number; step: number; order: number[] | null; lossSum: number; items: number; seconds: number;
  history: unknown[]; best: number | null; bestEpoch: number; bad: number;
}

export interface SavedTraining {
  loop: SavedLoop;
  optimizer: Omit<OptimizerState, 'buffers'>;
  schedule: ScheduleState | null;
  rng: number[];
  defaultRng: number[];
}

/**
 * Check a training checkpoint's metadata and tensor groups against the run resuming from it,
 * before anything is restored: counters are non-negative integers in range, the batch order is a
 * permutation, hyperparameters have the fresh optimizer's names and types and sane ranges (no
 * negative learning rate), RNG states are 32-bit words, and the model and best-weights groups
 * have exactly the model's parameter names and shapes. A failure names the file and the field.
 */
export function checkTrainingCheckpoint(ck: CheckpointData, t: ResumeTarget): SavedTraining {
  const file = ck.path ?? 'checkpoint';
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, field, expected, found); };
  const m = ck.meta;
  if (m.version !== t.version) bad('version', String(t.version), m.version);
  const obj = (v: unknown, field: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(field, 'an object', v);
    return v as Record<string, unknown>;
  };
  const int = (v: unknown, field: string, lo: number, hi = Number.MAX_SAFE_INTEGER): number => {
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) bad(field, `an integer in [${lo}, ${hi}]`, v);
    return v as number;
  };
  const num = (v: unknown, field: string, lo: number, hi = Infinity, hiOpen = false): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) bad(field, `a finite number in [${lo}, ${hi}${hiOpen ? ')' : ']'}`, v);
    return v as number;
  };

  const l = obj(m.loop, 'loop');
  const nb = t.numBatches;
  const loop: SavedLoop = {
    epoch: int(l.epoch, 'loop.epoch', 0), batch: int(l.batch, 'loop.batch', 0, nb), step: int(l.step, 'loop.step', 0),
    order: null, lossSum: num(l.lossSum, 'loop.lossSum', -Infinity), items: int(l.items, 'loop.items', 0), seconds: num(l.seconds, 'loop.seconds', 0),
    history: [], best: l.best === null ? null : num(l.best, 'loop.best', -Infinity), bestEpoch: int(l.bestEpoch, 'loop.bestEpoch', -1),
    bad: int(l.bad, 'loop.bad', 0),
  };
  if (l.order !== null) {
    const o = l.order, n = t.orderLength;
    const seen = new Uint8Array(n);
    if (!Array.isArray(o) || o.length !== n || !o.every((i) => Number.isInteger(i) && i >= 0 && i < n && !seen[i] && (seen[i] = 1))) {
      bad('loop.order', `a permutation of 0..${n - 1} (the data's epoch order)`, Array.isArray(o) ? `${o.length} entries` : o);
    }
    loop.order = [...(o as number[])];
  } else if (loop.batch !== 0) bad('loop.order', 'the epoch order (the checkpoint is mid-epoch)', null);
  if (!Array.isArray(l.history) || l.history.length > loop.epoch) bad('loop.history', `an array of at most loop.epoch (${loop.epoch}) epoch logs`, l.history);
  (l.history as unknown[]).forEach((h, i) => {
    const e = obj(h, `loop.history[${i}]`);
    int(e.epoch, `loop.history[${i}].epoch`, 1);
    for (const k of ['loss', 'lr', 'throughput']) num(e[k], `loop.history[${i}].${k}`, k === 'loss' ? -Infinity : 0);
    if (e.val !== null) {
      const v = obj(e.val, `loop.history[${i}].val`);
      num(v.loss, `loop.history[${i}].val.loss`, -Infinity);
      for (const [k, x] of Object.entries(obj(v.metrics, `loop.history[${i}].val.metrics`))) num(x, `loop.history[${i}].val.metrics.${k}`, -Infinity);
    }
  });
  loop.history = [...(l.history as unknown[])]; // fit appends to it: the caller's checkpoint stays as loaded

  const os = obj(m.optimizer, 'optimizer'), want = t.optimizer;
  if (os.kind !== want.kind) bad('optimizer.kind', `'${want.kind}' (the optimizer of this run)`, os.kind);
  const lr = num(os.lr, 'optimizer.lr', 0);
  const hyper = obj(os.hyper, 'optimizer.hyper');
  const names = Object.keys(want.hyper);
  for (const k of Object.keys(hyper)) if (!names.includes(k)) bad(`optimizer.hyper.${k}`, `only ${names.join(', ')}`, k);
  for (const k of names) {
    const f = `optimizer.hyper.${k}`;
    if (typeof want.hyper[k] === 'boolean') { if (typeof hyper[k] !== 'boolean') bad(f, 'true or false', hyper[k]); }
    else if (k === 'beta1' || k === 'beta2') num(hyper[k], f, 0, 1, true);
    else if (k === 'alpha' || k === 'dampening') num(hyper[k], f, 0, 1);
    else num(hyper[k], f, 0);
  }
  const steps = os.steps;
  if (!Array.isArray(steps) || steps.length !== want.steps.length || !steps.every((s) => Number.isInteger(s) && s >= 0 && s <= loop.step)) {
    bad('optimizer.steps', `${want.steps.length} integers in [0, loop.step = ${loop.step}] (one per parameter)`, steps);
  }

  let schedule: ScheduleState | null = null;
  if (m.schedule !== null && m.schedule !== undefined) {
    const s = obj(m.schedule, 'schedule');
    if (s.kind !== t.scheduleKind) bad('schedule.kind', t.scheduleKind === null ? 'no schedule (this run has none)' : `'${t.scheduleKind}'`, s.kind);
    for (const [k, v] of Object.entries(s)) {
      if (k === 'kind') continue;
      if (['lastEpoch', 'numBadEpochs', 'cooldownCounter'].includes(k)) int(v, `schedule.${k}`, 0);
      else if (!(v === null && k === 'best')) num(v, `schedule.${k}`, k === 'best' ? -Infinity : 0);
    }
    schedule = s as ScheduleState;
  } else if (t.scheduleKind !== null) bad('schedule', `the state of the '${t.scheduleKind}' schedule of this run`, m.schedule);

  const rng = (v: unknown, field: string): number[] => {
    const ok = Array.isArray(v) && v.length === 5 && v.slice(0, 4).every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)
      && v.slice(0, 4).some((w) => w !== 0) && (v[4] === null || Number.isFinite(v[4]));
    if (!ok) bad(field, 'four 32-bit words (not all zero) and a number or null', v);
    return (v as (number | null)[]).map((x) => (x === null ? NaN : x));
  };

  checkGroup(ck.groups.model, 'model', t.params, file, true);
  if (ck.groups.carry) {
    if (!t.stateful) throw new ModelFileError(`${file}: "carry." tensors, but this task carries no state between batches`, file, 'carry');
    [...ck.groups.carry.keys()].sort((a, b) => Number(a) - Number(b)).forEach((k, i) => {
      if (k !== String(i)) throw ModelFileError.field(file, `carry.${k}`, `the carried state tensors numbered 0, 1, ... (next: ${i})`, k);
    });
  }
  if (ck.groups.best) checkGroup(ck.groups.best, 'best', t.params, file, true);
  return { loop, optimizer: { kind: want.kind, lr, hyper: hyper as OptimizerState['hyper'], steps: steps as number[] }, schedule, rng: rng(m.rng, 'rng'), defaultRng: rng(m.defaultRng, 'defaultRng') };
}

/** A group of weights with exactly the model's names and shapes, finite values. */
function checkGroup(g: Map<string, TensorData> | undefined, name: string, params: ResumeTarget['params'], file: string, required: boolean): void {
  if (!g) { if (required) throw new ModelFileError(`${file}: no "${name}." tensors (the model's weights)`, file, name); return; }
  const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;
  for (const [n, shape] of params) {
    const t = g.get(n);
    if (!t) throw ModelFileError.field(file, `${name}.${n}`, `a tensor of shape ${fmt(shape)}`, undefined);
    if (fmt(t.shape) !== fmt(shape)) throw ModelFileError.field(file, `${name}.${n}`, `shape ${fmt(shape)}`, t.shape);
  }
  for (const n of g.keys()) if (!params.some(([p]) => p === n)) throw ModelFileError.field(file, `${name}.${n}`, 'only the model\'s parameters', describe(n));
}
