import { noGrad } from '../autograd/tape.js';
import { isKept } from '../backend/scope.js';
import type { RecurrentStream } from '../nn/lstmStream.js';
import { checkIndices } from '../ops/checks.js';
import { reshape } from '../ops/shape.js';
import { fmt } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/tidy.js';
import { detach, type SequenceModel } from './sequenceModel.js';

/**
 * One time step's input: a tensor, or its values.
 * - forecast / classify: x [B, inputSize] as a tensor, as B rows (`[[x1, x2]]`), as B * inputSize
 *   row-major values, or one number (B = 1, inputSize 1).
 * - charlm: token ids [B] as an i32 tensor, as numbers (`[id]`), or one number.
 * A tensor stays the caller's (the stream reads it and never frees it); values are uploaded and
 * the upload is freed by the step itself.
 */
export type StepInput = Tensor | number | ArrayLike<number> | readonly ArrayLike<number>[];

/**
 * Stateful streaming inference: feed one time step at a time and get the model's output for it,
 * carrying the recurrent state. `step(x, state)` is pure (returns the new state);
 * `push(x)` keeps the state inside, `resetState()` forgets it. Output: [B, outputSize].
 *
 * Memory: a plain loop of push() stays flat without tidy(). What push() allocates it frees:
 * - its output is the stream's: valid until the next push() (or dispose()), which frees it
 *   (using it afterwards is an error on wasm, never stale values). Read it (`await y.data()`) or
 *   `keep(y)` to keep it (then it is yours to dispose()).
 * - values given as input are uploaded and freed; a tensor given as input stays the caller's.
 * - the state, the embedded ids and the recurrent step's scratch are buffers made once and reused.
 * step() returns new tensors (output and state) that are the caller's; its intermediates are freed.
 * `dispose()` frees everything the stream holds.
 *
 * LSTM and GRU cores run the one streaming step (src/ops/step.ts) on buffers made once: push()
 * allocates only its output (from the free lists, in place of the one it frees). The state is
 * those buffers ([h, c] for LSTM, plus the last gate activations for FGR; [h] for GRU). The step
 * runs as in eval() (no dropout between layers). Peepholes are packed when the stream starts and
 * on resetState(): call resetState() after changing the weights. Other cores (xLSTM) run forward
 * on a length-1 sequence per step, inside a tidy() of their own.
 */
export class StreamingModel {
  private current: Tensor[] | null = null;  // the generic path's kept state
  private live: RecurrentStream | null = null;    // push()'s buffers (LSTM / GRU cores)
  private started = false;                        // live holds a state (else the next push starts from zeros)
  private scratch: RecurrentStream | null = null;  // step()'s buffers, so step() never touches push()'s state
  private rows: Tensor | null = null;             // charlm on a streaming core: embedded ids [B, E], reused
  private out: Tensor | null = null;              // the last push()'s output [B, O], freed by the next push
  private disposed = false;

  constructor(readonly model: SequenceModel) {
    if (model.rnn.numDirections !== 1) throw new Error('streaming: a bidirectional model needs the whole sequence and cannot run step by step');
  }

  /** One step from `state` (null: zeros): new output and state tensors, the caller's. */
  step(x: StepInput, state: readonly Tensor[] | null): { output: Tensor; state: Tensor[] } {
    this.usable();
    // tidy: the intermediates (and the upload of values) are freed; output and state survive.
    return noGrad(() => tidy(() => {
      const m = this.model, xt = this.toTensor(x);
      if (m.rnn.stream) {
        const inp = this.coreInput(xt);
        const s = this.scratch = this.streamFor(this.scratch, xt.shape[0]);
        s.reset(...(state ?? []));
        const output = m.head.forward(s.step(inp));
        return { output, state: s.state.map(copyOf) }; // copies: the scratch buffers are reused
      }
      return this.stepForward(xt, state);
    }));
  }

  /**
   * One step with the kept state -> the output [B, outputSize], owned by the stream: valid until
   * the next push() or dispose() (see the class comment). The state outlives tidy() scopes.
   */
  push(x: StepInput): Tensor {
    this.usable();
    const prev = this.out;
    const y = noGrad(() => (this.model.rnn.stream ? this.pushStream(x) : this.pushForward(x)));
    this.out = y;
    // After the step: x may have been the previous output (feeding a forecast back in).
    if (prev && !isKept(prev.storage)) prev.dispose();
    return y;
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
    this.dropState(null);
    this.started = false;
  }

  /**
   * Free every buffer the stream holds: the state, the step's scratch and the last output (unless
   * kept). The stream cannot be used afterwards.
   */
  dispose(): void {
    if (this.disposed) return;
    this.resetState();
    for (const s of [this.live, this.scratch]) s?.dispose();
    this.rows?.dispose();
    if (this.out && !isKept(this.out.storage)) this.out.dispose();
    this.live = this.scratch = this.rows = this.out = null;
    this.disposed = true;
  }

  /** LSTM / GRU cores: the streaming step on the kept buffers, then the head (the one allocation). */
  private pushStream(x: StepInput): Tensor {
    const xt = this.toTensor(x);
    try {
      const B = xt.shape[0];
      if (this.started && this.live && this.live.batch !== B) {
        throw new Error(`streaming: expected a batch of ${this.live.batch} (the kept state's), got ${B}; call resetState() to start another batch size`);
      }
      const inp = this.coreInput(xt);
      const s = this.live = this.streamFor(this.live, B);
      if (!this.started) { s.reset(); this.started = true; }
      return this.model.head.forward(s.step(inp));
    } finally {
      if (xt !== x) xt.dispose();
    }
  }

  /** Other cores: forward over one step in a tidy() of its own; the new state is kept, the old freed. */
  private pushForward(x: StepInput): Tensor {
    const r = tidy(() => this.stepForward(this.toTensor(x), this.current));
    for (const t of r.state) keep(t);
    this.dropState(r.state);
    this.current = r.state;
    return r.output;
  }

  /** A length-1 forward of a core without a streaming step: x [B, I] or ids [B] -> output, state. */
  private stepForward(x: Tensor, state: readonly Tensor[] | null): { output: Tensor; state: Tensor[] } {
    const m = this.model, inp = this.coreInput(x);
    if (m.arch.task === 'charlm') {
      const r = m.forwardLM(reshape(inp, [1, inp.shape[0]]), state);
      return { output: r.logits, state: r.state.map(detach) };
    }
    const r = m.rnn.forward(reshape(inp, [1, ...inp.shape]), state);
    return { output: m.head.forward(m.summarize(r, null)), state: r.state.map(detach) };
  }

  /**
   * The core's input for one step: x [B, I] as is; charlm ids [B] as is for forwardLM, or, for a
   * streaming core, their embedding rows [B, E] gathered into a buffer the stream reuses.
   */
  private coreInput(x: Tensor): Tensor {
    const m = this.model;
    if (m.arch.task !== 'charlm') {
      if (x.rank !== 2 || x.shape[1] !== m.arch.inputSize) throw new Error(`streaming: expected x of shape [B, ${m.arch.inputSize}], got ${fmt(x.shape)}`);
      return x;
    }
    if (x.rank !== 1 || x.dtype !== 'i32') throw new Error(`streaming charlm: expected token ids of shape [B] (i32), got ${x.dtype} ${fmt(x.shape)}`);
    if (!m.rnn.stream) return x;
    const W = m.embed!.weight, B = x.shape[0], E = W.shape[1];
    if (x.backend !== W.backend) throw new Error(`streaming charlm: the token ids live on backend '${x.backend.name}', the model on '${W.backend.name}'`);
    checkIndices('streaming charlm token ids', x, W.shape[0]);
    if (!this.rows || this.rows.shape[0] !== B) {
      this.rows?.dispose();
      this.rows = keep(new Tensor(W.backend.alloc(W.dtype, B * E), [B, E]));
    }
    W.backend.gatherRows(W.storage, 0, x.storage, B, E, this.rows.storage, 0);
    return this.rows;
  }

  /** x as a tensor: itself, or its values uploaded (shape and values checked; the caller frees it). */
  private toTensor(x: StepInput): Tensor {
    if (x instanceof Tensor) return x;
    const m = this.model, lm = m.arch.task === 'charlm', I = m.arch.inputSize;
    const what = lm ? 'streaming charlm' : 'streaming';
    let values: ArrayLike<number>;
    if (typeof x === 'number') values = [x];
    else if (Array.isArray(x) && x.length > 0 && typeof x[0] === 'object' && x[0] !== null) {
      if (lm) throw new Error(`${what}: expected token ids [B] as numbers, got nested arrays`);
      const rows = x as readonly ArrayLike<number>[], flat = new Array<number>(rows.length * I);
      rows.forEach((r, b) => {
        if (r?.length !== I) throw new Error(`${what}: expected rows of ${I} values, got ${r?.length === undefined ? typeof r : `${r.length} values`} in row ${b}`);
        for (let k = 0; k < I; k++) flat[b * I + k] = r[k];
      });
      values = flat;
    } else if (Array.isArray(x) || ArrayBuffer.isView(x)) values = x as ArrayLike<number>;
    else throw new Error(`${what}: expected a Tensor, a number or an array of numbers, got ${x === null ? 'null' : typeof x}`);
    const n = values.length;
    if (n === 0) throw new Error(`${what}: expected at least one ${lm ? 'token id' : 'row'}, got none`);
    if (lm) {
      const V = m.arch.vocabSize!;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (!Number.isInteger(v) || v < 0 || v >= V) throw new Error(`${what}: expected token ids (integers in [0, ${V})), got ${v} at position ${i}`);
      }
      return m.input(values, [n], 'i32');
    }
    if (n % I !== 0) throw new Error(`${what}: expected B rows of ${I} values (B * ${I} numbers), got ${n} numbers`);
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: expected finite numbers, got ${v} at position ${i}`);
    }
    return m.input(values, [n / I, I]);
  }

  /** `s` when it has batch B, else a new stream of the core for B (the old one disposed). */
  private streamFor(s: RecurrentStream | null, B: number): RecurrentStream {
    if (s && s.batch === B) return s;
    s?.dispose();
    return this.model.rnn.stream!(B);
  }

  /** Free the generic path's kept state, except buffers that `next` still uses. */
  private dropState(next: readonly Tensor[] | null): void {
    const still = new Set(next?.map((t) => t.storage));
    for (const t of this.current ?? []) if (!still.has(t.storage)) t.backend.dispose(t.storage);
    this.current = null;
  }

  private usable(): void {
    if (this.disposed) throw new Error('streaming: this StreamingModel was disposed; make a new one');
  }
}

/** A new tensor with t's values (the pure step's result must not alias reused buffers). */
function copyOf(t: Tensor): Tensor {
  const out = new Tensor(t.backend.alloc(t.dtype, t.size), t.shape);
  t.backend.copyStrided([t.size], t.storage, 0, [1], out.storage, 0, [1], false);
  return out;
}
