import { instantiate } from './module.js';
import { platform } from './platform.js';
import { CTRL_BYTES, DONE, Job, MAIN_SLEEPING, READY, runJob, SLOT_READY, SLOT_SLEEPING } from './pool.js';

/**
 * A kernel worker (see pool.ts): its own instance of the kernel module over the shared memory,
 * waiting on its slot's generation word, running each job and counting it done. The same file
 * runs as a Node worker thread and as a module Web Worker: only the start data's delivery differs.
 */
const { module, memory, ctrl, slot } = await platform.workerStart();
const k = instantiate(module, memory);
const i32 = new Int32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
const f32 = new Float32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
Atomics.add(i32, READY, 1);
Atomics.store(i32, slot + SLOT_READY, 1);
let seen = 0;
for (;;) {
  // Spin a little first: in a recurrent loop the next job follows within microseconds.
  let g = Atomics.load(i32, slot);
  for (let spin = 0; g === seen && spin < 200000; spin++) g = Atomics.load(i32, slot);
  if (g === seen) {
    Atomics.store(i32, slot + SLOT_SLEEPING, 1);
    Atomics.wait(i32, slot, seen); // returns at once if the generation moved after the flag was set
    Atomics.store(i32, slot + SLOT_SLEEPING, 0);
    g = Atomics.load(i32, slot);
  }
  if (g === seen) continue;
  seen = g;
  const kind = i32[slot + 1];
  try { runJob(k, i32, f32, slot); } catch (e) {
    console.error(`carousel wasm worker: ${(e as Error).message}`);
  }
  if (kind !== Job.GemmChunks) { // chunked jobs count finished chunks instead (pool.ts)
    Atomics.add(i32, DONE, 1);
    if (Atomics.load(i32, MAIN_SLEEPING) !== 0) Atomics.notify(i32, DONE);
  }
}
