// PLACEHOLDER: being written (composed sLSTM / mLSTM fallbacks).
import type { Kernels } from '../../backend/backend.js';
const todo = (n: string) => (_k: Kernels, ..._a: unknown[]): never => { throw new Error(`composed ${n}: not written yet`); };
export const slstmCellForward = todo('slstmCellForward');
export const slstmCellBackward = todo('slstmCellBackward');
export const mlstmForward = todo('mlstmForward');
export const mlstmBackward = todo('mlstmBackward');
