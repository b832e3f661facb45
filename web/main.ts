/**
 * The playground page: reads the form, sends it to the training worker, and draws what comes
 * back (progress, the live loss curve, samples, the forecast plot, files to download). No tensor
 * work happens here, so the page stays responsive while the worker trains.
 */
import { lineChart } from '../dist/src/plot/svg.js';
import type { FromWorker, ToWorker, TrainRequest } from './protocol.js';
import sonnets from '../data/sonnets.txt?raw';
import co2 from '../node_modules/vega-datasets/data/co2-concentration.csv?raw';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const num = (id: string) => Number($<HTMLInputElement>(id).value);
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

const data = $<HTMLTextAreaElement>('data');
const task = () => (document.querySelector('input[name=task]:checked') as HTMLInputElement).value as TrainRequest['task'];
data.value = sonnets.slice(0, 40000);

/** Loss per step since Train: drawn as a curve (and a smoothed one) after each report. */
let losses: [number, number][] = [];
let backendInUse = '';
let lastDraw = 0;
function drawCurve(force = false): void {
  const now = performance.now();
  if (!force && now - lastDraw < 250) return; // at most 4 redraws a second
  lastDraw = now;
  const smooth: [number, number][] = [];
  let m = losses[0]?.[1] ?? 0;
  for (const [s, l] of losses) { m = 0.9 * m + 0.1 * l; smooth.push([s, m]); }
  $('curve').innerHTML = lineChart([
    { name: 'loss per step', points: losses, color: '#9cc3e6' },
    { name: 'smoothed', points: smooth, color: '#1f5fa8' },
  ], { title: 'Training loss', xLabel: 'step', yLabel: 'loss' });
}

function setState(s: 'ready' | 'training' | 'trained'): void {
  document.body.dataset.state = s;
  $<HTMLButtonElement>('train').disabled = s === 'training';
  $<HTMLButtonElement>('stop').disabled = s !== 'training';
  $<HTMLButtonElement>('download').disabled = s !== 'trained';
  $<HTMLButtonElement>('generate').disabled = s !== 'trained' || task() !== 'charlm';
}

function setTask(t: TrainRequest['task']): void {
  (document.querySelector(`input[name=task][value=${t}]`) as HTMLInputElement).checked = true;
  $('generate-box').style.display = t === 'charlm' ? '' : 'none';
}

for (const r of document.querySelectorAll<HTMLInputElement>('input[name=task]')) {
  r.addEventListener('change', () => {
    setTask(task());
    data.value = task() === 'forecast' ? co2 : sonnets.slice(0, 40000);
    if (task() === 'forecast') { $<HTMLInputElement>('window').value = '36'; $<HTMLInputElement>('horizon').value = '24'; }
  });
}

async function useCsv(file: File): Promise<void> {
  data.value = await file.text();
  setTask('forecast');
}
$<HTMLInputElement>('csvfile').addEventListener('change', (e) => { const f = (e.target as HTMLInputElement).files?.[0]; if (f) void useCsv(f); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault(); drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void useCsv(f);
});

$('train').addEventListener('click', () => {
  $('error').textContent = '';
  $('sample').textContent = '';
  $('forecast').innerHTML = '';
  losses = [];
  setState('training');
  send({
    type: 'train', task: task(), data: data.value, column: $<HTMLInputElement>('column').value.trim() || undefined,
    window: num('window'), horizon: num('horizon'), cell: $<HTMLSelectElement>('cell').value, hidden: num('hidden'),
    layers: num('layers'), backend: $<HTMLSelectElement>('backend').value, seconds: num('seconds'), lr: num('lr'), seed: 1,
  });
});
$('stop').addEventListener('click', () => send({ type: 'stop' }));
$('generate').addEventListener('click', () => send({ type: 'generate', seed: $<HTMLInputElement>('seed').value, length: num('length'), temperature: num('temperature') }));
$('download').addEventListener('click', () => send({ type: 'download' }));
$<HTMLInputElement>('load').addEventListener('change', async (e) => {
  const picked = [...((e.target as HTMLInputElement).files ?? [])];
  const files = await Promise.all(picked.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  $('error').textContent = '';
  send({ type: 'load', files, data: data.value, column: $<HTMLInputElement>('column').value.trim() || undefined, window: num('window') }, files.map((f) => f.bytes.buffer));
});

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready': {
      $('cell').innerHTML = m.cells.map((c) => `<option${c === 'lstm' ? ' selected' : ''}>${c}</option>`).join('');
      const pick = m.backends.find((b) => b.name === 'wasm' && b.available) ? 'wasm' : 'reference';
      $('backend').innerHTML = m.backends.map((b) => `<option value="${b.name}"${b.available ? '' : ' disabled'}${b.name === pick ? ' selected' : ''}>${b.name}${b.why ? ` (${b.why})` : ''}</option>`).join('');
      $('status').textContent = m.isolated ? 'ready' : 'ready (this page is not cross-origin isolated: the wasm backend is off)';
      setState('ready');
      break;
    }
    case 'started':
      backendInUse = m.backend;
      $('status').textContent = `training on ${m.backend}: ${m.parameters.toLocaleString('en-US')} parameters; ${m.summary}`;
      break;
    case 'progress':
      losses.push([m.step, m.loss]);
      drawCurve();
      $('status').textContent = `step ${m.step}  loss ${m.loss.toFixed(4)}  ${Math.round(m.itemsPerSecond).toLocaleString('en-US')} ${m.unit}/s  ${m.seconds.toFixed(1)} s on ${backendInUse}`;
      break;
    case 'stopped':
      drawCurve(true);
      $('status').textContent = `trained on ${backendInUse}: ${m.steps} steps in ${m.seconds.toFixed(1)} s: loss ${m.firstLoss.toFixed(4)} -> ${m.lastLoss.toFixed(4)}; held out: ${m.validation}`;
      setState('trained');
      if (task() === 'charlm') send({ type: 'generate', seed: $<HTMLInputElement>('seed').value, length: num('length'), temperature: num('temperature') });
      break;
    case 'sample': $('sample').textContent = m.text; break;
    case 'forecast': $('forecast').innerHTML = m.svg; $('status').textContent += `\n${m.summary}`; break;
    case 'files':
      for (const f of m.files) {
        const a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([f.bytes as Uint8Array<ArrayBuffer>]));
        a.download = f.name;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      }
      break;
    case 'loaded': $('status').textContent = `loaded ${m.summary}`; setState('trained'); break;
    case 'error': $('error').textContent = m.message; if (document.body.dataset.state === 'training') setState('ready'); break;
  }
};
worker.onerror = (e) => { $('error').textContent = `worker: ${e.message}`; };
