// PLACEHOLDER: being written (composed CTC fallback).
import type { Kernels } from '../../backend/backend.js';
const todo = (n: string) => (_k: Kernels, ..._a: unknown[]): never => { throw new Error(`composed ${n}: not written yet`); };
export const ctc = todo('ctc');
