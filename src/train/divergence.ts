/**
 * When a training run counts as diverged. A non-finite loss always does. So does a monitored
 * (validation) loss that explodes: far above the best earlier epoch, or far above what a model
 * that knows nothing would score (Task.trivialLoss: predicting the mean level, or the uniform
 * distribution) — the second catches runs whose every epoch is garbage, e.g. an absurd --lr,
 * where there is no good epoch to compare with.
 */
export const EXPLODE_OVER_BEST = 1e6;
export const EXPLODE_OVER_TRIVIAL = 1e3;

/** Training cannot go on, and fit() had no earlier epoch to fall back on (it returns 'diverged' when it had). */
export class TrainingDiverged extends Error {
  constructor(message: string) { super(message); this.name = 'TrainingDiverged'; }
}

/** Why a monitored loss counts as diverged, or null when it does not. */
export function explosion(loss: number, best: number | null, trivial: number | null): string | null {
  if (!Number.isFinite(loss)) return `loss is ${loss}`;
  if (best !== null && best > 0 && loss > EXPLODE_OVER_BEST * best) return `loss ${loss.toPrecision(3)} is over ${EXPLODE_OVER_BEST.toExponential(0)} times the best earlier epoch's ${best.toPrecision(3)}`;
  if (trivial !== null && trivial > 0 && loss > EXPLODE_OVER_TRIVIAL * trivial) {
    return `loss ${loss.toPrecision(3)} is over ${EXPLODE_OVER_TRIVIAL.toExponential(0)} times that of a model that knows nothing (${trivial.toPrecision(3)})`;
  }
  return null;
}
