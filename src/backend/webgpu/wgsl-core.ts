/**
 * WGSL of the core kernels. Few pipelines, each generic over shapes: offsets, strides, sizes and
 * op codes arrive as uniform values (a 256-byte slot per dispatch: 64 words, read by `ui`/`uf`),
 * never as binding offsets, so one compiled pipeline (per aliasing pattern, see `bindings`)
 * serves every call (SwiftShader compiles slowly; a pipeline per shape would dominate). Every
 * storage buffer is bound as raw 32-bit words (array<u32>, read_write) and read as f32 or i32 by
 * dtype code (0 f32, 1 i32). NaN and infinity are tested on the bits: WGSL lets compilers assume
 * finite values in comparisons.
 */

/** Uniform slot, 1-D dispatch and float helpers shared by every shader. */
export const PRELUDE = /* wgsl */ `
struct U { w: array<vec4<u32>, 16> }
@group(0) @binding(0) var<uniform> u: U;
fn uw(i: i32) -> u32 { return u.w[u32(i) >> 2u][u32(i) & 3u]; }
fn ui(i: i32) -> i32 { return bitcast<i32>(uw(i)); }
fn uf(i: i32) -> f32 { return bitcast<f32>(uw(i)); }
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nonfinite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }
// Word 63 is always 0: a run-time value keeps the NaN from being a (rejected) constant expression.
fn nan_() -> f32 { return bitcast<f32>(0x7fc00000u | uw(63)); }
fn inf_() -> f32 { return bitcast<f32>(0x7f800000u | uw(63)); }
// exp and log with IEEE results at the edges (SPIR-V leaves log(0) and overflow undefined).
fn exp_(x: f32) -> f32 { if (x > 88.72284) { return inf_(); } if (x < -103.97208) { return 0.0; } return exp(x); }
fn log_(x: f32) -> f32 { if (x == 0.0) { return -inf_(); } if (x < 0.0) { return nan_(); } if (x > 3.4028234e38) { return x; } return log(x); }
fn lin(g: vec3<u32>, nw: vec3<u32>) -> i32 { return i32(g.x + g.y * nw.x * 64u); }
// Two branches so that exp never overflows.
fn sigm(x: f32) -> f32 { if (x >= 0.0) { return 1.0 / (1.0 + exp_(-x)); } let e = exp_(x); return e / (1.0 + e); }
fn tanh_(x: f32) -> f32 { if (abs(x) > 9.0) { return sign(x); } return tanh(x); }
fn log1p_(z: f32) -> f32 { let v = 1.0 + z; if (v == 1.0) { return z; } return log(v) * z / (v - 1.0); }
fn softplus(x: f32) -> f32 { if (x > 0.0) { return x + log1p_(exp_(-x)); } return log1p_(exp_(x)); }
`;

/** Where a shader's storage bindings go: replaced by `bindings(pattern)` when a pipeline is made. */
export const BINDINGS = '/*BINDINGS*/';

/**
 * Storage bindings for one aliasing pattern: a kernel's arguments are logical buffers 1..n, some
 * maybe the same buffer, and WebGPU rejects a buffer bound twice for writing in one dispatch. So
 * each distinct buffer is bound once, as p1, p2, ..., and pattern[L - 1] names the binding that
 * logical buffer L is; the backend compiles (once) a pipeline per pattern met, a handful per
 * kernel. Logical buffer L is read and written through ldL/stL (f32 or i32 by dtype code,
 * converted), fL/wL (f32) and rL/sL (raw words).
 */
export function bindings(pattern: readonly number[]): string {
  let s = '';
  for (let i = 1; i <= Math.max(...pattern); i++) s += `@group(0) @binding(${i}) var<storage, read_write> p${i}: array<u32>;\n`;
  pattern.forEach((p, k) => {
    const L = k + 1;
    s += `fn r${L}(i: i32) -> u32 { return p${p}[i]; }
fn s${L}(i: i32, v: u32) { p${p}[i] = v; }
fn ld${L}(i: i32, dt: i32) -> f32 { let v = r${L}(i); if (dt == 1) { return f32(bitcast<i32>(v)); } return bitcast<f32>(v); }
fn st${L}(i: i32, x: f32, dt: i32) { if (dt == 1) { s${L}(i, bitcast<u32>(i32(x))); } else { s${L}(i, bitcast<u32>(x)); } }
fn f${L}(i: i32) -> f32 { return bitcast<f32>(r${L}(i)); }
fn w${L}(i: i32, x: f32) { s${L}(i, bitcast<u32>(x)); }
`;
  });
  return s;
}

/** Elementwise maps. Words: 0 mode (0 unary, 1 unaryBackward, 2 affine, 3 fill), 1 op, 2 n, 3 xOff,
 * 4 outOff, 5 accumulate, 6 out dtype, 7 x dtype, 8 alpha / fill value, 9 beta, 10 fill value as i32.
 * Bindings: x, y, dy, out. */
export const MAP = PRELUDE + BINDINGS + /* wgsl */ `
fn unary(op: i32, x: f32) -> f32 {
  switch op {
    case 0: { return -x; }
    case 1: { return exp_(x); }
    case 2: { return log_(x); }
    case 3: { if (x < 0.0) { return nan_(); } return sqrt(x); }
    case 4: { return abs(x); }
    case 5: { return x * x; }
    case 6: { return sigm(x); }
    case 7: { return tanh_(x); }
    case 8: { if (x > 0.0) { return x; } if (isnan_(x)) { return x; } return 0.0; }
    case 9: { return softplus(x); }
    default: { return -softplus(-x); }
  }
}
fn deriv(op: i32, x: f32, y: f32) -> f32 {
  switch op {
    case 0: { return -1.0; }
    case 1: { return y; }
    case 2: { return 1.0 / x; }
    case 3: { return 0.5 / y; }
    case 4: { if (x > 0.0) { return 1.0; } if (x < 0.0) { return -1.0; } return 0.0; }
    case 5: { return 2.0 * x; }
    case 6: { return y * (1.0 - y); }
    case 7: { return 1.0 - y * y; }
    case 8: { if (x > 0.0) { return 1.0; } return 0.0; }
    case 9: { return sigm(x); }
    default: { return sigm(-x); }
  }
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = lin(g, nw);
  if (i >= ui(2)) { return; }
  let mode = ui(0); let op = ui(1); let o = ui(4) + i; let acc = ui(5) != 0; let odt = ui(6);
  if (mode == 3) {
    if (odt == 1) { s4(o, bitcast<u32>(ui(10))); } else { s4(o, bitcast<u32>(uf(8))); }
    return;
  }
  var r: f32;
  if (mode == 0) { r = unary(op, ld1(ui(3) + i, ui(7))); }
  else if (mode == 1) {
    let dy = f3(i);
    if (dy == 0.0) { r = 0.0; } else { r = dy * deriv(op, f1(i), f2(i)); }
  } else { r = uf(8) * ld1(ui(3) + i, ui(7)) + uf(9); }
  if (acc) { r = r + ld4(o, odt); }
  st4(o, r, odt);
}
`;

/** copyStrided and reduce. Words: 0 op (0 copy, 1 copy accumulating, 2 sum, 3 max, 4 min), 1 outer count
 * (threads), 2 inner count, 3 outer rank, 4 inner rank, 5 sOff, 6 dOff, 7 src dtype, 8 dst dtype;
 * outer dims (dst stride nonzero): shape 12+k, src stride 18+k, dst stride 24+k; inner dims (dst
 * stride 0, walked by each thread in row-major order): shape 30+k, src stride 36+k. k < 6.
 * Bindings: src, dst. */
export const STRIDED = PRELUDE + BINDINGS + /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(g, nw);
  if (t >= ui(1)) { return; }
  let op = ui(0); let nIn = ui(2); let ro = ui(3); let ri = ui(4); let sdt = ui(7); let ddt = ui(8);
  var s = ui(5); var d = ui(6); var rem = t;
  for (var k = ro - 1; k >= 0; k--) {
    let n = ui(12 + k); let q = rem % n; rem = rem / n;
    s += q * ui(18 + k); d += q * ui(24 + k);
  }
  let ints = sdt == 1 && ddt == 1;
  if (op == 0) {
    // The last value that lands on d wins (row-major order), as on the CPU.
    var sl = s;
    for (var k = 0; k < ri; k++) { sl += (ui(30 + k) - 1) * ui(36 + k); }
    if (sdt == ddt) { s2(d, r1(sl)); } else { st2(d, ld1(sl, sdt), ddt); }
    return;
  }
  var idx = array<i32, 6>(0, 0, 0, 0, 0, 0);
  var si = s;
  var af: f32 = 0.0; var ai: i32 = 0; var first = op != 1;
  if (op == 1) { if (ints) { ai = bitcast<i32>(r2(d)); } else { af = ld2(d, ddt); } }
  for (var j = 0; j < nIn; j++) {
    if (ints) {
      let v = bitcast<i32>(r1(si));
      if (first) { ai = v; first = false; }
      else if (op <= 2) { ai = ai + v; }
      else if (op == 3) { ai = max(ai, v); }
      else { ai = min(ai, v); }
    } else {
      let v = ld1(si, sdt);
      if (first) { af = v; first = false; }
      else if (op <= 2) { af = af + v; }
      else if (isnan_(af) || isnan_(v)) { af = nan_(); }
      else if (op == 3) { af = select(af, v, v > af); }
      else { af = select(af, v, v < af); }
    }
    var k = ri - 1;
    loop {
      if (k < 0) { break; }
      idx[k] += 1; si += ui(36 + k);
      if (idx[k] < ui(30 + k)) { break; }
      si -= ui(36 + k) * ui(30 + k); idx[k] = 0; k--;
    }
  }
  if (ints) { s2(d, bitcast<u32>(ai)); } else { st2(d, af, ddt); }
}
`;

/** binary. Words: 0 op, 1 n, 2 rank, 3 aOff, 4 bOff, 5 outOff, 6 a dtype, 7 b dtype, 8 out dtype;
 * shape 12+k, a stride 20+k, b stride 28+k (k < 8); out contiguous. Bindings: a, b, out. */
export const BINARY = PRELUDE + BINDINGS + /* wgsl */ `
fn fop(op: i32, a: f32, b: f32) -> f32 {
  if (op >= 4 && (isnan_(a) || isnan_(b))) {
    if (op == 4 || op == 5) { return b; }   // (a >= b ? a : b) with a NaN operand gives b
    if (op == 7) { return 1.0; }
    return 0.0;
  }
  switch op {
    case 0: { return a + b; }
    case 1: { return a - b; }
    case 2: { return a * b; }
    case 3: { return a / b; }
    case 4: { return select(b, a, a >= b); }
    case 5: { return select(b, a, a <= b); }
    case 6: { return select(0.0, 1.0, a == b); }
    case 7: { return select(0.0, 1.0, a != b); }
    case 8: { return select(0.0, 1.0, a < b); }
    case 9: { return select(0.0, 1.0, a <= b); }
    case 10: { return select(0.0, 1.0, a > b); }
    default: { return select(0.0, 1.0, a >= b); }
  }
}
fn iop(op: i32, a: i32, b: i32) -> i32 {
  switch op {
    case 0: { return a + b; }
    case 1: { return a - b; }
    case 2: { return a * b; }
    case 3: { if (b == 0) { return 0; } return a / b; }
    case 4: { return max(a, b); }
    case 5: { return min(a, b); }
    case 6: { return select(0, 1, a == b); }
    case 7: { return select(0, 1, a != b); }
    case 8: { return select(0, 1, a < b); }
    case 9: { return select(0, 1, a <= b); }
    case 10: { return select(0, 1, a > b); }
    default: { return select(0, 1, a >= b); }
  }
}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(g, nw);
  if (t >= ui(1)) { return; }
  var ia = ui(3); var ib = ui(4); var rem = t;
  for (var k = ui(2) - 1; k >= 0; k--) {
    let n = ui(12 + k); let q = rem % n; rem = rem / n;
    ia += q * ui(20 + k); ib += q * ui(28 + k);
  }
  let op = ui(0); let adt = ui(6); let bdt = ui(7); let odt = ui(8); let o = ui(5) + t;
  if (adt == 1 && bdt == 1) {
    let r = iop(op, bitcast<i32>(r1(ia)), bitcast<i32>(r2(ib)));
    if (odt == 1) { s3(o, bitcast<u32>(r)); } else { w3(o, f32(r)); }
    return;
  }
  st3(o, fop(op, ld1(ia, adt), ld2(ib, bdt)), odt);
}
`;

/** gemm, 16x16 tiles through workgroup memory. Words: 0 transA, 1 transB, 2 m, 3 n, 4 k, 5 aOff,
 * 6 lda, 7 bOff, 8 ldb, 9 cOff, 10 ldc, 11 alpha, 12 beta. Bindings: a, b, c. */
export const GEMM = PRELUDE + BINDINGS + /* wgsl */ `
var<workgroup> ta: array<array<f32, 16>, 16>;
var<workgroup> tb: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>) {
  let tA = ui(0) != 0; let tB = ui(1) != 0; let M = ui(2); let N = ui(3); let K = ui(4);
  let aOff = ui(5); let lda = ui(6); let bOff = ui(7); let ldb = ui(8);
  let lx = i32(l.x); let ly = i32(l.y);
  let row = i32(wg.y) * 16 + ly; let col = i32(wg.x) * 16 + lx;
  var acc: f32 = 0.0;
  for (var p0 = 0; p0 < K; p0 += 16) {
    // ta[ly][lx] = op(A)[row, p0 + lx]; tb[ly][lx] = op(B)[p0 + ly, col]
    let pa = p0 + lx;
    var av: f32 = 0.0;
    if (row < M && pa < K) { if (tA) { av = f1(aOff + pa * lda + row); } else { av = f1(aOff + row * lda + pa); } }
    ta[ly][lx] = av;
    let pb = p0 + ly;
    var bv: f32 = 0.0;
    if (col < N && pb < K) { if (tB) { bv = f2(bOff + col * ldb + pb); } else { bv = f2(bOff + pb * ldb + col); } }
    tb[ly][lx] = bv;
    workgroupBarrier();
    for (var q = 0; q < 16; q++) { acc = acc + ta[ly][q] * tb[q][lx]; }
    workgroupBarrier();
  }
  if (row < M && col < N) {
    let ci = ui(9) + row * ui(10) + col;
    let beta = uf(12);
    var r = uf(11) * acc;
    if (beta != 0.0) { r = r + beta * f3(ci); }
    w3(ci, r);
  }
}
`;

/** gatherRows (mode 0, a thread per element) and scatterAddRows (mode 1, a thread per column,
 * rows in order). Words: 0 mode, 1 n, 2 rowLen, 3 sOff, 4 dOff, 5 dtype, 6 source rows (gather
 * bound). Bindings: src, idx, dst. */
export const ROWS = PRELUDE + BINDINGS + /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(g, nw);
  let n = ui(1); let L = ui(2); let sOff = ui(3); let dOff = ui(4);
  if (ui(0) == 0) {
    if (t >= n * L) { return; }
    let r = t / L; let j = t % L;
    let ix = bitcast<i32>(r2(r));
    if (ix < 0 || ix >= ui(6)) { return; }
    s3(dOff + t, r1(sOff + ix * L + j));
    return;
  }
  if (t >= L) { return; }
  let dt = ui(5);
  for (var r = 0; r < n; r++) {
    let ix = bitcast<i32>(r2(r));
    let di = dOff + ix * L + t;
    if (dt == 1) { s3(di, bitcast<u32>(bitcast<i32>(r3(di)) + bitcast<i32>(r1(sOff + r * L + t)))); }
    else { w3(di, f3(di) + f1(sOff + r * L + t)); }
  }
}
`;
