import { readFileSync } from 'node:fs';
import { fmt, sizeOf } from '../tensor/shape.js';

/** One tensor in a fixture file: shape and row-major values (non-finite values decoded). */
export interface FixtureTensor { shape: number[]; data: number[] }

/** A reference case (format: ../shared/fixtures/README.md). */
export interface Fixture {
  file: string;
  name: string;
  kind: string;
  description?: string;
  config: Record<string, unknown>;
  params: Record<string, FixtureTensor>;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  lossWeights: Record<string, FixtureTensor>;
  grads: Record<string, FixtureTensor>;
  tolerance: { atol: number; rtol: number };
}

function decodeNumber(v: unknown, where: string): number {
  if (typeof v === 'number') return v;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === 'NaN') return NaN;
  throw new Error(`${where}: expected a number or "Infinity"/"-Infinity"/"NaN", got ${JSON.stringify(v)}`);
}

function decodeTensors(obj: unknown, where: string): Record<string, FixtureTensor> {
  if (obj === undefined) return {};
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${where}: expected an object of tensors`);
  const out: Record<string, FixtureTensor> = {};
  for (const [name, t] of Object.entries(obj as Record<string, unknown>)) {
    const w = `${where}.${name}`;
    const tt = t as { shape?: unknown; data?: unknown };
    if (!tt || !Array.isArray(tt.shape) || !Array.isArray(tt.data)) throw new Error(`${w}: expected {shape: [...], data: [...]}`);
    const shape = tt.shape.map((d) => {
      if (!Number.isInteger(d) || (d as number) < 0) throw new Error(`${w}: bad dimension ${JSON.stringify(d)} in shape`);
      return d as number;
    });
    const data = tt.data.map((v, i) => decodeNumber(v, `${w}[${i}]`));
    if (data.length !== sizeOf(shape)) throw new Error(`${w}: shape ${fmt(shape)} needs ${sizeOf(shape)} values, data has ${data.length}`);
    out[name] = { shape, data };
  }
  return out;
}

export function loadFixture(file: string): Fixture {
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new Error(`${file}: not a readable JSON fixture (${(e as Error).message})`);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.kind !== 'string') throw new Error(`${file}: missing "kind"`);
  const tol = (o.tolerance ?? { atol: 1e-4, rtol: 1e-3 }) as { atol: number; rtol: number };
  return {
    file,
    name: typeof o.name === 'string' ? o.name : file,
    kind: o.kind,
    description: typeof o.description === 'string' ? o.description : undefined,
    config: (o.config ?? {}) as Record<string, unknown>,
    params: decodeTensors(o.params, 'params'),
    inputs: decodeTensors(o.inputs, 'inputs'),
    outputs: decodeTensors(o.outputs, 'outputs'),
    lossWeights: decodeTensors(o.lossWeights, 'lossWeights'),
    grads: decodeTensors(o.grads, 'grads'),
    tolerance: { atol: Number(tol.atol), rtol: Number(tol.rtol) },
  };
}
