import type { Backend } from '../backend/backend.js';
import type { GruWeights } from '../ops/gru.js';
import type { LstmWeights } from '../ops/lstm.js';
import type { LstmCellSpec } from '../ops/lstm-cell.js';
import { GruStepState, gruStep, LstmStepState, lstmStep } from '../ops/step.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Streaming inference with a recurrent module: one time step per call, the state kept in backend
 * memory between calls, nothing allocated per step. Thin wrappers over the one step in
 * src/ops/step.ts (lstmStep / gruStep), which the streaming model, the CLI and the bench share.
 * The modules hand over their weights; nothing here imports them (no import circle).
 *
 *   const s = lstm.stream(1); for (const x of frames) { const y = s.step(x); ... }   // x [B, I] -> y [B, Hout]
 */
export interface RecurrentStream {
  readonly batch: number;
  /** The top layer's h after the last step [B, Hout]: overwritten by the next step. */
  readonly y: Tensor;
  /** The state tensors (live buffers, updated in place by each step). */
  readonly state: Tensor[];
  /** One time step: x [B, I] -> this.y. */
  step(x: Tensor): Tensor;
  /** Start again from the given state tensors (zeros where absent). */
  reset(...state: (Tensor | null | undefined)[]): void;
  /** Re-read anything packed from the weights (after changing them in place). */
  refresh(): void;
  /** Return the buffers to the backend; the stream cannot be used afterwards. */
  dispose(): void;
}

/** What an LSTM stream needs from its module (LSTM satisfies it). */
export interface LstmStreamSource {
  readonly backend: Backend;
  readonly numDirections: number;
  readonly weights: readonly (readonly LstmWeights[])[];
  readonly cell: LstmCellSpec | undefined;
}

/**
 * LSTM streaming (`lstm.stream(batch)`): every cell the module has (peepholes, LSTMP, each of
 * Greff et al.'s variants, FGR included). Peepholes are packed at creation and on reset(); call
 * refresh() after changing the weights in place while streaming (see LstmStepState).
 */
export class LSTMStream implements RecurrentStream {
  private readonly s: LstmStepState;

  constructor(module: LstmStreamSource, readonly batch = 1) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`LSTM.stream: expected a positive integer batch size, got ${batch}`);
    if (module.numDirections !== 1) throw new Error('LSTM.stream: a bidirectional LSTM needs the whole sequence; it cannot run one step at a time');
    this.s = new LstmStepState(module.weights.map((dirs) => dirs[0]), module.cell, batch, 'LSTM.stream');
  }

  /** The state [L, B, Hout] and [L, B, H]: read it, or set it with reset(). */
  get h(): Tensor { return this.s.h; }
  get c(): Tensor { return this.s.c; }
  get y(): Tensor { return this.s.y; }
  /** [h, c], and for FGR [h, c, act] with act [L, B, 4H] the last step's gate activations. */
  get state(): Tensor[] { return this.s.state; }

  /** Start again from h0 [L, B, Hout], c0 [L, B, H] (FGR: act0 [L, B, 4H]), zeros when absent. */
  reset(h0?: Tensor | null, c0?: Tensor | null, act0?: Tensor | null): void { this.s.reset(h0, c0, act0); }
  refresh(): void { this.s.refresh(); }

  /** One time step: x [B, I] -> the top layer's new h [B, Hout] (this.y). */
  step(x: Tensor): Tensor { return lstmStep(this.s, x); }

  dispose(): void { this.s.dispose(); }
}

/** What a GRU stream needs from its module (GRU satisfies it). */
export interface GruStreamSource {
  readonly numDirections: number;
  readonly weights: readonly (readonly GruWeights[])[];
}

/** GRU streaming (`gru.stream(batch)`), nn.GRU semantics. */
export class GRUStream implements RecurrentStream {
  private readonly s: GruStepState;

  constructor(module: GruStreamSource, readonly batch = 1) {
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`GRU.stream: expected a positive integer batch size, got ${batch}`);
    if (module.numDirections !== 1) throw new Error('GRU.stream: a bidirectional GRU needs the whole sequence; it cannot run one step at a time');
    this.s = new GruStepState(module.weights.map((dirs) => dirs[0]), batch, 'GRU.stream');
  }

  /** The state [L, B, H]. */
  get h(): Tensor { return this.s.h; }
  get y(): Tensor { return this.s.y; }
  get state(): Tensor[] { return this.s.state; }

  /** Start again from h0 [L, B, H] (zeros when absent). */
  reset(h0?: Tensor | null): void { this.s.reset(h0); }
  refresh(): void { this.s.refresh(); }

  /** One time step: x [B, I] -> the top layer's new h [B, H] (this.y). */
  step(x: Tensor): Tensor { return gruStep(this.s, x); }

  dispose(): void { this.s.dispose(); }
}
