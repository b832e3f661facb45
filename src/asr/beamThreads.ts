/**
 * CTC beam search over many utterances on worker threads (beamWorker.ts). Each utterance's search
 * (beamDecode) is single-threaded and independent of the others, so a thread per core runs them
 * side by side; the hypotheses are those beamDecode gives one utterance at a time, in order,
 * whatever the thread count (a search is a pure function of its posteriors and options). The LM
 * and the lexicon travel to a thread once (known by an id afterwards), not with every batch; the
 * threads stay for the next call (tuning searches the same utterances at 16 settings) and never
 * keep the process alive while idle.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Alphabet } from './alphabet.js';
import { beamDecode, type BeamOptions, type Hypothesis, type Lexicon, type Posteriors } from './decode.js';
import type { CharNgramLM, LmJson } from './lm.js';

/** Utterances a thread is handed at a time; whichever thread is free takes the next batch. */
export const BEAM_BATCH = 16;

/** A batch for a thread: utterances from..from+posts.length-1, and the LM and lexicon the first time it meets them. */
export interface BeamJob {
  from: number;
  posts: Posteriors[];
  chars: readonly string[];
  options: Omit<BeamOptions, 'lm' | 'lexicon'>;
  lm: { id: number; json?: LmJson } | null;
  lexicon: { id: number; words?: readonly string[] } | null;
}
/** Each utterance's hypotheses (beamDecode's), or why the batch failed. */
export type BeamReply = { from: number; hyps: Hypothesis[][] } | { from: number; error: string };

interface Thread { w: Worker; lm: number; lexicon: number }
const threads: Thread[] = [];
const ids = new WeakMap<object, number>();
let lastId = 0;
const idOf = (o: object): number => {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = ++lastId));
  return id;
};
const lmJson = new WeakMap<CharNgramLM, LmJson>();
/** Posteriors whose data is a view into a larger buffer get a copy of their own: a message would carry the whole buffer. */
const compact = (p: Posteriors): Posteriors =>
  (ArrayBuffer.isView(p.data) && p.data.byteLength !== p.data.buffer.byteLength ? { T: p.T, C: p.C, data: (p.data as Float32Array).slice() } : p);

/**
 * beamDecode of every utterance, on up to `width` threads (default: one per core; 1, or no more
 * than one batch of utterances: in this thread).
 */
export async function beamDecodeAll(posts: readonly Posteriors[], alphabet: Alphabet, o: BeamOptions = {}, width = availableParallelism()): Promise<Hypothesis[][]> {
  if (!(Number.isInteger(width) && width >= 1)) throw new Error(`beamDecodeAll: expected a width of at least 1 thread, got ${width}`);
  const n = Math.min(width, Math.ceil(posts.length / BEAM_BATCH));
  if (n <= 1) return posts.map((p) => beamDecode(p, alphabet, o));
  // One call at a time on the shared threads: a second waits for the first (each listens to every thread).
  const run = queue.then(() => onThreads(posts, alphabet, o, n));
  queue = run.catch(() => {});
  return run;
}

let queue: Promise<unknown> = Promise.resolve();

function onThreads(posts: readonly Posteriors[], alphabet: Alphabet, o: BeamOptions, n: number): Promise<Hypothesis[][]> {
  while (threads.length < n) {
    const w = new Worker(new URL('./beamWorker.js', import.meta.url), { execArgv: [] });
    w.unref();
    threads.push({ w, lm: 0, lexicon: 0 });
  }
  const { lm: model, lexicon, ...options } = o;
  const lm = model && o.alpha ? model : null; // beamDecode ignores an LM at weight 0: no need to send it
  const out = new Array<Hypothesis[]>(posts.length);
  const used = threads.slice(0, n);
  let next = 0, done = 0;
  return new Promise<Hypothesis[][]>((resolve, reject) => {
    const cleanups: (() => void)[] = [];
    const finish = (e?: Error) => {
      for (const c of cleanups) c();
      if (e) {
        // A thread that failed may be in any state: start afresh next time.
        for (const t of threads.splice(0)) void t.w.terminate();
        reject(e);
      } else resolve(out);
    };
    const send = (t: Thread) => {
      if (next >= posts.length) return;
      const from = next;
      next = Math.min(posts.length, next + BEAM_BATCH);
      const lmId = lm ? idOf(lm) : 0, lexId = lexicon ? idOf(lexicon) : 0;
      let json: LmJson | undefined;
      if (lm && t.lm !== lmId) {
        json = lmJson.get(lm);
        if (!json) lmJson.set(lm, (json = lm.toJSON()));
      }
      const job: BeamJob = {
        from, posts: posts.slice(from, next).map(compact), chars: alphabet.chars, options,
        lm: lm ? { id: lmId, ...(json ? { json } : {}) } : null,
        lexicon: lexicon ? { id: lexId, ...(t.lexicon !== lexId ? { words: lexicon.words } : {}) } : null,
      };
      t.lm = lmId || t.lm; t.lexicon = lexId || t.lexicon;
      t.w.postMessage(job);
    };
    for (const t of used) {
      const onMessage = (m: BeamReply) => {
        if ('error' in m) { finish(new Error(`beam search of utterances ${m.from}..: ${m.error}`)); return; }
        m.hyps.forEach((h, i) => { out[m.from + i] = h; });
        done += m.hyps.length;
        if (done === posts.length) finish(); else send(t);
      };
      const onError = (e: Error) => finish(e);
      const onExit = (code: number) => finish(new Error(`a beam search thread stopped (exit code ${code}) before its work was done`));
      t.w.on('message', onMessage); t.w.on('error', onError); t.w.on('exit', onExit);
      t.w.ref(); // keep the process alive while the threads work
      cleanups.push(() => { t.w.off('message', onMessage); t.w.off('error', onError); t.w.off('exit', onExit); t.w.unref(); });
    }
    for (const t of used) send(t);
  });
}
