/**
 * The platform-neutral part of Carousel's public API, shared by the Node entry (index.ts, which
 * adds file I/O, fit and the benchmarks) and the browser entry (browser.ts). Nothing reachable
 * from here imports a node:* module (test/browser.test.ts checks that).
 */
import './backends.js'; // registers reference, composed and wasm (built on first use)

export type { Backend, Storage, UnaryOp, BinaryOp, ReduceOp, OptionalKernels, Kernels, KernelSet, OptionalKernelName } from './backend/backend.js';
export { KERNEL_SETS } from './backend/backend.js';
export { registerBackend, setBackend, getBackend, listBackends, loadBackend, useBackend, backendUnavailable, defaultBackendName,
  type BackendEntry } from './backend/registry.js';
export { initWasm, type InitWasmOptions } from './backend/wasm/init.js';
export { ReferenceBackend, ReferenceCore, CpuStorage } from './backend/reference/index.js';
export { ComposedBackend } from './backend/composed.js';
export { WasmBackend, WasmStorage, wasmSimdSupported, wasmUnavailableReason, setWasmThreads, type WasmBackendOptions } from './backend/wasm/index.js';
export { kernels, kernelListing, OPTIONAL_KERNELS, CORE_METHODS, type KernelListingRow } from './ops/kernels.js';

export type { DType, TypedArray } from './backend/dtype.js';
export { Tensor, Parameter } from './tensor/tensor.js';
export { tensor, zeros, ones, full, parameter, type TensorOptions } from './tensor/create.js';
export { Rng, defaultRng, manualSeed } from './tensor/random.js';

export { backward, noGrad, isGradEnabled, type BackwardOptions } from './autograd/tape.js';
export { tidy, keep } from './tensor/tidy.js';

export * as ops from './ops/index.js';

export { Module, type ModuleOptions, type TensorData, type LoadStateDictOptions } from './nn/module.js';
export { LSTM, type LSTMConfig, type LSTMForwardOptions, type LSTMOutput } from './nn/lstm.js';
export { GRU, type GRUConfig, type GRUForwardOptions, type GRUOutput } from './nn/gru.js';
export { Linear, type LinearConfig } from './nn/linear.js';
export { Embedding, type EmbeddingConfig } from './nn/embedding.js';
export { Dropout } from './nn/dropout.js';

export { mseLoss, type Reduction } from './loss/mse.js';
export { crossEntropy, nllLoss } from './loss/crossEntropy.js';
export { ctcLoss, type CtcOptions } from './loss/ctc.js';
export { ctcGreedyDecode, ctcBeamSearch, type Decoded } from './loss/ctcDecode.js';
export { PeepholeLSTM, LSTMVariant, type PeepholeLSTMConfig, type LSTMVariantConfig } from './nn/lstm-variants.js';
export { LSTM_VARIANTS, type LstmVariant, type LstmCellSpec } from './ops/lstm-cell.js';
export { GruStepState, LstmStepState, gruStep, lstmStep } from './ops/step.js';
export { ConvLSTM2d, type ConvLSTM2dConfig, type ConvLSTM2dForwardOptions, type ConvLSTM2dOutput } from './nn/convlstm.js';
export { Highway, type HighwayConfig, type HighwayActivation } from './nn/highway.js';
export { SLSTM, type SLSTMConfig } from './nn/slstm.js';
export { MLSTM, type MLSTMConfig, type MLSTMResult } from './nn/mlstm.js';
export { MLSTMBlock, SLSTMBlock, XLSTMStack, xlstmRecurrentCore, type MLSTMBlockConfig, type SLSTMBlockConfig, type XLSTMStackConfig } from './nn/xlstm.js';
export { LayerNorm, GroupNorm, type LayerNormConfig, type GroupNormConfig } from './nn/norm.js';
export { CausalConv1d, type CausalConv1dConfig } from './nn/conv1d.js';

// Training, data, model files and plots (issue 3). io/ and train/fit use node:fs (checkpoints, model directories): index.ts.
export { Optimizer, SGD, Adam, AdamW, RMSprop, clipGradNorm, clipGradValue, StepLR, CosineAnnealingLR, ReduceLROnPlateau,
  type OptimizerState, type SGDOptions, type AdamOptions, type RMSpropOptions, type LRSchedule, type ScheduleState, type PlateauOptions } from './optim/index.js';
export * as data from './data/index.js';
export { SequenceModel, checkArchitecture, detach, type Architecture, type TaskKind } from './models/sequenceModel.js';
export { cellFactories, registerCell, makeCell, type RecurrentBlock, type RecurrentSpec, type CellFactory } from './models/cells.js';
export { StreamingModel, type StepInput } from './models/stream.js';
export { generateText, sample as sampleLogits, type GenerateOptions } from './models/generate.js';
export type { Task, BatchResult, EvalResult } from './train/task.js';
export { ForecastTask } from './train/forecastTask.js';
export { ClassifyTask } from './train/classifyTask.js';
export { CharLMTask } from './train/charlmTask.js';
export { Progress, silentProgress, type ProgressSink } from './train/progress.js';
// In-memory safetensors (no file system): both entries.
export { parseSafetensors, serializeSafetensors, SafetensorsError, type StFile, type StTensor } from './io/safetensors.js';
export { ModelFileError } from './io/errors.js';
export { LIMITS } from './io/limits.js';
export { lineChart, lossCurveSvg, forecastSvg, type Series, type ChartOptions } from './plot/svg.js';
export { GRUStream, LSTMStream, type RecurrentStream } from './nn/lstmStream.js';
export * as lstmg from './lstmg/index.js';
