import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, Kernels } from '../src/backend/backend.js';
import { kernels } from '../src/ops/kernels.js';
import type { GemmKernel } from '../src/backend/webgpu/core.js';
import { reference, webgpuForSuite } from './backends.js';
import { randArray as randArrayOf, rng } from './util/random.js';

/**
 * The GEMM kernels of the webgpu backend against the reference's gemm: the plain 16x16 tiled one,
 * the 64x64 blocked one (auto's choice where M is at least 32 and N at least 64) and, where the device has
 * the `subgroups` feature (SwiftShader has), the subgroup one (auto's choice for smaller products there). Transposes, offsets, leading dimensions wider than the matrix, alpha and beta
 * (beta 0 never reads C: NaN there stays out), sizes off every tile and chunk, K = 0 and 1.
 */
const gpu = webgpuForSuite();
const rand = rng(13);
type Kernel = GemmKernel;
type Gpu = Backend & { gemmKernel: Kernel; hasSubgroups: boolean };

const SHAPES: [number, number, number][] = [[1, 1, 1], [3, 5, 0], [17, 9, 1], [37, 70, 19], [16, 64, 33], [130, 65, 100], [5, 200, 7], [64, 64, 16], [70, 129, 47]];

async function compare(k: Kernels, what: string, tA: boolean, tB: boolean, m: number, n: number, kk: number, alpha: number, beta: number): Promise<void> {
  const aOff = 3, bOff = 2, cOff = 5;
  const lda = (tA ? m : kk) + 2, ldb = (tB ? kk : n) + 1, ldc = n + 3;
  const A = randArrayOf(rand, aOff + (tA ? kk : m) * lda), B = randArrayOf(rand, bOff + (tB ? n : kk) * ldb);
  const C = randArrayOf(rand, cOff + m * ldc);
  if (beta === 0) C.fill(NaN); // beta 0: C is written, never read
  const run = (b: Kernels) => {
    const c = b.upload('f32', C);
    b.gemm(tA, tB, m, n, kk, alpha, b.upload('f32', A), aOff, lda, b.upload('f32', B), bOff, ldb, beta, c, cOff, ldc);
    return c;
  };
  const got = await k.read(run(k)), want = await kernels(reference).read(run(kernels(reference)));
  for (let r = 0; r < m; r++) {
    for (let j = 0; j < n; j++) {
      const i = cOff + r * ldc + j, g = got[i], e = want[i];
      assert.ok(Math.abs(g - e) <= 1e-5 + 1e-5 * Math.abs(e), `${what} C[${r}, ${j}]: got ${g}, want ${e}`);
    }
  }
  // Outside the m x n block (padding, offset) nothing is written.
  for (let i = 0; i < got.length; i++) {
    const inside = i >= cOff && (i - cOff) % ldc < n && Math.floor((i - cOff) / ldc) < m;
    if (!inside) assert.ok(Object.is(got[i], C[i]) || (Number.isNaN(got[i]) && Number.isNaN(C[i])), `${what}: C[${i}] outside the block changed`);
  }
}

describe('webgpu gemm kernels against the reference', { skip: gpu.skip }, () => {
  const g = gpu.backend as Gpu;
  const k = kernels(g);
  const kinds: Kernel[] = g.hasSubgroups ? ['tiled', 'blocked', 'subgroups', 'auto'] : ['tiled', 'blocked', 'auto'];

  it('chooses by size by default (auto); refuses an unknown kernel, and subgroups where the device has none', () => {
    assert.equal(g.gemmKernel, 'auto');
    assert.throws(() => { g.gemmKernel = 'fast' as Kernel; }, /expected one of auto, blocked, subgroups, tiled, got fast/);
    if (!g.hasSubgroups) assert.throws(() => { g.gemmKernel = 'subgroups'; }, /expected a device with the 'subgroups' feature/);
  });

  for (const kind of kinds) {
    it(`${kind}: every transpose, offsets and leading dimensions, alpha and beta, sizes off the tiles`, async () => {
      const before = g.gemmKernel;
      g.gemmKernel = kind;
      try {
        for (const [m, n, kk] of SHAPES) {
          for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
            await compare(k, `${kind} ${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${m}x${n}x${kk}`, tA, tB, m, n, kk, 1.5, (m + n) % 2 ? 0.5 : 0);
          }
        }
      } finally { g.gemmKernel = before; }
    });
  }
});
