// Child process of test/wasm-builds.test.ts: the kernel build is chosen once per process (from
// CAROUSEL_WASM_BUILD or the engine), so each build is looked at in a process of its own.
// Prints one JSON line: the build chosen, the module's own answer, and a product whose every
// element is 2^-11 + 2^-24 when a*b+c is fused (one rounding) and 2^-11 when it is not, from each
// GEMM kernel (matrix-vector, dot, blocked) on 1 thread and split over 2.
import { WasmBackend } from '../../src/backend/wasm/index.js';

const u = 1 + 2 ** -12; // u * u = 1 + 2^-11 + 2^-24: its last bit survives only a fused multiply-add
/** C = A op(B) with rows of A (1, 0, 0, 0, u) and columns of op(B) (-1, 0, 0, 0, u): the two nonzero
 * products 4 apart in k, so that kernels vectorised along k (dot) add them in one lane too. */
function product(w: WasmBackend, m: number, transB: boolean): number[] {
  const n = 48, k = 5;
  const A = new Float32Array(m * k), B = new Float32Array(k * n);
  for (let i = 0; i < m; i++) { A[i * k] = 1; A[i * k + 4] = u; }
  for (let j = 0; j < n; j++) {
    if (transB) { B[j * k] = -1; B[j * k + 4] = u; } else { B[j] = -1; B[4 * n + j] = u; }
  }
  const a = w.upload('f32', A), b = w.upload('f32', B), c = w.upload('f32', new Float32Array(m * n));
  w.gemm(false, transB, m, n, k, 1, a, 0, k, b, 0, transB ? k : n, 0, c, 0, n);
  return [...new Set(w.readSync(c))];
}

try {
  const w1 = new WasmBackend({ threads: 1 }), w2 = new WasmBackend({ threads: 2 });
  w2.parallelMinMacs = 0;
  await w2.ready();
  const kernels: Record<string, [number, boolean]> = { gemv: [2, false], dot: [8, true], blocked: [64, false] };
  const values: Record<string, number[]> = {};
  for (const [name, [m, transB]] of Object.entries(kernels)) {
    values[`${name} 1 thread`] = product(w1, m, transB);
    values[`${name} 2 threads`] = product(w2, m, transB);
  }
  console.log(JSON.stringify({ build: w1.build.build, reason: w1.build.reason, kernelBuild: w1.kernels.kernel_build(), values }));
  w1.terminate(); w2.terminate();
} catch (e) {
  console.log(JSON.stringify({ error: (e as Error).message }));
}
