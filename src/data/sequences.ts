import { parseCsv, columnIndex } from './csv.js';
import { DataError } from './errors.js';
import { checkRange, parseNumber } from './number.js';
import { printable } from './printable.js';

/** One labelled sequence: values [length, features] row-major. */
export interface SeqSample { data: Float32Array; length: number; label: number }

export interface SeqDataset {
  samples: SeqSample[];
  features: number;
  /** Class names; a sample's label indexes this list. */
  labels: string[];
}

/**
 * Sequence classification data, as CSV or JSON Lines.
 * - CSV: a `label` column and a `sequence` column. The sequence is numbers separated by spaces
 *   (one feature per step), or steps separated by ';' whose features are separated by spaces
 *   ("0.1 2; 0.3 1; 0.2 0"). Without a `sequence` column, every other column is one time step.
 * - JSON Lines: {"sequence": [1, 2, 3] or [[1, 2], [3, 4]], "label": "a"} per line.
 * `labels` fixes the class list (a trained model's); otherwise it is the sorted distinct labels.
 */
export function parseSequences(text: string, source: string, labels?: readonly string[], requireLabels = true): SeqDataset {
  const jsonl = /\.jsonl?$/i.test(source) || /^\s*\{/.test(text);
  const raw = jsonl ? parseJsonl(text, source, requireLabels) : parseSeqCsv(text, source, requireLabels);
  if (raw.length === 0) throw new DataError(`${source}: no sequences found`);
  const F = raw[0].steps[0]?.length ?? 0;
  for (const r of raw) {
    if (r.steps.length === 0) throw new DataError(`${r.where}: empty sequence`);
    r.steps.forEach((s, t) => {
      if (s.length !== F) throw new DataError(`${r.where}: step ${t + 1} has ${s.length} features, expected ${F} (as in the first sequence)`);
    });
  }
  const classes = labels ? [...labels] : [...new Set(raw.map((r) => r.label))].sort();
  if (!requireLabels && !labels) throw new Error('parseSequences: unlabelled data needs the model\'s class list');
  const index = new Map(classes.map((c, i) => [c, i]));
  if (!labels && classes.length < 2) throw new DataError(`${source}: classification needs at least 2 distinct labels, found ${classes.length} (${printable(classes.join(', '), 200)})`);
  const samples = raw.map((r) => {
    // Unlabelled data (prediction): label -1.
    const label = !requireLabels && r.label === '' ? -1 : index.get(r.label);
    if (label === undefined) throw new DataError(`${r.where}: label '${printable(r.label, 40)}' is not one of the model's classes (${printable(classes.join(', '), 200)})`);
    const data = new Float32Array(r.steps.length * F);
    r.steps.forEach((s, t) => data.set(s, t * F));
    return { data, length: r.steps.length, label };
  });
  return { samples, features: F, labels: classes };
}

interface RawSeq { steps: number[][]; label: string; where: string }

const num = (s: string, where: string): number => parseNumber(s, where);

function parseSeqCsv(text: string, source: string, requireLabels: boolean): RawSeq[] {
  const t = parseCsv(text, source);
  const li = t.header.indexOf('label');
  if (li < 0 && requireLabels) columnIndex(t, 'label'); // throws, listing the columns
  const si = t.header.indexOf('sequence');
  return t.rows.map((row, r) => {
    const where = `${source} line ${t.lines[r]}`;
    if (si >= 0) {
      const cell = row[si].trim();
      const w = `${where}, column ${si + 1} ('sequence')`;
      const steps = cell.includes(';')
        ? cell.split(';').map((st) => st.trim()).filter((st) => st !== '').map((st) => st.split(/\s+/).map((v) => num(v, w)))
        : cell === '' ? [] : cell.split(/\s+/).map((v) => [num(v, w)]);
      return { steps, label: li >= 0 ? row[li].trim() : '', where };
    }
    const steps = row.flatMap((v, k) => (k === li ? [] : [[num(v, `${where}, column ${k + 1} ('${t.header[k]}')`)]]));
    return { steps, label: li >= 0 ? row[li].trim() : '', where };
  });
}

/**
 * JSON Lines. Labels may be strings, numbers or booleans; a model keeps its class names as text,
 * so two labels of different JSON types with the same text (1 and "1") could not be told apart
 * in model.json or in predictions: such a file is refused, naming both lines.
 */
function parseJsonl(text: string, source: string, requireLabels: boolean): RawSeq[] {
  const out: RawSeq[] = [];
  const seen = new Map<string, { type: string; line: number }>();
  text.split(/\r?\n/).forEach((line, k) => {
    if (line.trim() === '') return;
    const where = `${source} line ${k + 1}`;
    let o: { sequence?: unknown; label?: unknown };
    try { o = JSON.parse(line); } catch (e) { throw new DataError(`${where}: not valid JSON (${printable((e as Error).message, 80)})`); }
    if (typeof o !== 'object' || o === null || !Array.isArray(o.sequence)) throw new DataError(`${where}: expected {"sequence": [...], "label": ...}`);
    if ((o.label === undefined || o.label === null) && requireLabels) throw new DataError(`${where}: missing "label"`);
    const steps = (o.sequence as unknown[]).map((s, t) => {
      const vals = Array.isArray(s) ? s : [s];
      return vals.map((v) => {
        if (typeof v !== 'number') throw new DataError(`${where}: sequence step ${t + 1}: expected a finite number, got ${printable(JSON.stringify(v) ?? String(v), 40)}`);
        return checkRange(v, String(v), `${where}: sequence step ${t + 1}`);
      });
    });
    let label = '';
    if (o.label !== undefined && o.label !== null) {
      const type = typeof o.label;
      if (type !== 'string' && type !== 'number' && type !== 'boolean') {
        throw new DataError(`${where}: "label": expected a string, number or boolean, got ${Array.isArray(o.label) ? 'an array' : 'an object'}`);
      }
      label = String(o.label);
      const first = seen.get(label);
      if (!first) seen.set(label, { type, line: k + 1 });
      else if (first.type !== type) {
        throw new DataError(`${where}: label ${printable(JSON.stringify(o.label), 40)} (a ${type}) has the same text as the ${first.type} label on line ${first.line}; class names are text, so use one type for both`);
      }
    }
    out.push({ steps, label, where });
  });
  return out;
}

/**
 * Pad a batch of variable-length sequences with zeros to the longest: x [T, B, F] time-major,
 * with the true lengths (passed to LSTM/GRU forward, which then stops each sequence at its length).
 */
export function padBatch(samples: readonly SeqSample[], idx: readonly number[], F: number): { x: Float32Array; T: number; lengths: number[] } {
  const B = idx.length;
  const lengths = idx.map((i) => samples[i].length);
  const T = Math.max(...lengths);
  const x = new Float32Array(T * B * F);
  idx.forEach((i, b) => {
    const s = samples[i];
    for (let t = 0; t < s.length; t++) for (let f = 0; f < F; f++) x[(t * B + b) * F + f] = s.data[t * F + f];
  });
  return { x, T, lengths };
}
