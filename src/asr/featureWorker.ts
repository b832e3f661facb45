/** A loadSetThreaded worker (utterances.ts): reads and transforms each chunk of utterances it is sent. */
import { parentPort } from 'node:worker_threads';
import { DataError } from '../data/errors.js';
import { entryFeatures, type FeatureJob, type FeatureReply } from './utterances.js';

const port = parentPort!;
port.on('message', (job: FeatureJob) => {
  const replies: FeatureReply[] = job.entries.map((e) => {
    const notes: string[] = [];
    try {
      return { features: entryFeatures(e, job.manifest, job.kind, job.given, job.first, job.melBins, (what) => notes.push(what)), notes };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err), data: err instanceof DataError };
    }
  });
  const buffers = replies.flatMap((r) => ('features' in r ? [r.features.data.buffer as ArrayBuffer] : []));
  port.postMessage({ from: job.from, replies }, buffers);
});
