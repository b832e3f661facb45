import type { Optimizer } from './optimizer.js';

/** A learning-rate schedule's saved state. */
export interface ScheduleState {
  kind: string;
  [k: string]: number | string | null;
}

/** Adjusts optimizer.lr once per epoch (`step()`), or from a metric (`step(valLoss)`). */
export interface LRSchedule {
  readonly kind: string;
  step(metric?: number): void;
  state(): ScheduleState;
  loadState(s: ScheduleState): void;
}

function checkKind(s: ScheduleState, kind: string): void {
  if (s.kind !== kind) throw new Error(`schedule state: expected ${kind}, got ${s.kind}`);
}

/** torch.optim.lr_scheduler.StepLR: lr *= gamma every stepSize epochs (PyTorch's recursive form). */
export class StepLR implements LRSchedule {
  readonly kind = 'step';
  lastEpoch = 0;
  constructor(private readonly opt: Optimizer, readonly stepSize: number, readonly gamma = 0.1) {
    if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`StepLR: expected stepSize a positive integer, got ${stepSize}`);
  }
  step(): void {
    this.lastEpoch++;
    if (this.lastEpoch % this.stepSize === 0) this.opt.lr *= this.gamma;
  }
  state(): ScheduleState { return { kind: this.kind, lastEpoch: this.lastEpoch }; }
  loadState(s: ScheduleState): void { checkKind(s, this.kind); this.lastEpoch = s.lastEpoch as number; }
}

/**
 * torch.optim.lr_scheduler.CosineAnnealingLR, with PyTorch's recursive update (so the numbers
 * match step for step, including restarts past tMax):
 *   lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T))
 */
export class CosineAnnealingLR implements LRSchedule {
  readonly kind = 'cosine';
  lastEpoch = 0;
  readonly baseLr: number;
  constructor(private readonly opt: Optimizer, readonly tMax: number, readonly etaMin = 0) {
    if (!(tMax > 0)) throw new Error(`CosineAnnealingLR: expected tMax > 0, got ${tMax}`);
    this.baseLr = opt.lr;
  }
  step(): void {
    const t = ++this.lastEpoch, T = this.tMax, lr = this.opt.lr, e = this.etaMin;
    if ((t - 1 - T) % (2 * T) === 0) this.opt.lr = lr + ((this.baseLr - e) * (1 - Math.cos(Math.PI / T))) / 2;
    else this.opt.lr = ((1 + Math.cos((Math.PI * t) / T)) / (1 + Math.cos((Math.PI * (t - 1)) / T))) * (lr - e) + e;
  }
  state(): ScheduleState { return { kind: this.kind, lastEpoch: this.lastEpoch, baseLr: this.baseLr }; }
  loadState(s: ScheduleState): void {
    checkKind(s, this.kind);
    this.lastEpoch = s.lastEpoch as number;
    (this as { baseLr: number }).baseLr = s.baseLr as number;
  }
}

export interface PlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  thresholdMode?: 'rel' | 'abs';
  cooldown?: number;
  minLr?: number;
  eps?: number;
}

/** torch.optim.lr_scheduler.ReduceLROnPlateau: lr *= factor after `patience` epochs without improvement. */
export class ReduceLROnPlateau implements LRSchedule {
  readonly kind = 'plateau';
  readonly o: Required<PlateauOptions>;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;

  constructor(private readonly opt: Optimizer, o: PlateauOptions = {}) {
    this.o = { mode: 'min', factor: 0.1, patience: 10, threshold: 1e-4, thresholdMode: 'rel', cooldown: 0, minLr: 0, eps: 1e-8, ...o };
    if (!(this.o.factor < 1 && this.o.factor >= 0)) throw new Error(`ReduceLROnPlateau: expected factor in [0, 1), got ${this.o.factor}`);
    this.best = this.o.mode === 'min' ? Infinity : -Infinity;
  }

  private better(a: number): boolean {
    const { mode, thresholdMode: tm, threshold: th } = this.o;
    if (mode === 'min') return tm === 'rel' ? a < this.best * (1 - th) : a < this.best - th;
    return tm === 'rel' ? a > this.best * (th + 1) : a > this.best + th;
  }

  step(metric?: number): void {
    if (metric === undefined) throw new Error('ReduceLROnPlateau.step: expected the monitored metric (e.g. validation loss), got nothing');
    this.lastEpoch++;
    if (this.better(metric!)) { this.best = metric!; this.numBadEpochs = 0; } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) { this.cooldownCounter--; this.numBadEpochs = 0; }
    if (this.numBadEpochs > this.o.patience) {
      const newLr = Math.max(this.opt.lr * this.o.factor, this.o.minLr);
      if (this.opt.lr - newLr > this.o.eps) this.opt.lr = newLr;
      this.cooldownCounter = this.o.cooldown;
      this.numBadEpochs = 0;
    }
  }
  state(): ScheduleState {
    return { kind: this.kind, best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }
  loadState(s: ScheduleState): void {
    checkKind(s, this.kind);
    // JSON has no Infinity: a checkpoint may store null for "no best yet".
    this.best = s.best === null ? (this.o.mode === 'min' ? Infinity : -Infinity) : (s.best as number);
    this.numBadEpochs = s.numBadEpochs as number;
    this.cooldownCounter = s.cooldownCounter as number;
    this.lastEpoch = s.lastEpoch as number;
  }
}
