/**
 * The experiments `carousel reproduce` reruns: each with the paper's figure, the paper's success
 * criterion (written in each task's file), our architecture and budget, and how a row is judged.
 * Nothing is loosened to make a row pass: a row whose criterion is not met says so.
 */
import type { Backend } from '../backend/backend.js';
import { runParity } from '../tasks/parity.js';
import { addingTask } from './adding.js';
import { trainContinualReber } from './continualReber.js';
import { embeddedReberTask } from './embeddedReber.js';
import { longLagTask } from './longLag.js';
import { temporalOrderTask } from './temporalOrder.js';
import { trainUntilSolved, type SeqTask, type TrainSpec } from './trainer.js';

export type Mode = 'full' | 'quick';

/** One seed's outcome: solved or not, and numbers for the row. */
export interface SeedOutcome {
  solved: boolean;
  /** Training sequences (or symbols) until solved; null when not solved. */
  sequences: number | null;
  /** The experiment's own measure (fraction of test sequences right, accuracy, symbols before the first error). */
  score: number;
  seconds: number;
  /** Optional second group (e.g. the 1997 LSTM beside the forget-gate LSTM). */
  label?: string;
}

export interface Verdict { ours: string; met: boolean; note: string }

export interface Experiment {
  name: string;
  title: string;
  /** Paper and table the figure comes from. */
  source: string;
  /** The paper's figure, as the paper states it. */
  paper: string;
  /** What counts as success, per seed, and for the row. */
  criterion: string;
  /** Our architecture and training (said in the output where it differs from the paper's). */
  setup: string;
  seeds: Record<Mode, number>;
  run(seed: number, mode: Mode, backend?: Backend): Promise<SeedOutcome[]>;
  verdict(outcomes: SeedOutcome[][], mode: Mode): Verdict;
}

const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');

/** "mean (min-max)" of the solved seeds' sequence counts. */
function sequencesSummary(outs: SeedOutcome[]): string {
  const s = outs.filter((o) => o.solved).map((o) => o.sequences!);
  if (s.length === 0) return '';
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return s.length === 1 ? `${fmtInt(mean)} sequences` : `${fmtInt(mean)} sequences (${fmtInt(Math.min(...s))}-${fmtInt(Math.max(...s))})`;
}

/**
 * An experiment whose paper figure is "solved in every trial, after about N sequences": trained by
 * trainUntilSolved for each seed; the row is met when every seed solves it within the budget.
 */
function solvedInEveryTrial(e: {
  name: string; title: string; source: string; paperSequences: number; criterion: string; setup: string;
  task: () => SeqTask; train: TrainSpec; quickBudget?: number; seeds?: Record<Mode, number>;
}): Experiment {
  let task: SeqTask | null = null;
  return {
    name: e.name, title: e.title, source: e.source,
    paper: `all trials solved, ${fmtInt(e.paperSequences)} sequences`,
    criterion: e.criterion, setup: e.setup, seeds: e.seeds ?? { full: 3, quick: 1 },
    async run(seed, mode, backend) {
      task ??= e.task();
      const budget = mode === 'quick' ? (e.quickBudget ?? e.train.budget) : e.train.budget;
      const r = await trainUntilSolved(task, { ...e.train, budget }, seed, backend);
      return [{ solved: r.solved, sequences: r.sequences, score: r.score, seconds: r.seconds }];
    },
    verdict(outcomes, mode) {
      const outs = outcomes.map((o) => o[0]);
      const solved = outs.filter((o) => o.solved).length;
      const budget = mode === 'quick' ? (e.quickBudget ?? e.train.budget) : e.train.budget;
      const ours = `${solved}/${outs.length} solved` + (solved ? `, ${sequencesSummary(outs)}` : '');
      const notes: string[] = [];
      if (solved < outs.length) {
        const best = Math.max(...outs.filter((o) => !o.solved).map((o) => o.score));
        notes.push(`${outs.length - solved} not solved within ${fmtInt(budget)} sequences (best test score ${best.toFixed(3)})`);
      }
      const s = outs.filter((o) => o.solved).map((o) => o.sequences!);
      if (s.length) {
        const ratio = s.reduce((a, b) => a + b, 0) / s.length / e.paperSequences;
        notes.push(ratio > 1 ? `${ratio.toFixed(1)}x the paper's sequences` : `${(1 / ratio).toFixed(1)}x fewer sequences than the paper`);
      }
      return { ours, met: solved === outs.length, note: notes.join('; ') };
    },
  };
}

const CELL1997 = 'the 1997 LSTM (no forget gate, no peepholes)';

export const EXPERIMENTS: Experiment[] = [
  solvedInEveryTrial({
    name: 'embedded-reber', title: 'Embedded Reber grammar, next-symbol prediction',
    source: 'Hochreiter & Schmidhuber 1997, Table 1 (3 blocks of 2 cells, lr 0.5)', paperSequences: 8440,
    criterion: 'every output within 0.5 of the legal-successor target at every step of 256 fresh strings',
    setup: `${CELL1997}, 6 cells, batches of 16 strings, Adam lr 0.03`,
    task: () => embeddedReberTask, train: { hidden: 6, variant: 'LSTM1997', batch: 16, lr: 0.03, budget: 200_000, checkEvery: 2000 },
  }),
];

export function findExperiments(names: readonly string[]): Experiment[] {
  if (names.length === 0) return EXPERIMENTS;
  return names.map((n) => {
    const e = EXPERIMENTS.find((x) => x.name === n);
    if (!e) throw new Error(`reproduce: no experiment '${n}': expected one of ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
    return e;
  });
}

// Referenced so the registry below grows in one place as experiments are added.
void addingTask; void longLagTask; void temporalOrderTask; void trainContinualReber; void runParity;
