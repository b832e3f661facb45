/**
 * Shape and stride bookkeeping for the strided kernels: drop size-1 dimensions and merge
 * neighbours that walk memory as one (in every operand), so most copies, broadcasts and
 * reductions reach the shaders with rank 1 or 2, under the shaders' rank limits.
 */

/** Dimensions of a walk: each dim's size and its stride in each operand. */
export interface Dims { shape: number[]; strides: number[][] }

/** Remove size-1 dims and merge dims i, i+1 where every operand has str[i] = str[i+1] * shape[i+1]. */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): Dims {
  const out: Dims = { shape: [], strides: strides.map(() => []) };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && strides.every((s, k) => out.strides[k][last] === s[d] * shape[d])) {
      out.shape[last] *= shape[d];
      strides.forEach((s, k) => { out.strides[k][last] = s[d]; });
      continue;
    }
    out.shape.push(shape[d]);
    strides.forEach((s, k) => out.strides[k].push(s[d]));
  }
  return out;
}

/** Row-major contiguous strides of a shape. */
export function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
  return s;
}

/**
 * Call `visit` once per index of the leading `lead` dims with the operands' base offsets moved
 * there, and the remaining dims: a walk of too high a rank for a shader as several dispatches.
 */
export function splitLeading(dims: Dims, lead: number, offsets: readonly number[],
  visit: (offsets: number[], rest: Dims) => void): void {
  const rest: Dims = { shape: dims.shape.slice(lead), strides: dims.strides.map((s) => s.slice(lead)) };
  const idx = new Array<number>(lead).fill(0);
  const total = dims.shape.slice(0, lead).reduce((a, b) => a * b, 1);
  for (let t = 0; t < total; t++) {
    let rem = t;
    for (let d = lead - 1; d >= 0; d--) { idx[d] = rem % dims.shape[d]; rem = Math.floor(rem / dims.shape[d]); }
    visit(offsets.map((o, k) => o + idx.reduce((a, i, d) => a + i * dims.strides[k][d], 0)), rest);
  }
}
