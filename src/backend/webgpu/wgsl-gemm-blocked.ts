import { BINDINGS, PRELUDE } from './wgsl-core.js';

/**
 * The GEMM for large products: the same contract and words as GEMM (wgsl-core.ts),
 * C[M, N] = alpha op(A) op(B) + beta C. A workgroup of 16 x 16 threads computes a 64 x 64 block
 * of C, each thread 4 x 4 of it in registers (rows ty + 16 i, columns tx + 16 j: neighbouring
 * threads read neighbouring workgroup words and write neighbouring columns). Along K, in chunks
 * of 16, the workgroup stages op(A)'s 64 x 16 and op(B)'s 16 x 64 in workgroup memory, each
 * thread loading 4 values of each, in the order that makes consecutive threads read consecutive
 * memory for either transpose; a thread then does 16 x 16 multiply-adds per 8 workgroup reads,
 * where the 16 x 16 tiled kernel does 16 per 32. Values past the matrices load as 0.
 */
export const GEMM_BLOCKED = PRELUDE + BINDINGS + /* wgsl */ `
var<workgroup> as_: array<f32, 1024>; // [16][64]: as_[p * 64 + r] = op(A)[row0 + r, p0 + p]
var<workgroup> bs_: array<f32, 1024>; // [16][64]: bs_[p * 64 + c] = op(B)[p0 + p, col0 + c]
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let tA = ui(0) != 0; let tB = ui(1) != 0; let M = ui(2); let N = ui(3); let K = ui(4);
  let aOff = ui(5); let lda = ui(6); let bOff = ui(7); let ldb = ui(8);
  let tx = i32(l.x); let ty = i32(l.y); let tid = ty * 16 + tx;
  let row0 = i32(wg.y) * 64; let col0 = i32(wg.x) * 64;
  var acc: array<f32, 16>; // acc[i * 4 + j] = C[row0 + ty + 16 i, col0 + tx + 16 j]
  for (var p0 = 0; p0 < K; p0 += 16) {
    for (var e = 0; e < 4; e++) {
      let idx = tid + e * 256;
      // op(A)[r, p]: A[r, p] (p fastest in memory) or A[p, r] (r fastest).
      var r: i32; var p: i32;
      if (tA) { r = idx % 64; p = idx / 64; } else { p = idx % 16; r = idx / 16; }
      var av = 0.0;
      if (row0 + r < M && p0 + p < K) { if (tA) { av = f1(aOff + (p0 + p) * lda + row0 + r); } else { av = f1(aOff + (row0 + r) * lda + p0 + p); } }
      as_[p * 64 + r] = av;
      // op(B)[p, c]: B[p, c] (c fastest) or B[c, p] (p fastest).
      var c: i32; var q: i32;
      if (tB) { q = idx % 16; c = idx / 16; } else { c = idx % 64; q = idx / 64; }
      var bv = 0.0;
      if (col0 + c < N && p0 + q < K) { if (tB) { bv = f2(bOff + (col0 + c) * ldb + p0 + q); } else { bv = f2(bOff + (p0 + q) * ldb + col0 + c); } }
      bs_[q * 64 + c] = bv;
    }
    workgroupBarrier();
    for (var p = 0; p < 16; p++) {
      let a0 = as_[p * 64 + ty]; let a1 = as_[p * 64 + ty + 16]; let a2 = as_[p * 64 + ty + 32]; let a3 = as_[p * 64 + ty + 48];
      let b0 = bs_[p * 64 + tx]; let b1 = bs_[p * 64 + tx + 16]; let b2 = bs_[p * 64 + tx + 32]; let b3 = bs_[p * 64 + tx + 48];
      acc[0] += a0 * b0; acc[1] += a0 * b1; acc[2] += a0 * b2; acc[3] += a0 * b3;
      acc[4] += a1 * b0; acc[5] += a1 * b1; acc[6] += a1 * b2; acc[7] += a1 * b3;
      acc[8] += a2 * b0; acc[9] += a2 * b1; acc[10] += a2 * b2; acc[11] += a2 * b3;
      acc[12] += a3 * b0; acc[13] += a3 * b1; acc[14] += a3 * b2; acc[15] += a3 * b3;
    }
    workgroupBarrier();
  }
  let alpha = uf(11); let beta = uf(12);
  for (var i = 0; i < 4; i++) {
    let row = row0 + ty + 16 * i;
    if (row < M) {
      for (var j = 0; j < 4; j++) {
        let col = col0 + tx + 16 * j;
        if (col < N) {
          let ci = ui(9) + row * ui(10) + col;
          var v = alpha * acc[i * 4 + j];
          if (beta != 0.0) { v = v + beta * f3(ci); }
          w3(ci, v);
        }
      }
    }
  }
}
`;
