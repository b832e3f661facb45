/**
 * Peers are compared with Carousel only where they compute the same function: before timing, a
 * peer's timed model runs on the timed inputs beside a Carousel module with the same weights, on
 * the backend Carousel is timed on, and a peer row whose output differs by more than MAX_DIFF is
 * dropped (reported with the difference, not timed).
 */
import { noGrad } from '../src/autograd/tape.js';
import type { Backend } from '../src/backend/backend.js';
import { tensor } from '../src/tensor/create.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { ReferenceBackend } from '../src/backend/reference/index.js';
import { skipRow, valueRow, type Origin } from './measure.js';
import { carouselBackend } from './suites/carousel.js';
import type { BenchName, Result } from './types.js';

/** Largest |peer - Carousel| over the checked outputs for which a peer's row is kept. */
export const MAX_DIFF = 1e-4;

/** max |a - b|; a NaN on either side, or another length, is Infinity. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (!(e <= d)) d = Number.isNaN(e) ? Infinity : e;
  }
  return d;
}

/** The backend Carousel is timed on (wasm at these threads), or the reference backend where wasm is unavailable. */
export async function checkBackend(threads: number): Promise<{ be: Backend; name: string }> {
  const be = await carouselBackend('wasm', threads);
  if (typeof be !== 'string') {
    const build = (be as Backend & { build?: { build: string } }).build;
    return { be, name: `wasm${build ? `-${build.build}` : ''} t${threads}` };
  }
  return { be: new ReferenceBackend(), name: 'reference (wasm unavailable)' };
}

/**
 * The peer's rows for a bench: its timed rows when `diff` (its output against Carousel's, on
 * `against`) is at most MAX_DIFF, else a `skipped` row saying it was dropped; the difference
 * always (metric max_abs_diff_vs_carousel).
 */
export async function checked(o: Origin, bench: BenchName, diff: number, against: string, timed: () => Promise<Result[]>): Promise<Result[]> {
  const row = valueRow(o, bench, 'max_abs_diff_vs_carousel', Number.isFinite(diff) ? diff : Number.MAX_VALUE, 'abs');
  if (!(diff <= MAX_DIFF)) {
    return [skipRow(o, bench, `dropped: its output differs from Carousel's (${against}) by ${Number.isFinite(diff) ? diff.toExponential(2) : diff} > ${MAX_DIFF} on the timed model and inputs`), row];
  }
  return [...await timed(), row];
}

/** A streaming model's step-by-step state, as Carousel's LSTM and quantized LSTM streams give it. */
interface HcStream { step(x: Tensor): unknown; readonly h: Tensor; readonly c: Tensor; dispose(): void }

/**
 * The largest difference between Carousel's stream and an ONNX Runtime LSTM session (inputs X, h0,
 * c0; outputs Y_h, Y_c) in h and c after every step of the same inputs (xData[i] [1, input], xs[i]
 * its ORT tensor). Carousel's states are kept first, then ORT runs: one runtime at a time, as
 * their thread pools would compete for the cores. The stream is disposed.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function ortStreamDiff(session: any, stream: HcStream, xData: Float32Array[], xs: unknown[], zero: unknown, input: number, be: Backend): Promise<number> {
  const states: Float32Array[] = [];
  for (let i = 0; i < xData.length; i++) {
    noGrad(() => stream.step(tensor(xData[i], [1, input], { backend: be })));
    states.push(Float32Array.from(stream.h.dataSync()), Float32Array.from(stream.c.dataSync()));
  }
  stream.dispose();
  let diff = 0, h = zero, c = zero;
  for (let i = 0; i < xData.length; i++) {
    const r = await session.run({ X: xs[i], h0: h, c0: c });
    h = r.Y_h; c = r.Y_c;
    diff = Math.max(diff, maxDiff(states[2 * i], r.Y_h.data as Float32Array), maxDiff(states[2 * i + 1], r.Y_c.data as Float32Array));
  }
  return diff;
}

/** A timed unit: n steps of the ONNX Runtime stream from zero state. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ortStreamRun(session: any, xs: unknown[], zero: unknown): (n: number) => () => Promise<void> {
  return (n) => async () => {
    let h = zero, c = zero;
    for (let i = 0; i < n; i++) { const r = await session.run({ X: xs[i], h0: h, c0: c }); h = r.Y_h; c = r.Y_c; }
  };
}
