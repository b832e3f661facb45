/** Element types. f32 is the default everywhere; f64 exists for gradient checks on `reference`. */
export type DType = 'f32' | 'f64' | 'i32';
export type TypedArray = Float32Array | Float64Array | Int32Array;

export function newArray(dtype: DType, length: number): TypedArray {
  switch (dtype) {
    case 'f32': return new Float32Array(length);
    case 'f64': return new Float64Array(length);
    case 'i32': return new Int32Array(length);
  }
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'f32' || dtype === 'f64';
}
