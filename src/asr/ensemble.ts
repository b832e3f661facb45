import { UserError } from '../cli/errors.js';
import type { Posteriors } from './decode.js';
import type { CtcModel } from './model.js';
import type { HeardPhonemes } from './pronounce.js';
import { runModel, stretchFrames, type Utterance } from './task.js';

/**
 * System combination of CTC recognizers: per frame, the mean of the models' log-probabilities,
 * renormalised (a normalised geometric mean of their distributions), then decoded as one model's.
 * Frame t must mean the same stretch of input in every model, so they must share the input kind,
 * the frame stacking (subsample) and the alphabet; a mismatch is an error naming both. On the
 * words set the log mean beat the plain mean of probabilities (README, issue 12).
 */
export function checkCombinable(models: readonly { dir: string; model: CtcModel }[]): void {
  const [a, ...rest] = models;
  for (const b of rest) {
    const ca = a.model.config, cb = b.model.config;
    const clash = ca.kind !== cb.kind ? ['reads', ca.kind, cb.kind]
      : ca.subsample !== cb.subsample ? ['stacks input frames by', ca.subsample, cb.subsample]
        : ca.alphabet.join('') !== cb.alphabet.join('') ? ['has the characters', JSON.stringify(ca.alphabet.join('')), JSON.stringify(cb.alphabet.join(''))] : null;
    if (clash) throw new UserError(`--model ${b.dir} cannot be combined with ${a.dir}: ${a.dir} ${clash[0]} ${clash[1]}, ${b.dir} ${clash[2]}; combined models must share the input kind, --subsample and alphabet`);
  }
}

/** Per utterance, the frame-wise normalised mean of the models' log-probabilities [T, C]. */
export function combinePosteriors(perModel: readonly (readonly Posteriors[])[]): Posteriors[] {
  const [first] = perModel;
  return first.map((p, u) => {
    const { T, C } = p, M = perModel.length;
    for (const q of perModel) if (q[u].T !== T || q[u].C !== C) throw new Error(`combinePosteriors: utterance ${u} is [${T}, ${C}] in one model and [${q[u].T}, ${q[u].C}] in another`);
    const out = new Float32Array(T * C); // [T, C]
    for (let t = 0; t < T; t++) {
      let max = -Infinity;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (const q of perModel) s += q[u].data[t * C + c];
        out[t * C + c] = s / M;
        max = Math.max(max, s / M);
      }
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(out[t * C + c] - max);
      const logZ = max + Math.log(z);
      for (let c = 0; c < C; c++) out[t * C + c] -= logZ;
    }
    return { T, C, data: out };
  });
}

/**
 * What runViews gives: per utterance, the frame-level combination at speed 1, every model x
 * speed's own posteriors (null without speeds), and with `phonemes` each phoneme model's phoneme
 * posteriors at speed 1 (pronunciation rescoring; null when not asked for).
 */
export interface Views { frame: Posteriors[]; views: Posteriors[][] | null; heard: HeardPhonemes[][] | null }

/**
 * The utterances heard by every model at each of `speeds` (test-time speed perturbation: the
 * stacked frames resampled in time as training's --stretch does, stretchFrames): `views[u]` is
 * utterance u's posteriors, model by model, speed by speed; `frame[u]` the models' frame-level
 * combination at speed 1 (combinePosteriors), which the beam searches. lmRanker ranks its
 * candidates by the views. With `speeds` null: no views. With `phonemes`, `heard[u]` holds the
 * phoneme posteriors of the models that have a phoneme output (an error if none has).
 */
export async function runViews(models: readonly CtcModel[], inputs: (model: CtcModel) => Utterance[], speeds: readonly number[] | null, batchSize?: number, phonemes = false): Promise<Views> {
  if (speeds) for (const s of speeds) if (!(s >= 0.5 && s <= 2)) throw new UserError(`--speeds: expected speeds in [0.5, 2] (1: as recorded), got ${s}`);
  if (phonemes && !models.some((m) => m.phonemes)) throw new Error('runViews: phoneme posteriors asked of models without a phoneme output');
  const atOne: Posteriors[][] = [], perView: Posteriors[][] = [], heardBy: HeardPhonemes[][] = [];
  for (const m of models) {
    const utts = inputs(m), c = m.config;
    const run = await runModel(m, utts, batchSize, false, phonemes && !!m.phonemes);
    atOne.push(run.posteriors);
    if (run.phonemes) heardBy.push(run.phonemes.map((post) => ({ post, set: m.phonemes! })));
    for (const s of speeds ?? []) {
      if (s === 1) { perView.push(run.posteriors); continue; }
      const stretched = utts.map((u) => ({ ...u, ...stretchFrames(u.x, u.steps, c.inputDim, c.subsample, s) }));
      perView.push((await runModel(m, stretched, batchSize)).posteriors);
    }
  }
  const frame = atOne.length === 1 ? atOne[0] : combinePosteriors(atOne);
  return {
    frame,
    views: speeds ? frame.map((_, u) => perView.map((v) => v[u])) : null,
    heard: phonemes ? frame.map((_, u) => heardBy.map((h) => h[u])) : null,
  };
}
