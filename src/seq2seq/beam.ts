import { noGrad } from '../autograd/tape.js';
import { logSoftmax } from '../ops/softmax.js';
import { tidy } from '../tensor/tidy.js';
import { selectMemory } from './attention.js';
import type { Seq2Seq } from './model.js';
import { BOS, EOS, PAD } from './vocab.js';

export interface DecodeOptions {
  /** Hypotheses kept per source (1: greedy). */
  beam?: number;
  /**
   * Length normalisation: a finished hypothesis scores log P / length^alpha (length counting its
   * </s>). 0: raw log probability (favours short outputs); 1: mean log probability per token.
   */
  alpha?: number;
  /** Most tokens (</s> included) a hypothesis may have, from its source's length (default 2 S + 10). */
  maxLength?: (srcLength: number) => number;
  /** Sources decoded together (each with `beam` rows). */
  chunk?: number;
  /** Keep each hypothesis' attention weights (for a plot). */
  keepWeights?: boolean;
}

export interface Hypothesis {
  /** Output ids, without <s> and </s>. */
  ids: number[];
  /** log P(ids, </s> | source). */
  logProb: number;
  /** logProb / length^alpha: what hypotheses are ranked by. */
  score: number;
  /** false when the hypothesis reached maxLength without </s>. */
  finished: boolean;
  /** [steps][S] attention weights, with keepWeights. */
  weights?: Float32Array[];
}

interface Hyp { ids: number[]; logProb: number; weights: Float32Array[] | null }

/**
 * Batched beam search: `chunk` sources at a time, every live hypothesis of every source one row of
 * one decoder batch, so each step is one batched decoder step. Per source and step the 2K best
 * extensions are ranked; those ending in </s> among the first K are finished, the first K others
 * live on. A source is done when it has K finished hypotheses (or at its maxLength); the best by
 * length-normalised score is returned. <pad> and <s> are never produced. Beam 1 is greedy decoding.
 */
export function beamSearch(model: Seq2Seq, sources: readonly (readonly number[])[], o: DecodeOptions = {}): Hypothesis[] {
  const K = o.beam ?? 4, alpha = o.alpha ?? 1, chunk = o.chunk ?? Math.max(1, Math.floor(512 / K));
  if (!Number.isInteger(K) || K < 1) throw new Error(`beamSearch: expected beam a positive integer, got ${K}`);
  const maxLen = o.maxLength ?? ((s: number) => 2 * s + 10);
  const out: Hypothesis[] = [];
  const wasTraining = model.training;
  model.eval();
  try {
    for (let c0 = 0; c0 < sources.length; c0 += chunk) out.push(...decodeChunk(model, sources.slice(c0, c0 + chunk), K, alpha, maxLen, !!o.keepWeights));
  } finally { model.train(wasTraining); }
  return out;
}

function decodeChunk(model: Seq2Seq, sources: readonly (readonly number[])[], K: number, alpha: number,
  maxLen: (s: number) => number, keepWeights: boolean): Hypothesis[] {
  return tidy(() => noGrad(() => {
    const n = sources.length, S = Math.max(...sources.map((s) => s.length)), dec = model.decoder;
    if (sources.some((s) => s.length === 0)) throw new Error('beamSearch: a source is empty');
    const src = new Int32Array(S * n).fill(PAD);
    sources.forEach((s, b) => s.forEach((id, t) => { src[t * n + b] = id; }));
    const lengths = sources.map((s) => s.length);
    const start = model.start({ src, S, B: n, srcLengths: lengths });
    const limits = lengths.map(maxLen);
    const norm = (h: Hyp, len: number) => h.logProb / Math.pow(len, alpha);
    // Live hypotheses, row by row: rowSrc[r] is the source of row r.
    let live: Hyp[] = sources.map(() => ({ ids: [], logProb: 0, weights: keepWeights ? [] : null }));
    let rowSrc = sources.map((_, i) => i);
    const finished: { h: Hyp; score: number }[][] = sources.map(() => []);
    let memory = start.memory, state = start.state;
    for (let step = 0; live.length > 0; step++) {
      const prevTok = live.map((h) => (h.ids.length ? h.ids[h.ids.length - 1] : BOS));
      const r = dec.step(dec.embed(model.ids(prevTok, [live.length])), state, memory);
      const lp = logSoftmax(dec.logits(r.out)).dataSync(); // [R, V]
      const V = lp.length / live.length;
      const w = keepWeights ? r.weights.dataSync() : null;
      const nextLive: Hyp[] = [], nextSrc: number[] = [], parents: number[] = [];
      // The rows of each source are contiguous: walk them a source at a time.
      for (let r0 = 0; r0 < live.length;) {
        const i = rowSrc[r0];
        let r1 = r0;
        while (r1 < live.length && rowSrc[r1] === i) r1++;
        const cands: { row: number; tok: number; lp: number }[] = [];
        for (let row = r0; row < r1; row++) {
          for (let v = 0; v < V; v++) {
            if (v === PAD || v === BOS) continue;
            cands.push({ row, tok: v, lp: live[row].logProb + lp[row * V + v] });
          }
        }
        cands.sort((a, b) => b.lp - a.lp || a.row - b.row || a.tok - b.tok);
        const last = step + 1 >= limits[i]; // this step's tokens are the last a hypothesis may have
        let kept = 0;
        for (let k = 0; k < Math.min(cands.length, 2 * K) && kept < K; k++) {
          const c = cands[k], parent = live[c.row];
          const weights = parent.weights && w ? [...parent.weights, Float32Array.from(w.subarray(c.row * S, (c.row + 1) * S))] : null;
          if (c.tok === EOS) {
            if (k < K) { const h = { ids: parent.ids, logProb: c.lp, weights }; finished[i].push({ h, score: norm(h, h.ids.length + 1) }); }
            continue;
          }
          const h = { ids: [...parent.ids, c.tok], logProb: c.lp, weights };
          if (last) { if (finished[i].length === 0) finished[i].push({ h, score: -Infinity }); continue; }
          nextLive.push(h); nextSrc.push(i); parents.push(c.row); kept++;
        }
        if (finished[i].length >= K && !last) { // done: drop its live rows
          while (nextSrc.length && nextSrc[nextSrc.length - 1] === i) { nextLive.pop(); nextSrc.pop(); parents.pop(); }
        }
        r0 = r1;
      }
      live = nextLive; rowSrc = nextSrc;
      if (live.length) {
        const rows = model.ids(parents, [parents.length]);
        const memRows = model.ids(rowSrc, [rowSrc.length]);
        state = dec.selectState(r.state, rows);
        memory = selectMemory(start.memory, memRows, rowSrc.map((s) => lengths[s]));
      }
    }
    return finished.map((f) => {
      // A hypothesis cut at maxLength (score -Infinity) only when none finished.
      const best = f.reduce((a, b) => (b.score > a.score ? b : a));
      return { ids: best.h.ids, logProb: best.h.logProb, score: best.score, finished: best.score > -Infinity, ...(best.h.weights ? { weights: best.h.weights } : {}) };
    });
  }));
}
