// Child process of test/memory-flat.test.ts (run with --expose-gc, one backend per process): long
// plain loops (no tidy, never yielding) of streaming steps and state-dict loads, each measured
// after a warm-up. Prints one JSON line: per scenario, the growth over the measured part.
//
//   node --expose-gc dist/test/util/memoryChild.js BACKEND STEPS LOADS TMPDIR
import { join } from 'node:path';
import '../../src/backends.js';
import type { Backend } from '../../src/backend/backend.js';
import { loadBackend } from '../../src/backend/registry.js';
import { WasmBackend } from '../../src/backend/wasm/index.js';
import { exportStateDict, importStateDict } from '../../src/io/pytorch.js';
import { SequenceModel, type Architecture } from '../../src/models/sequenceModel.js';
import { StreamingModel } from '../../src/models/stream.js';
import { tensor } from '../../src/tensor/create.js';
import { Rng } from '../../src/tensor/random.js';

export interface Growth {
  /** Bytes the backend's own allocator holds (wasm: the linear-memory heap's live blocks; 0 elsewhere). */
  device: number;
  /** Blocks the wasm heap took from fresh memory rather than a free list (0 elsewhere). */
  fresh: number;
  /** JS heap in use plus ArrayBuffer memory (typed arrays: the reference backend's storages), after gc(). */
  js: number;
  rss: number;
  steps: number;
  ms: number;
}
export type ChildReport = Record<string, Growth | { error: string }>;

const [name, stepsArg, loadsArg, dir] = process.argv.slice(2);
const STEPS = Number(stepsArg), LOADS = Number(loadsArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('memoryChild: run with --expose-gc');
const be: Backend = await loadBackend(name);
if (be instanceof WasmBackend) be.setThreads(1); // the measure is memory: no worker threads to start midway

interface Snap { device: number; fresh: number; js: number; rss: number; t: number }
function snap(): Snap {
  gc!(); gc!(); // synchronous: no finalizer runs (none can before the loop yields), only JS garbage goes
  const m = process.memoryUsage();
  const w = be instanceof WasmBackend ? be : null;
  return { device: w ? w.heap.inUse : 0, fresh: w ? w.freshAllocations : 0, js: m.heapUsed + m.arrayBuffers, rss: m.rss, t: performance.now() };
}

/** `warm` steps, then `steps` measured ones, all in one synchronous run. */
function measure(steps: number, warm: number, step: (i: number) => void): Growth {
  for (let i = 0; i < warm; i++) step(i);
  const a = snap();
  for (let i = 0; i < steps; i++) step(warm + i);
  const b = snap();
  return { device: b.device - a.device, fresh: b.fresh - a.fresh, js: b.js - a.js, rss: b.rss - a.rss, steps, ms: Math.round(b.t - a.t) };
}

function model(arch: Partial<Architecture>): SequenceModel {
  const m = new SequenceModel({ task: 'forecast', cell: 'lstm', inputSize: 2, hiddenSize: 8, numLayers: 2, bidirectional: false, dropout: 0,
    outputSize: 3, ...arch }, { backend: be, rng: new Rng(5) });
  return m.eval();
}

const report: ChildReport = {};
async function scenario(key: string, run: () => Growth | Promise<Growth>): Promise<void> {
  try { report[key] = await run(); } catch (e) { report[key] = { error: (e as Error).message.split('\n')[0] }; }
}

// The README's loop, written plainly: values in, each output read before the next push.
await scenario('lstm, values', () => {
  const s = new StreamingModel(model({}));
  return measure(STEPS, 1000, (i) => { s.push([[Math.sin(i / 7), Math.cos(i / 5)]]); });
});
// A tensor the user made once, pushed again and again (the user owns it; the stream owns the rest).
await scenario('gru, own tensor', () => {
  const m = model({ cell: 'gru' }), s = new StreamingModel(m);
  const x = tensor([[0.3, -0.2]], undefined, { backend: be });
  return measure(STEPS / 5, 1000, () => { s.push(x); });
});
// Generation: one token id in, the logits read, as generateText and `carousel predict` do.
await scenario('charlm lstm, ids', () => {
  const m = model({ task: 'charlm', inputSize: 6, outputSize: 11, vocabSize: 11 }), s = new StreamingModel(m);
  let id = 1;
  return measure(STEPS / 5, 1000, () => {
    const logits = s.push([id]).dataSync();
    id = logits[0] > logits[1] ? 3 : 7;
  });
});
// A core without a streaming step (xLSTM) runs forward on length-1 sequences: far slower, fewer
// steps (the JS heap settles after some hundred steps: compiled code, inline caches).
await scenario('xlstm, values', () => {
  const s = new StreamingModel(model({ cell: 'xlstm', numLayers: 2, hiddenSize: 8 }));
  return measure(STEPS / 300 | 0, 300, (i) => { s.push([[Math.sin(i), 1]]); });
});
// Repeated loads of one safetensors file into one model.
await scenario('importStateDict', async () => {
  const m = model({}), file = join(dir, 'weights.safetensors');
  await exportStateDict(m, file);
  return measure(LOADS, 50, () => importStateDict(m, file));
});

console.log(JSON.stringify(report));
