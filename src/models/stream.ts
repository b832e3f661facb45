import { noGrad } from '../autograd/tape.js';
import type { RecurrentStream } from '../nn/lstmStream.js';
import { reshape } from '../ops/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { keep } from '../tensor/tidy.js';
import { detach, type SequenceModel } from './sequenceModel.js';

/**
 * Stateful streaming inference: feed one time step at a time and get the model's output for it,
 * carrying the recurrent state. `step(x, state)` is pure (returns the new state);
 * `push(x)` keeps the state inside, `resetState()` forgets it.
 * x: forecast/classify: [B, inputSize] values; charlm: [B] token ids. Output: [B, outputSize].
 *
 * LSTM and GRU cores run the one streaming step (src/ops/step.ts) on buffers made once: push()
 * allocates nothing besides the embedding and head outputs. The state is those buffers
 * ([h, c] for LSTM, plus the last gate activations for FGR; [h] for GRU). The step runs as in
 * eval() (no dropout between layers). Peepholes are packed when the stream starts and on
 * resetState(): call resetState() after changing the weights. Other cores (xLSTM) run forward on
 * a length-1 sequence per step.
 */
export class StreamingModel {
  private current: Tensor[] | null = null;  // the generic path's kept state
  private live: RecurrentStream | null = null;    // push()'s buffers (LSTM / GRU cores)
  private started = false;                        // live holds a state (else the next push starts from zeros)
  private scratch: RecurrentStream | null = null;  // step()'s buffers, so step() never touches push()'s state

  constructor(readonly model: SequenceModel) {
    if (model.rnn.numDirections !== 1) throw new Error('streaming: a bidirectional model needs the whole sequence and cannot run step by step');
  }

  step(x: Tensor, state: readonly Tensor[] | null): { output: Tensor; state: Tensor[] } {
    return noGrad(() => {
      const m = this.model;
      const inp = this.input(x);
      if (m.rnn.stream) {
        const s = this.scratch = this.streamFor(this.scratch, x.shape[0]);
        s.reset(...(state ?? []));
        const output = m.head.forward(s.step(inp));
        return { output, state: s.state.map(copyOf) }; // copies: the scratch buffers are reused
      }
      if (m.arch.task === 'charlm') {
        const r = m.forwardLM(reshape(x, [1, x.shape[0]]), state);
        return { output: r.logits, state: r.state.map(detach) };
      }
      const r = m.rnn.forward(reshape(inp, [1, ...inp.shape]), state);
      return { output: m.head.forward(m.summarize(r, null)), state: r.state.map(detach) };
    });
  }

  /** One step with the kept state; the state outlives tidy() scopes. */
  push(x: Tensor): Tensor {
    if (!this.model.rnn.stream) {
      const r = this.step(x, this.current);
      for (const t of r.state) keep(t);
      this.dropState();
      this.current = r.state;
      return r.output;
    }
    return noGrad(() => {
      const B = x.shape[0];
      if (this.started && this.live && this.live.batch !== B) {
        throw new Error(`streaming: expected a batch of ${this.live.batch} (the kept state's), got ${B}; call resetState() to start another batch size`);
      }
      const inp = this.input(x);
      const s = this.live = this.streamFor(this.live, B);
      if (!this.started) { s.reset(); this.started = true; }
      return this.model.head.forward(s.step(inp));
    });
  }

  /**
   * The kept state, or null before the first push(). LSTM / GRU cores: the stream's buffers,
   * updated in place by the next push() (copy them to keep a snapshot); other cores: freed by the
   * next push() or resetState().
   */
  get state(): Tensor[] | null {
    if (this.model.rnn.stream) return this.started ? this.live!.state : null;
    return this.current;
  }

  resetState(): void {
    this.dropState();
    this.started = false;
  }

  /** The core's input for one step: x [B, I] as is, or token ids [B] through the embedding -> [B, E]. */
  private input(x: Tensor): Tensor {
    const m = this.model;
    if (m.arch.task === 'charlm') {
      if (x.rank !== 1 || x.dtype !== 'i32') throw new Error(`streaming charlm: expected token ids of shape [B] (i32), got ${x.dtype} [${x.shape.join(', ')}]`);
      return m.rnn.stream ? m.embed!.forward(x) : x;
    }
    if (x.rank !== 2 || x.shape[1] !== m.arch.inputSize) throw new Error(`streaming: expected x of shape [B, ${m.arch.inputSize}], got [${x.shape.join(', ')}]`);
    return x;
  }

  /** `s` when it has batch B, else a new stream of the core for B (the old one disposed). */
  private streamFor(s: RecurrentStream | null, B: number): RecurrentStream {
    if (s && s.batch === B) return s;
    s?.dispose();
    return this.model.rnn.stream!(B);
  }

  private dropState(): void {
    for (const t of this.current ?? []) t.backend.dispose(t.storage);
    this.current = null;
  }
}

/** A new tensor with t's values (the pure step's result must not alias reused buffers). */
function copyOf(t: Tensor): Tensor {
  const out = new Tensor(t.backend.alloc(t.dtype, t.size), t.shape);
  t.backend.copyStrided([t.size], t.storage, 0, [1], out.storage, 0, [1], false);
  return out;
}
