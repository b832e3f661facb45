import { MAX_PAGES, PAGE } from './module.js';

/**
 * The allocator of the shared linear memory: size-classed free lists over a bump region.
 *
 * - Blocks are 64-byte aligned (cache lines; SIMD loads never straddle a block's start).
 * - Sizes round up to a class (four classes per power of two, at most 25% slack), and a freed
 *   block goes to its class's free list; training loops allocate the same sizes every step, so
 *   after the first step every allocation is a free-list pop.
 * - Blocks are freed by `release` (Backend.dispose) or when their owner object is garbage
 *   collected. FinalizationRegistry callbacks only run when the event loop turns, which a
 *   synchronous training loop never does; so before growing the memory (and after allocating
 *   as much again as the heap holds) the heap also sweeps the WeakRefs of its large blocks and
 *   takes back those whose owners the GC has already collected. (A deref pins a live owner until
 *   the current job ends, but a block not yet collected could not be reused in this job anyway.)
 * - Memory is grown (never shrunk) when the bump region runs out, by at least doubling.
 */
export interface Block {
  readonly ptr: number;
  readonly cls: number;
  /** Only for large blocks (see SWEEP_MIN_BYTES): what the sweep checks. */
  readonly ref: WeakRef<object> | null;
  freed: boolean;
}

/**
 * Blocks at least this large are also tracked by WeakRef for the sweep. Small ones only by the
 * FinalizationRegistry: a WeakRef per small tensor would cost more than the kernel using it, and
 * what small blocks a long synchronous loop strands until it yields is bounded and small.
 */
export const SWEEP_MIN_BYTES = 65536;

export class WasmHeap {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private readonly live = new Set<Block>();
  private readonly registry = new FinalizationRegistry<Block>((b) => this.release(b));
  private sinceSweep = 0;
  /** Bytes in live blocks (their classes). */
  inUse = 0;

  constructor(private readonly memory: WebAssembly.Memory, base: number, private readonly zero: (ptr: number, bytes: number) => void) {
    this.top = align(base, 64);
  }

  static sizeClass(bytes: number): number {
    if (bytes <= 64) return 64;
    const e = 2 ** Math.floor(Math.log2(bytes));
    const q = Math.max(64, e / 4);
    return Math.ceil(bytes / q) * q;
  }

  /** A zero-filled block of at least `bytes` bytes; `own` it right after (or `release` it). */
  alloc(bytes: number): number {
    const cls = WasmHeap.sizeClass(bytes);
    let ptr = this.pop(cls);
    if (ptr >= 0) this.zero(ptr, bytes);
    else {
      if (this.top + cls > this.memory.buffer.byteLength || this.sinceSweep > this.top) {
        this.sweep();
        ptr = this.pop(cls);
        if (ptr >= 0) this.zero(ptr, bytes);
      }
      if (ptr < 0) ptr = this.bump(cls); // fresh memory is zero
    }
    this.inUse += cls;
    this.sinceSweep += cls;
    return ptr;
  }

  /** Tie the block at `ptr` (from alloc(bytes)) to `owner`: freed when the owner is collected. */
  own(owner: object, ptr: number, bytes: number): Block {
    const cls = WasmHeap.sizeClass(bytes);
    const b: Block = { ptr, cls, ref: cls >= SWEEP_MIN_BYTES ? new WeakRef(owner) : null, freed: false };
    if (b.ref) this.live.add(b);
    this.registry.register(owner, b, b);
    return b;
  }

  release(b: Block): void {
    if (b.freed) return;
    b.freed = true;
    this.registry.unregister(b);
    if (b.ref) this.live.delete(b);
    this.free(b.ptr, b.cls);
  }

  /** Free a block that was never `own`ed (scratch). */
  free(ptr: number, bytes: number): void {
    const cls = WasmHeap.sizeClass(bytes);
    this.inUse -= cls;
    let list = this.freeLists.get(cls);
    if (!list) { list = []; this.freeLists.set(cls, list); }
    list.push(ptr);
  }

  /** Take back blocks whose owners the garbage collector has already collected. */
  sweep(): void {
    this.sinceSweep = 0;
    for (const b of this.live) if (b.ref!.deref() === undefined) this.release(b);
  }

  get heapEnd(): number { return this.top; }

  private pop(cls: number): number {
    const list = this.freeLists.get(cls);
    return list && list.length > 0 ? list.pop()! : -1;
  }

  private bump(cls: number): number {
    const ptr = this.top, end = ptr + cls;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const needPages = Math.ceil((end - have) / PAGE);
      const havePages = have / PAGE;
      const grow = Math.min(Math.max(needPages, havePages), MAX_PAGES - havePages);
      if (grow < needPages) {
        throw new Error(`backend wasm: out of memory: ${cls} bytes requested, ${this.inUse} in use, limit ${MAX_PAGES * PAGE} bytes`);
      }
      this.memory.grow(grow);
    }
    this.top = end;
    return ptr;
  }
}

function align(x: number, a: number): number { return Math.ceil(x / a) * a; }
