// PLACEHOLDER: being written (composed group norm, activations, causal conv1d fallbacks).
import type { Kernels } from '../../backend/backend.js';
const todo = (n: string) => (_k: Kernels, ..._a: unknown[]): never => { throw new Error(`composed ${n}: not written yet`); };
export const groupNormForward = todo('groupNormForward');
export const groupNormBackward = todo('groupNormBackward');
export const activationForward = todo('activationForward');
export const activationBackward = todo('activationBackward');
export const causalConv1dForward = todo('causalConv1dForward');
export const causalConv1dBackward = todo('causalConv1dBackward');
