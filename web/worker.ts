/**
 * The playground's training worker: builds the model, trains it step by step on the chosen
 * backend, reports progress, generates text or plots a forecast, and turns models into files and
 * back (a Carousel model directory's two files; an ONNX file; a TF.js Layers model.json with its
 * weights). It imports the library's plain ES modules (dist/), which the bundler follows,
 * kernel workers and wasm files included.
 */
import {
  Adam, CharLMTask, ForecastTask, Rng, SequenceModel, backward, clipGradNorm, detach, forecastSvg, generateText, getBackend, initWasm,
  cellFactories, listBackends, parseSafetensors, serializeSafetensors, setBackend, tidy, type Architecture, type Tensor, type TensorData,
} from '../dist/src/browser.js';
import { CharVocab } from '../dist/src/data/text.js';
import { channelCount, prepareForecastData, type PreparedForecast } from '../dist/src/data/forecastData.js';
import type { ModelMeta } from '../dist/src/io/modelDir.js';
import { checkModelMeta } from '../dist/src/io/modelSchema.js';
import { prepareText } from '../dist/src/train/recipes.js';
import { loadOnnxBytes } from '../dist/src/onnx/model.js';
import { recogniseTaskModel } from '../dist/src/onnx/taskModel.js';
import { tfjsLayersModel, type TfjsModelJson } from '../dist/src/tfjs/layersModel.js';
import type { FromWorker, ToWorker, TrainRequest } from './protocol.js';

const post = (m: FromWorker, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

/** What the last training or loading left: the model and what it needs to be used and saved. */
interface Current {
  model: SequenceModel;
  vocab: CharVocab | null;
  forecast: { d: PreparedForecast; task: ForecastTask; column: string } | null;
  meta: Omit<ModelMeta, 'format' | 'version' | 'architecture'>;
}
let current: Current | null = null;
let stopRequested = false;

/** Which backends this page can use, and why not where it cannot. */
async function backends(): Promise<FromWorker & { type: 'ready' }> {
  const isolated = (self as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const gpu = (navigator as Navigator & { gpu?: unknown }).gpu !== undefined;
  return {
    type: 'ready', isolated, cells: [...cellFactories.keys()],
    backends: listBackends().filter((n) => n !== 'composed').map((name) => (
      name === 'wasm' ? { name, available: isolated, ...(isolated ? {} : { why: 'needs a cross-origin isolated page (COOP/COEP headers)' }) }
        : name === 'webgpu' ? { name, available: gpu, ...(gpu ? {} : { why: 'this browser has no navigator.gpu' }) }
          : { name, available: true })),
  };
}

async function useBackendNamed(name: string): Promise<string> {
  if (name === 'wasm') await initWasm(); // falls back to reference (and says so) where wasm cannot run
  else await setBackend(name);
  return getBackend().name;
}

const yieldToEvents = () => new Promise<void>((r) => setTimeout(r, 0)); // lets a Stop message in between steps

async function train(req: TrainRequest): Promise<void> {
  stopRequested = false;
  const backend = await useBackendNamed(req.backend);
  const rng = new Rng(req.seed);
  const base = { cell: req.cell, hiddenSize: req.hidden, numLayers: req.layers, bidirectional: false, dropout: 0 };
  let model: SequenceModel, task: CharLMTask | ForecastTask, unit: string, summary: string;
  if (req.task === 'charlm') {
    const d = prepareText(req.data, 0.1, new Rng(req.seed ^ 0x2545f491));
    const arch: Architecture = { task: 'charlm', ...base, inputSize: 16, outputSize: d.vocab.size, vocabSize: d.vocab.size };
    model = new SequenceModel(arch, { rng });
    task = new CharLMTask(model, d.train, d.val, 16, 32);
    current = { model, vocab: d.vocab, forecast: null, meta: { charlm: { vocabulary: d.vocab.toJSON(), unknown: d.vocab.unknown! } } };
    unit = 'characters';
    summary = `${d.train.length} training characters, ${d.val.length} validation, vocabulary ${d.vocab.size}`;
  } else {
    const d = prepareForecastData(req.data, 'the CSV', { columns: req.column ? [req.column] : undefined, window: req.window, horizon: req.horizon, valFraction: 0.2, seasons: [], lags: false });
    const arch: Architecture = { task: 'forecast', ...base, inputSize: channelCount(d.plan, d.targets.length), outputSize: req.horizon * d.targets.length };
    model = new SequenceModel(arch, { rng });
    task = new ForecastTask(model, d.train, d.val, 32, d.targetIdx.map((k) => d.series[0].norm.std[k]));
    current = {
      model, vocab: null, forecast: { d, task, column: d.targets[0] },
      meta: { forecast: { features: d.features, targets: d.targets, window: req.window, horizon: req.horizon, normalization: d.series[0].norm.toJSON() } },
    };
    unit = 'windows';
    summary = `${d.train.n} training windows, ${d.val?.n ?? 0} validation, column ${d.targets[0]}`;
  }
  post({ type: 'started', backend, parameters: model.numParameters(), summary });
  const opt = new Adam(model.parameters(), { lr: req.lr });
  const t0 = performance.now();
  let step = 0, items = 0, firstLoss = NaN, lastLoss = NaN;
  let carry: Tensor[] | null = null;
  model.train();
  outer: for (;;) {
    const order = task.epochOrder(rng);
    carry = null;
    for (let k = 0; k < task.numBatches(); k++) {
      const prev: Tensor[] | null = carry;
      const r: { loss: Tensor; items: number; state: Tensor[] | null } = tidy(() => {
        opt.zeroGrad();
        const b = task.trainBatch(order, k, task.stateful ? prev : null);
        backward(b.loss);
        clipGradNorm(model.parameters(), 1);
        opt.step();
        return { loss: b.loss, items: b.items, state: task.stateful && b.state ? b.state.map(detach) : null };
      });
      for (const t of prev ?? []) t.dispose();
      carry = r.state;
      const loss = (await r.loss.data())[0];
      r.loss.dispose();
      if (!Number.isFinite(loss)) throw new Error(`training diverged: loss ${loss} at step ${step + 1} (try a smaller learning rate)`);
      step++; items += r.items;
      if (step === 1) firstLoss = loss;
      lastLoss = loss;
      const seconds = (performance.now() - t0) / 1000;
      post({ type: 'progress', step, seconds, loss, itemsPerSecond: items / Math.max(seconds, 1e-9), unit });
      await yieldToEvents();
      if (stopRequested || seconds >= req.seconds) break outer;
    }
  }
  for (const t of carry ?? []) t.dispose();
  model.eval();
  const val = await task.validate();
  post({
    type: 'stopped', steps: step, seconds: (performance.now() - t0) / 1000, firstLoss, lastLoss,
    validation: val ? Object.entries(val.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).concat(`loss ${val.loss.toFixed(4)}`).join(', ') : 'no validation data',
  });
  if (current.forecast) await plotForecast();
}

/** The last validation window (else training window): its history, truth and the model's forecast, in the data's units. */
async function plotForecast(): Promise<void> {
  const f = current!.forecast!;
  const w = f.d.val && f.d.val.n ? f.d.val : f.d.train;
  const pred = await f.task.predictAll(w);
  const i = w.n - 1, k = f.d.targetIdx[0], H = w.horizon, K = w.targets, W = w.window;
  const norm = f.d.series[0].norm, mean = norm.mean[k], std = norm.std[k];
  const anchor = w.anchor[i * K];
  const unz = (z: number) => z * std + mean;
  const history = Array.from({ length: W }, (_, t) => [t - W + 1, unz(w.x[(i * W + t) * w.features + k])] as [number, number]);
  const truth = Array.from({ length: H }, (_, h) => [h + 1, unz(w.y[i * H * K + h * K] + anchor)] as [number, number]);
  const forecast = Array.from({ length: H }, (_, h) => [h + 1, unz(pred[i * H * K + h * K] + anchor)] as [number, number]);
  const mae = truth.reduce((s, [, y], h) => s + Math.abs(y - forecast[h][1]), 0) / H;
  post({
    type: 'forecast', summary: `last held-out window: MAE ${mae.toPrecision(4)} over ${H} steps`,
    svg: forecastSvg({ title: `${f.column}: ${H}-step forecast (MAE ${mae.toPrecision(3)})`, history, truth, forecast, xLabel: 'step', yLabel: f.column }),
  });
}

/** model.json + weights-<sha256 prefix>.safetensors: the directory `carousel` writes and loads. */
async function modelFiles(): Promise<{ name: string; bytes: Uint8Array }[]> {
  if (!current) throw new Error('no model yet: train or load one first');
  const entries: [string, { dtype: 'F32'; shape: readonly number[]; data: ArrayLike<number> }][] = [];
  for (const [n, t] of await current.model.readStateDict()) entries.push([n, { dtype: 'F32', shape: t.shape, data: t.data }]);
  const weights = serializeSafetensors(entries, { format: 'pt' });
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', weights as Uint8Array<ArrayBuffer>));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
  const file = `weights-${sha256.slice(0, 16)}.safetensors`;
  const meta: ModelMeta = { format: 'carousel-model', version: 2, architecture: current.model.arch, ...current.meta, weights: { file, bytes: weights.length, sha256 } };
  checkModelMeta(JSON.parse(JSON.stringify(meta)), 'model.json');
  return [{ name: 'model.json', bytes: new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n') }, { name: file, bytes: weights }];
}

/**
 * A model from files: a Carousel directory's model.json + weights file, an ONNX file (a task model:
 * LSTM/GRU layers and a Linear head, as `carousel import` takes), or a TF.js Layers model.json with
 * its weight shards. An imported model without a vocabulary takes the pasted text's, where sizes agree.
 */
async function load(files: { name: string; bytes: Uint8Array }[], text: string, column: string | undefined, window: number): Promise<string> {
  const byName = (re: RegExp) => files.find((f) => re.test(f.name));
  const onnx = byName(/\.onnx$/i);
  const json = byName(/\.json$/i);
  let model: SequenceModel, meta: Current['meta'], how: string;
  if (onnx) {
    const r = recogniseTaskModel(loadOnnxBytes(onnx.bytes));
    model = r.model; meta = {}; how = `ONNX ${onnx.name} (${r.layout}, largest difference from the graph ${r.maxDifference.toExponential(1)})`;
  } else if (json) {
    const raw = JSON.parse(new TextDecoder().decode(json.bytes)) as { format?: string; modelTopology?: unknown };
    if (raw.format === 'carousel-model') {
      const m = checkModelMeta(raw, json.name);
      const w = files.find((f) => f.name === m.weights?.file);
      if (!w) throw new Error(`${json.name} names the weights file ${m.weights?.file}: pick it together with model.json`);
      const st = parseSafetensors(w.bytes, w.name);
      const dict = new Map<string, TensorData>([...st.tensors].map(([n, t]) => [n, { shape: t.shape, data: t.data }]));
      model = new SequenceModel(m.architecture);
      model.loadStateDict(dict, true);
      const { format: _f, version: _v, architecture: _a, weights: _w, ...rest } = m;
      meta = rest; how = `Carousel model ${json.name} + ${w.name}`;
    } else if (raw.modelTopology) {
      // The shards in the manifest's order, matched by file name (the paths' last part).
      const paths = ((raw as TfjsModelJson).weightsManifest ?? []).flatMap((g) => g.paths);
      const shards = paths.map((p) => {
        const f = files.find((x) => x.name === p.split('/').pop());
        if (!f) throw new Error(`${json.name} needs the weight file ${p}: pick it together with model.json`);
        return f;
      });
      const data = new Uint8Array(shards.reduce((s, f) => s + f.bytes.length, 0));
      let off = 0;
      for (const f of shards) { data.set(f.bytes, off); off += f.bytes.length; }
      const tf = tfjsLayersModel(raw as TfjsModelJson, data);
      model = recogniseTaskModel(tf.graph).model; meta = {}; how = `TF.js Layers model ${json.name} (${shards.length} weight file(s))`;
    } else {
      throw new Error(`${json.name}: expected a Carousel model.json (format carousel-model) or a TF.js Layers model.json (modelTopology), got neither`);
    }
  } else {
    throw new Error(`expected model.json + its weights file, an .onnx file, or a TF.js model.json + weights; got ${files.map((f) => f.name).join(', ') || 'no files'}`);
  }
  model.eval();
  const a = model.arch;
  let vocab: CharVocab | null = null, forecast: Current['forecast'] = null;
  if (a.task === 'charlm') {
    if (meta.charlm) vocab = new CharVocab(meta.charlm.vocabulary, meta.charlm.unknown ?? null);
    else {
      const v = CharVocab.fromText(text, { unknown: true });
      if (v.size !== a.vocabSize) throw new Error(`the model reads ${a.vocabSize} characters, the pasted text has ${v.size}: paste the text it was trained on`);
      vocab = v; meta = { charlm: { vocabulary: v.toJSON(), unknown: v.unknown! } };
    }
  } else if (a.task === 'forecast') {
    // An imported forecaster (no forecast section) reads one column over the page's window; its outputs are the horizon.
    const f = meta.forecast;
    if (!f && a.inputSize !== 1) throw new Error(`the model reads ${a.inputSize} inputs per step; the page feeds an imported forecaster one column`);
    const d = prepareForecastData(text, 'the CSV', { columns: f ? f.features : column ? [column] : undefined, targets: f?.targets, window: f?.window ?? window, horizon: f?.horizon ?? a.outputSize, valFraction: 0.2, seasons: [], lags: false });
    const task = new ForecastTask(model, d.train, d.val, 32, d.targetIdx.map((k) => d.series[0].norm.std[k]));
    forecast = { d, task, column: d.targets[0] };
    meta = meta.forecast ? meta : { forecast: { features: d.features, targets: d.targets, window: d.train.window, horizon: d.train.horizon, normalization: d.series[0].norm.toJSON() } };
  }
  current = { model, vocab, forecast, meta };
  if (forecast) await plotForecast();
  return `${how}: ${a.task} ${a.cell.toUpperCase()} ${a.numLayers}x${a.hiddenSize}, ${model.numParameters()} parameters`;
}

self.onmessage = async (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    if (m.type === 'stop') { stopRequested = true; return; }
    if (m.type === 'train') await train(m);
    else if (m.type === 'generate') {
      if (!current?.vocab) throw new Error('no character model yet: train one on text first');
      const text = await generateText(current.model, current.vocab, { seed: m.seed, length: m.length, temperature: m.temperature, rng: new Rng(Date.now() >>> 0) });
      post({ type: 'sample', text: m.seed + text });
    } else if (m.type === 'download') {
      const files = await modelFiles();
      post({ type: 'files', files }, files.map((f) => f.bytes.buffer));
    } else if (m.type === 'load') {
      post({ type: 'loaded', summary: await load(m.files, m.data, m.column, m.window) });
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error)?.message ?? String(err) });
  }
};

post(await backends());
