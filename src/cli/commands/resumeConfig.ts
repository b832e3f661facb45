import { ModelFileError } from '../../io/errors.js';
import { LIMITS } from '../../io/limits.js';
import { cellFactories } from '../../models/cells.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKPOINT_FILE, loadCheckpoint, type CheckpointData } from '../../io/checkpoint.js';
import { RunError, UserError } from '../errors.js';
import { TrainingDiverged } from '../../train/divergence.js';
import type { TrainConfig } from './train.js';

/**
 * `train --resume` (every task's) repeats the checkpoint's run: a flag outside `allowed` would be
 * silently overridden by the checkpoint's settings, so it is refused, named.
 */
export function refuseFlagsOnResume(given: object, allowed: readonly string[]): void {
  const refused = Object.keys(given).filter((k) => !allowed.includes(k));
  if (refused.length) throw new UserError(`--resume continues with the checkpoint's settings and cannot change ${refused.map((k) => `--${k}`).join(', ')} (only --epochs may be given)`);
}

/**
 * An application's training run as the command reports it: a diverged run is a RunError saying no
 * model was saved (with `hint`); a Ctrl-C says where the checkpoint is and how to resume, and
 * gives null (the command exits 130).
 */
export async function trainReported<R extends { result: { stopped: string } }>(task: string, out: string, hint: string, run: () => Promise<R>): Promise<R | null> {
  let r: R;
  try { r = await run(); } catch (e) {
    if (e instanceof TrainingDiverged) throw new RunError(`${e.message}, so no model was saved (${hint})`);
    throw e;
  }
  if (r.result.stopped === 'interrupted') {
    console.error(`interrupted: checkpoint saved to ${join(out, CHECKPOINT_FILE)}; continue with: carousel train --task ${task} --out ${out} --resume`);
    return null;
  }
  return r;
}

/** The checkpoint `train --resume` continues from: OUT/checkpoint.safetensors, read, or a UserError saying there is none. */
export function resumeCheckpoint(out: string): { path: string; checkpoint: CheckpointData } {
  const path = join(out, CHECKPOINT_FILE);
  if (!existsSync(path)) throw new UserError(`--resume: no checkpoint in ${out} (expected ${CHECKPOINT_FILE})`);
  return { path, checkpoint: loadCheckpoint(path) };
}

/**
 * The training settings saved in a checkpoint (meta.config), checked field by field with the
 * ranges the flags accept, so `train --resume` on a damaged or hand-edited checkpoint stops with
 * the file and field named instead of training with a negative learning rate or crashing later.
 */
export function checkResumeConfig(raw: unknown, file: string): TrainConfig {
  const bad = (field: string, expected: string, found: unknown): never => { throw ModelFileError.field(file, `config.${field}`, expected, found); };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelFileError(`${file}: the checkpoint holds no training settings (config: expected an object)`, file, 'config');
  const c = raw as Record<string, unknown>;
  const choice = (k: string, options: readonly string[]) => { if (!options.includes(c[k] as string)) bad(k, `one of ${options.join(', ')}`, c[k]); };
  const int = (k: string, lo: number, hi = Number.MAX_SAFE_INTEGER) => { if (!Number.isInteger(c[k]) || (c[k] as number) < lo || (c[k] as number) > hi) bad(k, `an integer in [${lo}, ${hi}]`, c[k]); };
  const num = (k: string, lo: number, hi = Infinity) => { if (typeof c[k] !== 'number' || !Number.isFinite(c[k]) || (c[k] as number) < lo || (c[k] as number) > hi) bad(k, `a finite number in [${lo}, ${hi}]`, c[k]); };
  const str = (k: string) => { if (typeof c[k] !== 'string') bad(k, 'a string', c[k]); };
  const strings = (k: string) => { if (!Array.isArray(c[k]) || !(c[k] as unknown[]).every((x) => typeof x === 'string')) bad(k, 'an array of strings', c[k]); };
  const bool = (k: string) => { if (typeof c[k] !== 'boolean') bad(k, 'true or false', c[k]); };
  const checks: Record<keyof TrainConfig, () => void> = {
    task: () => choice('task', ['forecast', 'classify', 'charlm']), data: () => str('data'),
    dataHash: () => { if (typeof c.dataHash !== 'string' || !/^[0-9a-f]{64}$/.test(c.dataHash)) bad('dataHash', 'a SHA-256 (64 hex digits)', c.dataHash); },
    out: () => str('out'), columns: () => strings('columns'), targets: () => strings('targets'),
    window: () => int('window', 1), seasons: () => { if (c.seasons !== undefined && (!Array.isArray(c.seasons) || !c.seasons.every((p) => Number.isInteger(p) && p >= 1 && (c.lags === true || p <= (c.window as number))))) bad('seasons', 'integers in [1, window]', c.seasons); },
    horizon: () => int('horizon', 1, LIMITS.width), cell: () => choice('cell', [...cellFactories.keys()]),
    hidden: () => int('hidden', 1, LIMITS.width), layers: () => int('layers', 1, LIMITS.layers), bidirectional: () => bool('bidirectional'),
    dropout: () => num('dropout', 0, 0.99), embedding: () => int('embedding', 1, LIMITS.width), epochs: () => int('epochs', 1),
    batchSize: () => int('batchSize', 1), lr: () => num('lr', 0), optimizer: () => choice('optimizer', ['adam', 'adamw', 'sgd', 'rmsprop']),
    weightDecay: () => num('weightDecay', 0), momentum: () => num('momentum', 0, 1), clip: () => num('clip', 0), bptt: () => int('bptt', 0),
    residual: () => { if (c.residual !== undefined) choice('residual', ['none', 'seasonal']); },
    // Forecasting options added later: absent in older checkpoints (the run had none of them).
    lags: () => { if (c.lags !== undefined) bool('lags'); },
    timeColumn: () => { if (c.timeColumn !== undefined) str('timeColumn'); },
    seriesColumn: () => { if (c.seriesColumn !== undefined) str('seriesColumn'); },
    seriesColumns: () => { if (c.seriesColumns !== undefined) strings('seriesColumns'); },
    quantiles: () => { if (c.quantiles !== undefined && (!Array.isArray(c.quantiles) || !c.quantiles.every((q) => typeof q === 'number' && q > 0 && q < 1) || !c.quantiles.includes(0.5))) bad('quantiles', 'numbers in (0, 1) including 0.5', c.quantiles); },
    schedule: () => choice('schedule', ['none', 'step', 'cosine', 'plateau']), valSplit: () => num('valSplit', 0, 0.9),
    patience: () => int('patience', 0), seed: () => int('seed', 0), checkpointEvery: () => int('checkpointEvery', 0),
  };
  for (const k of Object.keys(c)) if (!Object.prototype.hasOwnProperty.call(checks, k)) bad(k, `only the fields ${Object.keys(checks).join(', ')}`, k);
  for (const check of Object.values(checks)) check();
  return c as unknown as TrainConfig;
}
