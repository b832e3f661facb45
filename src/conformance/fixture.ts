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

/** The keys of a fixture file: any other (a misspelled "output", "grad", "tolerence") is refused. */
const KEYS = ['name', 'kind', 'description', 'source', 'config', 'params', 'inputs', 'outputs', 'lossWeights', 'grads', 'tolerance'];

/** The tolerance when a file gives none (the format's default). */
export const DEFAULT_TOLERANCE = { atol: 1e-4, rtol: 1e-3 };
/**
 * The loosest tolerance a file may set: ten times the default. A file cannot make itself pass by
 * widening its own tolerance (float32 against PyTorch's float64 needs the default; the loosest
 * shipped fixture uses it).
 */
export const TOLERANCE_CAP = { atol: 1e-3, rtol: 1e-2 };

function decodeTolerance(v: unknown, file: string): { atol: number; rtol: number } {
  if (v === undefined) return { ...DEFAULT_TOLERANCE };
  const t = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(t).some((k) => k !== 'atol' && k !== 'rtol')) {
    throw new Error(`${file}: "tolerance" must be {"atol": number, "rtol": number}, got ${JSON.stringify(v)}`);
  }
  const out = { ...DEFAULT_TOLERANCE };
  for (const k of ['atol', 'rtol'] as const) {
    if (t[k] === undefined) continue;
    const x = t[k];
    if (typeof x !== 'number' || !(x >= 0)) throw new Error(`${file}: tolerance.${k} must be a number >= 0, got ${JSON.stringify(x)}`);
    if (x > TOLERANCE_CAP[k]) throw new Error(`${file}: tolerance.${k} = ${x} is looser than the cap ${TOLERANCE_CAP[k]} (atol <= ${TOLERANCE_CAP.atol}, rtol <= ${TOLERANCE_CAP.rtol})`);
    out[k] = x;
  }
  return out;
}

export function loadFixture(file: string): Fixture {
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(file, 'utf8')); } catch (e) {
    throw new Error(`${file}: not a readable JSON fixture (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file}: expected a JSON object, got ${JSON.stringify(raw)?.slice(0, 40)}`);
  const o = raw as Record<string, unknown>;
  if (typeof o.kind !== 'string') throw new Error(`${file}: missing "kind"`);
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length) throw new Error(`${file}: unknown key(s) ${unknown.map((k) => `"${k}"`).join(', ')}; expected some of ${KEYS.join(', ')}`);
  // What the case checks must be there: a file without expected outputs would pass by comparing nothing.
  const outputs = decodeTensors(o.outputs, 'outputs');
  if (Object.keys(outputs).length === 0) throw new Error(`${file}: expected "outputs" with at least one tensor, got ${JSON.stringify(o.outputs)}`);
  if (o.grads === undefined) throw new Error(`${file}: missing "grads" (an empty object only where an output is infinite)`);
  const grads = decodeTensors(o.grads, 'grads');
  const lossWeights = decodeTensors(o.lossWeights, 'lossWeights');
  if (Object.keys(grads).length > 0) {
    const want = Object.keys(outputs).sort().join(', '), got = Object.keys(lossWeights).sort().join(', ');
    if (want !== got) throw new Error(`${file}: expected "lossWeights" for exactly the outputs (${want}), got (${got})`);
  } else if (Object.values(outputs).every((t) => t.data.every(Number.isFinite))) {
    throw new Error(`${file}: "grads" is empty but every output is finite (only a case with an infinite output checks the forward value alone)`);
  }
  const tol = decodeTolerance(o.tolerance, file);
  return {
    file,
    name: typeof o.name === 'string' ? o.name : file,
    kind: o.kind,
    description: typeof o.description === 'string' ? o.description : undefined,
    config: (o.config ?? {}) as Record<string, unknown>,
    params: decodeTensors(o.params, 'params'),
    inputs: decodeTensors(o.inputs, 'inputs'),
    outputs,
    lossWeights,
    grads,
    tolerance: tol,
  };
}
