import type { OpCompiler } from '../node.js';
import { basicOps } from './basic.js';
import { linearOps } from './linear.js';
import { recurrentOps } from './recurrent.js';
import { shapeOps } from './shape.js';

/** Every ONNX operator (default domain) loadOnnx runs, by op_type. */
export const ONNX_OPS: ReadonlyMap<string, OpCompiler> = new Map(Object.entries({ ...basicOps, ...shapeOps, ...linearOps, ...recurrentOps }));
