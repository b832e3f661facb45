import { instantiate } from './module.js';
import { platform } from './platform.js';
import { COUNTER, CTRL_BYTES, DONE, claimChunks, MAIN_SLEEPING, READY, runJob, SLOT_READY, SLOT_SCRATCH, SLOT_SEQ, SLOT_SLEEPING } from './pool.js';

/**
 * A kernel worker (see pool.ts): its own instance of the kernel module over the shared memory,
 * waiting on its slot's wake word, claiming chunked jobs and running slot jobs (pool.ts). The same file
 * runs as a Node worker thread and as a module Web Worker: only the start data's delivery differs.
 */
const { module, memory, ctrl, slot } = await platform.workerStart();
const k = instantiate(module, memory);
const i32 = new Int32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
const f32 = new Float32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
Atomics.add(i32, READY, 1);
Atomics.store(i32, slot + SLOT_READY, 1);
let seenWake = 0, seenSeq = 0, seenChunkJob = 0;
for (;;) {
  // Spin a little first: in a recurrent loop the next job follows within microseconds.
  let g = Atomics.load(i32, slot);
  for (let spin = 0; g === seenWake && spin < 200000; spin++) g = Atomics.load(i32, slot);
  if (g === seenWake) {
    Atomics.store(i32, slot + SLOT_SLEEPING, 1);
    Atomics.wait(i32, slot, seenWake); // returns at once if the word moved after the flag was set
    Atomics.store(i32, slot + SLOT_SLEEPING, 0);
    g = Atomics.load(i32, slot);
  }
  if (g === seenWake) continue;
  seenWake = g;
  try {
    // A chunked job not seen yet: claim its chunks (none left, if the caller already took them).
    const job = Atomics.load(i32, COUNTER) >>> 16;
    if (job !== seenChunkJob) { seenChunkJob = job; claimChunks(k, i32, f32, job, i32[slot + SLOT_SCRATCH]); }
    // A slot job: its arguments were written before its sequence number moved.
    const q = Atomics.load(i32, slot + SLOT_SEQ);
    if (q !== seenSeq) {
      seenSeq = q;
      try { runJob(k, i32, f32, slot); } finally {
        Atomics.add(i32, DONE, 1);
        if (Atomics.load(i32, MAIN_SLEEPING) !== 0) Atomics.notify(i32, DONE);
      }
    }
  } catch (e) {
    console.error(`carousel wasm worker: ${(e as Error).message}`);
  }
}
