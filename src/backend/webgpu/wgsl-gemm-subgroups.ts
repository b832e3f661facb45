import { BINDINGS, PRELUDE } from './wgsl-core.js';

/**
 * The GEMM for adapters with the `subgroups` feature: the same contract and words as GEMM
 * (wgsl-core.ts), C[M, N] = alpha op(A) op(B) + beta C. A workgroup of 64 computes a block of 16
 * rows x 64 columns, a thread one column's 16 rows in registers. Along K, in chunks of the
 * subgroup's size sg: lane i loads op(A)[r, p0 + i] for the block's 16 rows, and every lane gets
 * the others' values by subgroupShuffle instead of a workgroup-memory tile and its barriers;
 * op(B)[p, col] is read straight from memory (consecutive lanes, consecutive columns when B is
 * not transposed). Correct for any subgroup size (lanes past K or past the matrix load 0, and
 * every lane runs every shuffle: subgroup operations need uniform control flow, so nothing
 * returns early).
 */
export const GEMM_SUBGROUPS = 'enable subgroups;\n' + PRELUDE + BINDINGS + /* wgsl */ `
const R: i32 = 16;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32,
  @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let tA = ui(0) != 0; let tB = ui(1) != 0; let M = ui(2); let N = ui(3); let K = ui(4);
  let aOff = ui(5); let lda = ui(6); let bOff = ui(7); let ldb = ui(8);
  let row0 = i32(wg.y) * R; let col = i32(wg.x) * 64 + i32(li);
  let sg = min(i32(sgSize), 64); let me = i32(lane); // a subgroup wider than the workgroup has 64 lanes
  var acc: array<f32, 16>;
  var a: array<f32, 16>; // a[r] = op(A)[row0 + r, p0 + me]
  for (var p0 = 0; p0 < K; p0 += sg) {
    let pa = p0 + me;
    for (var r = 0; r < R; r++) {
      let row = row0 + r;
      var v = 0.0;
      if (row < M && pa < K) { if (tA) { v = f1(aOff + pa * lda + row); } else { v = f1(aOff + row * lda + pa); } }
      a[r] = v;
    }
    for (var q = 0; q < sg; q++) {
      let p = p0 + q;
      var b = 0.0;
      if (col < N && p < K) { if (tB) { b = f2(bOff + col * ldb + p); } else { b = f2(bOff + p * ldb + col); } }
      for (var r = 0; r < R; r++) { acc[r] = acc[r] + subgroupShuffle(a[r], u32(q)) * b; }
    }
  }
  if (col < N) {
    let alpha = uf(11); let beta = uf(12);
    for (var r = 0; r < R; r++) {
      let row = row0 + r;
      if (row < M) {
        let ci = ui(9) + row * ui(10) + col;
        var v = alpha * acc[r];
        if (beta != 0.0) { v = v + beta * f3(ci); }
        w3(ci, v);
      }
    }
  }
}
`;
