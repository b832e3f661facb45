/**
 * Runs experiments over seeds and turns their outcomes into rows: experiment, paper's figure,
 * ours, criterion met or not. The last line of the table is "N of M reproduced".
 */
import type { Backend } from '../backend/backend.js';
import type { Experiment, Mode, SeedOutcome, Verdict } from './experiments.js';

export interface Row extends Verdict {
  name: string;
  source: string;
  paper: string;
  criterion: string;
  setup: string;
  mode: Mode;
  seeds: number[];
  outcomes: SeedOutcome[][];
  seconds: number;
}

export interface RunOptions {
  mode: Mode;
  /** Seeds per experiment (default: the experiment's own for the mode). */
  seeds?: number;
  /** First seed (seeds are firstSeed, firstSeed + 1, ...). */
  firstSeed?: number;
  backend?: Backend;
  log?: (line: string) => void;
}

export async function runExperiment(e: Experiment, o: RunOptions): Promise<Row> {
  const n = o.seeds ?? e.seeds[o.mode], first = o.firstSeed ?? 1;
  const seeds = Array.from({ length: n }, (_, i) => first + i);
  const outcomes: SeedOutcome[][] = [];
  const t0 = Date.now();
  for (const seed of seeds) {
    const r = await e.run(seed, o.mode, o.backend);
    outcomes.push(r);
    o.log?.(`  ${e.name} seed ${seed}: ${r.map((x) => `${x.label ? x.label + ' ' : ''}${x.sequences !== null ? `${x.solved ? 'solved' : 'not met'} after ${x.sequences} sequences` : x.solved ? 'ok' : 'failed'} (${e.scoreName} ${Number.isInteger(x.score) ? x.score : x.score.toFixed(3)}, ${x.seconds.toFixed(0)} s)`).join('; ')}`);
  }
  return experimentRow(e, o.mode, seeds, outcomes, (Date.now() - t0) / 1000);
}

/** An experiment's row from its seeds' outcomes. */
export function experimentRow(e: Experiment, mode: Mode, seeds: number[], outcomes: SeedOutcome[][], seconds: number): Row {
  return {
    name: e.name, source: e.source, paper: e.paper, criterion: e.criterion, setup: e.setup, mode,
    seeds, outcomes, seconds, ...e.verdict(outcomes, mode),
  };
}

/** The rows as a fixed-width table, then "N of M reproduced". */
export function formatTable(rows: readonly Row[]): string {
  const head = ['experiment', "paper's figure", 'ours', 'met'];
  const body = rows.map((r) => [r.name, r.paper, r.ours + (r.note ? ` [${r.note}]` : ''), r.met ? 'yes' : 'NO']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  const met = rows.filter((r) => r.met).length;
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line), '', `${met} of ${rows.length} reproduced`].join('\n');
}
