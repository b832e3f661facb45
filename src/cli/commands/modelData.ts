import { DataError } from '../../data/errors.js';
import { parseSequences, type SeqDataset } from '../../data/sequences.js';
import { printable } from '../../data/printable.js';
import { CharVocab } from '../../data/text.js';
import type { ModelMeta } from '../../io/modelDir.js';

export function classifyInputs(meta: ModelMeta, text: string, source: string, requireLabels: boolean): SeqDataset {
  const c = meta.classify!;
  const ds = parseSequences(text, source, c.labels, requireLabels);
  if (ds.features !== c.features) throw new DataError(`${source}: sequences have ${ds.features} features per step, the model expects ${c.features}`);
  return ds;
}

export function vocabOf(meta: ModelMeta): CharVocab { return new CharVocab(meta.charlm!.vocabulary, meta.charlm!.unknown ?? null); }

/**
 * A charlm command's text as ids. With `strict`, a character outside the vocabulary is an error
 * (the old behaviour, --strict-vocab); otherwise it reads as the unknown-character entry, or in a
 * model without one as the vocabulary's fallback, and one note on stderr says how many did.
 */
export function encodeForModel(vocab: CharVocab, text: string, what: string, strict: boolean): { ids: Int32Array; unknown: number } {
  if (strict) return { ids: vocab.encode(text, what), unknown: 0 };
  const r = vocab.encodeLenient(text);
  if (r.unknown > 0) {
    const n = `${r.unknown} character${r.unknown === 1 ? '' : 's'} of ${printable(what, 80)} outside the model's vocabulary`;
    const c = vocab.chars[vocab.fallback];
    process.stderr.write(vocab.unknown !== null ? `note: ${n} read as its unknown-character entry (--strict-vocab refuses them)\n`
      : `note: this model has no unknown-character entry (trained before Carousel had one): ${n} read as ${c === ' ' ? 'a space' : `its first character ${JSON.stringify(printable(c))}`} (--strict-vocab refuses them)\n`);
  }
  return r;
}
