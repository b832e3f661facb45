import { BufferUsage, type GpuBuffer, type GpuDevice } from './gpu.js';

/**
 * A pooled GPU buffer and the batch that last used it (uploads must not overtake its pending reads);
 * `id` names the GPU buffer for life (bind groups are cached by their buffers' ids).
 */
export interface PooledBuffer { readonly buffer: GpuBuffer; readonly bytes: number; batch: number; readonly id: number }

let nextId = 1;

/** Sizes rounded up to 4 steps per power of two (at most 19% unused), 256 bytes at least. */
export function bucketBytes(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes - 1));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

/**
 * Buffers by bucket size, reused across alloc/dispose (creating GPU buffers is slow), as
 * tinygrad's LRU allocator. Freed buffers beyond `keepBytes` are destroyed, after the batch
 * that may still use them is submitted (`destroyLater`, drained by the backend at submit).
 */
export class BufferPool {
  private readonly free = new Map<number, PooledBuffer[]>();
  private freeBytes = 0;
  private doomed: GpuBuffer[] = [];

  constructor(private readonly device: GpuDevice, private readonly usage: number, private readonly keepBytes: number) {}

  /** A buffer of at least `bytes`; `fresh` is true when it was just created (zero-filled). */
  take(bytes: number): { pb: PooledBuffer; fresh: boolean } {
    const size = bucketBytes(bytes);
    const list = this.free.get(size);
    const pb = list?.pop();
    if (pb) { this.freeBytes -= size; return { pb, fresh: false }; }
    return { pb: { buffer: this.device.createBuffer({ size, usage: this.usage }), bytes: size, batch: -1, id: nextId++ }, fresh: true };
  }

  give(pb: PooledBuffer): void {
    if (this.freeBytes + pb.bytes > this.keepBytes) { this.doomed.push(pb.buffer); return; }
    let list = this.free.get(pb.bytes);
    if (!list) { list = []; this.free.set(pb.bytes, list); }
    list.push(pb);
    this.freeBytes += pb.bytes;
  }

  /** Destroy the buffers given back beyond the pool's size (call after a submit); how many. */
  destroyDoomed(): number {
    for (const b of this.doomed) b.destroy();
    const n = this.doomed.length;
    this.doomed = [];
    return n;
  }
}

export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
export const STAGING_USAGE = BufferUsage.MAP_READ | BufferUsage.COPY_DST;
