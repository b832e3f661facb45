import { noGrad } from '../autograd/tape.js';
import { reshape } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/tidy.js';
import { detach, type SequenceModel } from './sequenceModel.js';

/**
 * Stateful streaming inference: feed one time step at a time and get the model's output for it,
 * carrying the recurrent state. `step(x, state)` is pure (returns the new state);
 * `push(x)` keeps the state inside, `resetState()` forgets it.
 * x: forecast/classify: [B, inputSize] values; charlm: [B] token ids. Output: [B, outputSize].
 */
export class StreamingModel {
  private current: Tensor[] | null = null;

  constructor(readonly model: SequenceModel) {
    if (model.rnn.numDirections !== 1) throw new Error('streaming: a bidirectional model needs the whole sequence and cannot run step by step');
  }

  step(x: Tensor, state: readonly Tensor[] | null): { output: Tensor; state: Tensor[] } {
    return noGrad(() => {
      const m = this.model;
      if (m.arch.task === 'charlm') {
        if (x.rank !== 1 || x.dtype !== 'i32') throw new Error(`streaming charlm: expected token ids of shape [B] (i32), got ${x.dtype} [${x.shape.join(', ')}]`);
        const r = m.forwardLM(reshape(x, [1, x.shape[0]]), state);
        return { output: r.logits, state: r.state.map(detach) };
      }
      if (x.rank !== 2 || x.shape[1] !== m.arch.inputSize) throw new Error(`streaming: expected x of shape [B, ${m.arch.inputSize}], got [${x.shape.join(', ')}]`);
      const r = m.rnn.forward(reshape(x, [1, ...x.shape]), state);
      return { output: m.head.forward(m.summarize(r, null)), state: r.state.map(detach) };
    });
  }

  /** One step with the kept state; the state outlives tidy() scopes (the previous one is freed). */
  push(x: Tensor): Tensor {
    const r = this.step(x, this.current);
    for (const t of r.state) keep(t);
    this.dropState();
    this.current = r.state;
    return r.output;
  }

  /** The kept state: valid until the next push() or resetState(), which free it. */
  get state(): Tensor[] | null { return this.current; }
  resetState(): void { this.dropState(); }

  private dropState(): void {
    for (const t of this.current ?? []) t.backend.dispose(t.storage);
    this.current = null;
  }
}
