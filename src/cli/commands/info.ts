import { statSync } from 'node:fs';
import { ModelFileError } from '../../io/errors.js';
import { readSafetensorsFile } from '../../io/pytorch.js';
import type { Command } from '../command.js';
import { UserError } from '../errors.js';
import { printable } from '../../data/printable.js';
import { loadModel } from '../../io/modelDir.js';
import { parseFlags, userErrors } from './shared.js';
import { backendUnavailable, listBackends, loadBackend } from '../../backend/registry.js';
import { CORE_METHODS, kernelListing } from '../../ops/kernels.js';
import { printQuantized } from '../../quant/describe.js';
import { QuantizedModel } from '../../quant/model.js';
import { WasmBackend } from '../../backend/wasm/index.js';
import type { Backend } from '../../backend/backend.js';
import { WebGpuBackend } from '../../backend/webgpu/index.js';
import type { AdapterSummary } from '../../backend/webgpu/device.js';

const HELP = `Usage: carousel info PATH
       carousel info --backends

Describes a model directory (architecture, parameters with their PyTorch names and shapes, data
settings, training summary), or lists the tensors of a .safetensors file (weights, checkpoint,
or a PyTorch state_dict). Fails with a clear message on a missing, truncated or mis-shaped file. Names and text from the
file are shown escaped (a control character as \x1b) and long ones cut.

With --backends: lists the registered backends and, for each, which optional kernels run natively
(and which class defines them) and which run as their composed fallback (src/ops/composed/); for
wasm, which kernel build runs (relaxed SIMD or SIMD128; CAROUSEL_WASM_BUILD forces one) and why;
for webgpu, the adapter (vendor, architecture, features, limits), or why there is none.

Options:
  --backends   list the backends and their kernels
  -h, --help   this help`;

export const info: Command = {
  name: 'info',
  help: HELP,
  async run(argv) {
    const { values: v, positionals } = parseFlags('info', argv, { help: { type: 'boolean', short: 'h' }, backends: { type: 'boolean' } }, true);
    if (v.help) { console.log(HELP); return 0; }
    if (v.backends) {
      if (positionals.length) throw new UserError(`info --backends: expected no path, got ${positionals.length}`);
      await printBackends();
      return 0;
    }
    if (positionals.length !== 1) throw new UserError(`info: expected one model directory or .safetensors file, got ${positionals.length}`);
    const path = positionals[0];
    return userErrors(() => {
      let isDir = false;
      const p = printable(path);
      try { isDir = statSync(path).isDirectory(); } catch { throw new ModelFileError(`${path}: no such file or directory`); }
      if (!isDir) {
        const f = readSafetensorsFile(path);
        console.log(`${p}: safetensors, ${f.tensors.size} tensors`);
        for (const [n, t] of f.tensors) console.log(`  ${printable(n, 120)}  ${printable(t.dtype, 10)} [${t.shape.join(', ')}]`);
        const keys = Object.keys(f.metadata);
        if (keys.length) console.log(`metadata: ${printable(keys.join(', '), 400)}`);
        return 0;
      }
      const { model, meta } = loadModel(path);
      const a = meta.architecture;
      console.log(`${p}: ${a.task} model, ${printable(a.cell.toUpperCase(), 40)} ${a.numLayers} layer(s) x ${a.hiddenSize} hidden${a.bidirectional ? ', bidirectional' : ''}${a.dropout ? `, dropout ${a.dropout}` : ''}`);
      console.log(`input size ${a.inputSize}, output size ${a.outputSize}, ${model.numParameters()} parameters`);
      for (const [n, p] of model.namedParameters()) console.log(`  ${n}  [${p.shape.join(', ')}]`);
      if (model instanceof QuantizedModel) printQuantized(model);
      if (meta.forecast) {
        const f = meta.forecast;
        console.log(`forecast: columns ${printable(f.features.join(', '), 200)} -> ${printable(f.targets.join(', '), 200)}, window ${f.window}, horizon ${f.horizon}`);
        console.log(`normalization: mean ${f.normalization.mean.map((x) => x.toPrecision(6)).join(', ')}; std ${f.normalization.std.map((x) => x.toPrecision(6)).join(', ')}`);
        const more = [f.lags ? `lag inputs at ${f.lags.join(', ')}` : '', f.time ? `time column ${printable(f.time.column, 40)} (calendar: ${f.time.cycles.join(', ') || 'none'})` : '',
          f.series ? `${f.series.names.length} series` : '', f.residualSeason ? `residual over seasonal-naive ${f.residualSeason}` : '', f.quantiles ? `quantiles ${f.quantiles.join(', ')}` : ''].filter(Boolean);
        if (more.length) console.log(`forecast inputs and outputs: ${more.join('; ')}`);
      }
      if (meta.classify) console.log(`classes (${meta.classify.labels.length}): ${printable(meta.classify.labels.join(', '), 400)}`);
      if (meta.charlm) console.log(`vocabulary: ${meta.charlm.vocabulary.length} characters "${printable(meta.charlm.vocabulary.join(''), 80)}"`);
      if (meta.training) console.log(`training: ${printable(JSON.stringify(meta.training), 400)}`);
      return 0;
    });
  },
};

/** Each registered backend: its core, and per kernel set what runs natively and what is composed. */
async function printBackends(): Promise<void> {
  for (const name of listBackends()) {
    const why = backendUnavailable(name);
    if (why) { console.log(`${name}: unavailable here (${why})`); continue; }
    let b: Backend;
    try { b = await loadBackend(name); } catch (e) { console.log(`${name}: unavailable here (${(e as Error).message})`); continue; }
    const rows = kernelListing(b);
    const native = rows.filter((r) => r.runs === 'native').length;
    console.log(`${name}: ${CORE_METHODS.length} core kernels; ${native} of ${rows.length} optional kernels native, ${rows.length - native} composed`);
    if (b instanceof WasmBackend) console.log(`  build    ${b.build.build} (${b.build.reason})`);
    const sets = [...new Set(rows.map((r) => r.set))];
    for (const set of sets) {
      const mine = rows.filter((r) => r.set === set);
      const parts = mine.map((r) => (r.runs === 'native' ? `${r.kernel} (${r.from})` : `${r.kernel} (composed)`));
      console.log(`  ${set.padEnd(8)} ${parts.join(', ')}`);
    }
    if (b instanceof WebGpuBackend) printAdapter(b.adapter);
  }
}

/** The GPU a webgpu backend runs on: what the adapter says of itself, its features and the limits in use. */
function printAdapter(a: AdapterSummary): void {
  const what = [a.description, a.device].filter((x) => x).join(', ');
  console.log(`  adapter  vendor ${printable(a.vendor, 60)}, architecture ${printable(a.architecture, 60)}${what ? ` (${printable(what, 120)})` : ''}`);
  console.log(`  features ${a.features.length ? printable(a.features.join(', '), 1000) : '(none)'}`);
  console.log(`  limits   ${Object.entries(a.limits).map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
