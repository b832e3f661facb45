import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { encodeWav16 } from '../src/audio/wav.js';
import { Rng } from '../src/tensor/random.js';
import { loadCtcModel, loadForModel } from '../src/asr/app.js';
import { errorRates, percent } from '../src/asr/metrics.js';
import { runModel, stretchFrames } from '../src/asr/task.js';
import { combinePosteriors } from '../src/asr/ensemble.js';
import { ctcLogLikelihood, rescoreDecode } from '../src/asr/rescore.js';
import { beamDecode } from '../src/asr/decode.js';
import { CharNgramLM } from '../src/asr/lm.js';
import { carousel, userError } from './util/cli.js';
import { loadCheckpoint } from '../src/io/checkpoint.js';
import { toneSamples, toyManifest } from './util/ctcToy.js';
import { CharLmScorer } from '../src/asr/charLmScore.js';
import { CharVocab } from '../src/data/text.js';
import { loadModel } from '../src/io/modelDir.js';
import { StreamingModel } from '../src/models/stream.js';

// End to end on the toy tones (test/util/ctcToy.ts): train, evaluate, transcribe, lm, and bad input.
describe('carousel train --task ctc / evaluate / transcribe / lm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctc-cli-'));
  const model = join(dir, 'model');
  let train = '', val = '';
  const small = ['--hidden', '24', '--layers', '1', '--subsample', '2', '--mel-bins', '20', '--batch-size', '8', '--lr', '0.02'];

  before(() => {
    train = toyManifest(dir, 'train', 80, 1);
    val = toyManifest(dir, 'val', 16, 2);
  });

  it('trains a recognizer that learns the tones (greedy CER far below an untrained one)', () => {
    const r = carousel(['train', '--task', 'ctc', '--data', train, '--val', val, '--out', model, ...small, '--epochs', '10']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /training a CTC BiLSTM \(\d+ parameters, 4 characters \+ blank\) on 80 audio utterances, validating on 16/);
    assert.match(r.out, /validation: loss [\d.]+, greedy CER [\d.]+% WER [\d.]+%/);
    const meta = JSON.parse(readFileSync(join(model, 'model.json'), 'utf8'));
    assert.equal(meta.app, 'ctc');
    assert.deepEqual(meta.config.alphabet, [' ', 'a', 'b', 'c']);
    assert.ok(existsSync(join(model, 'loss.svg')));
  });

  it('evaluate prints exactly one line per decoder, and the model has learned', () => {
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, Array.from({ length: 200 }, (_, i) => ['ab c', 'ca', 'bca ab', 'c'][i % 4]).join('\n'));
    const l = carousel(['lm', '--order', '3', '--data', corpus, '--out', join(dir, 'lm.json')]);
    assert.equal(l.code, 0, l.err);
    assert.match(l.out, /saved a 3-gram character LM \(4 characters, \d+ n-grams\)/);
    const r = carousel(['evaluate', '--model', model, '--data', val, '--lm', join(dir, 'lm.json'), '--beam', '8']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 3);
    lines.forEach((line, i) => assert.match(line, new RegExp(`^${['greedy', 'beam', 'beam\\+lm'][i]}: CER \\d+\\.\\d\\d% WER \\d+\\.\\d\\d%$`)));
    const cer = Number(/CER ([\d.]+)%/.exec(lines[0])![1]);
    assert.ok(cer < 35, `greedy CER ${cer}% (an untrained model: about 100%)`);
    // Without an LM: two lines.
    const r2 = carousel(['evaluate', '--model', model, '--data', val]);
    assert.deepEqual(r2.out.trim().split('\n').map((s) => s.split(':')[0]), ['greedy', 'beam']);
  });

  it('transcribes a recording, also a stereo 8 kHz one (converted, and said so)', () => {
    const rng = new Rng(9);
    const mono = toneSamples('ab', rng);
    // 8 kHz stereo: every second sample, twice.
    const half = mono.filter((_, i) => i % 2 === 0);
    const bytes = encodeWav16(Float32Array.from({ length: half.length * 2 }, (_, i) => half[i >> 1]), 8000);
    const v = new DataView(bytes.buffer);
    v.setUint16(22, 2, true); v.setUint32(28, 8000 * 4, true); v.setUint16(32, 4, true); // 2 channels, byte rate, block align
    writeFileSync(join(dir, 'stereo.wav'), bytes);
    const r = carousel(['transcribe', '--model', model, join(dir, 'stereo.wav'), join(dir, 'val', '0.wav')]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /2 channels, mixed down to mono/);
    assert.match(r.err, /8000 Hz, resampled to 16000 Hz/);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line, /\.wav\t[abc ]*$/);
  });

  it('refuses transcripts with characters outside the alphabet, naming the line and the characters', () => {
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, `{"audio": "val/0.wav", "text": "ab"}\n{"audio": "val/1.wav", "text": "a9d"}\n`);
    userError(carousel(['evaluate', '--model', model, '--data', bad]), /bad\.jsonl:2: characters "9", "d" outside the model's alphabet/);
  });

  it('refuses an empty or unreadable recording, naming the manifest line and the file', () => {
    writeFileSync(join(dir, 'empty.wav'), encodeWav16(new Float32Array(0), 16000));
    writeFileSync(join(dir, 'junk.wav'), 'not a wav');
    writeFileSync(join(dir, 'e.jsonl'), '{"audio": "empty.wav", "text": "a"}\n');
    writeFileSync(join(dir, 'j.jsonl'), '{"audio": "val/0.wav", "text": "a"}\n{"audio": "junk.wav", "text": "a"}\n');
    userError(carousel(['evaluate', '--model', model, '--data', join(dir, 'e.jsonl')]), /e\.jsonl:1: .*empty\.wav/);
    userError(carousel(['evaluate', '--model', model, '--data', join(dir, 'j.jsonl')]), /j\.jsonl:2: .*junk\.wav/);
  });

  it('skips utterances too short for their transcripts, with a count, and trains on the rest (no NaN)', () => {
    // One 0.25 s recording with a 12-character transcript: about 12 frames after subsampling, 21 needed (12 + 9 blanks between repeats).
    const rng = new Rng(4);
    writeFileSync(join(dir, 'short.wav'), encodeWav16(toneSamples('a', rng).slice(0, 4000), 16000));
    const rows = readFileSync(train, 'utf8').trim().split('\n').slice(0, 16);
    rows.push(JSON.stringify({ audio: 'short.wav', text: 'aaaaaa bbbbb' }));
    writeFileSync(join(dir, 'mixed.jsonl'), rows.join('\n') + '\n');
    const r = carousel(['train', '--task', 'ctc', '--data', join(dir, 'mixed.jsonl'), '--out', join(dir, 'm2'), ...small, '--epochs', '1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /skipped 1 of 17 training utterances too short for their transcripts under CTC \(.*mixed\.jsonl:17: \d+ frames after subsampling by 2, "aaaaaa bbbbb" needs 21\)/);
    assert.match(r.err, /on 16 audio utterances/);
    assert.doesNotMatch(r.err + r.out, /NaN/);
  });

  it('resumes from the checkpoint, and refuses to change the settings on resume', () => {
    const r = carousel(['train', '--task', 'ctc', '--out', join(dir, 'm2'), '--resume', '--epochs', '2']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /resuming a CTC BiLSTM/);
    assert.match(r.err, /epoch 2\/2/);
    userError(carousel(['train', '--task', 'ctc', '--out', join(dir, 'm2'), '--resume', '--hidden', '8']), /--resume .* cannot change --hidden/);
  });

  it('combines models: evaluate with two --model decodes their averaged log-probabilities', async () => {
    // The two recognizers above (10 epochs, and 2 on 16 utterances), combined by hand here.
    const models = [model, join(dir, 'm2')].map((d) => loadCtcModel(d));
    const perModel = await Promise.all(models.map(async (m) => (await runModel(m, loadForModel(m, val))).posteriors));
    const refs = loadForModel(models[0], val).map((u) => u.text);
    const hyps = perModel[0].map((p, u) => {
      let out = '', prev = -1; // best path of the summed log-probabilities (the normalising constant does not move an argmax)
      for (let t = 0; t < p.T; t++) {
        let best = 0, bestScore = -Infinity;
        for (let c = 0; c < p.C; c++) { const s = perModel[0][u].data[t * p.C + c] + perModel[1][u].data[t * p.C + c]; if (s > bestScore) { best = c; bestScore = s; } }
        if (best !== 0 && best !== prev) out += models[0].alphabet.decode([best]);
        prev = best;
      }
      return out;
    });
    const e = errorRates(refs, hyps);
    const r = carousel(['evaluate', '--model', model, '--model', join(dir, 'm2'), '--data', val]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim().split('\n')[0], `greedy: CER ${percent(e.cer)} WER ${percent(e.wer)}`);
    const single = carousel(['evaluate', '--model', join(dir, 'm2'), '--data', val]);
    assert.notEqual(single.out.split('\n')[0], r.out.split('\n')[0], 'the second model alone scores otherwise (else this test shows nothing)');
    const t = carousel(['transcribe', '--model', model, '--model', join(dir, 'm2'), '--greedy', join(dir, 'val', '0.wav')]);
    assert.equal(t.code, 0, t.err);
    assert.equal(t.out.trim(), hyps[0]);
    // Models over other frame rates cannot be combined.
    const m3 = join(dir, 'm3');
    assert.equal(carousel(['train', '--task', 'ctc', '--data', join(dir, 'mixed.jsonl'), '--out', m3, ...small.slice(0, 4), '--subsample', '3', ...small.slice(6), '--epochs', '1']).code, 0);
    userError(carousel(['evaluate', '--model', model, '--model', m3, '--data', val]), /--model .*m3 cannot be combined with .*model: .*model stacks input frames by 2, .*m3 3; combined models must share the input kind, --subsample and alphabet/);
  });

  it('lm --tune keeps the order, weight and bonus whose beam + LM decoding of the held-out set has the lowest CER', async () => {
    const corpus = join(dir, 'corpus.txt'), out = join(dir, 'tuned-lm.json');
    const r = carousel(['lm', '--data', corpus, '--out', out, '--order', '2,3', '--tune', val, '--model', model, '--tune-count', '12', '--beam', '4']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^order 2: best weight [\d.]+ bonus [\d.]+: CER [\d.]+% WER [\d.]+%\norder 3: /);
    assert.match(r.out, /tuned on the first 12 utterances of .*val\.jsonl \(1 model, 32 settings\)/);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    // Every point decoded here, by beamDecode and the LMs themselves: the file holds the first of the lowest CER (then WER).
    const m = loadCtcModel(model), utts = loadForModel(m, val).slice(0, 12), post = (await runModel(m, utts)).posteriors;
    const lines = readFileSync(corpus, 'utf8').split('\n');
    let best = { order: 0, weight: 0, bonus: 0, cer: Infinity, wer: Infinity };
    const cers = new Set<number>();
    for (const order of [2, 3]) {
      const lm = CharNgramLM.train(lines, order);
      for (const weight of [0.3, 0.6, 0.8, 1]) for (const bonus of [0, 0.5, 1, 2]) {
        const e = errorRates(utts.map((u) => u.text), post.map((p) => beamDecode(p, m.alphabet, { beamWidth: 4, lm, alpha: weight, beta: bonus })[0].text));
        cers.add(e.cer);
        if (e.cer < best.cer || (e.cer === best.cer && e.wer < best.wer)) best = { order, weight, bonus, cer: e.cer, wer: e.wer };
      }
    }
    assert.ok(cers.size > 1, 'the grid points decode differently (else the choice shows nothing)');
    assert.equal(saved.order, best.order);
    assert.deepEqual(saved.tuned, { weight: best.weight, bonus: best.bonus });
    assert.match(r.out, new RegExp(`order ${best.order}, weight ${best.weight}, bonus ${best.bonus}\\n`));
    userError(carousel(['lm', '--data', corpus, '--out', out, '--order', '3,5']), /--order: a list \(3,5\) is for choosing among orders with --tune/);
    userError(carousel(['lm', '--data', corpus, '--out', out, '--model', model]), /--model is for tuning: give --tune VAL\.jsonl too/);
    userError(carousel(['lm', '--data', corpus, '--out', out, '--tune', val, '--model', model, '--weight', '1']), /--tune chooses the weight and bonus/);
    userError(carousel(['lm', '--data', corpus, '--out', out, '--tune', val]), /--model/);
  });

  it('evaluate and transcribe --speeds: beam + LM candidates ranked by every model at every speed', async () => {
    const models = [model, join(dir, 'm2')].map((d) => loadCtcModel(d));
    const lm = CharNgramLM.load(join(dir, 'lm.json')), speeds = [0.8, 1, 1.25];
    // By hand: each model at each speed (frames resampled as --stretch does), the frame-level combination at speed 1.
    const perModel = await Promise.all(models.map(async (m) => {
      const utts = loadForModel(m, val), c = m.config;
      return Promise.all(speeds.map(async (s) => (await runModel(m, s === 1 ? utts : utts.map((u) => ({ ...u, ...stretchFrames(u.x, u.steps, c.inputDim, c.subsample, s) })))).posteriors));
    }));
    const refs = loadForModel(models[0], val).map((u) => u.text);
    const frame = combinePosteriors([perModel[0][1], perModel[1][1]]);
    const o = { beamWidth: 8, lm, alpha: 0.5, beta: 1 };
    const hyps = frame.map((p, u) => rescoreDecode(p, perModel.flatMap((ps) => ps.map((v) => v[u])), models[0].alphabet, o)[0].text);
    const e = errorRates(refs, hyps);
    const r = carousel(['evaluate', '--model', model, '--model', join(dir, 'm2'), '--data', val, '--lm', join(dir, 'lm.json'), '--lm-weight', '0.5', '--bonus', '1', '--beam', '8', '--speeds', '0.8,1,1.25']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim().split('\n')[2], `beam+lm: CER ${percent(e.cer)} WER ${percent(e.wer)}`);
    assert.ok(hyps.some((h, u) => h !== beamDecode(frame[u], models[0].alphabet, o)[0].text), 'the speeds change some transcript (else this test shows nothing)');
    const t = carousel(['transcribe', '--model', model, '--model', join(dir, 'm2'), '--lm', join(dir, 'lm.json'), '--lm-weight', '0.5', '--bonus', '1', '--beam', '8', '--speeds', '0.8,1,1.25', join(dir, 'val', '0.wav')]);
    assert.equal(t.code, 0, t.err);
    assert.equal(t.out.trim(), hyps[0]);
    userError(carousel(['evaluate', '--model', model, '--data', val, '--speeds', '1,3']), /--speeds: expected speeds in \[0\.5, 2\] separated by commas \(0\.9,1,1\.1\), got '1,3'/);
    userError(carousel(['evaluate', '--model', model, '--data', val, '--speeds', '1']), /--speeds ranks beam\+lm's candidates: give --lm too/);
    userError(carousel(['transcribe', '--model', model, '--greedy', '--speeds', '1', join(dir, 'val', '0.wav')]), /--speeds ranks the LM beam's candidates/);
  });

  it('train --warp: the spectra warped in training (another run than without), kept on resume; refused for pen strokes', () => {
    const args = (out: string, extra: string[]) => ['train', '--task', 'ctc', '--data', train, '--val', val, '--out', join(dir, out), ...small, '--epochs', '2', ...extra];
    const plain = carousel(args('nowarp', [])), warped = carousel(args('warp', ['--warp', '0.1']));
    assert.equal(plain.code, 0, plain.err);
    assert.equal(warped.code, 0, warped.err);
    const loss = (out: string) => out.match(/validation: loss ([\d.]+)/)![1];
    assert.notEqual(loss(warped.out), loss(plain.out), 'the same seed, so only the warping tells them apart');
    assert.equal((loadCheckpoint(join(dir, 'warp', 'checkpoint.safetensors')).meta.config as { warp: number }).warp, 0.1);
    const resumed = carousel(['train', '--task', 'ctc', '--out', join(dir, 'warp'), '--resume', '--epochs', '3']);
    assert.equal(resumed.code, 0, resumed.err);
    assert.equal((loadCheckpoint(join(dir, 'warp', 'checkpoint.safetensors')).meta.config as { warp: number }).warp, 0.1);
    userError(carousel(args('x', ['--warp', '0.4'])), /--warp/);
    // Pen strokes have no spectrum to warp.
    writeFileSync(join(dir, 'pen.json'), JSON.stringify([[[0, 0], [1, 1], [2, 0]], [[3, 0], [3, 2]]]));
    writeFileSync(join(dir, 'pen.jsonl'), `${JSON.stringify({ strokes: 'pen.json', text: 'a' })}\n`);
    userError(carousel(['train', '--task', 'ctc', '--data', join(dir, 'pen.jsonl'), '--out', join(dir, 'pen'), '--warp', '0.1']), /--warp: warps the spectrum of audio; .*pen\.jsonl holds pen strokes/);
  });

  it('bad flags and files get one-line errors', () => {
    userError(carousel(['train', '--task', 'ctc', '--data', train, '--out', join(dir, 'x'), '--proj', '30', '--hidden', '24']), /--proj: expected a projection smaller than --hidden \(24\), got 30/);
    userError(carousel(['lm', '--data', join(dir, 'nope.txt'), '--out', join(dir, 'l.json')]), /corpus .*nope\.txt: no such file/);
    userError(carousel(['transcribe', '--model', model, join(dir, 'x.mp3')]), /x\.mp3: expected a \.wav \(audio\) or \.json \(pen strokes\) file, got '\.mp3'/);
    userError(carousel(['evaluate', '--model', model, '--data', val, '--lm', join(dir, 'corpus.txt')]), /corpus\.txt: not JSON/);
  });

  it('train --phoneme-layer: hierarchical CTC over the manifest\'s "phonemes", saved, decoded from the characters; refusals', () => {
    // The toy's sounds as tokens: a tone each (named for its pitch), '|' between words.
    const sounds: Record<string, string> = { a: 'lo', b: 'mid', c: 'hi', ' ': '|' };
    const withPhonemes = (m: string) => {
      const out = m.replace(/\.jsonl$/, '-ph.jsonl');
      writeFileSync(out, readFileSync(m, 'utf8').trim().split('\n').map((l) => { const r = JSON.parse(l); return JSON.stringify({ ...r, phonemes: [...r.text].map((c) => sounds[c]).join(' ') }); }).join('\n') + '\n');
      return out;
    };
    const trainPh = withPhonemes(train), out = join(dir, 'phon');
    const r = carousel(['train', '--task', 'ctc', '--data', trainPh, '--val', val, '--out', out, ...small, '--layers', '2', '--phoneme-layer', '1', '--phoneme-weight', '0.3', '--epochs', '10']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /training a CTC BiLSTM \(\d+ parameters, 4 characters \+ blank; 4 phonemes \+ blank after layer 1, weight 0\.3\) on 80 audio utterances/);
    const meta = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    assert.deepEqual([meta.config.phonemes, meta.config.phonemeLayer], [['hi', 'lo', 'mid', '|'], 1]);
    const m = loadCtcModel(out);
    assert.deepEqual(m.namedParameters().map(([n]) => n).filter((n) => /^(upper|phon)\./.test(n) && !n.includes('reverse')), ['upper.weight_ih_l0', 'upper.weight_hh_l0', 'upper.bias_ih_l0', 'upper.bias_hh_l0', 'phon.weight', 'phon.bias']);
    const e = carousel(['evaluate', '--model', out, '--data', val]);
    assert.equal(e.code, 0, e.err);
    assert.ok(Number(/beam: CER ([\d.]+)%/.exec(e.out)![1]) < 40, `${e.out} (an untrained model: about 100%)`);
    userError(carousel(['train', '--task', 'ctc', '--data', train, '--out', join(dir, 'y'), ...small, '--phoneme-layer', '1']), /--phoneme-layer: .*train\.jsonl:1 has no "phonemes"; every training line needs its sound tokens/);
    userError(carousel(['train', '--task', 'ctc', '--data', trainPh, '--out', join(dir, 'y'), ...small, '--phoneme-layer', '2']), /--phoneme-layer: expected a layer in 1\.\.1 \(--layers\), got 2/);
    userError(carousel(['train', '--task', 'ctc', '--data', trainPh, '--out', join(dir, 'y'), ...small, '--phoneme-weight', '1']), /--phoneme-weight: given without --phoneme-layer K/);
  });

  it('evaluate, transcribe and lm --tune --pronounce: beam + LM candidates ranked again by how their pronunciation sounds to the phoneme output', async () => {
    // A stand-in for espeak-ng (CAROUSEL_ESPEAK, same flags and stdin): accent "toy" says each letter as
    // its tone, as the phoneme output was trained; accent "odd" says 'a' as 'hi', so it favours misspellings.
    const tones: Record<string, Record<string, string>> = { toy: { a: 'lo', b: 'mid', c: 'hi' }, odd: { a: 'hi', b: 'mid', c: 'hi' } };
    const say = (text: string, accent: string) => text.trim().split(/ +/).map((w) => [...w].map((c) => tones[accent][c]).join(' ')).join(' | ');
    const fake = join(dir, 'fake-espeak.mjs');
    writeFileSync(fake, `#!${process.execPath}\nimport { readFileSync } from 'node:fs';\nconst tones = ${JSON.stringify(tones)};\n`
      + `const voice = tones[process.argv[process.argv.indexOf('-v') + 1]];\n`
      + `process.stdout.write(readFileSync(0, 'utf8').split('\\n').slice(0, -1).map((l) => l.trim().split(/ +/).map((w) => [...w].map((c) => voice[c]).join(' ')).join('  ') + '\\n').join(''));\n`);
    chmodSync(fake, 0o755);
    const env = { CAROUSEL_ESPEAK: fake }, phon = join(dir, 'phon'), lmFile = join(dir, 'lm.json');
    // By hand: the beam's 16 best, each scored by its exact CTC probability, LM, bonus and W times the best
    // accent's exact CTC probability of its phonemes under the phoneme output.
    const m = loadCtcModel(phon), utts = loadForModel(m, val), run = await runModel(m, utts, 32, false, true);
    const lm = CharNgramLM.load(lmFile), refs = utts.map((u) => u.text);
    const decode = (accents: string[], w: number, alpha = 0.5, beta = 1, k = 16) => run.posteriors.map((p, u) => {
      const o = { beamWidth: 8, lm, alpha, beta };
      const cands = beamDecode(p, m.alphabet, { ...o, topK: k });
      if (w === 0) return cands[0].text;
      const score = (t: string) => ctcLogLikelihood(p, m.alphabet.encode(t)) + alpha * lm.sentenceLogProb(t) + beta * t.length
        + w * Math.max(...accents.map((a) => ctcLogLikelihood(run.phonemes![u], m.phonemes!.encode(say(t, a)))));
      return cands.map((h) => h.text).reduce((x, y) => (score(y) > score(x) ? y : x));
    });
    const line = (hyps: string[]) => { const e = errorRates(refs, hyps); return `beam+lm: CER ${percent(e.cer)} WER ${percent(e.wer)}`; };
    const flags = ['--model', phon, '--lm', lmFile, '--lm-weight', '0.5', '--bonus', '1', '--beam', '8'];
    for (const accents of [['toy', 'odd'], ['odd']]) {
      const r = carousel(['evaluate', ...flags, '--data', val, '--pronounce', '2', '--accents', accents.join(',')], env);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.trim().split('\n')[2], line(decode(accents, 2)));
    }
    assert.notDeepEqual(decode(['odd'], 2), decode(['odd'], 0), 'the odd accent changes some transcript (else this test shows nothing)');
    // --candidates K: only the beam's K best are ranked again; K = 1 leaves the beam's choice.
    for (const [k, want] of [[1, decode(['odd'], 0)], [3, decode(['odd'], 2, 0.5, 1, 3)]] as const) {
      const r = carousel(['evaluate', ...flags, '--data', val, '--pronounce', '2', '--accents', 'odd', '--candidates', String(k)], env);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out.trim().split('\n')[2], line(want));
    }
    assert.notEqual(line(decode(['odd'], 2, 0.5, 1, 3)), line(decode(['odd'], 2)), 'ranking 3 candidates differs from ranking all 8 here (else this test shows nothing)');
    const t = carousel(['transcribe', ...flags, '--pronounce', '2', '--accents', 'odd', join(dir, 'val', '0.wav'), join(dir, 'val', '1.wav')], env);
    assert.equal(t.code, 0, t.err);
    assert.deepEqual(t.out.trim().split('\n'), decode(['odd'], 2).slice(0, 2).map((h, i) => `${join(dir, 'val', `${i}.wav`)}\t${h}`));

    // lm --tune --pronounce: the first grid point of the lowest CER (then WER), its pronunciation weight saved.
    const corpus = join(dir, 'corpus.txt'), tuned = join(dir, 'pron-lm.json');
    const r = carousel(['lm', '--data', corpus, '--out', tuned, '--order', '3', '--tune', val, '--model', phon, '--beam', '8', '--pronounce', '0,2', '--accents', 'odd'], env);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^order 3: best weight [\d.]+ bonus [\d.]+ pronounce [\d.]+: CER [\d.]+% WER [\d.]+%\npronounce 0: best order 3 weight [\d.]+ bonus [\d.]+: CER .*\npronounce 2: best order 3 /);
    const lm3 = CharNgramLM.train(readFileSync(corpus, 'utf8').split('\n'), 3);
    let best = { weight: 0, bonus: 0, pronounce: 0, cer: Infinity, wer: Infinity };
    for (const weight of [0.3, 0.6, 0.8, 1]) for (const bonus of [0, 0.5, 1, 2]) for (const pronounce of [0, 2]) {
      const hyps = run.posteriors.map((p, u) => {
        const cands = beamDecode(p, m.alphabet, { beamWidth: 8, lm: lm3, alpha: weight, beta: bonus, topK: 16 });
        if (pronounce === 0) return cands[0].text;
        const score = (x: string) => ctcLogLikelihood(p, m.alphabet.encode(x)) + weight * lm3.sentenceLogProb(x) + bonus * x.length + pronounce * ctcLogLikelihood(run.phonemes![u], m.phonemes!.encode(say(x, 'odd')));
        return cands.map((h) => h.text).reduce((x, y) => (score(y) > score(x) ? y : x));
      });
      const e = errorRates(refs, hyps);
      if (e.cer < best.cer || (e.cer === best.cer && e.wer < best.wer)) best = { weight, bonus, pronounce, cer: e.cer, wer: e.wer };
    }
    assert.deepEqual(JSON.parse(readFileSync(tuned, 'utf8')).tuned, { weight: best.weight, bonus: best.bonus, pronounce: best.pronounce });
    // evaluate takes lm.json's tuned pronunciation weight; a model without phonemes says it cannot use it.
    const withWeight = join(dir, 'pron2-lm.json');
    CharNgramLM.load(lmFile).withTuning(0.5, 1, 2).save(withWeight);
    const byTuned = carousel(['evaluate', '--model', phon, '--data', val, '--lm', withWeight, '--beam', '8', '--accents', 'odd'], env);
    assert.equal(byTuned.code, 0, byTuned.err);
    assert.equal(byTuned.out.trim().split('\n')[2], line(decode(['odd'], 2)));
    const plain = carousel(['evaluate', '--model', model, '--data', val, '--lm', withWeight, '--beam', '8'], env);
    assert.equal(plain.code, 0, plain.err);
    assert.match(plain.err, /pron2-lm\.json was tuned with pronunciation rescoring \(weight 2\), which needs a model with a phoneme output: decoding without it/);
    assert.equal(plain.out.trim().split('\n')[2], carousel(['evaluate', '--model', model, '--data', val, '--lm', lmFile, '--beam', '8']).out.trim().split('\n')[2]);

    userError(carousel(['evaluate', '--model', model, '--data', val, '--lm', lmFile, '--pronounce', '1'], env), /pronunciation rescoring reads a phoneme output: none of the models has one \(train --phoneme-layer\)/);
    userError(carousel(['evaluate', '--model', phon, '--data', val, '--pronounce', '1']), /--pronounce ranks beam\+lm's candidates: give --lm too/);
    userError(carousel(['evaluate', '--model', phon, '--data', val, '--lm', lmFile, '--pronounce', '1', '--accents', 'en us']), /--accents: expected espeak-ng voice names separated by commas \(en-us,en-gb\), got 'en us'/);
    userError(carousel(['evaluate', '--model', phon, '--data', val, '--lm', lmFile, '--accents', 'en-us']), /--accents is for pronunciation rescoring/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--tune', val, '--model', phon, '--pronounce', '0,x']), /--pronounce: expected weights >= 0 separated by commas \(0,0\.5,1\), got '0,x'/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--pronounce', '1']), /--pronounce is for tuning: give --tune VAL\.jsonl too/);
    userError(carousel(['transcribe', '--model', phon, '--lm', lmFile, '--greedy', '--pronounce', '1', join(dir, 'val', '0.wav')]), /--pronounce ranks the LM beam's candidates/);
    userError(carousel(['evaluate', ...flags, '--data', val, '--pronounce', '1', '--candidates', '9'], env), /--candidates: expected at most the beam width \(--beam 8\), which is all the beam keeps, got 9/);
    userError(carousel(['evaluate', ...flags, '--data', val, '--candidates', '4']), /--candidates is how many of beam\+lm's candidates --speeds, --pronounce or --charlm ranks again: give one of them too/);
    userError(carousel(['transcribe', ...flags, '--candidates', '4', join(dir, 'val', '0.wav')]), /--candidates is how many/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--tune', val, '--model', phon, '--candidates', '4']), /--candidates is how many/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--candidates', '4']), /--candidates is for tuning: give --tune VAL\.jsonl too/);
    userError(carousel(['evaluate', ...flags, '--data', val, '--pronounce', '1', '--accents', 'toy'], { CAROUSEL_ESPEAK: join(dir, 'no-such-espeak') }), /espeak-ng was not found/);
  });

  it('evaluate, transcribe and lm --tune --charlm: beam + LM candidates ranked again by an LSTM character LM', async () => {
    // An LSTM LM trained on lines that favour other spellings than the n-gram's corpus, so it changes choices.
    const lines = join(dir, 'charlm-corpus.txt'), clm = join(dir, 'clm');
    writeFileSync(lines, Array.from({ length: 300 }, (_, i) => ['cab', 'ba c', 'cc', 'a b'][i % 4]).join('\n') + '\n');
    const c = carousel(['train', '--task', 'charlm', '--data', lines, '--out', clm, '--hidden', '16', '--epochs', '3', '--bptt', '16', '--batch-size', '8', '--lr', '0.02']);
    assert.equal(c.code, 0, c.err);
    // The reference: the LM's step-by-step stream (another path than the scorer's batched pass), each
    // line's log-probability from a line end: every character, then the line end.
    const { model: net, meta } = loadModel(clm), vocab = new CharVocab(meta.charlm!.vocabulary, meta.charlm!.unknown ?? null);
    const stepwise = (text: string) => {
      const ids = vocab.encodeLenient(`\n${text}\n`).ids, stream = new StreamingModel(net);
      let sum = 0;
      for (let t = 0; t + 1 < ids.length; t++) {
        const l = Array.from(stream.push(ids[t]).dataSync() as Float32Array), max = Math.max(...l);
        sum += l[ids[t + 1]] - max - Math.log(l.reduce((z, x) => z + Math.exp(x - max), 0));
      }
      stream.dispose();
      return sum;
    };
    // The scorer in batches of 2 (a boundary inside), a character outside its vocabulary ('z': the unknown entry), the empty line.
    const scorer = new CharLmScorer(net, vocab, 2), texts = ['cab', 'ba c', 'zc', '', 'a b c a b c'];
    scorer.prepare(texts);
    for (const t of texts) assert.ok(Math.abs(scorer.of(t) - stepwise(t)) < 1e-4, `${JSON.stringify(t)}: ${scorer.of(t)} vs ${stepwise(t)}`);
    assert.throws(() => scorer.of('cc'), /CharLmScorer\.of: "cc" was not prepared/);

    const m = loadCtcModel(model), utts = loadForModel(m, val), run = await runModel(m, utts, 32);
    const lmFile = join(dir, 'lm.json'), lm = CharNgramLM.load(lmFile), refs = utts.map((u) => u.text);
    const decode = (w: number, alpha = 0.5, beta = 1, ngram = lm) => run.posteriors.map((p) => {
      const cands = beamDecode(p, m.alphabet, { beamWidth: 8, lm: ngram, alpha, beta, topK: 8 });
      if (w === 0) return cands[0].text;
      const score = (t: string) => ctcLogLikelihood(p, m.alphabet.encode(t)) + alpha * ngram.sentenceLogProb(t) + beta * t.length + w * stepwise(t);
      return cands.map((h) => h.text).reduce((x, y) => (score(y) > score(x) ? y : x));
    });
    const line = (hyps: string[]) => { const e = errorRates(refs, hyps); return `beam+lm: CER ${percent(e.cer)} WER ${percent(e.wer)}`; };
    assert.notDeepEqual(decode(3), decode(0), 'the LSTM LM changes some transcript (else this test shows nothing)');
    const flags = ['--model', model, '--lm', lmFile, '--lm-weight', '0.5', '--bonus', '1', '--beam', '8', '--charlm', clm];
    const r = carousel(['evaluate', ...flags, '--data', val, '--charlm-weight', '3']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim().split('\n')[2], line(decode(3)));
    const t = carousel(['transcribe', ...flags, '--charlm-weight', '3', join(dir, 'val', '0.wav'), join(dir, 'val', '1.wav')]);
    assert.equal(t.code, 0, t.err);
    assert.deepEqual(t.out.trim().split('\n'), decode(3).slice(0, 2).map((h, i) => `${join(dir, 'val', `${i}.wav`)}\t${h}`));

    // lm --tune --charlm: the first grid point of the lowest CER (then WER), its charlm weight saved.
    const corpus = join(dir, 'corpus.txt'), tuned = join(dir, 'charlm-lm.json');
    const l = carousel(['lm', '--data', corpus, '--out', tuned, '--order', '3', '--tune', val, '--model', model, '--beam', '8', '--charlm', clm, '--charlm-weight', '0,3']);
    assert.equal(l.code, 0, l.err);
    assert.match(l.out, /^order 3: best weight [\d.]+ bonus [\d.]+ charlm [\d.]+: CER [\d.]+% WER [\d.]+%\ncharlm 0: best order 3 weight [\d.]+ bonus [\d.]+: CER .*\ncharlm 3: best order 3 /);
    const lm3 = CharNgramLM.train(readFileSync(corpus, 'utf8').split('\n'), 3);
    let best = { weight: 0, bonus: 0, charlm: 0, cer: Infinity, wer: Infinity };
    for (const weight of [0.3, 0.6, 0.8, 1]) for (const bonus of [0, 0.5, 1, 2]) for (const charlm of [0, 3]) {
      const e = errorRates(refs, decode(charlm, weight, bonus, lm3));
      if (e.cer < best.cer || (e.cer === best.cer && e.wer < best.wer)) best = { weight, bonus, charlm, cer: e.cer, wer: e.wer };
    }
    assert.deepEqual(JSON.parse(readFileSync(tuned, 'utf8')).tuned, { weight: best.weight, bonus: best.bonus, charlm: best.charlm });
    // evaluate takes lm.json's tuned charlm weight with --charlm; without it, says so and decodes without.
    const withWeight = join(dir, 'charlm3-lm.json');
    CharNgramLM.load(lmFile).withTuning(0.5, 1, undefined, 3).save(withWeight);
    const byTuned = carousel(['evaluate', '--model', model, '--data', val, '--lm', withWeight, '--beam', '8', '--charlm', clm]);
    assert.equal(byTuned.code, 0, byTuned.err);
    assert.equal(byTuned.out.trim().split('\n')[2], line(decode(3)));
    const without = carousel(['evaluate', '--model', model, '--data', val, '--lm', withWeight, '--beam', '8']);
    assert.equal(without.code, 0, without.err);
    assert.match(without.err, /charlm3-lm\.json was tuned with LSTM LM rescoring \(weight 3\): give --charlm DIR \(that LM\) to use it; decoding without it/);
    assert.equal(without.out.trim().split('\n')[2], line(decode(0)));

    userError(carousel(['evaluate', ...flags, '--data', val]), /--charlm: give its weight, --charlm-weight W \(.*lm\.json records none: tune one with carousel lm --tune \.\.\. --charlm DIR\)/);
    userError(carousel(['evaluate', '--model', model, '--data', val, '--lm', lmFile, '--charlm-weight', '1']), /--charlm-weight weighs the LSTM LM of --charlm DIR: give --charlm too/);
    userError(carousel(['evaluate', '--model', model, '--data', val, '--charlm', clm, '--charlm-weight', '1']), /--charlm ranks beam\+lm's candidates: give --lm too/);
    userError(carousel(['evaluate', '--model', model, '--data', val, '--lm', lmFile, '--charlm', model, '--charlm-weight', '1']), /--charlm: expected a character LSTM LM \(carousel train --task charlm\) in .*model: .*model\.json: expected "format": "carousel-model", got "carousel-app"/);
    userError(carousel(['evaluate', ...flags, '--data', val, '--charlm-weight', '-1']), /--charlm-weight: expected a number >= 0, got '-1'/);
    userError(carousel(['transcribe', '--model', model, '--charlm', clm, '--charlm-weight', '1', '--no-lm', join(dir, 'val', '0.wav')]), /--charlm ranks beam\+lm's candidates: give --lm too/);
    userError(carousel(['transcribe', '--model', model, '--lm', lmFile, '--charlm', clm, '--charlm-weight', '1', '--greedy', join(dir, 'val', '0.wav')]), /--charlm ranks the LM beam's candidates: give --lm \(or lm\.json in the model directory\), not --greedy or --no-lm/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--tune', val, '--model', model, '--charlm', clm, '--charlm-weight', '0,x']), /--charlm-weight: expected weights >= 0 separated by commas \(0,0\.5,1\), got '0,x'/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--tune', val, '--model', model, '--charlm-weight', '1']), /--charlm-weight lists the weights of the LSTM LM of --charlm DIR: give --charlm too/);
    userError(carousel(['lm', '--data', corpus, '--out', tuned, '--charlm', clm]), /--charlm is for tuning: give --tune VAL\.jsonl too/);
  });
});
