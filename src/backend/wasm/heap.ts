import { MAX_PAGES, PAGE } from './module.js';
import { platform } from './platform.js';

/**
 * V8 cannot see linear memory, so tensors that hold hundreds of MiB of it look like a few bytes of
 * JS heap and the garbage collector (hence the FinalizationRegistry) may not run for a long time.
 * The heap therefore asks for a collection itself after every GC_PRESSURE_BYTES of allocation:
 * the blocks of collected storages are then freed as soon as the event loop turns. (Node only:
 * the gc function comes from platform.ts; a browser exposes none, and nothing changes there.)
 */
export const GC_PRESSURE_BYTES = 256 * 2 ** 20;

/**
 * The allocator of the shared linear memory: size-classed free lists over a bump region.
 *
 * - Blocks are 64-byte aligned (cache lines; SIMD loads never straddle a block's start).
 * - Sizes round up to a class (four classes per power of two, at most 25% slack), and a freed
 *   block goes to its class's free list; training loops allocate the same sizes every step, so
 *   after the first step every allocation is a free-list pop.
 * - Blocks are freed by `release` (Backend.dispose) or, through a FinalizationRegistry, after
 *   their owner object is garbage collected. Finalizers only run when the event loop turns: a
 *   long synchronous loop that never disposes keeps its garbage until it yields. (A WeakRef sweep
 *   cannot help: deref() pins every owner it sees alive until the current job ends.) When the
 *   memory cannot grow further, alloc returns -1 and the backend falls back to JS memory.
 * - Memory is grown (never shrunk) when the bump region runs out, by at least doubling.
 */
export interface Block {
  readonly ptr: number;
  readonly cls: number;
  freed: boolean;
}

export class WasmHeap {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  private readonly registry = new FinalizationRegistry<Block>((b) => this.release(b));
  /** Bytes in live blocks (their classes). */
  inUse = 0;
  /** Blocks (and their bytes) taken from fresh memory rather than a free list: new memory, as opposed to reuse. */
  freshBlocks = 0;
  freshBytes = 0;
  private sinceGc = 0;

  constructor(private readonly memory: WebAssembly.Memory, base: number, private readonly zero: (ptr: number, bytes: number) => void,
    private readonly maxPages = MAX_PAGES) {
    this.top = align(base, 64);
  }

  static sizeClass(bytes: number): number {
    if (bytes <= 64) return 64;
    const e = 2 ** Math.floor(Math.log2(bytes));
    const q = Math.max(64, e / 4);
    return Math.ceil(bytes / q) * q;
  }

  /**
   * A zero-filled block of at least `bytes` bytes; `own` it right after (or `free` it).
   * -1 when the memory is at its maximum and has no free block of that class.
   */
  alloc(bytes: number): number {
    const cls = WasmHeap.sizeClass(bytes);
    let ptr = this.pop(cls);
    if (ptr >= 0) this.zero(ptr, bytes);
    else {
      ptr = this.bump(cls); // fresh memory is zero
      if (ptr < 0) return -1;
      this.freshBlocks++; this.freshBytes += cls;
    }
    this.inUse += cls;
    this.sinceGc += cls;
    if (this.sinceGc >= GC_PRESSURE_BYTES) {
      this.sinceGc = 0;
      platform.gc()?.();
    }
    return ptr;
  }

  /** Tie the block at `ptr` (from alloc(bytes)) to `owner`: freed when the owner is collected. */
  own(owner: object, ptr: number, bytes: number): Block {
    const b: Block = { ptr, cls: WasmHeap.sizeClass(bytes), freed: false };
    this.registry.register(owner, b, b);
    return b;
  }

  release(b: Block): void {
    if (b.freed) return;
    b.freed = true;
    this.registry.unregister(b);
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
      const grow = Math.min(Math.max(needPages, havePages), this.maxPages - havePages);
      if (grow < needPages) return -1;
      try { this.memory.grow(grow); } catch { return -1; } // the engine may refuse before the maximum
    }
    this.top = end;
    return ptr;
  }
}

function align(x: number, a: number): number { return Math.ceil(x / a) * a; }
