import { availableParallelism } from 'node:os';
import { getBackend, listBackends, setBackend } from '../../backend/registry.js';
import { printable } from '../../data/printable.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { EXPERIMENTS, findExperiments, type Mode } from '../../reproduce/experiments.js';
import { jsonNumbers, runInParallel } from '../../reproduce/jobs.js';
import { formatTable, runExperiment, type Row } from '../../reproduce/runner.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { intFlag, parseFlags, userErrors } from './shared.js';

const HELP = `Usage: carousel reproduce [NAME...] [--quick] [--seeds N] [--first-seed S] [--jobs J] [--backend B] [--json FILE]
       carousel reproduce --list

Reruns classic LSTM experiments on data generated from the papers' descriptions, with the
papers' success criteria, and prints one row per experiment: the paper's figure, ours (over
seeds), and whether the criterion is met. The last line is "N of M reproduced".

Options:
  --list           what each experiment is, which paper table it comes from, and its criterion
  --quick          fewer seeds and smaller budgets, every experiment (about 3 minutes on 2 lightly
                   loaded cores); a row that needs more than the quick budget says so, not met
  --seeds N        seeds per experiment (default: each experiment's own, mostly 3 in full, 1 quick)
  --first-seed S   first seed (default 1; seeds are S, S+1, ...)
  --jobs J         seeds (of any experiment) trained at once, each in its own process (default: the
                   number of cores; the outcomes are the same as one at a time)
  --backend NAME   backend to train on (default: the default backend)
  --json FILE      also write every row, with each seed's outcome, as JSON
  -h, --help       this help`;

export const reproduce: Command = {
  name: 'reproduce',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseFlags('reproduce', argv, {
      list: { type: 'boolean' }, quick: { type: 'boolean' }, seeds: { type: 'string' }, 'first-seed': { type: 'string' }, jobs: { type: 'string' },
      backend: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    }, true);
    if (v.help) { console.log(HELP); return 0; }
    let experiments;
    try { experiments = findExperiments(positionals); } catch (e) { throw new UserError((e as Error).message); }
    if (v.list) {
      for (const e of positionals.length ? experiments : EXPERIMENTS) {
        console.log(`${e.name}: ${e.title}\n  source:    ${e.source}\n  paper:     ${e.paper}\n  criterion: ${e.criterion}\n  ours:      ${e.setup}\n`);
      }
      return 0;
    }
    if (v.backend && !listBackends().includes(v.backend)) {
      throw new UserError(`--backend: expected one of ${listBackends().join(', ')}, got '${printable(v.backend, 40)}'`);
    }
    const backend = v.backend ? await setBackend(v.backend) : getBackend();
    const mode: Mode = v.quick ? 'quick' : 'full';
    const seeds = v.seeds === undefined ? undefined : intFlag('seeds', v.seeds, 1);
    const firstSeed = intFlag('first-seed', v['first-seed'], 1, 0);
    const jobs = intFlag('jobs', v.jobs, availableParallelism());
    console.log(`reproduce (${mode}, backend ${backend.name}${jobs > 1 ? `, ${jobs} jobs` : ''}): ${experiments.map((e) => e.name).join(', ')}`);
    const log = (l: string) => console.log(l);
    let rows: Row[] = [];
    if (jobs > 1) {
      for (const e of experiments) console.log(`${e.name}: ${e.setup}`);
      rows = await runInParallel(experiments, { mode, seeds, firstSeed, jobs, backendName: backend.name, log });
    } else {
      for (const e of experiments) {
        console.log(`${e.name}: ${e.setup}`);
        rows.push(await runExperiment(e, { mode, seeds, firstSeed, backend, log }));
      }
    }
    console.log('\n' + formatTable(rows));
    if (v.json) {
      const path = v.json;
      await userErrors(() => writeFileAtomic(path, JSON.stringify({ mode, backend: backend.name, rows }, jsonNumbers, 2) + '\n'));
    }
    return 0;
  },
};
