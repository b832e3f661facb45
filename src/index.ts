/**
 * Carousel: the long short-term memory family of recurrent networks, in TypeScript.
 * The public API for Node.js: tensors and backends, autograd, ops, modules, losses (core.ts),
 * plus what needs the file system or Node's clock: training with checkpoints, model files,
 * PyTorch interchange files, the wasm microbenchmarks. Browsers get browser.ts instead.
 */
export * from './core.js';

export { gemmGflops, simdPeakGflops } from './backend/wasm/bench.js';
export { fit, formatEpoch, type FitOptions, type FitResult, type EpochLog, type FitCallbacks } from './train/fit.js';
export { TrainingDiverged } from './train/divergence.js';
export { saveModel, loadModel, readModelMeta, weightsPath, type ModelMeta } from './io/modelDir.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointData } from './io/checkpoint.js';
export { exportStateDict, importStateDict, stateDictToSafetensors, readSafetensorsFile } from './io/pytorch.js';
export { writeFileAtomic } from './io/atomic.js';
export { quantize, quantizeLayer, QuantizedModel, type QuantizeOptions } from './quant/model.js';
// ONNX import and export (protobufjs: a bare module, so not in the browser entry's plain module graph).
export { loadOnnx, exportOnnx } from './onnx/file.js';
export { OnnxModel, loadOnnxBytes, type OnnxInput, type OnnxValueInfo } from './onnx/model.js';
export { onnxBytes, type Exportable } from './onnx/export.js';
export { recogniseTaskModel, type RecognisedModel } from './onnx/taskModel.js';
export { GraphBuilder, type AttrValue, type ElemType } from './onnx/builder.js';
export { loadTfjsLayersModel } from './tfjs/file.js';
export { tfjsLayersModel, TfjsLayersModel, type TfjsModelJson, type TfjsWeightSpec } from './tfjs/layersModel.js';
