/**
 * Gers and Schmidhuber 2001 ("LSTM recurrent networks learn simple context-free and context-
 * sensitive languages", IEEE TNN 12(6)): next-symbol prediction on a^n b^n (context-free) and
 * a^n b^n c^n (context-sensitive). A string is S a^n b^n [c^n] T, n >= 1; the net reads it one
 * symbol at a time (S, a, b, c one-hot) and predicts, at every step, the SET of symbols that may
 * come next (a, b, c, T: one sigmoid output each, target 1 for each legal successor):
 *   after S: a;  after an a: a or b;  after the k-th b: b if k < n, else T (a^n b^n) or c;
 *   after the k-th c: c if k < n, else T.
 * A string is ACCEPTED when every prediction is right: every output within 0.5 of its target at
 * every step. Training strings have n = 1 .. 10; the measure is generalisation: the largest N
 * such that every string with n <= N is accepted.
 */
import type { Rng } from '../tensor/random.js';
import type { SeqBatch, SeqNet, SeqTask } from './trainer.js';

export type Language = 'anbn' | 'anbncn';

/** Symbols: S a b [c] T. Inputs are all but T; outputs all but S. */
export function alphabet(lang: Language): string[] {
  return lang === 'anbn' ? ['S', 'a', 'b', 'T'] : ['S', 'a', 'b', 'c', 'T'];
}

/** The string with this n, as letters (S ... T). */
export function languageString(lang: Language, n: number): string {
  return 'S' + 'a'.repeat(n) + 'b'.repeat(n) + (lang === 'anbncn' ? 'c'.repeat(n) : '') + 'T';
}

/** For each position t but the last, the letters that may follow the prefix s[0..t] (the targets). */
export function legalNext(lang: Language, n: number): string[][] {
  const out: string[][] = [['a']];
  for (let k = 1; k <= n; k++) out.push(['a', 'b']);
  for (let k = 1; k <= n; k++) out.push(k < n ? ['b'] : [lang === 'anbn' ? 'T' : 'c']);
  if (lang === 'anbncn') for (let k = 1; k <= n; k++) out.push(k < n ? ['c'] : ['T']);
  return out;
}

/** Strings with these n's as a time-major batch (padded with weight 0 after each string's end). */
export function languageBatch(lang: Language, ns: readonly number[]): SeqBatch {
  const abc = alphabet(lang), I = abc.length - 1, O = abc.length - 1, B = ns.length;
  const strings = ns.map((n) => languageString(lang, n));
  const T = Math.max(...strings.map((s) => s.length - 1));
  const x = new Float32Array(T * B * I), target = new Float32Array(T * B * O), weight = new Float32Array(T * B);
  strings.forEach((s, b) => {
    const legal = legalNext(lang, ns[b]);
    for (let t = 0; t < s.length - 1; t++) {
      x[(t * B + b) * I + abc.indexOf(s[t])] = 1;                         // inputs S a b c: indices 0..I-1
      for (const l of legal[t]) target[(t * B + b) * O + abc.indexOf(l) - 1] = 1; // outputs a b c T: indices 0..O-1
      weight[t * B + b] = 1;
    }
  });
  return { T, B, x, target, weight };
}

/** Per string of the batch: whether every weighted output is within 0.5 of its target (accepted). */
export function acceptedStrings(y: Float32Array, b: SeqBatch, O: number): boolean[] {
  return Array.from({ length: b.B }, (_, s) => {
    for (let t = 0; t < b.T; t++) {
      if (!b.weight[t * b.B + s]) continue;
      const o = (t * b.B + s) * O;
      for (let k = 0; k < O; k++) if (!(Math.abs(y[o + k] - b.target[o + k]) < 0.5)) return false;
    }
    return true;
  });
}

/** The largest N <= nMax such that the strings n = 1 .. N are all accepted (0: n = 1 is not). */
export async function generalisation(net: SeqNet, lang: Language, nMax: number): Promise<number> {
  const ns = Array.from({ length: nMax }, (_, i) => i + 1);
  const b = languageBatch(lang, ns);
  const ok = acceptedStrings(await net.predict(b), b, alphabet(lang).length - 1);
  const first = ok.indexOf(false);
  return first < 0 ? nMax : first;
}

/** Training: batches of strings with n uniform in 1 .. trainMax; solved when all of n = 1 .. trainMax are accepted. */
export function languageTask(lang: Language, trainMax: number): SeqTask {
  const size = alphabet(lang).length - 1;
  return {
    inputSize: size, outputSize: size,
    batch: (rng: Rng, B: number) => languageBatch(lang, Array.from({ length: B }, () => 1 + rng.int(trainMax))),
    async test(net: SeqNet) {
      const k = await generalisation(net, lang, trainMax);
      return { pass: k === trainMax, score: k };
    },
  };
}
