// The models test/util/saveChild.ts saves, shared with the test that checks what it left.
import { SequenceModel } from '../../src/models/sequenceModel.js';
import { Rng } from '../../src/tensor/random.js';

export function childModel(seed: number, hidden: number): SequenceModel {
  return new SequenceModel({ task: 'classify', cell: 'gru', inputSize: 2, hiddenSize: hidden, numLayers: 1, bidirectional: false, dropout: 0, outputSize: 3 },
    { rng: new Rng(seed) });
}
export const childMeta = { classify: { labels: ['a', 'b', 'c'], features: 2 } };
