/**
 * Shi et al. (2015) turn each 64x64 Moving-MNIST frame into a 16x16 grid of non-overlapping 4x4
 * patches, i.e. a 16x16 image of 16 channels, so the ConvLSTM runs on a 16x smaller grid with
 * the same pixels. Channel py*p + px of grid cell (Y, X) is pixel (Y*p + py, X*p + px).
 */
export interface PatchGeometry {
  /** Frame side in pixels (square frames). */
  size: number;
  /** Patch side; size % patch === 0. */
  patch: number;
}

/** Frames [T, size, size] -> [T, patch², size/patch, size/patch]. */
export function toPatches(frames: Float32Array, T: number, g: PatchGeometry): Float32Array {
  return remap(frames, T, g, true);
}

/** The inverse: [T, patch², size/patch, size/patch] -> frames [T, size, size]. */
export function fromPatches(patched: ArrayLike<number>, T: number, g: PatchGeometry): Float32Array {
  return remap(patched, T, g, false);
}

/** Pixel (y, x) of frame t <-> channel (y % p) * p + x % p of grid cell (y / p, x / p), either way. */
function remap(src: ArrayLike<number>, T: number, g: PatchGeometry, toPatch: boolean): Float32Array {
  const { size: S, patch: p } = g, G = S / p;
  const out = new Float32Array(T * S * S);
  for (let t = 0; t < T; t++) {
    const base = t * S * S;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const ch = (y % p) * p + (x % p), cell = Math.floor(y / p) * G + Math.floor(x / p);
        const pixel = base + y * S + x, patched = base + ch * G * G + cell;
        if (toPatch) out[patched] = src[pixel];
        else out[pixel] = src[patched];
      }
    }
  }
  return out;
}
