import { noGrad } from '../autograd/tape.js';
import type { Rng } from '../tensor/random.js';
import { tidy } from '../tensor/tidy.js';
import type { BatchResult, EvalResult, Task } from '../train/task.js';
import { beamSearch } from './beam.js';
import { errorRates } from './metrics.js';
import { makeBatch, type Seq2Seq } from './model.js';
import type { Vocab } from './vocab.js';

/** A pair as ids (target without <s> and </s>). */
export interface IdPair { src: number[]; tgt: number[] }
/** A source as ids with its references as tokens (for error rates). */
export interface IdGroup { src: number[]; refs: string[][] }

export interface Seq2SeqTaskOptions {
  /** Scheduled sampling: probability of feeding the model's own previous prediction (0: teacher forcing). */
  sampling?: number;
  /** Validation sources decoded greedily each epoch for the error rates (default 1000). */
  decodeSources?: number;
  /** Metric names: G2P's per/wer, or ter/ser (token and sequence error rate). */
  names?: { token: string; sequence: string };
}

/** Batches per pool that are sorted by length together (bucketing): batches of similar lengths, still shuffled. */
const POOL = 50;

/**
 * Sequence-to-sequence training for fit(): each epoch shuffles the pairs, sorts pools of POOL
 * batches by (source, target) length so a batch pads little, and shuffles the batches (the one
 * partial batch goes last). Loss: mean cross-entropy over the target tokens and their </s>.
 * Validation: teacher-forced loss over the validation pairs, and the token and sequence error
 * rates of greedy decoding of the first `decodeSources` validation sources.
 */
export class Seq2SeqTask implements Task {
  readonly stateful = false;
  private readonly sampling: number;

  constructor(readonly model: Seq2Seq, readonly train: readonly IdPair[], readonly val: readonly IdGroup[] | null,
    readonly valPairs: readonly IdPair[] | null, readonly batchSize: number, readonly tgtVocab: Vocab,
    private readonly rng: Rng, readonly options: Seq2SeqTaskOptions = {}) {
    if (train.length === 0) throw new Error('Seq2SeqTask: no training pairs');
    this.sampling = options.sampling ?? 0;
    if (!(this.sampling >= 0 && this.sampling <= 1)) throw new Error(`Seq2SeqTask: expected a scheduled sampling probability in [0, 1], got ${this.sampling}`);
  }

  numBatches(): number { return Math.ceil(this.train.length / this.batchSize); }

  epochOrder(rng: Rng): number[] {
    const bs = this.batchSize, n = this.train.length;
    const idx = rng.shuffle(Array.from({ length: n }, (_, i) => i));
    const len = (i: number) => this.train[i].src.length * 1000 + this.train[i].tgt.length;
    const batches: number[][] = [];
    for (let p = 0; p < n; p += POOL * bs) {
      const pool = idx.slice(p, p + POOL * bs).sort((a, b) => len(a) - len(b));
      for (let k = 0; k < pool.length; k += bs) batches.push(pool.slice(k, k + bs));
    }
    const partial = batches.findIndex((b) => b.length < bs);
    const tail = partial >= 0 ? batches.splice(partial, 1) : [];
    return [...rng.shuffle(batches), ...tail].flat();
  }

  private batchOf(pairs: readonly IdPair[]) { return makeBatch(pairs.map((p) => p.src), pairs.map((p) => p.tgt)); }

  trainBatch(order: readonly number[], k: number): BatchResult {
    const b = this.batchOf(order.slice(k * this.batchSize, (k + 1) * this.batchSize).map((i) => this.train[i]));
    return { loss: this.model.loss(b, this.sampling, () => this.rng.next()), items: b.tokens, state: null };
  }

  /** Mean cross-entropy per target token of pairs, teacher-forced (batches sorted by length). */
  lossOf(pairs: readonly IdPair[]): number {
    const sorted = [...pairs].sort((a, b) => a.src.length - b.src.length || a.tgt.length - b.tgt.length);
    let sum = 0, tokens = 0;
    const m = this.model, was = m.training;
    m.eval();
    try {
      for (let i = 0; i < sorted.length; i += 256) {
        const b = this.batchOf(sorted.slice(i, i + 256));
        sum += tidy(() => noGrad(() => m.loss(b).item())) * b.tokens;
        tokens += b.tokens;
      }
    } finally { m.train(was); }
    return sum / Math.max(tokens, 1);
  }

  /** Token and sequence error rates of decoding sources against their references. */
  errorRates(groups: readonly IdGroup[], beam = 1) {
    const hyps = beamSearch(this.model, groups.map((g) => g.src), { beam });
    return errorRates(hyps.map((h) => this.tgtVocab.decode(h.ids)), groups.map((g) => g.refs));
  }

  async validate(): Promise<EvalResult | null> {
    if (!this.val || !this.valPairs || this.val.length === 0) return null;
    const loss = this.lossOf(this.valPairs);
    const r = this.errorRates(this.val.slice(0, this.options.decodeSources ?? 1000));
    const names = this.options.names ?? { token: 'ter', sequence: 'ser' };
    return { loss, metrics: { [names.token]: r.tokenErrorRate, [names.sequence]: r.sequenceErrorRate } };
  }

  trivialLoss(): number { return Math.log(this.tgtVocab.size); }
}
