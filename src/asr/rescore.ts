import { BLANK, type Alphabet } from './alphabet.js';
import { beamDecode, logAdd, type BeamOptions, type Hypothesis, type Posteriors } from './decode.js';

/**
 * Combining recognizers (or one recognizer hearing an utterance at several speeds) per
 * sentence: the beam + LM's best candidates over the frame-averaged posteriors are ranked again
 * by the mean over the views of each candidate's exact CTC log-likelihood, plus the LM's weight
 * times log P_lm (EOS included) and the bonus times its length, as the beam ranks them. The views
 * need not share a frame count, so an utterance heard at another speed (its frames resampled)
 * counts too, where frame averaging cannot line its frames up.
 */

/**
 * log P_ctc(labels | x): the forward algorithm (Graves et al. 2006) over every alignment of
 * `labels` (class ids, no blanks) to the T frames of `p`; -Infinity when T frames cannot hold them.
 */
export function ctcLogLikelihood(p: Posteriors, labels: readonly number[]): number {
  const { T, C, data } = p, S = 2 * labels.length + 1;
  if (T === 0) return labels.length ? -Infinity : 0;
  // ext [S]: the labels with a blank before, between and after them.
  const ext = new Int32Array(S).fill(BLANK);
  labels.forEach((l, i) => {
    if (!Number.isInteger(l) || l <= BLANK || l >= C) throw new Error(`ctcLogLikelihood: expected labels in [1, ${C - 1}], got ${l} at ${i}`);
    ext[2 * i + 1] = l;
  });
  // alpha [S]: log-probability of the alignments of ext[0..s] to frames 0..t; prev holds frame t - 1.
  let alpha = new Float64Array(S).fill(-Infinity), prev = new Float64Array(S);
  alpha[0] = data[ext[0]];
  if (S > 1) alpha[1] = data[ext[1]];
  for (let t = 1; t < T; t++) {
    [prev, alpha] = [alpha, prev];
    for (let s = 0; s < S; s++) {
      let a = prev[s];
      if (s > 0) a = logAdd(a, prev[s - 1]);
      // A label may skip the blank before it unless it repeats the label before that blank.
      if (s > 1 && ext[s] !== BLANK && ext[s] !== ext[s - 2]) a = logAdd(a, prev[s - 2]);
      alpha[s] = a + data[t * C + ext[s]];
    }
  }
  return S > 1 ? logAdd(alpha[S - 1], alpha[S - 2]) : alpha[0];
}

/**
 * Beam + LM over `frame` (the frame-averaged posteriors of the views that share a frame rate),
 * its best `candidates` then ranked by rankCandidates. `o` as beamDecode's (lm, alpha, beta,
 * lexicon, beamWidth). Hypotheses best first.
 */
export function rescoreDecode(frame: Posteriors, views: readonly Posteriors[], alphabet: Alphabet, o: BeamOptions & { candidates?: number }): Hypothesis[] {
  return rankCandidates(beamDecode(frame, alphabet, { ...o, topK: o.candidates ?? 16 }), views, alphabet, o);
}

/**
 * Candidates ranked by the mean over `views` of log P_ctc, plus alpha log P_lm + beta |text|,
 * plus `extra(text)` when given (pronunciation rescoring). Best first, ctcLogProb the views' mean.
 */
export function rankCandidates(hyps: readonly Hypothesis[], views: readonly Posteriors[], alphabet: Alphabet, o: BeamOptions & { extra?: (text: string) => number }): Hypothesis[] {
  return candidateScores(hyps, views, alphabet, o).map((h) => ({ ...h, score: h.score + (o.extra ? o.extra(h.text) : 0) })).sort((a, b) => b.score - a.score);
}

/**
 * rankCandidates' scores without `extra`, in the candidates' order: each one's mean over `views`
 * of log P_ctc (ctcLogProb) and that plus alpha log P_lm + beta |text| (score).
 */
export function candidateScores(hyps: readonly Hypothesis[], views: readonly Posteriors[], alphabet: Alphabet, o: BeamOptions): Hypothesis[] {
  if (!views.length) throw new Error('rankCandidates: expected at least one view of the utterance');
  const lm = o.lm && (o.alpha ?? 0) !== 0 ? o.lm.withVocabulary(alphabet.chars) : null;
  const alpha = o.alpha ?? 0, beta = o.beta ?? 0;
  return hyps.map((h) => {
    const labels = alphabet.encode(h.text);
    const ctc = views.reduce((s, v) => s + ctcLogLikelihood(v, labels), 0) / views.length;
    return { text: h.text, ctcLogProb: ctc, score: ctc + (lm ? alpha * lm.sentenceLogProb(h.text) : 0) + beta * [...h.text].length };
  });
}
