#!/usr/bin/env node
// Where is beam + LM's error: in the search (the transcript is not among the candidates ranked
// again) or in the ranking (it is, and another wins)? For a set decoded as `carousel evaluate`
// decodes it (the LM's tuned weight, bonus, pronunciation and charlm weights), this prints
//   - how often the transcript is among the beam's k best candidates (k = 1, 4, 16, all);
//   - the oracle: the CER and WER of the candidate closest to each transcript;
//   - the ranked result (evaluate's beam+lm line), and its errors by kind, each with its share of
//     the CER: transcript not among the candidates; among them but losing to a candidate that
//     sounds the same to the phoneme output (pronunciation scores within 0.5 nats: a spelling
//     choice), that sounds better (a mishearing), or that sounds worse (the ranking's weights).
// Run after `npm run build`:
//   node scripts/asr-candidates.mjs --model DIR [--model DIR2 ...] --data VAL.jsonl --lm LM.json [--count 400]
//     [--speeds 0.9,1,1.1] [--beam 64] [--candidates 64] [--charlm DIR] [--accents A,B]
import '../dist/src/backends.js';
import '../dist/src/cli/apps/index.js';
import { parseArgs } from 'node:util';
import { bestCandidate, candidateTable, charlmFlag, loadCtcModels, loadForModel, pronouncerOf, readSets, speedsFlag } from '../dist/src/asr/app.js';
import { runViews } from '../dist/src/asr/ensemble.js';
import { CharNgramLM } from '../dist/src/asr/lm.js';
import { errorRates, percent } from '../dist/src/asr/metrics.js';

// A missing folder or a damaged model is one line naming it, not a stack.
process.on('uncaughtException', (e) => { console.error(`asr-candidates: ${e.message}`); process.exit(1); });
const USAGE = 'usage: node scripts/asr-candidates.mjs --model DIR [--model DIR2 ...] --data VAL.jsonl --lm LM.json [--count 400] [--speeds S] [--beam 64] [--candidates 64] [--charlm DIR] [--accents A,B]';
const fail = (m) => { console.error(`asr-candidates: ${m}\n${USAGE}`); process.exit(2); };
let v;
try {
  v = parseArgs({
    options: {
      model: { type: 'string', multiple: true }, data: { type: 'string' }, lm: { type: 'string' }, count: { type: 'string', default: '400' }, speeds: { type: 'string' },
      beam: { type: 'string', default: '64' }, candidates: { type: 'string', default: '64' }, charlm: { type: 'string' }, accents: { type: 'string' },
    },
  }).values;
} catch (e) { fail(e.message); }
if (!v.model?.length || !v.data || !v.lm) fail('expected --model, --data and --lm');
for (const k of ['count', 'beam', 'candidates']) if (!/^[1-9]\d*$/.test(v[k])) fail(`--${k}: expected a positive integer, got '${v[k]}'`);
const count = +v.count, beam = +v.beam, k = +v.candidates;
if (k > beam) fail(`--candidates: expected at most --beam (${beam}), got ${k}`);

const models = loadCtcModels(v.model), ms = models.map((m) => m.model), alphabet = ms[0].alphabet;
const lm = CharNgramLM.load(v.lm), t = lm.tuned ?? { weight: 0.5, bonus: 1 };
const w = t.pronounce ?? 0, cw = v.charlm ? t.charlm ?? 0 : 0;
if (w > 0 && !ms.some((m) => m.phonemes)) fail(`${v.lm} is tuned with pronunciation rescoring (weight ${w}), but no --model has a phoneme output`);
if (v.charlm && !(cw > 0)) fail(`--charlm: ${v.lm} records no charlm weight (tune one with carousel lm --tune ... --charlm DIR)`);
const phonemes = ms.some((m) => m.phonemes);
let refs = [];
const read = await readSets(ms, v.data, count);
const inputs = (m) => { const u = loadForModel(m, v.data, undefined, read, count); if (m === ms[0]) refs = u.map((x) => x.text); return u; };
const { frame, views, heard } = await runViews(ms, inputs, speedsFlag(v.speeds), undefined, phonemes);
// The table lmRanker ranks from (the pronunciation scores too whenever a model has phonemes, to sort the errors).
const pronouncer = phonemes ? pronouncerOf(v.accents) : null, charlm = charlmFlag(v.charlm);
const settings = { beam, lm, alpha: t.weight, beta: t.bonus, lexicon: null, pronounce: w, pronouncer, candidates: k, charlm, charlmWeight: cw };
const table = await candidateTable(frame, views, phonemes ? heard : null, alphabet, settings), { cands } = table;
const at = cands.map((c, u) => bestCandidate(table, u, w, cw));
// Without --speeds or rescoring, evaluate keeps the beam's own best, as here.
const picks = cands.map((c, u) => (!views && w === 0 && cw === 0 ? c[0] : c[at[u]])?.text ?? '');
const chars = refs.reduce((s, r) => s + [...r].length, 0);
const pct = (n) => `${(100 * n / refs.length).toFixed(2)}%`;
console.log(`${refs.length} utterances of ${v.data}, ${models.length} model(s), beam ${beam}, ${k} candidates ranked again (weight ${t.weight}, bonus ${t.bonus}, pronunciation ${w}, charlm ${cw})`);
for (const top of [...new Set([1, 4, 16, k])].filter((x) => x <= k)) console.log(`  transcript among the ${top} best: ${pct(cands.filter((c, u) => c.slice(0, top).some((h) => h.text === refs[u])).length)}`);
const closest = cands.map((c, u) => c.map((h) => h.text).reduce((a, b) => (errorRates([refs[u]], [b]).cer < errorRates([refs[u]], [a]).cer ? b : a), c[0]?.text ?? ''));
const oracle = errorRates(refs, closest), result = errorRates(refs, picks);
console.log(`  oracle (the closest candidate): CER ${percent(oracle.cer)} WER ${percent(oracle.wer)}`);
console.log(`  ranked (evaluate's beam+lm): CER ${percent(result.cer)} WER ${percent(result.wer)}`);
const kinds = new Map();
refs.forEach((ref, u) => {
  if (picks[u] === ref) return;
  const edits = errorRates([ref], [picks[u]]).cer * [...ref].length;
  let kind = 'transcript not among the candidates';
  if (cands[u].some((h) => h.text === ref)) {
    if (!phonemes) kind = 'among them, outranked';
    else {
      const d = table.pron[u][cands[u].findIndex((h) => h.text === ref)] - table.pron[u][cands[u].findIndex((h) => h.text === picks[u])];
      kind = Math.abs(d) < 0.5 ? 'among them, outranked by one that sounds the same' : d < 0 ? 'among them, outranked by one that sounds better' : 'among them, outranked by one that sounds worse';
    }
  }
  const e = kinds.get(kind) ?? { n: 0, edits: 0 };
  e.n++; e.edits += edits;
  kinds.set(kind, e);
});
for (const [kind, e] of kinds) console.log(`  ${kind}: ${e.n} utterances (${pct(e.n)}), ${(100 * e.edits / chars).toFixed(2)} points of CER`);
process.exit(0);
