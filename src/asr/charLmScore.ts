import { noGrad } from '../autograd/tape.js';
import { CharVocab } from '../data/text.js';
import { loadModel } from '../io/modelDir.js';
import { crossEntropy } from '../loss/crossEntropy.js';
import type { SequenceModel } from '../models/sequenceModel.js';
import { Tensor } from '../tensor/tensor.js';
import { tidy } from '../tensor/tidy.js';

const IGNORE = -100; // crossEntropy's ignored target

/**
 * Rescoring with an LSTM character language model (`carousel train --task charlm` on the LM's
 * corpus, one transcript a line): each of beam + LM's candidates gets log P(text, then a line end
 * | a line end), the model's exact probability of that line. An n-gram sees 6 characters back; the
 * LSTM sees the whole word, and judges spellings by more of it (Sundermeyer et al. 2012 rescored
 * speech n-best lists with LSTM LMs the same way). Scores are cached by text: the candidates of
 * many utterances repeat, and tuning ranks them at many weights.
 */
export class CharLmScorer {
  private readonly cache = new Map<string, number>();
  private readonly newline: number;

  /** `batch`: lines scored at once (their padding costs little: the LSTM's steps are batched). */
  constructor(readonly model: SequenceModel, readonly vocab: CharVocab, private readonly batch = 256) {
    if (model.arch.task !== 'charlm') throw new Error(`CharLmScorer: expected a charlm model, got a ${model.arch.task} model`);
    const nl = vocab.chars.indexOf('\n');
    if (nl < 0) throw new Error('CharLmScorer: expected a charlm trained on lines of text (one transcript a line), but its vocabulary has no line end');
    this.newline = nl;
  }

  /** A `carousel train --task charlm` model directory. */
  static load(dir: string): CharLmScorer {
    const { model, meta } = loadModel(dir);
    if (meta.architecture.task !== 'charlm' || !meta.charlm) throw new Error(`${dir}: expected a character LM (carousel train --task charlm), got a ${meta.architecture.task} model`);
    return new CharLmScorer(model, new CharVocab(meta.charlm.vocabulary, meta.charlm.unknown ?? null));
  }

  /** Score every text not yet known, `batch` at a time. */
  prepare(texts: Iterable<string>): void {
    const todo = [...new Set(texts)].filter((t) => !this.cache.has(t));
    for (let i = 0; i < todo.length; i += this.batch) {
      const part = todo.slice(i, i + this.batch), scores = this.scoreBatch(part);
      part.forEach((t, k) => this.cache.set(t, scores[k]));
    }
  }

  /** A prepared text's log-probability (natural log). */
  of(text: string): number {
    const s = this.cache.get(text);
    if (s === undefined) throw new Error(`CharLmScorer.of: ${JSON.stringify(text)} was not prepared`);
    return s;
  }

  /** log P(text "\n" | "\n") for each text: one forward pass over the batch, padded. */
  private scoreBatch(texts: readonly string[]): Float64Array {
    // seqs [B][len + 2]: line end, the text's ids (unknown characters as the vocabulary's fallback), line end.
    const seqs = texts.map((t) => Int32Array.from([this.newline, ...this.vocab.encodeLenient(t).ids, this.newline]));
    const B = seqs.length, T = Math.max(...seqs.map((s) => s.length)) - 1;
    const ids = new Int32Array(T * B).fill(this.newline); // [T, B] inputs, time-major; padding past each line's end
    const next = new Int32Array(T * B).fill(IGNORE);      // [T, B] the character each step predicts; none past the end
    seqs.forEach((s, b) => { for (let t = 0; t < s.length - 1; t++) { ids[t * B + b] = s[t]; next[t * B + b] = s[t + 1]; } });
    const m = this.model;
    // nll [T*B]: -log softmax(logits)[next], 0 where ignored.
    const nll = tidy(() => noGrad(() => crossEntropy(m.forwardLM(new Tensor(m.backend.upload('i32', ids), [T, B]), null).logits, next, 'none', IGNORE).dataSync()));
    const out = new Float64Array(B);
    for (let i = 0; i < T * B; i++) out[i % B] -= nll[i];
    return out;
  }
}
