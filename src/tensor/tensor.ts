import type { Backend, Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import { verifyChecks } from '../backend/checks.js';
import type { DType, TypedArray } from '../backend/dtype.js';
import { fmt, sizeOf, type Shape } from './shape.js';

/**
 * One recorded op on the autograd tape: its differentiable inputs and how to turn the gradients
 * of its outputs into gradients of its inputs. `backward` gets one gradient per output (null
 * when nothing downstream used that output) and returns one per input (null: no gradient).
 */
export interface Node {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly outputs: readonly { readonly shape: Shape; readonly dtype: DType }[];
  backward(gradOutputs: readonly (Storage | null)[]): readonly (Storage | null)[];
  /**
   * Called once backward has passed this node: free what the forward pass saved for it (big
   * recurrent ops return their buffers to the backend at once instead of waiting for the GC).
   * A second backward through the node must then fail, as in PyTorch without retain_graph.
   */
  release?(): void;
}

/**
 * A handle to a block of backend memory with a shape. Reading values back is explicit
 * (`data()`, or `dataSync()` on CPU backends), because on a GPU it is a transfer.
 */
export class Tensor {
  readonly shape: readonly number[];
  requiresGrad = false;
  /** Accumulated gradient of a leaf that requires grad (same shape and dtype). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, and which of its outputs it is (null for leaves). */
  node: Node | null = null;
  outputIndex = 0;

  constructor(readonly storage: Storage, shape: Shape) {
    this.shape = [...shape];
    if (sizeOf(shape) !== storage.length) {
      throw new Error(`tensor shape ${fmt(shape)} holds ${sizeOf(shape)} elements, storage has ${storage.length}`);
    }
  }

  get dtype(): DType { return this.storage.dtype; }
  get backend(): Backend { return this.storage.backend; }
  get size(): number { return this.storage.length; }
  get rank(): number { return this.shape.length; }

  /** A copy of the values (row-major). Synchronous: CPU backends only (those with readSync). */
  dataSync(): TypedArray {
    const b = this.backend;
    if (!b.readSync) throw new Error(`dataSync(): backend '${b.name}' reads only asynchronously: use await t.data()`);
    return b.readSync(this.storage);
  }
  /**
   * A copy of the values (row-major), from any backend. Device-side input checks deferred since
   * the last read (src/backend/checks.ts) are read first and throw if one failed.
   */
  async data(): Promise<TypedArray> {
    await verifyChecks(this.backend);
    return this.backend.read(this.storage);
  }
  toArray(): number[] { return Array.from(this.dataSync()); }
  /** The value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item(): expected a tensor with one element, got shape ${fmt(this.shape)}`);
    return this.dataSync()[0];
  }
  /**
   * Free this tensor's buffer now instead of when it is garbage collected (views made by reshape
   * share it, so they are freed too). Using the tensor afterwards is an error on the wasm backend.
   */
  dispose(): void { this.backend.dispose(this.storage); }

  /**
   * Drop the accumulated gradient (gradients accumulate across backward calls until this), and
   * free its buffer: the gradient tensor read before must not be used after.
   */
  zeroGrad(): void {
    if (this.grad) { this.backend.dispose(this.grad.storage); this.grad = null; }
  }
  toString(): string { return `Tensor(${fmt(this.shape)}, ${this.dtype}, ${this.backend.name})`; }
}

/** A trainable tensor: requires grad, keeps its identity while optimizers update it in place. */
export class Parameter extends Tensor {
  constructor(storage: Storage, shape: Shape) {
    super(storage, shape);
    this.requiresGrad = true;
    keepStorage(storage); // a parameter outlives any tidy() scope it was made in
  }
}
