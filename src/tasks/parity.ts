#!/usr/bin/env node
/**
 * The parity experiment of the xLSTM paper (Beck et al. 2024, section 4.1 / Table 1, after
 * Delétang et al. 2023): train on bit strings of lengths 3..40, test on lengths 40..256. A stack
 * with an sLSTM block (state tracking through its recurrent, nonlinear memory mixing) extrapolates;
 * a pure mLSTM stack (no memory mixing: its state update is linear in the past) does not.
 *
 *   node dist/src/tasks/parity.js                      # --blocks ss,m: two sLSTM blocks vs one mLSTM block, in parallel (~2.5 minutes on 2 cores)
 *   node dist/src/tasks/parity.js --blocks ms --steps 1500 --dim 16
 *
 * --blocks takes comma-separated stack layouts, one letter per block from the input upwards:
 * 's' an sLSTM block, 'm' an mLSTM block ("ms" = xLSTM[1:1]). Each layout is trained from the
 * same seed and evaluated; a table of accuracies is printed at the end.
 *
 * Setup (our choices, stated): tokens 0/1 embedded, XLSTMStack -> Linear(D, 2); the target at
 * every step is the parity of the prefix so far (dense supervision, cross-entropy over all steps);
 * each batch has one length drawn uniformly from [trainMin, trainMax]. The reported accuracy is
 * the sequence-level one: the prediction at the last step (the parity of the whole string),
 * over testSamples strings with lengths spread evenly over [testMin, testMax]. Random guessing
 * gives 0.5. Optimizer: Adam, gradient norm clipped at 1.
 */
import '../backends.js'; // run as a script: the built-in backends
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backward, noGrad } from '../autograd/tape.js';
import { setBackend } from '../backend/registry.js';
import { crossEntropy } from '../loss/crossEntropy.js';
import { XLSTMStack } from '../nn/xlstm.js';
import { reshape } from '../ops/shape.js';
import { Adam } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import { Rng } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/tidy.js';

export interface ParityOptions {
  /** Stack layout, one letter per block: 's' sLSTM, 'm' mLSTM. */
  blocks: string;
  dim: number;
  heads: number;
  steps: number;
  batch: number;
  lr: number;
  trainMin: number; trainMax: number;
  testMin: number; testMax: number;
  testSamples: number;
  seed: number;
  /** Progress lines (null: silent). */
  log: ((line: string) => void) | null;
  logEvery: number;
}

export const parityDefaults: ParityOptions = {
  blocks: 's', dim: 16, heads: 4, steps: 2000, batch: 32, lr: 3e-3,
  trainMin: 3, trainMax: 40, testMin: 40, testMax: 256, testSamples: 256, seed: 1, log: null, logEvery: 100,
};

export interface ParityResult {
  blocks: string;
  parameters: number;
  finalLoss: number;
  /** Sequence-level accuracy (prediction at the last step) on the training range and the test range. */
  trainAccuracy: number;
  testAccuracy: number;
  seconds: number;
}

/** A batch of B bit strings of length T, time-major: ids [T*B] and running parities [T*B]. */
function batchOf(rng: Rng, T: number, B: number): { ids: Int32Array; parity: Int32Array } {
  const ids = new Int32Array(T * B), parity = new Int32Array(T * B);
  for (let b = 0; b < B; b++) {
    let p = 0;
    for (let t = 0; t < T; t++) { const bit = rng.int(2); p ^= bit; ids[t * B + b] = bit; parity[t * B + b] = p; }
  }
  return { ids, parity };
}

export function buildParityModel(o: ParityOptions): XLSTMStack {
  if (!/^[sm]+$/.test(o.blocks)) throw new Error(`parity: --blocks must be letters s (sLSTM) and m (mLSTM), e.g. "s", "ms"; got '${o.blocks}'`);
  const slstmAt = [...o.blocks].flatMap((c, i) => (c === 's' ? [i] : []));
  return new XLSTMStack({
    vocabSize: 2, embeddingDim: o.dim, numBlocks: o.blocks.length, slstmAt, numHeads: o.heads,
    mlstm: { form: 'chunkwise', chunkSize: 64 },
  }, { rng: new Rng(o.seed) });
}

/** Accuracy of the last-step prediction over n strings with lengths spread evenly over [lo, hi]. */
export async function parityAccuracy(model: XLSTMStack, rng: Rng, lo: number, hi: number, n: number, perLength = 16): Promise<number> {
  let correct = 0, total = 0;
  const groups = Math.max(1, Math.round(n / perLength));
  for (let g = 0; g < groups; g++) {
    const T = groups === 1 ? hi : Math.round(lo + (hi - lo) * g / (groups - 1));
    const B = Math.min(perLength, n - total);
    if (B <= 0) break;
    const { ids, parity } = batchOf(rng, T, B);
    const out = tidy(() => noGrad(() => model.forward(new Tensor(model.backend.upload('i32', ids), [T, B])))); // [T, B, 2]
    const logits = await out.data();
    out.dispose();
    for (let b = 0; b < B; b++) {
      const o = ((T - 1) * B + b) * 2;
      if ((logits[o + 1] > logits[o] ? 1 : 0) === parity[(T - 1) * B + b]) correct++;
    }
    total += B;
  }
  return correct / total;
}

export async function runParity(opts: Partial<ParityOptions> = {}): Promise<ParityResult> {
  const o: ParityOptions = { ...parityDefaults, ...opts };
  const t0 = Date.now();
  const model = buildParityModel(o);
  const opt = new Adam(model.parameters(), { lr: o.lr });
  const rng = new Rng(o.seed * 7919 + 1);
  // The loss's moving average (0.95) stays on the device, read only to log and at the end.
  const avg = new Tensor(model.backend.alloc(model.dtype, 1), [1]);
  keep(avg);
  for (let step = 1; step <= o.steps; step++) {
    const T = o.trainMin + rng.int(o.trainMax - o.trainMin + 1);
    const { ids, parity } = batchOf(rng, T, o.batch);
    const logits = model.forward(new Tensor(model.backend.upload('i32', ids), [T, o.batch]));
    const loss = crossEntropy(reshape(logits, [T * o.batch, 2]), parity);
    opt.zeroGrad();
    backward(loss);
    clipGradNorm(model.parameters(), 1);
    opt.step();
    const be = model.backend;
    if (step > 1) be.affine(avg.storage, 0, avg.storage, 0, 1, 0.95, 0, false);
    be.affine(loss.storage, 0, avg.storage, 0, 1, step > 1 ? 0.05 : 1, 0, step > 1);
    // Let the event loop turn: backends that free device memory from finalizers (wasm) need it.
    await new Promise((r) => setImmediate(r));
    if (o.log && (step % o.logEvery === 0 || step === o.steps)) {
      o.log(`[${o.blocks}] step ${step}/${o.steps}  loss ${(await avg.data())[0].toFixed(4)}  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  const finalLoss = o.steps > 0 ? (await avg.data())[0] : NaN;
  avg.dispose();
  const evalRng = new Rng(12345);
  const trainAccuracy = await parityAccuracy(model, evalRng, o.trainMin, o.trainMax, o.testSamples);
  const testAccuracy = await parityAccuracy(model, evalRng, o.testMin, o.testMax, o.testSamples);
  return { blocks: o.blocks, parameters: model.numParameters(), finalLoss, trainAccuracy, testAccuracy, seconds: (Date.now() - t0) / 1000 };
}

const usage = `Usage: node dist/src/tasks/parity.js [--blocks ss,m] [--steps N] [--dim D] [--heads NH] [--batch B] [--lr LR]
       [--train-max L] [--test-max L] [--test-samples N] [--seed S] [--backend reference|wasm] (default: the library's)

Trains each comma-separated stack layout (letters s = sLSTM block, m = mLSTM block) on the
parity of bit strings of lengths 3..train-max (default 40) and reports the accuracy of the
parity of whole strings on lengths 3..40 and 40..test-max (default 256).`;

const valueFlags = ['steps', 'dim', 'heads', 'batch', 'lr', 'train-max', 'test-max', 'test-samples', 'seed', 'backend'] as const;

/** Train one layout in a child process (the layouts run in parallel, one per core); resolves its result. */
function runChild(blocks: string, values: Record<string, string | boolean | undefined>): Promise<ParityResult> {
  const args = [fileURLToPath(import.meta.url), '--blocks', blocks, '--json'];
  for (const k of valueFlags) if (typeof values[k] === 'string') args.push(`--${k}`, values[k] as string);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl); out = out.slice(nl + 1);
        if (line.startsWith('{')) resolve(JSON.parse(line) as ParityResult); else console.log(line);
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => { if (code !== 0) reject(new Error(`layout ${blocks}: exited with ${code}`)); });
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      blocks: { type: 'string', default: 'ss,m' }, steps: { type: 'string' }, dim: { type: 'string' }, heads: { type: 'string' },
      batch: { type: 'string' }, lr: { type: 'string' }, 'train-max': { type: 'string' }, 'test-max': { type: 'string' },
      'test-samples': { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
    },
  });
  if (values.help) { console.log(usage); return 0; }
  const num = (k: keyof typeof values, d: number) => {
    const v = values[k];
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${k}: expected a positive number, got '${v}'`);
    return n;
  };
  const base: Partial<ParityOptions> = {
    steps: num('steps', parityDefaults.steps), dim: num('dim', parityDefaults.dim), heads: num('heads', parityDefaults.heads),
    batch: num('batch', parityDefaults.batch), lr: num('lr', parityDefaults.lr), trainMax: num('train-max', parityDefaults.trainMax),
    testMin: num('train-max', parityDefaults.trainMax), testMax: num('test-max', parityDefaults.testMax),
    testSamples: num('test-samples', parityDefaults.testSamples), seed: num('seed', parityDefaults.seed),
    log: (l) => console.log(l),
  };
  const layouts = (values.blocks as string).split(',').map((b) => b.trim());
  for (const b of layouts) buildParityModel({ ...parityDefaults, blocks: b, dim: 4, heads: 1 }); // validate before training
  if (values.json) {
    // Child mode: one layout, progress lines, then the result as one JSON line.
    if (values.backend) await setBackend(values.backend);
    const r = await runParity({ ...base, blocks: layouts[0] });
    console.log(JSON.stringify(r));
    return 0;
  }
  console.log(`parity: train lengths ${parityDefaults.trainMin}..${base.trainMax}, test ${base.testMin}..${base.testMax}, ` +
    `${base.steps} steps; layouts ${layouts.join(', ')} in parallel (${Math.min(layouts.length, availableParallelism())} at a time)`);
  const results: ParityResult[] = [];
  const queue = [...layouts];
  await Promise.all(Array.from({ length: Math.min(layouts.length, availableParallelism()) }, async () => {
    for (let b = queue.shift(); b !== undefined; b = queue.shift()) results.push(await runChild(b, values));
  }));
  results.sort((a, b) => layouts.indexOf(a.blocks) - layouts.indexOf(b.blocks));
  console.log('\nlayout  params  train acc (3..' + base.trainMax + ')  test acc (' + base.testMin + '..' + base.testMax + ')  time');
  for (const r of results) {
    console.log(`${r.blocks.padEnd(6)}  ${String(r.parameters).padStart(6)}  ${r.trainAccuracy.toFixed(3).padStart(17)}  ${r.testAccuracy.toFixed(3).padStart(19)}  ${r.seconds.toFixed(0)} s`);
  }
  return 0;
}

// Run when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((c) => process.exit(c), (e) => { console.error(`parity: ${(e as Error).message}`); process.exit(2); });
}
