import type { Kernels, OptionalKernelName, OptionalKernels } from '../../backend/backend.js';
import { copy2d } from './copy.js';
import { softmax, softmaxBackward } from './softmax.js';
import { lstmCellBackward, lstmCellForward, lstmStep, lstmStepBackward } from './lstm.js';
import { gruCellBackward, gruCellForward } from './gru.js';
import { gemmPrepared, linear2, prepareB, releasePrepared } from './packing.js';
import { mlstmBackward, mlstmForward, slstmCellBackward, slstmCellForward } from './xlstm.js';
import { activationBackward, activationForward, causalConv1dBackward, causalConv1dForward, groupNormBackward, groupNormForward } from './norm.js';
import { col2im, im2col } from './conv.js';
import { ctc } from './ctc.js';
import { adamStep, flushSubnormal } from './optim.js';
import { anyNonFinite } from './check.js';
import { qgemm16, qgemmInt8 } from './quant.js';

/**
 * A composed fallback: the optional kernel's arguments after `k`, the backend with every kernel
 * present (its own or composed), so a fallback may call other optional kernels.
 */
export type Composed = {
  [K in OptionalKernelName]: (k: Kernels, ...args: Parameters<OptionalKernels[K]>) => ReturnType<OptionalKernels[K]>;
};

/** ONE composed fallback per optional kernel, each built from core kernels (src/backend/backend.ts). */
export const composed: Composed = {
  copy2d,
  softmax, softmaxBackward,
  lstmCellForward, lstmCellBackward, lstmStep, lstmStepBackward,
  gruCellForward, gruCellBackward,
  prepareB, gemmPrepared, releasePrepared, linear2,
  slstmCellForward, slstmCellBackward, mlstmForward, mlstmBackward,
  groupNormForward, groupNormBackward, activationForward, activationBackward, causalConv1dForward, causalConv1dBackward,
  im2col, col2im,
  ctc,
  adamStep, flushSubnormal,
  anyNonFinite,
  qgemmInt8, qgemm16,
};
