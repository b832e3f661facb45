import { printable } from '../../data/printable.js';
import { getBackend, listBackends, setBackend } from '../../backend/registry.js';
import { runConformance } from '../../conformance/runner.js';
import type { DType } from '../../backend/dtype.js';
import type { Command } from '../command.js';
import { RunError, UserError } from '../errors.js';
import type { Backend } from '../../backend/backend.js';
import { parseFlags } from './shared.js';

export const conformance: Command = {
  name: 'conformance',
  help: `Usage: carousel conformance PATH... [--backend NAME] [--dtype f32|f64]

Runs every fixture file (*.json) under the given files or folders: builds the module from the
file's config and params, runs forward and backward, and compares outputs and gradients with the
file's tolerance. Prints one line per case with its worst error (as a fraction of the tolerance:
1.0 is the limit), then "N passed, N failed, N skipped". Exits 1 if any case failed.

Options:
  --backend NAME   backend to run on (default: the default backend)
  --dtype TYPE     f32 (default) or f64 (reference backend only)
  -h, --help       this help`,
  async run(argv) {
    const { values, positionals } = parseFlags('conformance', argv,
      { backend: { type: 'string' }, dtype: { type: 'string', default: 'f32' }, help: { type: 'boolean', short: 'h' } }, true);
    if (values.help) { console.log(this.help); return 0; }
    if (positionals.length === 0) throw new UserError('conformance: expected at least one fixture file or folder');
    if (values.backend && !listBackends().includes(values.backend)) {
      throw new UserError(`--backend: expected one of ${listBackends().join(', ')}, got '${printable(values.backend, 40)}'`);
    }
    const dtype = values.dtype as DType;
    if (dtype !== 'f32' && dtype !== 'f64') throw new UserError(`--dtype: expected f32 or f64, got '${printable(String(values.dtype), 40)}'`);
    let backend: Backend;
    try {
      backend = values.backend ? await setBackend(values.backend) : getBackend();
    } catch (e) {
      throw new RunError(`--backend ${values.backend ?? '(default)'}: ${(e as Error).message}`); // a device missing here (no WebGPU adapter)
    }
    let summary;
    try {
      summary = await runConformance(positionals, backend, dtype, (line) => console.log(printable(line, 1000))); // fixture names come from files
    } catch (e) { throw new UserError((e as Error).message); }
    console.log(`${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
    return summary.failed > 0 ? 1 : 0;
  },
};
