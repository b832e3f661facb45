import { loadCmudict, stripStress, type Cmudict } from '../data/cmudict.js';
import { DataError } from '../data/errors.js';
import { printable } from '../data/printable.js';
import { Rng } from '../tensor/random.js';
import { detokenize, tokenize, type Tokenization } from './vocab.js';

/** One line of a pairs file: its tokens, and where it came from (for messages). */
export interface Pair { src: string[]; tgt: string[]; line: number }

/** A source with every reference given for it (a word and its pronunciations), in first-seen order. */
export interface Grouped { src: string[]; refs: string[][]; line: number }

/** 'auto': space tokens when any line of that side holds a space, else characters. */
export type TokenizationChoice = Tokenization | 'auto';

/**
 * Read `source<TAB>target` lines (a final newline and \r\n endings allowed). Every line must have
 * exactly one tab and non-empty sides: a problem is an error naming the file and line.
 */
export function readPairs(text: string, file: string, srcMode: TokenizationChoice, tgtMode: TokenizationChoice): { pairs: Pair[]; srcMode: Tokenization; tgtMode: Tokenization } {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) throw new DataError(`${file}: no lines; expected 'source<TAB>target' per line`);
  const raw: { s: string; t: string; line: number }[] = [];
  lines.forEach((l0, i) => {
    const l = l0.endsWith('\r') ? l0.slice(0, -1) : l0, at = `${file}:${i + 1}`;
    if (l.trim() === '') throw new DataError(`${at}: empty line; expected 'source<TAB>target'`);
    const parts = l.split('\t');
    if (parts.length !== 2) throw new DataError(`${at}: expected 'source<TAB>target' (one tab), got ${parts.length - 1} tabs in '${printable(l, 60)}'`);
    const [s, t] = parts.map((p) => p.trim());
    if (s === '') throw new DataError(`${at}: empty source before the tab`);
    if (t === '') throw new DataError(`${at}: empty target after the tab`);
    raw.push({ s, t, line: i + 1 });
  });
  const pick = (choice: TokenizationChoice, side: string[]): Tokenization => (choice !== 'auto' ? choice : side.some((x) => x.includes(' ')) ? 'space' : 'char');
  const sm = pick(srcMode, raw.map((r) => r.s)), tm = pick(tgtMode, raw.map((r) => r.t));
  return { pairs: raw.map((r) => ({ src: tokenize(r.s, sm), tgt: tokenize(r.t, tm), line: r.line })), srcMode: sm, tgtMode: tm };
}

/** Pairs grouped by source (all references of a source together), in first-seen order. */
export function groupBySource(pairs: readonly Pair[]): Grouped[] {
  const by = new Map<string, Grouped>();
  for (const p of pairs) {
    const k = p.src.join('\u0000');
    const g = by.get(k);
    if (!g) by.set(k, { src: p.src, refs: [p.tgt], line: p.line });
    else if (!g.refs.some((r) => r.join(' ') === p.tgt.join(' '))) g.refs.push(p.tgt);
  }
  return [...by.values()];
}

export function ungroup(groups: readonly Grouped[]): Pair[] {
  return groups.flatMap((g) => g.refs.map((tgt) => ({ src: g.src, tgt, line: g.line })));
}

/** Grouped sources split by a seeded shuffle: fractions of the groups (a source's references stay together). */
export function splitGroups(groups: readonly Grouped[], fractions: readonly number[], seed: number): Grouped[][] {
  const order = new Rng(seed).shuffle(groups.map((_, i) => i));
  const out: Grouped[][] = [];
  let at = 0;
  fractions.forEach((f, k) => {
    const n = k === fractions.length - 1 ? order.length - at : Math.round(f * groups.length);
    out.push(order.slice(at, at + n).map((i) => groups[i]));
    at += n;
  });
  return out;
}

/** The seed of the G2P split: fixed, so every run and every user scores on the same test words. */
export const G2P_SPLIT_SEED = 20150101;

/**
 * The CMUdict grapheme-to-phoneme data: words of letters and apostrophes only (abbreviations with
 * periods, hyphenated and underscored entries dropped), lowercased, each with its pronunciations as
 * ARPAbet phones with the stress digits removed (39 phones), duplicates that only differed in
 * stress merged. Split 90/5/5 by word with a fixed seed, all pronunciations of a word together.
 */
export function g2pData(dict: Cmudict = loadCmudict()): { train: Grouped[]; val: Grouped[]; test: Grouped[]; dropped: number } {
  const words = [...dict.keys()].sort();
  const groups: Grouped[] = [];
  let dropped = 0;
  for (const w of words) {
    if (!/^[A-Z']+$/.test(w)) { dropped++; continue; }
    const refs: string[][] = [];
    for (const p of dict.get(w)!) {
      const ph = p.map(stripStress);
      if (!refs.some((r) => r.join(' ') === ph.join(' '))) refs.push(ph);
    }
    groups.push({ src: [...w.toLowerCase()], refs, line: 0 });
  }
  const [train, val, test] = splitGroups(groups, [0.9, 0.05, 0.05], G2P_SPLIT_SEED);
  return { train, val, test, dropped };
}

/** Groups as pairs.tsv text: a line per reference ('word<TAB>PH PH ...'). */
export function pairsText(groups: readonly Grouped[], srcMode: Tokenization, tgtMode: Tokenization): string {
  return groups.flatMap((g) => g.refs.map((r) => `${detokenize(g.src, srcMode)}\t${detokenize(r, tgtMode)}\n`)).join('');
}
