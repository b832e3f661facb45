import { BINDINGS, PRELUDE } from './wgsl-core.js';

/**
 * WGSL of the optional kernel sets (src/backend/backend.ts): optimizer updates and checks,
 * softmax, the LSTM cell with every LstmCellOptions, the GRU cell. One thread per element (a
 * workgroup per row for softmax), the same formulas as src/backend/reference in f32. Word 63 is
 * the prelude's (always 0).
 */

/** adamStep (mode 0), flushSubnormal (1), anyNonFinite (2, one workgroup). Words: 0 mode, 1 n,
 * 2 amsgrad, 3 decoupled, 4 xOff, 5 outOff, 6 out dtype; floats 8 lr, 9 beta1, 10 beta2, 11 eps,
 * 12 weight decay, 13 cstep = -lr / (1 - beta1^t), 14 isb2 = 1 / sqrt(1 - beta2^t), 15 1 - beta1,
 * 16 1 - beta2 (from the host's f64 betas: 1 - f32(0.999) is 1.3e-5 off 0.001, a bias in every v).
 * Bindings: p (x), g, m, v, vmax (out). */
export const OPTIM = PRELUDE + BINDINGS + /* wgsl */ `
const TINY: f32 = 1.1754943508222875e-38; // the smallest normal f32
var<workgroup> bad: array<u32, 64>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gi: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let mode = ui(0); let n = ui(1);
  if (mode == 2) {
    var any = 0u;
    for (var i = i32(l); i < n; i += 64) { if (nonfinite(f1(ui(4) + i))) { any = 1u; } }
    bad[l] = any;
    workgroupBarrier();
    if (l == 0u) {
      var r = 0u;
      for (var k = 0u; k < 64u; k++) { r = r | bad[k]; }
      st5(ui(5), f32(r), ui(6));
    }
    return;
  }
  let i = lin(gi, nw);
  if (i >= n) { return; }
  if (mode == 1) { if (abs(f1(i)) < TINY) { w1(i, 0.0); } return; }
  let lr = uf(8); let b1 = uf(9); let b2 = uf(10); let eps = uf(11); let wd = uf(12);
  var p = f1(i); var g = f2(i);
  if (ui(3) != 0) { p = p + (-lr * wd) * p; } else { g = g + wd * p; }
  var m = b1 * f3(i) + uf(15) * g;
  var v = b2 * f4(i) + uf(16) * g * g;
  if (abs(m) < TINY) { m = 0.0; }
  if (v < TINY) { v = 0.0; }
  w3(i, m); w4(i, v);
  if (ui(2) != 0) { let x = f5(i); if (x >= v) { v = x; } w5(i, v); }
  w1(i, p + uf(13) * (m / (sqrt(v) * uf(14) + eps)));
}
`;

/** softmax / logSoftmax forward (mode 0) and backward (mode 1), a workgroup of 64 per row.
 * Words: 0 mode, 1 rows, 2 cols, 3 log, 4 accumulate. Bindings: x | y, out | dy, dx. */
export const SOFTMAX = PRELUDE + BINDINGS + /* wgsl */ `
var<workgroup> part: array<f32, 64>;
fn rowMax(v: f32, l: u32) -> f32 {
  part[l] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (l < s) { let o = part[l + s]; if (o > part[l]) { part[l] = o; } }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}
fn rowSum(v: f32, l: u32) -> f32 {
  part[l] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (l < s) { part[l] = part[l] + part[l + s]; }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier();
  return r;
}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let row = i32(wg.x + wg.y * nw.x);
  if (row >= ui(1)) { return; } // uniform across the workgroup: the barriers stay uniform
  let C = ui(2); let o = row * C; let lg = ui(3) != 0;
  if (ui(0) == 0) {
    var mx = -inf_();
    for (var j = i32(l); j < C; j += 64) { let v = f1(o + j); if (v > mx) { mx = v; } }
    mx = rowMax(mx, l);
    if (mx == -inf_()) { mx = 0.0; } // a row of -inf: keep NaN out of the shift
    var s = 0.0;
    for (var j = i32(l); j < C; j += 64) { s += exp_(f1(o + j) - mx); }
    s = rowSum(s, l);
    let ls = log_(s) + mx;
    for (var j = i32(l); j < C; j += 64) {
      if (lg) { w2(o + j, f1(o + j) - ls); } else { w2(o + j, exp_(f1(o + j) - mx) / s); }
    }
    return;
  }
  var s = 0.0;
  for (var j = i32(l); j < C; j += 64) { if (lg) { s += f2(o + j); } else { s += f2(o + j) * f1(o + j); } }
  s = rowSum(s, l);
  for (var j = i32(l); j < C; j += 64) {
    let y = f1(o + j); let dy = f2(o + j);
    var g: f32;
    if (lg) { g = dy - exp_(y) * s; } else { g = y * (dy - s); }
    if (ui(4) != 0) { g = g + f3(o + j); }
    w3(o + j, g);
  }
}
`;

/** LSTM cell forward (mode 0) and backward (mode 1), a thread per (row, unit). Words: 0 mode,
 * 1 rows, 2 H, 3 gOff, 4 cpOff, 5 cOff, 6 hOff (forward) / dhOff (backward), 7 ldh, 8-11 blocks
 * of i, f, g, o (-1: absent), 12 blocks present G, 13 coupled forget gate, 14 input activation,
 * 15 output activation, 16 peepholes, 17 peepOff, 18 gate recurrence, 19 dcOff, 20 dgOff.
 * Bindings, forward: gates, cPrev, cOut, hOut, peep; backward: gates, cPrev, c, dh, peep, dc, dGates. */
export const LSTM = PRELUDE + BINDINGS + /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gi: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gi, nw);
  let H = ui(2);
  if (t >= ui(1) * H) { return; }
  let b = t / H; let j = t % H;
  let bi = ui(8); let bf = ui(9); let bg = ui(10); let bo = ui(11);
  let g0 = ui(3) + b * ui(12) * H;
  let coupled = ui(13) != 0; let inAct = ui(14) != 0; let outAct = ui(15) != 0;
  let peep = ui(16) != 0; let pO = ui(17);
  let cpj = f2(ui(4) + b * H + j);
  if (ui(0) == 0) {
    var i = 1.0; var f = 1.0; var o = 1.0;
    if (bi >= 0) { var a = f1(g0 + bi * H + j); if (peep) { a += f5(pO + j) * cpj; } i = sigm(a); w1(g0 + bi * H + j, i); }
    if (bf >= 0) { var a = f1(g0 + bf * H + j); if (peep) { a += f5(pO + H + j) * cpj; } f = sigm(a); w1(g0 + bf * H + j, f); }
    else if (coupled) { f = 1.0 - i; }
    let ag = f1(g0 + bg * H + j);
    var g = ag;
    if (inAct) { g = tanh_(ag); }
    w1(g0 + bg * H + j, g);
    let c = f * cpj + i * g;
    if (bo >= 0) { var a = f1(g0 + bo * H + j); if (peep) { a += f5(pO + 2 * H + j) * c; } o = sigm(a); w1(g0 + bo * H + j, o); }
    w3(ui(5) + b * H + j, c);
    var sc = c;
    if (outAct) { sc = tanh_(c); }
    w4(ui(6) + b * ui(7) + j, o * sc);
    return;
  }
  let rec = ui(18) != 0;
  let d0 = ui(20) + b * ui(12) * H; let dd = ui(19) + b * H + j;
  var i = 1.0; if (bi >= 0) { i = f1(g0 + bi * H + j); }
  var f = 1.0; if (bf >= 0) { f = f1(g0 + bf * H + j); } else if (coupled) { f = 1.0 - i; }
  let g = f1(g0 + bg * H + j);
  var o = 1.0; if (bo >= 0) { o = f1(g0 + bo * H + j); }
  let cj = f3(ui(5) + b * H + j);
  var sc = cj; var dsc = 1.0;
  if (outAct) { sc = tanh_(cj); dsc = 1.0 - sc * sc; }
  let dhj = f4(ui(6) + b * ui(7) + j);
  var dAo = 0.0;
  if (bo >= 0) { var r = 0.0; if (rec) { r = f7(d0 + bo * H + j); } dAo = (dhj * sc + r) * o * (1.0 - o); }
  var dcj = f6(dd) + dhj * o * dsc;
  if (peep && bo >= 0) { dcj += dAo * f5(pO + 2 * H + j); }
  var dAi = 0.0; var dAf = 0.0;
  if (bi >= 0) {
    var gg = g; if (coupled) { gg = g - cpj; }
    var r = 0.0; if (rec) { r = f7(d0 + bi * H + j); }
    dAi = (dcj * gg + r) * i * (1.0 - i);
    w7(d0 + bi * H + j, dAi);
  }
  if (bf >= 0) {
    var r = 0.0; if (rec) { r = f7(d0 + bf * H + j); }
    dAf = (dcj * cpj + r) * f * (1.0 - f);
    w7(d0 + bf * H + j, dAf);
  }
  let dg = dcj * i;
  if (inAct) { w7(d0 + bg * H + j, dg * (1.0 - g * g)); } else { w7(d0 + bg * H + j, dg); }
  if (bo >= 0) { w7(d0 + bo * H + j, dAo); }
  var dcp = dcj * f;
  if (peep) {
    if (bi >= 0) { dcp += dAi * f5(pO + j); }
    if (bf >= 0) { dcp += dAf * f5(pO + H + j); }
  }
  w6(dd, dcp);
}
`;

/** GRU cell forward (mode 0) and backward (mode 1), a thread per (row, unit). Words: 0 mode,
 * 1 rows, 2 H, 3 gxOff, 4 ghOff, 5 hpOff, 6 ldhp, 7 hOff / dhOff, 8 ldh, 9 has bhh, 10 dgxOff,
 * 11 dghOff, 12 dhpOff. Bindings, forward: gx, gh, hPrev, hOut, bhh; backward: gx, gh, hPrev,
 * dh, dGx, dGh, dhPrev. */
export const GRU = PRELUDE + BINDINGS + /* wgsl */ `
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gi: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let t = lin(gi, nw);
  let H = ui(2);
  if (t >= ui(1) * H) { return; }
  let b = t / H; let j = t % H;
  let x0 = ui(3) + b * 3 * H; let h0 = ui(4) + b * 3 * H;
  let hp = f3(ui(5) + b * ui(6) + j);
  if (ui(0) == 0) {
    if (ui(9) != 0) {
      w2(h0 + j, f2(h0 + j) + f5(j)); w2(h0 + H + j, f2(h0 + H + j) + f5(H + j)); w2(h0 + 2 * H + j, f2(h0 + 2 * H + j) + f5(2 * H + j));
    }
    let r = sigm(f1(x0 + j) + f2(h0 + j));
    let z = sigm(f1(x0 + H + j) + f2(h0 + H + j));
    let n = tanh_(f1(x0 + 2 * H + j) + r * f2(h0 + 2 * H + j));
    w1(x0 + j, r); w1(x0 + H + j, z); w1(x0 + 2 * H + j, n);
    w4(ui(7) + b * ui(8) + j, (1.0 - z) * n + z * hp);
    return;
  }
  let r = f1(x0 + j); let z = f1(x0 + H + j); let n = f1(x0 + 2 * H + j);
  let dhj = f4(ui(7) + b * ui(8) + j);
  let dn = dhj * (1.0 - z) * (1.0 - n * n);
  let dz = dhj * (hp - n) * z * (1.0 - z);
  let dr = dn * f2(h0 + 2 * H + j) * r * (1.0 - r);
  let dx0 = ui(10) + b * 3 * H; let dh0 = ui(11) + b * 3 * H;
  w5(dx0 + j, dr); w5(dx0 + H + j, dz); w5(dx0 + 2 * H + j, dn);
  w6(dh0 + j, dr); w6(dh0 + H + j, dz); w6(dh0 + 2 * H + j, dn * r);
  w7(ui(12) + b * H + j, dhj * z);
}
`;
