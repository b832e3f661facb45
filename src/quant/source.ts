import type { QuantizedWeight } from './weight.js';

/**
 * Where a quantized layer gets its weights, by the layer's own parameter names (PyTorch's:
 * `weight_ih_l0`, `bias`): quantizing a float module reads its parameters; loading a model
 * directory reads the stored tensors.
 */
export interface WeightSource {
  /** The f32 values of a parameter kept in f32 (biases, peepholes, FGR's weight_gr). */
  float(name: string, shape: readonly number[]): ArrayLike<number>;
  /** A weight matrix [rows, cols] held quantized. */
  quant(name: string, rows: number, cols: number): QuantizedWeight;
}

/** The parameters a quantized layer holds quantized, by its module-local name. */
export interface HasQuantized {
  readonly quantized: ReadonlyMap<string, QuantizedWeight>;
}

export const INFERENCE_ONLY = 'a quantized model runs inference only: train the float model, then quantize it (carousel quantize)';
