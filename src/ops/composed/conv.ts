// PLACEHOLDER: being written (composed im2col / col2im fallbacks).
import type { Kernels } from '../../backend/backend.js';
const todo = (n: string) => (_k: Kernels, ..._a: unknown[]): never => { throw new Error(`composed ${n}: not written yet`); };
export const im2col = todo('im2col');
export const col2im = todo('col2im');
