/**
 * The experiments `carousel reproduce` reruns: each with the paper's figure, the paper's success
 * criterion (written in each task's file), our architecture and budget, and how a row is judged.
 * Nothing is loosened to make a row pass: a row whose criterion is not met says so.
 */
import type { Backend } from '../backend/backend.js';
import { runParity } from '../tasks/parity.js';
import { addingTask } from './adding.js';
import { trainContinualReber } from './continualReber.js';
import { dsrExperiment } from './dsr.js';
import { embeddedReberTask } from './embeddedReber.js';
import { longLagTask } from './longLag.js';
import { temporalOrderTask } from './temporalOrder.js';
import { trainUntilSolved, type SeqTask, type TrainSpec } from './trainer.js';
import { doublePoleExperiment } from './doublePole.js';
import { evolinoSinesExperiment } from './evolinoSines.js';
import { tmazeExperiment } from './tmaze.js';

export type Mode = 'full' | 'quick';

/** One seed's outcome: solved or not, and numbers for the row. */
export interface SeedOutcome {
  solved: boolean;
  /** Training sequences until solved; null when not solved or not counted (solved then means "this run meets its part of the criterion"). */
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
  /** What SeedOutcome.score measures, for the progress lines. */
  scoreName: string;
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
  name: string; title: string; source: string; paperSequences: number; criterion: string;
  /** Said after the training spec (how batches are made). */
  detail?: string;
  task: () => SeqTask; train: TrainSpec; quickBudget?: number; seeds?: Record<Mode, number>;
}): Experiment {
  // In full runs the modern LSTM (nn.LSTM: forget gate) trains beside the paper's cell, same settings.
  const modern = e.train.variant === 'LSTM1997';
  let task: SeqTask | null = null;
  return {
    name: e.name, title: e.title, source: e.source,
    paper: `all trials solved, ${fmtInt(e.paperSequences)} sequences`,
    criterion: e.criterion, setup: describeTraining(e.train, e.detail), seeds: e.seeds ?? { full: 3, quick: 1 }, scoreName: 'fraction of test sequences right',
    async run(seed, mode, backend) {
      task ??= e.task();
      const budget = mode === 'quick' ? (e.quickBudget ?? e.train.budget) : e.train.budget;
      const out: SeedOutcome[] = [];
      for (const variant of modern && mode === 'full' ? [e.train.variant, undefined] : [e.train.variant]) {
        const r = await trainUntilSolved(task, { ...e.train, variant, budget }, seed, backend);
        out.push({ label: variant ?? 'LSTM', solved: r.solved, sequences: r.sequences, score: r.score, seconds: r.seconds });
      }
      return out;
    },
    verdict(outcomes, mode) {
      const outs = outcomes.map((o) => o[0]);
      const solved = outs.filter((o) => o.solved).length;
      const budget = mode === 'quick' ? (e.quickBudget ?? e.train.budget) : e.train.budget;
      const ours = `${solved}/${outs.length} solved` + (solved ? `, ${sequencesSummary(outs)} (tested every ${fmtInt(e.train.checkEvery)})` : '');
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
      const beside = outcomes.filter((o) => o.length > 1).map((o) => o[1]);
      if (beside.length) {
        const k = beside.filter((o) => o.solved).length;
        notes.push(`nn.LSTM (forget gate) beside it: ${k}/${beside.length} solved${k ? `, ${sequencesSummary(beside)}` : ''}`);
      }
      return { ours, met: solved === outs.length, note: notes.join('; ') };
    },
  };
}

const CELL1997 = 'the 1997 LSTM (no forget gate, no peepholes)';

/** The setup line of a trained-until-solved experiment, from its training spec (so the two never disagree). */
function describeTraining(t: TrainSpec, detail?: string): string {
  return [
    t.variant === 'LSTM1997' ? CELL1997 : t.variant ?? 'nn.LSTM', `${t.hidden} cells`,
    ...(t.skip ? ['the read-out also sees the input'] : []),
    ...(t.inputGateBias ? [`input gates biased ${t.inputGateBias} (the 1997 paper's closed start)`] : []),
    `batches of ${t.batch}${detail ? ` (${detail})` : ''}`, `Adam lr ${t.lr}`,
    `at most ${fmtInt(t.budget)} sequences`,
  ].join(', ');
}

export const EXPERIMENTS: Experiment[] = [
  solvedInEveryTrial({
    name: 'embedded-reber', title: 'Embedded Reber grammar, next-symbol prediction',
    source: 'Hochreiter & Schmidhuber 1997, experiment 1, Table 1 (3 blocks of 2 cells, lr 0.5)', paperSequences: 8440,
    criterion: 'every output within 0.5 of the legal-successor target at every step of 256 fresh strings',
    task: () => embeddedReberTask, train: { hidden: 6, variant: 'LSTM1997', batch: 16, lr: 0.03, budget: 200_000, checkEvery: 2000 },
  }),
  solvedInEveryTrial({
    name: 'long-lag-2a', title: 'Noise-free long time lag, p = 100, fixed middle (2a)',
    source: 'Hochreiter & Schmidhuber 1997, experiment 2a, Table 2', paperSequences: 5040,
    criterion: 'at the last step every output within 0.25 of the target, for each of 256 fresh sequences',
    task: () => longLagTask(100, false), train: { hidden: 16, variant: 'LSTM1997', skip: true, batch: 16, lr: 0.1, budget: 100_000, checkEvery: 2000 },
    quickBudget: 20_000,
  }),
  solvedInEveryTrial({
    name: 'long-lag-2b', title: 'Noise-free long time lag, p = 100, random middle (2b)',
    source: 'Hochreiter & Schmidhuber 1997, experiment 2b, Table 2', paperSequences: 5680,
    criterion: 'at the last step every output within 0.25 of the target, for each of 256 fresh sequences',
    task: () => longLagTask(100, true), train: { hidden: 8, variant: 'LSTM1997', skip: true, batch: 16, lr: 0.1, budget: 100_000, checkEvery: 2000 },
    quickBudget: 20_000,
  }),
  solvedInEveryTrial({
    name: 'adding-100', title: 'Adding problem, T = 100',
    source: 'Hochreiter & Schmidhuber 1997, experiment 4, Table 7 (2 blocks of 2 cells)', paperSequences: 74_000,
    criterion: 'absolute error below 0.04 on each of 2000 fresh sequences',
    detail: 'one length per batch',
    task: () => addingTask(100), train: { hidden: 8, variant: 'LSTM1997', inputGateBias: -3, batch: 32, lr: 0.01, budget: 300_000, checkEvery: 8000 },
    quickBudget: 80_000,
  }),
  solvedInEveryTrial({
    name: 'adding-500', title: 'Adding problem, T = 500',
    source: 'Hochreiter & Schmidhuber 1997, experiment 4, Table 7 (2 blocks of 2 cells)', paperSequences: 209_000,
    criterion: 'absolute error below 0.04 on each of 2000 fresh sequences',
    detail: 'one length per batch',
    task: () => addingTask(500), train: { hidden: 8, variant: 'LSTM1997', inputGateBias: -3, batch: 32, lr: 0.01, budget: 400_000, checkEvery: 16_000 },
    quickBudget: 16_000, seeds: { full: 1, quick: 1 },
  }),
  solvedInEveryTrial({
    name: 'temporal-order-6a', title: 'Temporal order, two relevant symbols (6a)',
    source: 'Hochreiter & Schmidhuber 1997, experiment 6a, Table 9 (2 blocks of 2 cells)', paperSequences: 31_390,
    criterion: 'every output within 0.3 of the target at the end of each of 2000 fresh sequences',
    detail: 'one length per batch',
    task: () => temporalOrderTask('6a'), train: { hidden: 8, variant: 'LSTM1997', batch: 32, lr: 0.03, budget: 200_000, checkEvery: 4000 },
    quickBudget: 30_000,
  }),
  solvedInEveryTrial({
    name: 'temporal-order-6b', title: 'Temporal order, three relevant symbols (6b)',
    source: 'Hochreiter & Schmidhuber 1997, experiment 6b, Table 9 (3 blocks of 2 cells)', paperSequences: 571_100,
    criterion: 'every output within 0.3 of the target at the end of each of 2000 fresh sequences',
    detail: 'one length per batch',
    task: () => temporalOrderTask('6b'), train: { hidden: 12, variant: 'LSTM1997', inputGateBias: -3, batch: 32, lr: 0.03, budget: 600_000, checkEvery: 8000 },
    quickBudget: 30_000,
  }),
  continualReber(),
  greffMini(),
  parity(),
  doublePoleExperiment(),
  evolinoSinesExperiment(),
  dsrExperiment(),
  tmazeExperiment(),
];

/**
 * Greff et al. 2015 ("LSTM: A Search Space Odyssey", Figure 3 and section 5) in miniature: the
 * variants on one small task, the continual embedded Reber grammar, several seeds each. The
 * paper's finding: removing the forget gate (NFG) or the output activation (NOAF) hurts
 * significantly; coupling input and forget gates (CIFG) or removing peepholes (NP) does not.
 * Measure: symbols wrong in 20,000 further symbols of a training stream (lower is better).
 * Met when NFG and NOAF are both worse than vanilla (V) and CIFG and NP each make at most
 * 1% of the symbols wrong more than V does, in mean over seeds.
 */
function greffMini(): Experiment {
  const variants = ['V', 'NIG', 'NFG', 'NOG', 'NIAF', 'NOAF', 'NP', 'CIFG', 'FGR'] as const;
  const quickVariants = ['V', 'NFG', 'NOAF', 'NP', 'CIFG'] as const;
  const test = 20_000, budget = { full: 200_000, quick: 100_000 };
  return {
    name: 'greff-variants', title: "Greff et al.'s LSTM variants against vanilla, in miniature",
    source: 'Greff, Srivastava, Koutnik, Steunebrink & Schmidhuber 2015, Figure 3',
    paper: 'NFG and NOAF significantly worse than vanilla; CIFG and NP not',
    criterion: 'errors in 20,000 continual Reber symbols, mean over seeds: NFG and NOAF above V; CIFG and NP at most V + 200',
    setup: 'each variant with peepholes as Greff (NP: none), 8 cells, the continual Reber training of continual-reber; quick: V, NFG, NOAF, NP, CIFG',
    seeds: { full: 3, quick: 1 }, scoreName: 'test symbols wrong',
    async run(seed, mode, backend) {
      const out: SeedOutcome[] = [];
      for (const v of mode === 'quick' ? quickVariants : variants) {
        const r = await trainContinualReber({ hidden: 8, variant: v, lr: 0.03, budget: budget[mode], testSymbols: test }, seed, backend);
        out.push({ label: v, solved: r.perfect, sequences: null, score: r.errors, seconds: r.seconds });
      }
      return out;
    },
    verdict(outcomes) {
      const mean = new Map<string, number>();
      for (const o of outcomes[0]) mean.set(o.label!, outcomes.reduce((a, seed) => a + seed.find((x) => x.label === o.label)!.score, 0) / outcomes.length);
      const m = (k: string) => mean.get(k)!;
      const met = m('NFG') > m('V') && m('NOAF') > m('V') && m('CIFG') <= m('V') + test / 100 && m('NP') <= m('V') + test / 100;
      return { ours: [...mean].map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ') + ' errors', met, note: '' };
    },
  };
}

/**
 * Gers et al. 2000, Table 2: without forget gates no net solves the continual task, with them
 * some do (18% perfect, 29% more good; 62% with learning-rate decay). Each seed trains both cells;
 * the row is met when at least one forget-gate net is perfect and no 1997 net is.
 */
function continualReber(): Experiment {
  const budget = { full: 400_000, quick: 400_000 };
  return {
    name: 'continual-reber', title: 'Continual embedded Reber grammar: the forget gate',
    source: 'Gers, Schmidhuber & Cummins 2000, Table 2',
    paper: '1997 LSTM: 0% solved; with forget gates: 18% perfect + 29% good (62% with lr decay)',
    criterion: 'perfect: 100,000 further symbols of a training stream, never reset, all predicted (every output within 0.5)',
    setup: 'nn.LSTM (forget gate) and the 1997 LSTM, 8 cells each, 16 streams, truncated BPTT over 50 symbols, Adam lr 0.03, 400,000 symbols per stream',
    // A share of nets, so several seeds even in quick runs (one seed is a coin toss either way).
    seeds: { full: 10, quick: 3 }, scoreName: 'test symbols before the first error',
    async run(seed, mode, backend) {
      const out: SeedOutcome[] = [];
      for (const [label, variant] of [['forget gate', undefined], ['1997', 'LSTM1997']] as const) {
        const r = await trainContinualReber({ hidden: 8, variant, lr: 0.03, budget: budget[mode], testSymbols: 100_000 }, seed, backend);
        out.push({ label, solved: r.perfect, sequences: null, score: r.firstError, seconds: r.seconds });
      }
      return out;
    },
    verdict(outcomes) {
      const rate = (i: number) => outcomes.filter((o) => o[i].solved).length;
      const n = outcomes.length, fg = rate(0), old = rate(1);
      const pct = (k: number) => `${Math.round((100 * k) / n)}%`;
      const firstErr = (i: number) => outcomes.map((o) => o[i].score).filter((v) => v < 100_000);
      const e = firstErr(1);
      return {
        ours: `1997 LSTM: ${pct(old)} perfect; forget gate: ${pct(fg)} perfect (${n} seeds)`,
        met: fg > 0 && old === 0,
        note: e.length ? `1997 nets' first error after ${e.map(fmtInt).join(', ')} symbols` : '',
      };
    },
  };
}

/**
 * Beck et al. 2024 (xLSTM), Table 1 / section 4.1, parity after Deletang et al. 2023: an sLSTM
 * block extrapolates parity from lengths 3-40 to 40-256; the paper reports sLSTM solving it
 * (accuracy near 1) where mLSTM alone does not. Met when sLSTM's test accuracy is above 0.9 and
 * mLSTM's is below 0.75.
 */
function parity(): Experiment {
  return {
    name: 'xlstm-parity', title: 'Parity, train on lengths 3-40, test on 40-256 (xLSTM blocks)',
    source: 'Beck et al. 2024 (xLSTM), section 4.1 / Table 1',
    paper: 'sLSTM extrapolates parity (accuracy ~1); mLSTM alone does not (~0.5)',
    criterion: 'sequence accuracy on lengths 40-256 (256 strings): sLSTM above 0.9, mLSTM below 0.75',
    setup: 'two sLSTM blocks vs one mLSTM block, dim 16, 4 heads, Adam lr 3e-3, batches of 32, 2000 steps each (quick: mLSTM 600) (src/tasks/parity.ts)',
    seeds: { full: 3, quick: 1 }, scoreName: 'test accuracy',
    async run(seed, mode, backend) {
      void backend; // parity builds its modules on the current backend, which the command has set
      const out: SeedOutcome[] = [];
      for (const blocks of ['ss', 'm']) {
        const steps = mode === 'quick' && blocks === 'm' ? 600 : 2000;
        const r = await runParity({ blocks, seed, steps });
        out.push({ label: blocks === 'ss' ? 'sLSTM' : 'mLSTM', solved: blocks === 'ss' ? r.testAccuracy > 0.9 : r.testAccuracy < 0.75, sequences: null, score: r.testAccuracy, seconds: r.seconds });
      }
      return out;
    },
    verdict(outcomes) {
      const mean = (i: number) => outcomes.reduce((a, o) => a + o[i].score, 0) / outcomes.length;
      return {
        ours: `sLSTM ${mean(0).toFixed(3)}, mLSTM ${mean(1).toFixed(3)} test accuracy`,
        met: outcomes.every((o) => o[0].solved && o[1].solved),
        note: '',
      };
    },
  };
}

export function findExperiments(names: readonly string[]): Experiment[] {
  if (names.length === 0) return EXPERIMENTS;
  return names.map((n) => {
    const e = EXPERIMENTS.find((x) => x.name === n);
    if (!e) throw new Error(`reproduce: no experiment '${n}': expected one of ${EXPERIMENTS.map((x) => x.name).join(', ')}`);
    return e;
  });
}
