import type { Storage } from '../backend/backend.js';
import { keepStorage } from '../backend/scope.js';
import { Tensor, type Node } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';

let gradEnabled = true;

/** Run fn without recording anything on the tape (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try { return fn(); } finally { gradEnabled = prev; }
}

export function isGradEnabled(): boolean { return gradEnabled; }

/** True when an op over these inputs must be recorded. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Attach a node to the outputs of an op (define-by-run). Only inputs that require grad are
 * kept, so the tape never holds more than training needs.
 */
export function record(node: Node, outputs: readonly Tensor[]): void {
  outputs.forEach((t, i) => { t.node = node; t.outputIndex = i; t.requiresGrad = true; });
}

/** Sum of two gradients. Never writes into either: ops may hand the same buffer to several inputs. */
function accumulate(into: Storage | null, g: Storage, n: number): Storage {
  if (!into) return g;
  const sum = g.backend.alloc(g.dtype, n);
  g.backend.affine(into, 0, sum, 0, n, 1, 0, false);
  g.backend.affine(g, 0, sum, 0, n, 1, 0, true);
  return sum;
}

/**
 * Nodes a backward pass has gone through (without retainGraph). As in PyTorch, the graph is
 * spent once backward has passed it: ops may free what they saved, so a second pass through any
 * of its nodes is an error, never a silently doubled (or garbage) gradient.
 */
const spent = new WeakSet<Node>();

export interface BackwardOptions {
  /** Keep the graph for another backward through it (PyTorch's retain_graph): nothing is freed. */
  retainGraph?: boolean;
}

/**
 * Backpropagate from a scalar: walks the tape once in reverse topological order and
 * accumulates dL/dleaf into every leaf's `.grad`. `grad` seeds dL/droot (default 1).
 */
export function backward(root: Tensor, grad?: Tensor, opts: BackwardOptions = {}): void {
  const retain = opts.retainGraph ?? false;
  if (!root.requiresGrad) throw new Error('backward(): the tensor does not require grad (no parameter or input with requiresGrad reached it)');
  if (!grad && root.size !== 1) {
    throw new Error(`backward(): expected a scalar (one element) or an explicit gradient, got shape ${fmt(root.shape)}`);
  }
  const b = root.backend;
  const seed = grad ? grad.storage : b.upload(root.dtype, [1]);
  if (!root.node) { root.grad = addGrad(root, root.grad, seed); return; }

  // Topological order of nodes reachable from the root (iterative DFS: deep tapes never overflow).
  const order: Node[] = [];
  const seen = new Set<Node>();
  const stack: [Node, number][] = [[root.node, 0]];
  seen.add(root.node);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const child = node.inputs[i].node;
      if (child && !seen.has(child)) { seen.add(child); stack.push([child, 0]); }
    } else { stack.pop(); order.push(node); }
  }

  const pending = new Map<Node, (Storage | null)[]>();
  pending.set(root.node, root.node.outputs.map((_, i) => (i === root.outputIndex ? seed : null)));
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k];
    const gOut = pending.get(node);
    pending.delete(node);
    if (!gOut || gOut.every((g) => g === null)) continue;
    if (spent.has(node)) {
      throw new Error(`backward(): backward through the graph a second time (through '${node.name}', whose saved values were freed after the first); run the forward pass again, or pass { retainGraph: true } to the first backward`);
    }
    const gIn = node.backward(gOut);
    if (!retain) { spent.add(node); node.release?.(); }
    node.inputs.forEach((t, i) => {
      const g = gIn[i];
      if (!g || !t.requiresGrad) return;
      if (t.node) {
        let slots = pending.get(t.node);
        if (!slots) { slots = t.node.outputs.map(() => null); pending.set(t.node, slots); }
        slots[t.outputIndex] = accumulate(slots[t.outputIndex], g, t.size);
      } else {
        t.grad = addGrad(t, t.grad, g);
      }
    });
  }
}

function addGrad(t: Tensor, current: Tensor | null, g: Storage): Tensor {
  if (current) { t.backend.affine(g, 0, current.storage, 0, t.size, 1, 0, true); return current; }
  // Copy: the op's gradient buffer may be shared or reused. A leaf's gradient outlives tidy() scopes.
  const s = t.backend.alloc(t.dtype, t.size);
  keepStorage(s);
  t.backend.affine(g, 0, s, 0, t.size, 1, 0, false);
  return new Tensor(s, t.shape);
}
