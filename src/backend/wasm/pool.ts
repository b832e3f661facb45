import type { KernelExports } from './module.js';
import type { QuantExports } from './quant.js';
import { type KernelWorker, platform, threadCanBlock } from './platform.js';

/**
 * Worker threads that run kernels on the shared memory. Communication is a control block in
 * that memory (no messages after start-up), so a parallel call costs a few atomic stores, one
 * notify per worker and one wait:
 *
 *   slot w (24 i32 at ctrl + 96 w): [0] wake word (bumped by the caller for every post), [1] job
 *     kind, [2..19] arguments (i32, or f32 bits through the f32 view) and results, [20] the slot
 *     job's sequence number, [21] this worker's scratch for chunked jobs, [22] ready, [23] sleeping
 *   done counter at ctrl + 4*SLOT_INTS*MAX_WORKERS; ready counter right after it.
 *
 * Two kinds of work. A slot job (post): the caller writes the kind and arguments in the worker's
 * slot, bumps the slot's sequence number, and later waits for `done`, so it never rewrites a slot
 * the worker may still read. A chunked job (postChunks): arguments in the shared GEMM_ARGS area,
 * published by COUNTER; the caller does not wait for the workers (see claimChunks), so nothing of
 * it lives in the slots. A worker waits on its wake word (Atomics.wait), then claims the chunks
 * of a chunked job it has not seen, then runs the slot job if the sequence moved, bumps `done`
 * and notifies. Workers are unref'd, so they never keep a process alive.
 * A worker that has not finished starting is simply not given work. How a worker is made and
 * gets its start data (Node worker_threads or a module Web Worker) is platform.ts's business;
 * where the calling thread may not block (a browser's main thread), it spins instead of waiting.
 */
export const SLOT_INTS = 24;
export const MAX_WORKERS = 63;
export const CTRL_BYTES = 4 * (SLOT_INTS * MAX_WORKERS + 48 + SLOT_INTS);
export const DONE = SLOT_INTS * MAX_WORKERS;
export const READY = DONE + 1;
/** 1 while the calling thread sleeps in wait() (workers notify only then: a notify costs a syscall). */
export const MAIN_SLEEPING = DONE + 2;
/** In each slot: 1 while that worker sleeps on its wake word (the caller notifies only then). */
export const SLOT_SLEEPING = SLOT_INTS - 1;
/** In each slot: set to 1 by the worker once it is running (a worker that failed to start never is). */
export const SLOT_READY = SLOT_INTS - 2;
/** In each slot: the worker's scratch for chunked jobs (written before COUNTER publishes a job). */
export const SLOT_SCRATCH = SLOT_INTS - 3;
/** In each slot: sequence number of the slot job (bumped after its arguments are written). */
export const SLOT_SEQ = SLOT_INTS - 4;
/** Chunked jobs: next chunk to claim, tagged with the job id ((job << 16) | chunk); chunks finished. */
export const COUNTER = DONE + 4;
export const COMPLETED = DONE + 5;
/** Chunked jobs: (job << 16) | number of chunks, stored once the job's arguments are written. */
export const CHUNK_JOB = DONE + 6;
/** Chunked jobs: the arguments, shared by all threads (see claimChunks and runChunk). */
export const GEMM_ARGS = DONE + 8;
export const JOB_ARGS = GEMM_ARGS + 18;
/** The calling thread's own slot: its block of a row job runs through runJob like the workers' blocks. */
export const CALLER_SLOT = DONE + 48;

export const enum Job { Ctc = 2, Peak = 3, LstmFwd = 5, LstmBwd = 6, Softmax = 7, SoftmaxBwd = 8, GruFwd = 9, GruBwd = 10, Scan = 11 }

/** What a chunked job computes (GEMM_ARGS[17]); each chunk is a range [lo, hi) of its split dimension. */
export const enum ChunkJob {
  Gemm = 0, GemmPacked = 1, Linear2 = 2, LstmStep = 3, LstmStepBackward = 4,
  QGemmI8 = 5, QGemm16 = 6, QLstmStepI8 = 7, QLstmStep16 = 8, QLstmSeqI8 = 9,
}

/**
 * Chunked jobs (work sharing): the split dimension is cut into chunks, and every thread, the
 * caller included, claims chunks with a compare-exchange on COUNTER until none are left. A thread
 * the OS has not scheduled yet (or a worker asleep) simply claims nothing, so the caller never
 * waits on a worker that has not started; it waits only for chunks already claimed (COMPLETED).
 * The job id in COUNTER's high bits stops a late worker from claiming a chunk of the next job,
 * and the chunk count is read from CHUNK_JOB only when that word names the same job (a worker
 * paused between reading COUNTER and the count could otherwise read the next job's count while
 * COUNTER still shows the finished one). The arguments cannot change while any chunk is
 * claimable: the caller writes the next job's only after all of this one's chunks are done.
 */
export function claimChunks(k: KernelExports, i32: Int32Array, f32: Float32Array, job: number, work: number): void {
  const G = GEMM_ARGS;
  for (;;) {
    const v = Atomics.load(i32, COUNTER);
    if ((v >>> 16) !== job) return;
    const cj = Atomics.load(i32, CHUNK_JOB);
    if ((cj >>> 16) !== job) return;
    const c = v & 0xffff;
    if (c >= (cj & 0xffff)) return;
    if (Atomics.compareExchange(i32, COUNTER, v, v + 1) !== v) continue;
    const chunk = i32[G + 14], lo = c * chunk;
    runChunk(k, i32, f32, lo, lo + Math.min(chunk, i32[G + 15] - lo), work);
    Atomics.add(i32, COMPLETED, 1);
    if (Atomics.load(i32, MAIN_SLEEPING) !== 0) Atomics.notify(i32, COMPLETED);
  }
}

/**
 * One chunk [lo, hi) of the chunked job at GEMM_ARGS:
 *   [0..13] transA transB m n k alpha A lda B ldb beta C ldc splitN (the GEMMs), [14] chunk,
 *   [15] length of the split dimension, [17] the ChunkJob; other jobs' arguments at JOB_ARGS:
 *   Gemm:             splitN ? columns : rows of C
 *   GemmPacked:       columns; B is op(B) prepacked by gemm_pack_b
 *   Linear2:          columns; m k1 x1 ldx1 W1 k2 x2 ldx2 W2 b1 b2 out ldo
 *   LstmStep:         hidden units; rows H K h ldhIn packedW gates cPrev cOut hOut ldh
 *   LstmStepBackward: rows; H gates cPrev c dh ldh dc dGates packedW
 *   QGemmI8:          weight rows (columns of out); m k x ldx W scales bias out ldo accumulate
 *   QGemm16:          weight rows; f16 m k x ldx W bias out ldo accumulate
 *   QLstmStepI8:      hidden units; rows H K h ldhIn W scales gates cPrev cOut hOut ldh rowSums (or 0), then
 *                     the fused input product (or I = x = 0): I x ldx W_ih its-scales its-rowSums bias
 *   QLstmStep16:      hidden units; f16 rows H K h ldhIn W gates cPrev cOut hOut ldh
 *   QLstmSeqI8:       batch rows; T reverse B H W scales gates h c y ldy rowSums (a whole int8 LSTM recurrence)
 * The quantized GEMMs' chunks are whole multiples of 4 weight rows: each output column is then
 * summed by the same code (4-row tile or n % 4 tail) whichever chunk holds it (kernels/quant.c).
 */
function runChunk(k: KernelExports, i32: Int32Array, f32: Float32Array, lo: number, hi: number, work: number): void {
  const G = GEMM_ARGS, S = JOB_ARGS;
  switch (i32[G + 17] as ChunkJob) {
    case ChunkJob.Linear2: {
      const k1 = i32[S + 1], k2 = i32[S + 5];
      k.linear2(i32[S], lo, hi, k1, i32[S + 2], i32[S + 3], i32[S + 4], k1, k2, i32[S + 6], i32[S + 7], i32[S + 8], k2,
        i32[S + 9], i32[S + 10], i32[S + 11], i32[S + 12]);
      return;
    }
    case ChunkJob.LstmStep:
      k.lstm_step_units(i32[S], i32[S + 1], lo, hi, i32[S + 2], i32[S + 3], i32[S + 4], i32[S + 5], i32[S + 6],
        i32[S + 7], i32[S + 8], i32[S + 9], i32[S + 10], work);
      return;
    case ChunkJob.LstmStepBackward:
      k.lstm_bwd_step_rows(lo, hi, i32[S], i32[S + 1], i32[S + 2], i32[S + 3], i32[S + 4], i32[S + 5], i32[S + 6],
        i32[S + 7], i32[S + 8], work);
      return;
    case ChunkJob.QGemmI8: { // int8 weights: 1 byte per element, per-row f32 scales
      const q = k as unknown as QuantExports, kk = i32[S + 1], bias = i32[S + 6];
      q.qgemm_i8(i32[S], hi - lo, kk, i32[S + 2], i32[S + 3], i32[S + 4] + lo * kk, i32[S + 5] + 4 * lo, bias && bias + 4 * lo,
        i32[S + 7] + 4 * lo, i32[S + 8], i32[S + 9], work);
      return;
    }
    case ChunkJob.QGemm16: { // 16-bit weights: 2 bytes per element
      const q = k as unknown as QuantExports, kk = i32[S + 2], bias = i32[S + 6];
      q.qgemm_16(i32[S], i32[S + 1], hi - lo, kk, i32[S + 3], i32[S + 4], i32[S + 5] + 2 * lo * kk, bias && bias + 4 * lo,
        i32[S + 7] + 4 * lo, i32[S + 8], i32[S + 9]);
      return;
    }
    case ChunkJob.QLstmStepI8:
      (k as unknown as QuantExports).qlstm_step_i8(i32[S], i32[S + 1], lo, hi, i32[S + 2], i32[S + 3], i32[S + 4], i32[S + 5],
        i32[S + 6], i32[S + 12], i32[S + 7], i32[S + 8], i32[S + 9], i32[S + 10], i32[S + 11],
        i32[S + 13], i32[S + 14], i32[S + 15], i32[S + 16], i32[S + 17], i32[S + 18], i32[S + 19], work);
      return;
    case ChunkJob.QLstmSeqI8:
      (k as unknown as QuantExports).qlstm_seq_i8(lo, hi, i32[S], i32[S + 1], i32[S + 2], i32[S + 3], i32[S + 4], i32[S + 5],
        i32[S + 11], i32[S + 6], i32[S + 7], i32[S + 8], i32[S + 9], i32[S + 10], work);
      return;
    case ChunkJob.QLstmStep16:
      (k as unknown as QuantExports).qlstm_step_16(i32[S], i32[S + 1], i32[S + 2], lo, hi, i32[S + 3], i32[S + 4], i32[S + 5],
        i32[S + 6], i32[S + 7], i32[S + 8], i32[S + 9], i32[S + 10], i32[S + 11]);
      return;
    case ChunkJob.GemmPacked:
      k.gemm_packed(i32[G + 2], i32[G + 3], lo, hi, i32[G + 4], f32[G + 5], i32[G + 6], i32[G + 7], i32[G + 8], f32[G + 10],
        i32[G + 11], i32[G + 12], work);
      return;
    default: {
      // A block of columns is a narrower product; a block of rows keeps the whole m, which picks
      // the kernel (kernels/gemm.c gemm_rows), so every element is summed as in the whole product.
      const transA = i32[G], transB = i32[G + 1], m = i32[G + 2], n = i32[G + 3], kk = i32[G + 4];
      const a = i32[G + 6], lda = i32[G + 7], b = i32[G + 8], ldb = i32[G + 9], c = i32[G + 11], ldc = i32[G + 12];
      if (i32[G + 13]) {
        k.gemm_rows(transA, transB, m, 0, m, hi - lo, kk, f32[G + 5], a, lda, b + 4 * (transB ? lo * ldb : lo), ldb, f32[G + 10],
          c + 4 * lo, ldc, work);
      } else {
        k.gemm_rows(transA, transB, m, lo, hi, n, kk, f32[G + 5], a, lda, b, ldb, f32[G + 10], c, ldc, work);
      }
    }
  }
}

/** Runs job `kind` with the args in slot `s` (shared by the workers and the calling thread). */
export function runJob(k: KernelExports, i32: Int32Array, f32: Float32Array, s: number): number {
  switch (i32[s + 1] as Job) {
    case Job.Ctc: { // lp T N C targets inLens tgLens blank loss grad work n0 n1 tOff -> status
      const st = k.ctc(i32[s + 2], i32[s + 3], i32[s + 4], i32[s + 5], i32[s + 6], i32[s + 7], i32[s + 8], i32[s + 9],
        i32[s + 10], i32[s + 11], i32[s + 12], i32[s + 13], i32[s + 14], i32[s + 15]);
      i32[s + 16] = st;
      return st;
    }
    case Job.Peak:
      f32[s + 4] = i32[s + 5] === 2 ? k.qdot_peak(i32[s + 2], i32[s + 3]) : i32[s + 5] ? k.simd_peak_tile(i32[s + 2], i32[s + 3]) : k.simd_peak(i32[s + 2], i32[s + 3]);
      return 0;
    case Job.LstmFwd: // rows H gates cPrev cOut hOut ldh (pointers at this share's first row)
      k.lstm_fwd(i32[s + 2], i32[s + 3], i32[s + 4], i32[s + 5], i32[s + 6], i32[s + 7], i32[s + 8]);
      return 0;
    case Job.LstmBwd: // rows H gates cPrev c dh ldh dc dGates
      k.lstm_bwd(i32[s + 2], i32[s + 3], i32[s + 4], i32[s + 5], i32[s + 6], i32[s + 7], i32[s + 8], i32[s + 9], i32[s + 10]);
      return 0;
    case Job.Softmax: // rows x out cols log
      k.softmax(i32[s + 3], i32[s + 4], i32[s + 2], i32[s + 5], i32[s + 6]);
      return 0;
    case Job.SoftmaxBwd: // rows y dy dx cols log acc
      k.softmax_backward(i32[s + 3], i32[s + 4], i32[s + 5], i32[s + 2], i32[s + 6], i32[s + 7], i32[s + 8]);
      return 0;
    case Job.GruFwd: // rows H gx gh bhh hPrev ldhp hOut ldh
      k.gru_fwd(i32[s + 2], i32[s + 3], i32[s + 4], i32[s + 5], i32[s + 6], i32[s + 7], i32[s + 8], i32[s + 9], i32[s + 10]);
      return 0;
    case Job.GruBwd: // rows H gx gh hPrev ldhp dh ldh dGx dGh dhPrev
      k.gru_bwd(i32[s + 2], i32[s + 3], i32[s + 4], i32[s + 5], i32[s + 6], i32[s + 7], i32[s + 8], i32[s + 9], i32[s + 10],
        i32[s + 11], i32[s + 12]);
      return 0;
    case Job.Scan: // n x: a read of n floats (the finite-value scan), for the bandwidth probe
      i32[s + 4] = k.find_nonfinite(i32[s + 3], i32[s + 2]);
      return 0;
    default:
      throw new Error(`wasm worker: unknown job ${i32[s + 1]}`);
  }
}

export class WorkerPool {
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  private readonly workers: KernelWorker[] = [];
  private readonly gen: number[] = [];
  private readonly seq: number[] = [];
  private started = 0;
  private failed = 0;
  /** False on a browser's main thread, where Atomics.wait throws: wait() then only spins. */
  private readonly canBlock = threadCanBlock();

  constructor(private readonly module: WebAssembly.Module, private readonly memory: WebAssembly.Memory,
    readonly ctrl: number) {
    this.i32 = new Int32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
    this.f32 = new Float32Array(memory.buffer, ctrl, CTRL_BYTES / 4);
  }

  /** Start workers up to `count` (never stops any: extra ones just idle in Atomics.wait). */
  ensure(count: number): void {
    count = Math.min(count, MAX_WORKERS);
    while (this.started < count) {
      const w = this.started++;
      const worker = platform.spawnWorker({ module: this.module, memory: this.memory, ctrl: this.ctrl, slot: w * SLOT_INTS }, (message) => {
        this.failed++;
        console.error(`carousel wasm worker ${w} failed (its share runs on the calling thread): ${message}`);
      });
      this.workers.push(worker);
      this.gen.push(0);
      this.seq.push(0);
    }
  }

  /** Workers 0..ready-1 are running (jobs go only to those: a gap stops the count). */
  get ready(): number {
    let n = 0;
    while (n < this.started && Atomics.load(this.i32, n * SLOT_INTS + SLOT_READY) === 1) n++;
    return n;
  }

  /** Resolves once `count` workers are running, or some failed, or after timeoutMs. */
  async whenReady(count: number, timeoutMs = 10000): Promise<void> {
    const t0 = Date.now();
    while (this.ready < Math.min(count, this.started) && this.failed === 0 && Date.now() - t0 < timeoutMs) {
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Slot index (into i32/f32) where worker w's arguments go. */
  slot(w: number): number { return w * SLOT_INTS; }

  /** Reset the done counter before posting jobs. */
  begin(): void { Atomics.store(this.i32, DONE, 0); }

  /** Post the slot job written in worker w's slot (wait for it with wait() before rewriting the slot). */
  post(w: number): void {
    const s = this.slot(w);
    this.seq[w]++;
    Atomics.store(this.i32, s + SLOT_SEQ, this.seq[w]); // publishes the arguments written before it
    this.wake(w);
  }

  private wake(w: number): void {
    const s = this.slot(w);
    this.gen[w]++;
    Atomics.store(this.i32, s, this.gen[w]);
    // Dekker-style: the worker sets its flag and re-reads the wake word before sleeping, so
    // either it sees the new value or we see its flag (Atomics are sequentially consistent).
    if (Atomics.load(this.i32, s + SLOT_SLEEPING) !== 0) Atomics.notify(this.i32, s, 1);
  }

  /** Wait until `count` posted jobs are done: spin briefly (jobs are short), then sleep. */
  wait(count: number, counter = DONE): void {
    for (let spin = 0; spin < 100000; spin++) if (Atomics.load(this.i32, counter) >= count) return;
    // A browser's main thread may not sleep: spin on (jobs go only to running workers, so it ends).
    if (!this.canBlock) { while (Atomics.load(this.i32, counter) < count); return; }
    for (;;) {
      Atomics.store(this.i32, MAIN_SLEEPING, 1);
      const d = Atomics.load(this.i32, counter);
      if (d >= count) break;
      Atomics.wait(this.i32, counter, d, 50);
    }
    Atomics.store(this.i32, MAIN_SLEEPING, 0);
  }

  private jobId = 0;
  /**
   * Publish a chunked job (its arguments already written at GEMM_ARGS and JOB_ARGS) to `workers` workers;
   * worker w uses scratch[w + 1] (scratch[0] is the caller's). Returns the job id for claimChunks.
   */
  postChunks(workers: number, scratch: readonly number[], count: number): number {
    if (!(count >= 1 && count <= 0xffff)) throw new Error(`postChunks: expected 1 to 65535 chunks, got ${count}`);
    const job = this.jobId = (this.jobId % 32767) + 1;
    Atomics.store(this.i32, COMPLETED, 0);
    Atomics.store(this.i32, CHUNK_JOB, (job << 16) | count);
    for (let w = 0; w < workers; w++) this.i32[this.slot(w) + SLOT_SCRATCH] = scratch[w + 1];
    Atomics.store(this.i32, COUNTER, job << 16); // publishes the arguments and scratch written before it
    for (let w = 0; w < workers; w++) this.wake(w);
    return job;
  }

  terminate(): void {
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}
