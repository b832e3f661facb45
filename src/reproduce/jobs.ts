/**
 * The (experiment, seed) runs of `carousel reproduce`, `jobs` at a time in child processes. Most
 * experiments train small nets whose steps use one core, so on a machine of N cores N seeds or
 * experiments train at once. A child is the same CLI, `reproduce NAME --first-seed S --seeds 1
 * --jobs 1 --json FILE`: a seed's outcome is a function of (experiment, seed, mode, backend) only, so
 * it is the outcome a sequential run gets (tested), and the rows are assembled in the usual order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Experiment, SeedOutcome } from './experiments.js';
import { experimentRow, type Row, type RunOptions } from './runner.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/** JSON keeps no Infinity or NaN: outcomes travel with them as strings and come back as numbers. */
export const jsonNumbers = (_k: string, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v);
const reviveOutcome = (o: SeedOutcome): SeedOutcome => ({
  ...o, score: Number(o.score), sequences: o.sequences === null ? null : Number(o.sequences), seconds: Number(o.seconds),
});

interface Job { e: Experiment; index: number; seed: number }

/** One seed of one experiment in a child process: its outcomes, and its progress line. */
function runChild(job: Job, o: RunOptions & { backendName: string }, dir: string): Promise<{ outcomes: SeedOutcome[]; line: string }> {
  const file = join(dir, `${job.e.name}-${job.seed}.json`);
  const args = [CLI, 'reproduce', job.e.name, '--first-seed', String(job.seed), '--seeds', '1', '--jobs', '1',
    '--backend', o.backendName, '--json', file, ...(o.mode === 'quick' ? ['--quick'] : [])];
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) { reject(new Error(`reproduce ${job.e.name} seed ${job.seed} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`)); return; }
      const row = JSON.parse(readFileSync(file, 'utf8')).rows[0] as Row;
      const line = out.split('\n').find((l) => l.startsWith(`  ${job.e.name} seed ${job.seed}:`)) ?? `  ${job.e.name} seed ${job.seed}: done`;
      resolve({ outcomes: row.outcomes[0].map(reviveOutcome), line });
    });
  });
}

/**
 * Every experiment's seeds as jobs, `jobs` children at a time, in the order given (experiments
 * first to last, seeds in order). A row's `seconds` is the sum of its seeds' wall times.
 */
export async function runInParallel(experiments: readonly Experiment[], o: RunOptions & { jobs: number; backendName: string }): Promise<Row[]> {
  const first = o.firstSeed ?? 1;
  const queue: Job[] = experiments.flatMap((e, index) => Array.from({ length: o.seeds ?? e.seeds[o.mode] }, (_, i) => ({ e, index, seed: first + i })));
  const results = experiments.map((e) => new Map<number, { outcomes: SeedOutcome[]; seconds: number }>());
  const dir = mkdtempSync(join(tmpdir(), 'carousel-reproduce-'));
  try {
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const job = queue[next++], t0 = Date.now();
        const r = await runChild(job, o, dir);
        results[job.index].set(job.seed, { outcomes: r.outcomes, seconds: (Date.now() - t0) / 1000 });
        o.log?.(r.line);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.jobs, queue.length) }, worker));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return experiments.map((e, i) => {
    const seeds = [...results[i].keys()].sort((a, b) => a - b), runs = seeds.map((s) => results[i].get(s)!);
    return experimentRow(e, o.mode, seeds, runs.map((r) => r.outcomes), runs.reduce((a, r) => a + r.seconds, 0));
  });
}
