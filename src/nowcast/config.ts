import { ModelFileError } from '../io/errors.js';
import { LIMITS } from '../io/limits.js';

/** Everything that rebuilds a nowcasting model and its inputs (model.json's config). */
export interface NowcastModelConfig {
  arch: 'convlstm' | 'fc-lstm';
  /** Frame side in pixels (square frames) and patch side (size % patch = 0). */
  size: number;
  patch: number;
  input: number;
  horizon: number;
  /** ConvLSTM: hidden channels of each layer; FC-LSTM: LSTM units. */
  hidden: number;
  layers: number;
  /** ConvLSTM kernel (odd); recorded but unused for the FC-LSTM. */
  kernel: number;
}

/** A training run's settings: saved in the checkpoint so --resume repeats it. */
export interface NowcastTrainConfig extends NowcastModelConfig {
  data: string;
  val: string | null;
  /** SHA-256 of the training and validation frames (frames.ts): a resume on changed data is refused. */
  dataHash: string;
  valHash: string | null;
  out: string;
  epochs: number;
  batchSize: number;
  lr: number;
  clip: number;
  seed: number;
}

type Checks = Record<string, (v: unknown) => string | null>;

const int = (lo: number, hi = Number.MAX_SAFE_INTEGER) => (v: unknown) => (Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi ? null : `an integer in [${lo}, ${hi}]`);
const num = (lo: number) => (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= lo ? null : `a finite number >= ${lo}`);
const str = (v: unknown) => (typeof v === 'string' ? null : 'a string');
const hash = (v: unknown) => (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? null : 'a SHA-256 (64 hex digits)');
const orNull = (f: (v: unknown) => string | null) => (v: unknown) => (v === null ? null : f(v) && `${f(v)} or null`);

const MODEL: Checks = {
  arch: (v) => (v === 'convlstm' || v === 'fc-lstm' ? null : "'convlstm' or 'fc-lstm'"),
  size: int(2, 4096), patch: int(1, 64), input: int(1, 10000), horizon: int(1, 10000),
  hidden: int(1, LIMITS.width), layers: int(1, LIMITS.layers), kernel: (v) => (int(1, 99)(v) ?? ((v as number) % 2 ? null : 'an odd integer')),
};
const TRAIN: Checks = {
  ...MODEL, data: str, val: orNull(str), dataHash: hash, valHash: orNull(hash), out: str,
  epochs: int(1), batchSize: int(1), lr: num(0), clip: num(0), seed: int(0),
};

function check<C>(raw: unknown, checks: Checks, file: string, prefix: string): C {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw ModelFileError.field(file, prefix.slice(0, -1) || 'config', 'an object', raw);
  const c = raw as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!(k in checks)) throw ModelFileError.field(file, `${prefix}${k}`, `only the fields ${Object.keys(checks).join(', ')}`, k);
  for (const [k, f] of Object.entries(checks)) {
    const problem = f(c[k]);
    if (problem) throw ModelFileError.field(file, `${prefix}${k}`, problem, c[k]);
  }
  if ((c.size as number) % (c.patch as number) !== 0) throw ModelFileError.field(file, `${prefix}patch`, `a divisor of size ${c.size}`, c.patch);
  return c as C;
}

/** model.json's config of a nowcast model, checked field by field. */
export const checkModelConfig = (raw: unknown, file: string) => check<NowcastModelConfig>(raw, MODEL, file, 'config.');
/** A checkpoint's training settings, checked field by field. */
export const checkTrainConfig = (raw: unknown, file: string) => check<NowcastTrainConfig>(raw, TRAIN, file, 'config.');

/** The model's part of a run's settings. */
export function modelConfig(c: NowcastModelConfig): NowcastModelConfig {
  const { arch, size, patch, input, horizon, hidden, layers, kernel } = c;
  return { arch, size, patch, input, horizon, hidden, layers, kernel };
}
