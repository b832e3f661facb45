/**
 * The sizes Carousel accepts, in one place. A model.json, a checkpoint or a constructor call
 * asking for more is refused with the number and the limit before anything is allocated, so a
 * few hundred hostile bytes cannot make the process allocate gigabytes or loop for hours.
 *
 * Why these numbers: the wasm backend addresses 4 GiB (wasm32), and training holds about four
 * copies of the parameters (weights, gradients, two Adam moments), so 2^28 f32 parameters is
 * already all of it; no layer of a recurrent model needs to be wider than 65536 or deeper than
 * 256 layers.
 */
export const LIMITS = {
  /** Widest layer: inputSize, hiddenSize, outputSize, embedding width, vocabulary size. */
  width: 65536,
  /** Most stacked layers (or xLSTM blocks). */
  layers: 256,
  /** Most trainable values in one model (or one module). */
  parameters: 2 ** 28,
  /** Largest weights file: every parameter as F64, plus the header. */
  weightsBytes: 2 ** 31 + 2 ** 27,
  /** Largest checkpoint: weights, optimizer moments, best weights and carried state. */
  checkpointBytes: 2 ** 32 - 1,
  /** Largest model.json (vocabulary, labels and normalization of the widest model fit easily). */
  metaBytes: 2 ** 26,
} as const;

function refuse(what: string, n: number, limit: number, unit: string): never {
  throw new RangeError(`${what}: ${n} ${unit} is beyond the limit of ${limit} (see LIMITS in src/io/limits.ts)`);
}

/** A layer width within LIMITS.width (the caller has checked it is a positive integer). */
export function checkWidth(what: string, n: number): number {
  if (n > LIMITS.width) refuse(what, n, LIMITS.width, 'units');
  return n;
}

export function checkLayers(what: string, n: number): number {
  if (n > LIMITS.layers) refuse(what, n, LIMITS.layers, 'layers');
  return n;
}

/** A parameter count computed from a configuration, before any parameter is made. */
export function checkParameterCount(what: string, n: number): number {
  if (n > LIMITS.parameters) refuse(what, n, LIMITS.parameters, 'parameters');
  return n;
}
