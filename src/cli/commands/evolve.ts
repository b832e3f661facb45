import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { evolveController, saveController, type Algorithm } from '../../evolve/controlRun.js';
import { evolinoPreset, runEvolino } from '../../evolve/evolinoRun.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { lineChart } from '../../plot/svg.js';
import { ENV_NAMES } from '../../rl/envs/env.js';
import { loadPolicy } from '../../rl/policy.js';
import { makeEnv } from '../../rl/envs/env.js';
import { Rng } from '../../tensor/random.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { choiceFlag, intFlag, numFlag, parseFlags, userErrors } from './shared.js';

const TASKS = ['evolino-sines', 'evolino-mackey-glass'] as const;

const HELP = `Usage: carousel evolve --env ENV [--no-velocities] [--out DIR] [options]
       carousel evolve --task evolino-sines|evolino-mackey-glass [--out DIR] [options]

Neuroevolution: no gradients. CMA-ES (or a (mu,lambda)-ES) searches a recurrent net's weights,
the population evaluated over worker threads (the same result for any --workers).

--env: evolves an LSTM policy for ${ENV_NAMES.join(', ')}. For double-pole the fitness is the
damping fitness of Gruau et al. 1996 (episodes of 1000 steps), and a genome that balances a whole
episode is tested for --balance steps: the task is solved when one passes (the literature's 100,000).
The winner is saved to DIR as a policy that \`carousel play --model DIR\` runs. Stalled runs restart
with twice the population (IPOP).
--task: Evolino (Schmidhuber et al. 2007): the LSTM's weights evolved, its linear readout solved
by the pseudo-inverse; superimposed sine waves or the Mackey-Glass series, generated free-running.

Options:
  --env NAME          ${ENV_NAMES.join(', ')}
  --no-velocities     (pole envs) observe positions only: the net must estimate the velocities
  --task NAME         ${TASKS.join(', ')}
  --waves N           evolino-sines: superimposed waves, 1-5 (default 2: sin(0.2t) + sin(0.311t))
  --hidden N          LSTM cells (default: 3 for --env, 10 for --task)
  --free-run N        --task: free-running steps in the fitness, at the end of the training window
                      (default 100 for sines, 84 for Mackey-Glass; 0: teacher-forced error only)
  --ridge X           --task: Tikhonov regularisation of the readout (default 0: the pseudo-inverse)
  --noise X           --task: Gaussian noise sd added to the teacher-forced input while the
                      readout's states are collected (default 0)
  --peepholes         --task: the paper's peephole cells (default: nn.LSTM's cell)
  --optimizer NAME    --task: cma-es (default) or esp (one subpopulation per cell, burst mutation)
  --subpop N          --optimizer esp: individuals per subpopulation (default 20)
  --trials N          --optimizer esp: networks per individual and generation (default 10)
  --algo NAME         --env: cma-es (default) or es
  --sigma X           initial step size (default 1 for --env, 0.3 for --task); for esp the
                      Cauchy mutation scale (default 0.03)
  --lambda N          population (default 4 + 3 ln n)
  --max-evals N       budget of fitness evaluations (default 50000 for --env, 3000 for --task)
  --balance N         pole envs: steps of the long test (default 100000)
  --no-restarts       stop at the first stall instead of restarting
  --episodes N        episodes per evaluation for envs other than double-pole (default 5)
  --seed S            seed (default 1)
  --workers N         worker threads (default: os.availableParallelism(), here ${availableParallelism()})
  --out DIR           where to write the policy (--env) or result.json and prediction.svg (--task),
                      and curve.svg, the learning curve
  -h, --help          this help`;

export const evolve: Command = {
  name: 'evolve',
  help: HELP,
  async run(argv) {
    const { values: v } = parseFlags('evolve', argv, {
      env: { type: 'string' }, 'no-velocities': { type: 'boolean' }, task: { type: 'string' }, waves: { type: 'string' },
      hidden: { type: 'string' }, 'free-run': { type: 'string' }, peepholes: { type: 'boolean' }, optimizer: { type: 'string' }, subpop: { type: 'string' }, trials: { type: 'string' }, ridge: { type: 'string' }, noise: { type: 'string' }, algo: { type: 'string' }, sigma: { type: 'string' }, lambda: { type: 'string' },
      'max-evals': { type: 'string' }, balance: { type: 'string' }, 'no-restarts': { type: 'boolean' }, episodes: { type: 'string' },
      seed: { type: 'string' }, workers: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    });
    if (v.help) { console.log(HELP); return 0; }
    if ((v.env === undefined) === (v.task === undefined)) throw new UserError(`evolve: expected exactly one of --env (${ENV_NAMES.join(', ')}) or --task (${TASKS.join(', ')}), got ${v.env === undefined ? 'neither' : 'both'}`);
    const seed = intFlag('seed', v.seed, 1, 0);
    const workers = intFlag('workers', v.workers, availableParallelism());
    const lambda = v.lambda === undefined ? undefined : intFlag('lambda', v.lambda, 0, 2);
    const log = (l: string) => console.log(l);
    if (v.out) { const out = v.out; await userErrors(() => mkdirSync(out, { recursive: true })); }

    if (v.task !== undefined) {
      const task = choiceFlag('task', v.task, TASKS);
      for (const f of ['no-velocities', 'balance', 'no-restarts', 'episodes', 'algo'] as const) if (v[f] !== undefined) throw new UserError(`evolve: --${f} is for --env, not --task`);
      if (task !== 'evolino-sines' && v.waves !== undefined) throw new UserError('evolve: --waves is for --task evolino-sines');
      const preset = evolinoPreset(task === 'evolino-sines' ? 'sines' : 'mackey-glass', intFlag('waves', v.waves, 2), intFlag('hidden', v.hidden, 10));
      preset.freeRun = intFlag('free-run', v['free-run'], preset.freeRun, 0);
      if (preset.freeRun > preset.train - preset.washout) throw new UserError(`--free-run: expected at most ${preset.train - preset.washout} (the training steps after the washout), got '${v['free-run']}'`);
      preset.ridge = numFlag('ridge', v.ridge, 0, 0); preset.noise = numFlag('noise', v.noise, 0, 0);
      preset.peepholes = v.peepholes === true;
      const optimizer = choiceFlag('optimizer', v.optimizer, ['cma-es', 'esp'] as const, 'cma-es');
      if (optimizer !== 'esp') for (const f of ['subpop', 'trials'] as const) if (v[f] !== undefined) throw new UserError(`evolve: --${f} is for --optimizer esp`);
      if (optimizer === 'esp' && lambda !== undefined) throw new UserError('evolve: --lambda is for CMA-ES; ESP evaluates --subpop times --trials networks per generation');
      const esp = { size: intFlag('subpop', v.subpop, 20, 4), trials: intFlag('trials', v.trials, 10, 1) };
      if ((preset.waves ?? 1) > 5) throw new UserError(`--waves: expected an integer from 1 to 5, got '${v.waves}'`);
      const maxEvaluations = intFlag('max-evals', v['max-evals'], 3000);
      const by = optimizer === 'esp' ? `ESP (${preset.hidden} subpopulations of ${esp.size}, ${esp.trials} trials each)` : 'CMA-ES';
      console.log(`evolve ${task}: nn.LSTM(1, ${preset.hidden}${preset.peepholes ? ', peepholes' : ''}) weights by ${by}, readout by pseudo-inverse; train ${preset.train} steps (washout ${preset.washout}), test ${preset.test} free-running; ${maxEvaluations.toLocaleString('en-US')} evaluations, ${workers} worker${workers > 1 ? 's' : ''}, seed ${seed}`);
      const r = await runEvolino({ task: preset, maxEvaluations, sigma: numFlag('sigma', v.sigma, optimizer === 'esp' ? 0.03 : 0.3, 1e-12), lambda, optimizer, esp, seed, workers, log });
      const e = r.result;
      console.log(`done in ${r.seconds.toFixed(1)} s, ${r.evaluations.toLocaleString('en-US')} evaluations: training MSE ${e.trainMse.toExponential(3)} (teacher-forced), test MSE ${e.testMse.toExponential(3)}, test NRMSE ${e.testNrmse.toExponential(3)}${preset.kind === 'mackey-glass' ? `, NRMSE at step ${preset.test} ${e.lastStepNrmse.toExponential(3)}` : ''} (free-running)`);
      const err = (k: number) => `${k + 1}: ${(e.testPrediction[k] - r.series[preset.train + k]).toExponential(1)}`;
      console.log(`free-running error at step ${[0, 4, 9, 24, 49, 99, preset.test - 1].filter((k) => k < preset.test).map(err).join(', ')}`);
      if (v.out) {
        const out = v.out;
        await userErrors(() => {
          writeFileAtomic(join(out, 'result.json'), JSON.stringify({ task, config: preset, optimizer, ...(optimizer === 'esp' ? { esp } : {}), seed, evaluations: r.evaluations, seconds: r.seconds, trainMse: e.trainMse, testMse: e.testMse, testNrmse: e.testNrmse, lastStepNrmse: e.lastStepNrmse, readout: [...e.readout], genome: [...r.genome] }) + '\n');
          const t0 = preset.train;
          writeFileAtomic(join(out, 'prediction.svg'), lineChart([
            { name: 'truth', points: Array.from({ length: preset.test + 50 }, (_, k) => [t0 - 50 + k, r.series[t0 - 50 + k]] as [number, number]), color: '#111' },
            { name: 'free-running LSTM', points: Array.from(e.testPrediction, (y, k) => [t0 + k, y] as [number, number]), color: '#d62728', dashed: true },
          ], { title: `${task}: free-running generation after step ${t0}`, xLabel: 'time step', legend: 'left' }));
          writeFileAtomic(join(out, 'curve.svg'), lineChart([
            { name: 'best so far', points: r.history.map((h) => [h.evaluations, h.bestSoFar]) },
            { name: 'generation median', points: r.history.map((h) => [h.evaluations, h.median]), dashed: true },
          ], { title: `${task}: Evolino fitness (training MSE)`, xLabel: 'evaluations', yLabel: 'cost (log scale)', logY: true }));
        });
        console.log(`wrote ${join(out, 'result.json')}, prediction.svg and curve.svg`);
      }
      return 0;
    }

    const env = choiceFlag('env', v.env, ENV_NAMES);
    const pole = env !== 'tmaze';
    if (!pole && v['no-velocities']) throw new UserError('evolve: --no-velocities is for cart-pole and double-pole');
    if (!pole && v.balance !== undefined) throw new UserError('evolve: --balance is for cart-pole and double-pole');
    if (v.waves !== undefined) throw new UserError('evolve: --waves is for --task evolino-sines');
    for (const f of ['free-run', 'ridge', 'noise', 'peepholes', 'optimizer', 'subpop', 'trials'] as const) if (v[f] !== undefined) throw new UserError(`evolve: --${f} is for --task, not --env`);
    const damping = env === 'double-pole';
    const envOptions: Record<string, unknown> = pole ? { velocities: !v['no-velocities'], maxSteps: 1000 } : {};
    const algorithm = choiceFlag('algo', v.algo, ['cma-es', 'es'] as const, 'cma-es') as Algorithm;
    const hidden = intFlag('hidden', v.hidden, 3);
    const balance = pole ? intFlag('balance', v.balance, 100_000) : undefined;
    const maxEvaluations = intFlag('max-evals', v['max-evals'], 50_000);
    console.log(`evolve ${env}${pole && v['no-velocities'] ? ' without velocities' : ''}: LSTM(${hidden}) policy by ${algorithm === 'cma-es' ? 'CMA-ES' : '(mu,lambda)-ES'}, fitness ${damping ? 'damping (Gruau et al. 1996)' : 'mean return'}; at most ${maxEvaluations.toLocaleString('en-US')} evaluations, ${workers} worker${workers > 1 ? 's' : ''}, seed ${seed}`);
    const r = await evolveController({
      env, envOptions, hidden, fitness: damping ? 'damping' : 'return', episodes: intFlag('episodes', v.episodes, 5),
      algorithm, sigma: numFlag('sigma', v.sigma, 1, 1e-12), lambda, seed, workers, maxEvaluations, balance,
      restarts: !v['no-restarts'], log,
    });
    const what = balance ? (r.solved ? `solved: balanced ${balance.toLocaleString('en-US')} steps` : `not solved within ${maxEvaluations.toLocaleString('en-US')} evaluations`) : 'budget spent';
    console.log(`${what} after ${r.evaluations.toLocaleString('en-US')} evaluations (${r.runs} run${r.runs > 1 ? 's' : ''}, ${r.longTests} long tests), best fitness ${(-r.bestCost).toPrecision(4)}, ${r.seconds.toFixed(1)} s`);
    if (v.out) {
      const out = v.out;
      await userErrors(async () => {
        await saveController(out, r.config, r.genome, { method: algorithm, fitness: damping ? 'damping' : 'return', seed, evaluations: r.evaluations, solved: r.solved, balanced: r.balanced, runs: r.runs, seconds: r.seconds });
        writeFileAtomic(join(out, 'curve.svg'), lineChart([
          { name: 'best so far', points: r.history.map((h) => [h.evaluations, -h.bestSoFar]) },
          { name: 'generation median', points: r.history.map((h) => [h.evaluations, -h.median]), dashed: true },
        ], { title: `${env}: ${algorithm} learning curve`, xLabel: 'evaluations', yLabel: damping ? 'damping fitness' : 'mean return', legend: 'left' }));
      });
      if (balance) {
        // The saved policy, loaded back as `carousel play` loads it, on the long test.
        const { policy, config } = loadPolicy(out);
        const steps = balanceWithPolicy(config.env, { ...config.envOptions, maxSteps: balance }, policy.controller());
        console.log(`saved ${out}: the reloaded policy balances ${steps.toLocaleString('en-US')} of ${balance.toLocaleString('en-US')} steps`);
      } else console.log(`saved ${out}`);
    }
    return 0;
  },
};

function balanceWithPolicy(env: string, envOptions: Record<string, unknown>, ctrl: ReturnType<ReturnType<typeof loadPolicy>['policy']['controller']>): number {
  const e = makeEnv(env, envOptions);
  let obs = e.reset(new Rng(0)), t = 0;
  ctrl.reset(1);
  for (;;) {
    const a = ctrl.act(ctrl.step(obs).out, new Rng(0), true);
    const r = e.step(a);
    if (r.reward > 0) t++;
    if (r.done) return t;
    obs = r.observation;
  }
}
