// A writer run in a child process by test/model-dir-atomic.test.ts, so CAROUSEL_FAULT_AT (see
// src/io/faults.ts) can SIGKILL it at a chosen write point. Prints how many points it passed.
//   node saveChild.js model DIR SEED HIDDEN   -> saveModel of a classifier
//   node saveChild.js checkpoint PATH SEED    -> saveCheckpoint
import '../../src/backends.js';
import { saveCheckpoint } from '../../src/io/checkpoint.js';
import { faultPointsPassed } from '../../src/io/faults.js';
import { saveModel } from '../../src/io/modelDir.js';
import { childMeta, childModel } from './childModel.js';

const [mode, path, seed, hidden] = process.argv.slice(2);
if (mode === 'model') {
  await saveModel(path, childModel(Number(seed), Number(hidden)), childMeta);
  console.log(faultPointsPassed());
} else if (mode === 'checkpoint') {
  const w = Float32Array.from({ length: 64 }, (_, i) => i * Number(seed));
  saveCheckpoint(path, { meta: { seed: Number(seed) }, groups: { model: new Map([['w', { shape: [64], data: w }]]) } });
  console.log(faultPointsPassed());
} else {
  throw new Error(`saveChild: expected mode 'model' or 'checkpoint', got '${mode}'`);
}
