/** Every differentiable op, each forward next to its backward in its own file. */
export * from './elementwise.js';
export { matmul, linear } from './matmul.js';
export { sum, mean } from './reduce.js';
export { reshape, permute, transpose, slice, concat, stack, indexSelect } from './shape.js';
export { softmax, logSoftmax } from './softmax.js';
export { dropout } from './dropout.js';
export { lstmLayer, type LstmWeights, type LstmLayerResult } from './lstm.js';
export { gruLayer, type GruWeights, type GruLayerResult } from './gru.js';
export { slstm, slstmRecurrence, type SlstmOptions, type SlstmResult, type SlstmState, type ForgetGate } from './slstm.js';
export { mlstm, type MlstmForm, type MlstmOptions, type MlstmResult, type MlstmState } from './mlstm.js';
export { groupNorm, layerNorm } from './norm.js';
export { gelu, silu } from './activation.js';
export { causalConv1d } from './conv1d.js';
