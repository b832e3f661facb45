/**
 * One suite (a library on one backend with one thread count) in its own process, so that
 * thread pools, WASM instances and heaps of different libraries never share a process, a
 * slow or hung peer can be killed on its deadline, and memory is measured from a clean start.
 * Usage: node dist/bench/child.js '<SuiteSpec JSON>'; prints one line RESULTS <json>.
 */
import '../src/backends.js'; // the built-in backends (reference, composed, wasm)
import { runCarousel } from './suites/carousel.js';
import { runClassic } from './suites/classic.js';
import { runOrt } from './suites/ort.js';
import { runTfjs } from './suites/tfjs.js';
import { RESULT_MARK, type Result, type SuiteSpec } from './types.js';

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (!arg) throw new Error('bench child: expected a suite spec (JSON) as the first argument, got none');
  const spec = JSON.parse(arg) as SuiteSpec;
  const suites: Record<string, (s: SuiteSpec) => Promise<Result[]>> = {
    'carousel': runCarousel, 'tfjs': runTfjs, 'onnxruntime': runOrt,
    'neataptic': runClassic, 'synaptic': runClassic, 'brain.js': runClassic,
  };
  const run = suites[spec.suite];
  if (!run) throw new Error(`bench child: unknown suite '${spec.suite}': expected one of ${Object.keys(suites).join(', ')}`);
  // One bench per call, its rows written as soon as they exist: if the parent kills this
  // process on its deadline, everything finished so far is kept.
  for (const bench of spec.benches) {
    const rows = await run({ ...spec, benches: [bench] });
    process.stdout.write(RESULT_MARK + JSON.stringify(rows) + '\n');
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`${(e as Error).stack ?? e}\n`); process.exit(1); });
