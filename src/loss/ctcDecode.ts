import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** One decoded sequence: labels (blanks and repeats collapsed) and its log probability. */
export interface Decoded { labels: number[]; logProb: number }

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** The log-probabilities on the host (one asynchronous read, any backend) with their checked lengths. */
async function readLogProbs(logProbs: Tensor, inputLengths?: ArrayLike<number>): Promise<{ lp: ArrayLike<number>; T: number; N: number; C: number; lens: number[] }> {
  if (logProbs.rank !== 3) throw new Error(`ctc decode: expected logProbs of shape [T, N, C], got ${fmt(logProbs.shape)}`);
  const [T, N, C] = logProbs.shape;
  const lens = inputLengths ? Array.from(inputLengths) : new Array<number>(N).fill(T);
  if (lens.length !== N) throw new Error(`ctc decode: expected ${N} input lengths, got ${lens.length}`);
  lens.forEach((l, n) => { if (!Number.isInteger(l) || l < 0 || l > T) throw new Error(`ctc decode: inputLengths[${n}] must be in [0, ${T}], got ${l}`); });
  return { lp: await logProbs.data(), T, N, C, lens };
}

/**
 * Best-path (greedy) decoding: the most likely class at each step, then repeats merged and
 * blanks removed. logProb is that of the best path (a lower bound of the labeling's).
 */
export async function ctcGreedyDecode(logProbs: Tensor, inputLengths?: ArrayLike<number>, blank = 0): Promise<Decoded[]> {
  const { lp, N, C, lens } = await readLogProbs(logProbs, inputLengths);
  const out: Decoded[] = [];
  for (let n = 0; n < N; n++) {
    const labels: number[] = [];
    let prev = -1, total = 0;
    for (let t = 0; t < lens[n]; t++) {
      const row = (t * N + n) * C;
      let best = 0;
      for (let c = 1; c < C; c++) if (lp[row + c] > lp[row + best]) best = c;
      total += lp[row + best];
      if (best !== blank && best !== prev) labels.push(best);
      prev = best;
    }
    out.push({ labels, logProb: total });
  }
  return out;
}

/**
 * CTC prefix beam search (Graves 2012; Hannun et al. 2014) without a language model: keeps the
 * `beamWidth` most probable label prefixes, each with the probability of ending in a blank and
 * in its last label, so that all alignments of a prefix are summed. Returns the best `topK`
 * labelings per sequence with their total log probability.
 */
export async function ctcBeamSearch(logProbs: Tensor, opts: { beamWidth?: number; topK?: number; blank?: number; inputLengths?: ArrayLike<number> } = {}): Promise<Decoded[][]> {
  const beamWidth = opts.beamWidth ?? 16, topK = opts.topK ?? 1, blank = opts.blank ?? 0;
  if (!Number.isInteger(beamWidth) || beamWidth < 1) throw new Error(`ctcBeamSearch: beamWidth must be a positive integer, got ${beamWidth}`);
  const { lp, N, C, lens } = await readLogProbs(logProbs, opts.inputLengths);
  if (!Number.isInteger(blank) || blank < 0 || blank >= C) throw new Error(`ctcBeamSearch: blank must be in [0, ${C}), got ${blank}`);
  const results: Decoded[][] = [];
  for (let n = 0; n < N; n++) {
    // key: labels joined by ','; value: [log P(prefix, ends in blank), log P(prefix, ends in label)]
    let beams = new Map<string, { labels: number[]; pb: number; pnb: number }>();
    beams.set('', { labels: [], pb: 0, pnb: -Infinity });
    for (let t = 0; t < lens[n]; t++) {
      const row = (t * N + n) * C;
      const next = new Map<string, { labels: number[]; pb: number; pnb: number }>();
      const get = (labels: number[]) => {
        const k = labels.join(',');
        let e = next.get(k);
        if (!e) { e = { labels, pb: -Infinity, pnb: -Infinity }; next.set(k, e); }
        return e;
      };
      for (const b of beams.values()) {
        const total = logAdd(b.pb, b.pnb);
        // Blank: the prefix stays.
        const same = get(b.labels);
        same.pb = logAdd(same.pb, total + lp[row + blank]);
        const last = b.labels.length ? b.labels[b.labels.length - 1] : -1;
        for (let c = 0; c < C; c++) {
          if (c === blank) continue;
          const p = lp[row + c];
          if (c === last) {
            // Repeat without a blank between merges into the same prefix...
            same.pnb = logAdd(same.pnb, b.pnb + p);
            // ...and after a blank it extends the prefix.
            const ext = get([...b.labels, c]);
            ext.pnb = logAdd(ext.pnb, b.pb + p);
          } else {
            const ext = get([...b.labels, c]);
            ext.pnb = logAdd(ext.pnb, total + p);
          }
        }
      }
      beams = new Map([...next.entries()].sort((a, b) => logAdd(b[1].pb, b[1].pnb) - logAdd(a[1].pb, a[1].pnb)).slice(0, beamWidth));
    }
    results.push([...beams.values()].map((b) => ({ labels: b.labels, logProb: logAdd(b.pb, b.pnb) }))
      .sort((a, b) => b.logProb - a.logProb).slice(0, topK));
  }
  return results;
}
