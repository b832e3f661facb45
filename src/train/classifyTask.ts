import { noGrad } from '../autograd/tape.js';
import { tidy } from '../tensor/tidy.js';
import { padBatch, type SeqSample } from '../data/sequences.js';
import { crossEntropy } from '../loss/crossEntropy.js';
import type { SequenceModel } from '../models/sequenceModel.js';
import type { Rng } from '../tensor/random.js';
import type { BatchResult, EvalResult, Task } from './task.js';

/**
 * Sequence classification over variable-length sequences: each mini-batch is zero-padded to its
 * longest sequence and the true lengths go to the recurrent layer (packed-sequence semantics),
 * so padding never changes the result. Cross-entropy loss; validation reports accuracy.
 */
export class ClassifyTask implements Task {
  readonly stateful = false;
  constructor(readonly model: SequenceModel, readonly train: readonly SeqSample[], readonly val: readonly SeqSample[] | null,
    readonly features: number, readonly batchSize: number) {}

  numBatches(): number { return Math.ceil(this.train.length / this.batchSize); }
  epochOrder(rng: Rng): number[] { return rng.shuffle(Array.from({ length: this.train.length }, (_, i) => i)); }

  trainBatch(order: readonly number[], k: number): BatchResult {
    const idx = order.slice(k * this.batchSize, (k + 1) * this.batchSize);
    const { x, T, lengths } = padBatch(this.train, idx, this.features);
    const m = this.model;
    const logits = m.forwardLast(m.input(x, [T, idx.length, this.features]), lengths);
    return { loss: crossEntropy(logits, idx.map((i) => this.train[i].label)), items: idx.length, state: null };
  }

  /** Class probabilities' argmax and the logits for each sample. */
  async predict(samples: readonly SeqSample[]): Promise<{ predicted: number[]; logits: Float32Array }> {
    const m = this.model, C = m.arch.outputSize;
    const wasTraining = m.training;
    m.eval();
    const logits = new Float32Array(samples.length * C);
    try {
      for (let s = 0; s < samples.length; s += 256) {
        const idx = Array.from({ length: Math.min(256, samples.length - s) }, (_, i) => s + i);
        const { x, T, lengths } = padBatch(samples, idx, this.features);
        // The batch's buffers are freed when tidy ends, except its logits, freed once read.
        const out = tidy(() => noGrad(() => m.forwardLast(m.input(x, [T, idx.length, this.features]), lengths)));
        logits.set(await out.data(), s * C);
        out.dispose();
      }
    } finally {
      m.train(wasTraining);
    }
    const predicted = samples.map((_, i) => {
      let best = 0;
      for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
      return best;
    });
    return { predicted, logits };
  }

  async evaluate(samples: readonly SeqSample[]): Promise<EvalResult> {
    const { predicted, logits } = await this.predict(samples);
    const C = this.model.arch.outputSize;
    let nll = 0, correct = 0;
    samples.forEach((s, i) => {
      let mx = -Infinity;
      for (let c = 0; c < C; c++) mx = Math.max(mx, logits[i * C + c]);
      let z = 0;
      for (let c = 0; c < C; c++) z += Math.exp(logits[i * C + c] - mx);
      nll += Math.log(z) + mx - logits[i * C + s.label];
      if (predicted[i] === s.label) correct++;
    });
    return { loss: nll / samples.length, metrics: { accuracy: correct / samples.length } };
  }

  async validate(): Promise<EvalResult | null> { return this.val && this.val.length ? this.evaluate(this.val) : null; }

  /** Cross-entropy of the uniform distribution over the classes. */
  trivialLoss(): number { return Math.log(this.model.arch.outputSize); }
}
