import { noGrad } from '../autograd/tape.js';
import { batchify } from '../data/text.js';
import { crossEntropy } from '../loss/crossEntropy.js';
import { detach, type SequenceModel } from '../models/sequenceModel.js';
import { Tensor } from '../tensor/tensor.js';
import { keep, tidy } from '../tensor/tidy.js';
import type { BatchResult, EvalResult, Task } from './task.js';

/**
 * Character language model with truncated BPTT: the training text is cut into `batchSize`
 * parallel streams, walked in chunks of `bptt` characters; the state at the end of a chunk
 * (detached) starts the next, so the model sees long context while gradients flow through at
 * most `bptt` steps. Loss: cross-entropy of the next character; bits per character = loss / ln 2.
 */
export class CharLMTask implements Task {
  readonly stateful = true;
  private readonly streams: { data: Int32Array; L: number; B: number };

  constructor(readonly model: SequenceModel, train: Int32Array, readonly val: Int32Array | null,
    readonly batchSize: number, readonly bptt: number) {
    if (!Number.isInteger(bptt) || bptt < 1) throw new Error(`CharLMTask: expected bptt a positive integer, got ${bptt}`);
    this.streams = batchify(train, batchSize);
  }

  numBatches(): number { return Math.ceil((this.streams.L - 1) / this.bptt); }
  epochOrder(): number[] { return Array.from({ length: this.numBatches() }, (_, i) => i); }

  private chunk(s: { data: Int32Array; L: number; B: number }, start: number, len: number): { x: Int32Array; y: Int32Array } {
    const B = s.B;
    return { x: s.data.subarray(start * B, (start + len) * B), y: s.data.subarray((start + 1) * B, (start + 1 + len) * B) };
  }

  trainBatch(order: readonly number[], k: number, state: Tensor[] | null): BatchResult {
    const s = this.streams, start = order[k] * this.bptt, len = Math.min(this.bptt, s.L - 1 - start);
    const { x, y } = this.chunk(s, start, len);
    const m = this.model;
    const r = m.forwardLM(m.input(x, [len, s.B], 'i32'), state);
    return { loss: crossEntropy(r.logits, y), items: len * s.B, state: r.state };
  }

  /** Mean negative log likelihood (nats per character) of a text, state carried over it. */
  async evaluateIds(ids: Int32Array, streams = 4, chunk = 128): Promise<EvalResult> {
    const m = this.model;
    const wasTraining = m.training;
    m.eval();
    const B = Math.max(1, Math.min(streams, Math.floor((ids.length - 1) / 2)));
    const s = batchify(ids, B);
    // The summed negative log likelihood stays on the device ([1]) and is read once at the end;
    // each chunk runs in tidy(), keeping only the carried state.
    const nllSum = new Tensor(m.backend.alloc(m.dtype, 1), [1]);
    keep(nllSum);
    let n = 0, state: Tensor[] | null = null;
    try {
      for (let start = 0; start < s.L - 1; start += chunk) {
        const len = Math.min(chunk, s.L - 1 - start);
        const { x, y } = this.chunk(s, start, len);
        const prev = state;
        state = tidy(() => noGrad(() => {
          const r = m.forwardLM(m.input(x, [len, B], 'i32'), prev);
          m.backend.affine(crossEntropy(r.logits, y, 'sum').storage, 0, nllSum.storage, 0, 1, 1, 0, true);
          return r.state.map(detach);
        }));
        for (const t of prev ?? []) t.dispose();
        n += len * B;
      }
    } finally {
      m.train(wasTraining);
    }
    const nll = (await nllSum.data())[0];
    nllSum.dispose();
    for (const t of state ?? []) t.dispose();
    const loss = nll / n;
    return { loss, metrics: { bpc: loss / Math.LN2 } };
  }

  async validate(): Promise<EvalResult | null> { return this.val && this.val.length > 2 ? this.evaluateIds(this.val) : null; }

  /** Cross-entropy of the uniform distribution over the vocabulary. */
  trivialLoss(): number { return Math.log(this.model.arch.outputSize); }
}
