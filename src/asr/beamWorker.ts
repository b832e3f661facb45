/** A beamDecodeAll thread (beamThreads.ts): searches each batch it is sent, keeping the last LM and lexicon. */
import { parentPort } from 'node:worker_threads';
import { Alphabet } from './alphabet.js';
import { beamDecode, Lexicon } from './decode.js';
import { CharNgramLM } from './lm.js';
import type { BeamJob, BeamReply } from './beamThreads.js';

const port = parentPort!;
let lm: { id: number; model: CharNgramLM } | null = null;
let lexicon: { id: number; lexicon: Lexicon } | null = null;
port.on('message', (job: BeamJob) => {
  let reply: BeamReply;
  try {
    if (job.lm && lm?.id !== job.lm.id) {
      if (!job.lm.json) throw new Error(`LM ${job.lm.id} was never sent to this thread`);
      lm = { id: job.lm.id, model: CharNgramLM.fromJSON(job.lm.json) };
    }
    if (job.lexicon && lexicon?.id !== job.lexicon.id) {
      if (!job.lexicon.words) throw new Error(`lexicon ${job.lexicon.id} was never sent to this thread`);
      lexicon = { id: job.lexicon.id, lexicon: new Lexicon(job.lexicon.words) };
    }
    const alphabet = new Alphabet(job.chars);
    const o = { ...job.options, lm: job.lm ? lm!.model : null, lexicon: job.lexicon ? lexicon!.lexicon : null };
    reply = { from: job.from, hyps: job.posts.map((p) => beamDecode(p, alphabet, o)) };
  } catch (e) {
    reply = { from: job.from, error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
