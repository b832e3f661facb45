import { indexSelect } from '../ops/shape.js';
import { checkOptions, checkPositiveInt } from '../tensor/check.js';
import { sizeOf } from '../tensor/shape.js';
import { Parameter, type Tensor } from '../tensor/tensor.js';
import { checkParameterCount } from '../io/limits.js';
import { Module, type ModuleOptions } from './module.js';

export interface EmbeddingConfig { numEmbeddings: number; embeddingDim: number }

/** torch.nn.Embedding: rows of a [num, dim] table selected by i32 ids; init N(0, 1). */
export class Embedding extends Module {
  readonly weight: Parameter;
  constructor(readonly config: EmbeddingConfig, opts?: ModuleOptions) {
    super(opts);
    checkOptions('Embedding', config, ['numEmbeddings', 'embeddingDim']);
    const n = checkPositiveInt('Embedding.numEmbeddings', config.numEmbeddings);
    const d = checkPositiveInt('Embedding.embeddingDim', config.embeddingDim);
    checkParameterCount('Embedding', n * d);
    const v = new Float64Array(sizeOf([n, d]));
    for (let i = 0; i < v.length; i++) v[i] = this.rng.normal();
    this.weight = this.addParameterValues('weight', [n, d], v);
  }
  /** ids: i32 tensor of any shape -> [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor { return indexSelect(this.weight, ids); }
}
