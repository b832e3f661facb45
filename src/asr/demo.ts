import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { Progress } from '../train/progress.js';
import type { SubCommand } from '../cli/apps/registry.js';
import { UserError } from '../cli/errors.js';
import { intFlag, parseFlags, userErrors } from '../cli/commands/shared.js';
import { alignmentSvg } from './alignPlot.js';
import { beamDecode, greedyDecode, Lexicon, type Posteriors } from './decode.js';
import { beamDecodeAll } from './beamThreads.js';
import { featuresOf } from './features.js';
import { makeHandwritingData } from './handwritingData.js';
import { CharNgramLM } from './lm.js';
import { errorRates, percent } from './metrics.js';
import { makeSpeechData } from './speechData.js';
import { loadCmudict } from '../data/cmudict.js';
import { runModel } from './task.js';
import { tuneLm } from './tuneLm.js';
import { CANDIDATES, loadForModel, scoreDecoders, scoreLines, trainCtc, type CtcTrainConfig } from './app.js';
import { readManifest } from './manifest.js';

/** What one demo renders and trains: full size, and --quick (the tests' seconds-long run). */
interface DemoPlan {
  name: string;
  /** The model directory under --out. */
  dir: string;
  make(out: string, count: number, seed: number, log: (l: string) => void): Promise<unknown>;
  count: number;
  train: Partial<CtcTrainConfig>;
  quick: { count: number; train: Partial<CtcTrainConfig> };
  /** A closed vocabulary also scored on its own line (beam + LM held to these words). */
  lexicon?: { what: string; words(): string[] };
}

const PLANS: Record<string, DemoPlan> = {
  'speech-digits': {
    name: 'connected digits (espeak-ng voices, TIDIGITS style)', dir: 'speech-digits', count: 2000,
    make: (out, count, seed, log) => makeSpeechData({ kind: 'digits', out, count, seed, log }),
    // Wider, longer and regularized (the test voices are unheard): README measures beam WER 1.88%
    // with these, 4.88% with 2 x 64 for 10 epochs, which overfit the training voices.
    train: { hidden: 96, layers: 2, subsample: 3, dropout: 0.3, specaugment: true, epochs: 20, batchSize: 16, lr: 0.004 },
    quick: { count: 30, train: { hidden: 8, layers: 1, subsample: 3, epochs: 1, batchSize: 8 } },
  },
  'speech-words': {
    name: 'CMUdict words (espeak-ng voices, words unseen in training)', dir: 'speech-words', count: 4000,
    make: (out, count, seed, log) => makeSpeechData({ kind: 'words', out, count, seed, log }),
    // README's best words row (beam + LM CER 34.84%): on 4,000 words a 2 x 96 model underfit
    // (41.26%), on 2,000 words it overfit (39.61%).
    train: { hidden: 128, layers: 3, subsample: 3, dropout: 0.2, specaugment: true, epochs: 20, batchSize: 16, lr: 0.004 },
    quick: { count: 30, train: { hidden: 8, layers: 1, subsample: 3, epochs: 1, batchSize: 8 } },
    // Isolated-word recognition with the vocabulary known: every word of the dictionary (the
    // test words among them), so not the open-vocabulary result.
    lexicon: { what: 'closed vocabulary: every CMUdict word, the test words included', words: () => [...loadCmudict().keys()].map((w) => w.toLowerCase()) },
  },
  handwriting: {
    name: 'online handwriting (cursive Hershey fonts, writers unseen in training)', dir: 'handwriting', count: 3000,
    make: (out, count, seed, log) => Promise.resolve(makeHandwritingData({ out, count, seed, writers: count < 300 ? 30 : 60, log })),
    train: { hidden: 96, layers: 2, subsample: 2, epochs: 6, batchSize: 16, lr: 0.004 },
    quick: { count: 30, train: { hidden: 8, layers: 1, subsample: 2, epochs: 1, batchSize: 8 } },
  },
};

const help = (what: string, plan: string) => `Usage: carousel demo ${what} [--out DIR] [--quick] [--epochs N] [--count N] [--seed N]${what === 'speech' ? ' [--words]' : ''}

Makes the data (${what === 'speech' ? 'espeak-ng speaking digit strings, or with --words CMUdict words' : 'cursive Hershey-font handwriting by random writers'}),
trains a BiLSTM-CTC recognizer on it, trains a character 5-gram LM on the training text, tunes the
LM weight and insertion bonus on the validation set, and reports on the test set (voices or
writers never seen in training) one line per decoder: greedy, beam, beam+lm (CER and WER).
Writes the model to DIR/${plan} (with lm.json and alignment.svg: the per-frame label
probabilities over the ${what === 'speech' ? 'spectrogram' : 'pen trace'} of a test utterance) and the data to DIR/data/.

Options:
  --out DIR      where everything goes (default carousel-demo)
  --quick        a tiny run (seconds; for tests: the numbers mean nothing)
  --epochs N     training epochs (default: the demo's)
  --count N      utterances rendered over all splits (default: the demo's)
  --seed N       random seed of the data and the training (default 1)${what === 'speech' ? '\n  --words        CMUdict words instead of digits (model in DIR/speech-words)' : ''}
  -h, --help     this help`;

function demoCommand(what: 'speech' | 'handwriting'): SubCommand {
  return {
    name: what,
    summary: what === 'speech' ? 'speech recognition: espeak-ng digits (or --words), BiLSTM-CTC, beam search + LM' : 'online handwriting recognition: Hershey cursive, BiLSTM-CTC, beam search + LM',
    async run(argv) {
      const { values: v } = parseFlags(`demo ${what}`, argv, {
        out: { type: 'string' }, quick: { type: 'boolean' }, epochs: { type: 'string' }, count: { type: 'string' }, seed: { type: 'string' },
        ...(what === 'speech' ? { words: { type: 'boolean' } } : {}), help: { type: 'boolean', short: 'h' },
      } as const);
      const key = what === 'handwriting' ? 'handwriting' : (v as { words?: boolean }).words ? 'speech-words' : 'speech-digits';
      if (v.help) { console.log(help(what, PLANS[key].dir)); return 0; }
      return userErrors(() => runDemo(PLANS[key], {
        out: resolve(v.out ?? 'carousel-demo'), quick: Boolean(v.quick), seed: intFlag('seed', v.seed, 1, 0),
        epochs: v.epochs === undefined ? undefined : intFlag('epochs', v.epochs, 1), count: v.count === undefined ? undefined : intFlag('count', v.count, 1, 30),
      }));
    },
  };
}

export const speechDemo = demoCommand('speech');
export const handwritingDemo = demoCommand('handwriting');

/** Lines of a manifest, or 0 when there is none. */
function manifestSize(path: string): number {
  try { return readManifest(path).length; } catch { return 0; }
}

async function runDemo(plan: DemoPlan, o: { out: string; quick: boolean; seed: number; epochs?: number; count?: number }): Promise<number> {
  const t0 = Date.now();
  const count = o.count ?? (o.quick ? plan.quick.count : plan.count);
  const dataDir = join(o.out, 'data', `${plan.dir}${o.quick ? '-quick' : ''}-${count}-seed${o.seed}`);
  const modelDir = join(o.out, plan.dir);
  const log = (l: string) => console.error(l);
  console.log(`demo: ${plan.name}`);
  // The data: reused when a previous run made the same set (all three manifests present).
  if (['train', 'val', 'test'].every((s) => manifestSize(join(dataDir, `${s}.jsonl`)) > 0)) log(`data: reusing ${dataDir}`);
  else {
    log(`data: rendering ${count} utterances into ${dataDir}`);
    await plan.make(dataDir, count, o.seed, log);
  }
  const dataSeconds = (Date.now() - t0) / 1000;
  // The language model: the training split's text.
  const lm = CharNgramLM.train(readFileSync(join(dataDir, 'lm-text.txt'), 'utf8').split('\n'), 5);
  const base = o.quick ? plan.quick.train : plan.train;
  const config: CtcTrainConfig = {
    data: join(dataDir, 'train.jsonl'), val: join(dataDir, 'val.jsonl'), dataHash: '', out: modelDir, melBins: 40, hidden: 96, layers: 2, proj: 0,
    subsample: 0, dropout: 0, specaugment: false, stretch: 0, warp: 0, phonemeLayer: 0, phonemeWeight: 0.5, epochs: 10, batchSize: 16, lr: 0.004, clip: 5, schedule: 'cosine', patience: 0, seed: o.seed, checkpointEvery: 0,
    ...base, ...(o.epochs ? { epochs: o.epochs } : {}),
  };
  const r = await trainCtc(config, { progress: new Progress(process.stderr) });
  const model = r.model;
  // LM weight and bonus: the best pair on the validation set (CER, then WER).
  // (At most 100 validation utterances and a 3 x 3 grid: each point decodes them all.)
  const val = loadForModel(model, config.val!, log, undefined, 100);
  const grid = o.quick ? { orders: [5], weights: [0.5], bonuses: [1] } : { orders: [5], weights: [0.3, 0.6, 1.0], bonuses: [0, 1, 2] };
  const valPost = (await runModel(model, val)).posteriors;
  const { best } = await tuneLm(val.map((u) => u.text), () => lm, grid, async (m, alpha, beta) => {
    const hyps = (await beamDecodeAll(valPost, model.alphabet, { beamWidth: 16, lm: m, alpha, beta })).map((h) => h[0].text);
    return () => hyps;
  });
  const tuned = lm.withTuning(best.weight, best.bonus);
  tuned.save(join(modelDir, 'lm.json'));
  log(`LM: 5-gram on the training text; weight ${best.weight}, bonus ${best.bonus} (best on validation) -> ${join(modelDir, 'lm.json')}`);
  // The test set: voices or writers never heard or seen in training.
  const testPath = join(dataDir, 'test.jsonl');
  const test = loadForModel(model, testPath, log);
  const testPost = (await runModel(model, test)).posteriors;
  const { scores } = await scoreDecoders(testPost, test.map((u) => u.text), model.alphabet, { beam: 16, lm: tuned, alpha: best.weight, beta: best.bonus, lexicon: null, pronounce: 0, pronouncer: null, candidates: CANDIDATES });
  // The alignment plot of the first test utterance.
  const entry = readManifest(testPath)[0];
  const svg = alignmentSvg({
    kind: model.config.kind, features: featuresOf(entry, { kind: model.config.kind, melBins: model.config.melBins }), posteriors: testPost[0] as Posteriors,
    alphabet: model.alphabet, subsample: model.config.subsample,
    title: `"${test[0].text}" -> greedy "${greedyDecode(testPost[0], model.alphabet)}", beam+lm "${beamDecode(testPost[0], model.alphabet, { lm: tuned, alpha: best.weight, beta: best.bonus })[0].text}"`,
  });
  writeFileAtomic(join(modelDir, 'alignment.svg'), svg);
  const total = (Date.now() - t0) / 1000;
  console.log(`test set: ${test.length} utterances (${plan.dir === 'handwriting' ? 'writers' : 'voices'} not in training); trained ${r.result.history.length} epochs on ${r.model.config.kind} in ${r.seconds.toFixed(0)} s, data ${dataSeconds.toFixed(0)} s, all ${total.toFixed(0)} s`);
  for (const line of scoreLines(scores)) console.log(line);
  if (plan.lexicon) {
    const words = plan.lexicon.words();
    const lexicon = new Lexicon(words);
    writeFileAtomic(join(modelDir, 'lexicon.txt'), words.join('\n') + '\n');
    const hyps = (await beamDecodeAll(testPost, model.alphabet, { beamWidth: 16, lm: tuned, alpha: best.weight, beta: best.bonus, lexicon })).map((h) => h[0].text);
    const e = errorRates(test.map((u) => u.text), hyps);
    console.log(`beam+lm+lexicon: CER ${percent(e.cer)} WER ${percent(e.wer)} (${plan.lexicon.what}: ${lexicon.size} words, ${join(modelDir, 'lexicon.txt')})`);
  }
  console.log(`model: ${modelDir} (lm.json, alignment.svg, loss.svg); try: carousel evaluate --model ${modelDir} --data ${testPath}`);
  if (!existsSync(join(modelDir, 'model.json'))) throw new UserError(`demo: no model was saved in ${modelDir}`);
  return 0;
}
