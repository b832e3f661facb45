/**
 * The Reber grammar (Reber 1967, as in Cleeremans et al. 1989) and the embedded Reber grammar
 * (Hochreiter and Schmidhuber 1997, experiment 1): strings over 7 symbols, each position's legal
 * successors known, so a net predicting the next symbol can be scored exactly.
 *
 *   Reber:     B, then a walk of the automaton below, then E.
 *   embedded:  B, T or P, a Reber string, the SAME T or P again, E. Predicting that second T/P
 *              needs the first one, remembered across the whole inner string.
 */
import type { Rng } from '../tensor/random.js';

export const REBER_SYMBOLS = ['B', 'T', 'P', 'S', 'X', 'V', 'E'] as const;
export const NSYM = REBER_SYMBOLS.length;
const [B, T, P, S, X, V, E] = [0, 1, 2, 3, 4, 5, 6];

/** The inner automaton: state -> [symbol, next state] choices, each taken with probability 1/2. */
const EDGES: readonly (readonly [number, number][])[] = [
  [[T, 1], [P, 2]], // 0: after B
  [[S, 1], [X, 3]], // 1
  [[T, 2], [V, 4]], // 2
  [[X, 2], [S, 5]], // 3
  [[P, 3], [V, 5]], // 4
  [[E, -1]],        // 5: E ends the string
];

/** One embedded Reber string and, per position t < length-1, the mask of legal symbols at t+1. */
export interface ReberString {
  symbols: number[];
  /** legal[t] is a bit set (bit s = symbol s may follow symbols[0..t]). */
  legal: number[];
}

const bit = (s: number) => 1 << s;

/** A random embedded Reber string with the legal successors of each prefix. */
export function embeddedReber(rng: Rng): ReberString {
  const outer = rng.int(2) === 0 ? T : P;
  const symbols = [B, outer, B];
  const legal = [bit(T) | bit(P), bit(B), bit(T) | bit(P)];
  let state = 0;
  for (;;) {
    const choices = EDGES[state];
    const [sym, next] = choices[choices.length === 1 ? 0 : rng.int(2)];
    symbols.push(sym);
    if (next < 0) break;
    state = next;
    legal.push(EDGES[state].reduce((m, [s]) => m | bit(s), 0));
  }
  legal.push(bit(outer)); // after the inner E: the outer symbol again (the long-range part)
  symbols.push(outer, E);
  legal.push(bit(E));
  return { symbols, legal };
}

/** The legal-successor mask as 0/1 targets into out[o .. o + NSYM). */
export function maskTargets(mask: number, out: Float32Array, o: number): void {
  for (let s = 0; s < NSYM; s++) out[o + s] = (mask >> s) & 1;
}

/** The index of the second-to-last position (whose successor is the remembered T/P). */
export const outerIndex = (r: ReberString) => r.symbols.length - 3;

/**
 * Whether `s` (symbol letters) is an embedded Reber string: B, T|P, a Reber string accepted by
 * the automaton, the same T|P, E. (The recognizer the generator is tested against.)
 */
export function isEmbeddedReber(s: string): boolean {
  const ids = [...s].map((c) => REBER_SYMBOLS.indexOf(c as typeof REBER_SYMBOLS[number]));
  if (ids.length < 9 || ids.includes(-1)) return false;
  const n = ids.length;
  if (ids[0] !== B || (ids[1] !== T && ids[1] !== P) || ids[n - 2] !== ids[1] || ids[n - 1] !== E || ids[2] !== B) return false;
  let state = 0;
  for (let i = 3; i < n - 2; i++) {
    const edge = EDGES[state].find(([sym]) => sym === ids[i]);
    if (!edge) return false;
    if (edge[1] < 0) return i === n - 3; // the inner E must be the last inner symbol
    state = edge[1];
  }
  return false;
}
