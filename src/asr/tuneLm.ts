import type { CharNgramLM } from './lm.js';
import { errorRates } from './metrics.js';

/**
 * The language model settings a recognizer decodes best with, found on held-out utterances: each
 * point of a grid (n-gram order x LM weight x insertion bonus x pronunciation weight x charlm weight) decodes them
 * all with beam + LM, and the lowest CER wins, then the lowest WER, then the earlier point (lower
 * order, weight, bonus, pronunciation weight).
 */

/** `pronounce`, `charlm`: pronunciation and LSTM LM rescoring's weights (default [0]: off). */
export interface LmGrid { orders: readonly number[]; weights: readonly number[]; bonuses: readonly number[]; pronounce?: readonly number[]; charlm?: readonly number[] }
export interface LmPoint { order: number; weight: number; bonus: number; pronounce: number; charlm: number; cer: number; wer: number }

/** `carousel lm --tune`'s default grid: 4 x 4 weights and bonuses, at the order given. */
export const LM_WEIGHTS = [0.3, 0.6, 0.8, 1] as const;
export const LM_BONUSES = [0, 0.5, 1, 2] as const;

/** a beats b: a lower CER, or the same CER and a lower WER. */
export const better = (a: LmPoint, b: LmPoint): boolean => a.cer < b.cer || (a.cer === b.cer && a.wer < b.wer);

/**
 * Every grid point's error rates against `refs`, and the best point: `decode(lm, weight, bonus)`
 * searches every utterance with beam + LM and returns their transcripts at a pronunciation weight
 * (lmRanker: the search is shared by the pronunciation and charlm weights); `lmOf(order)` gives the LM of each order.
 */
export async function tuneLm(refs: readonly string[], lmOf: (order: number) => CharNgramLM, grid: LmGrid,
  decode: (lm: CharNgramLM, weight: number, bonus: number) => Promise<(pronounce: number, charlm: number) => readonly string[]>): Promise<{ best: LmPoint; points: LmPoint[] }> {
  if (!refs.length) throw new Error('tuneLm: expected at least one held-out utterance, got none');
  for (const [name, xs] of Object.entries(grid) as [keyof LmGrid, readonly number[]][]) {
    if (!xs.length || xs.some((x) => !Number.isFinite(x))) throw new Error(`tuneLm: expected finite ${name}, at least one, got [${xs.join(', ')}]`);
  }
  const points: LmPoint[] = [];
  let best: LmPoint | null = null;
  for (const order of grid.orders) {
    const lm = lmOf(order);
    for (const weight of grid.weights) {
      for (const bonus of grid.bonuses) {
        const at = await decode(lm, weight, bonus);
        for (const pronounce of grid.pronounce ?? [0]) {
          for (const charlm of grid.charlm ?? [0]) {
            const hyps = at(pronounce, charlm);
            if (hyps.length !== refs.length) throw new Error(`tuneLm: expected ${refs.length} transcripts, got ${hyps.length}`);
            const { cer, wer } = errorRates(refs, hyps);
            const point = { order, weight, bonus, pronounce, charlm, cer, wer };
            points.push(point);
            if (!best || better(point, best)) best = point;
          }
        }
      }
    }
  }
  return { best: best!, points };
}
