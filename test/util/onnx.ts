// ONNX Runtime (onnxruntime-node, a devDependency) as the reference the ONNX tests compare against.

/** Inputs by name: plain values with a shape (integer inputs are int64 in the file). */
export type Feed = Record<string, { data: ArrayLike<number>; shape: readonly number[] }>;

type Ort = typeof import('onnxruntime-node');
let ort: Ort | null = null;
async function runtime(): Promise<Ort> {
  ort ??= ((await import('onnxruntime-node')) as unknown as { default: Ort }).default ?? (await import('onnxruntime-node'));
  return ort;
}

/** Run a model file in ONNX Runtime; each output's dims and values. */
export async function ortRun(bytes: Uint8Array, feed: Feed): Promise<Record<string, { dims: number[]; data: Float64Array }>> {
  const o = await runtime();
  const session = await o.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const name of session.inputNames) {
    const f = feed[name];
    if (!f) throw new Error(`ortRun: no value for input '${name}'`);
    const meta = session.inputMetadata.find((m) => m.name === name);
    const type = meta && 'type' in meta ? meta.type : 'float32';
    feeds[name] = type === 'int64' ? new o.Tensor('int64', BigInt64Array.from(Array.from(f.data, (v) => BigInt(v))), [...f.shape])
      : type === 'int32' ? new o.Tensor('int32', Int32Array.from(f.data), [...f.shape])
      : new o.Tensor('float32', Float32Array.from(f.data), [...f.shape]);
  }
  const r = await session.run(feeds);
  const out: Record<string, { dims: number[]; data: Float64Array }> = {};
  for (const [k, t] of Object.entries(r)) out[k] = { dims: [...t.dims], data: Float64Array.from(t.data as Float32Array) };
  await session.release();
  return out;
}

export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}
